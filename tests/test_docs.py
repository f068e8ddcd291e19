"""The README is a short map and the reference lives in docs/: every link in them goes somewhere (a
file of the repository, and the heading it names), and the README's first screen says how to start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[(?:[^\]]|\][^(])*?\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(path: Path) -> list[str]:
    """The page's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text("utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in prose(path):
        match = re.match(r"^#{1,6} (.+?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    return [m.group(1) for line in prose(path) for m in LINK.finditer(line)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_to_a_file_and_its_heading(page: Path):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ... : not followed (no network in tests)
            assert target.startswith(("https://", "http://127.0.0.1", "mailto:")), target
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists() or not destination.is_relative_to(ROOT):
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, broken


def test_the_link_checker_sees_a_broken_link(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nSee [there](#nowhere) and [that](missing.md).\n```\n[code](ignored.md)\n```\n"
    )
    assert links(page) == ["#nowhere", "missing.md"]
    assert anchors(page) == {"title"}
    assert slug("Smoke test a deployment (`make smoke`)") == "smoke-test-a-deployment-make-smoke"
    assert (
        slug("WhatsApp: custom-channel delivery and broadcasts")
        == "whatsapp-custom-channel-delivery-and-broadcasts"
    )


def test_the_readme_s_first_screen_has_the_two_commands_what_the_sandbox_shows_and_the_port():
    first_screen = ROOT.joinpath("README.md").read_text("utf-8").split("\n---\n", 1)[0]
    assert len(first_screen.splitlines()) <= 30
    commands = re.findall(r"^make \w+", first_screen, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]
    for shown in ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/sandbox", "/openapi.json"):
        assert shown in first_screen
    assert "PORT=8080 make run" in first_screen


def test_the_readme_is_a_map_and_every_reference_page_is_on_it():
    readme = ROOT.joinpath("README.md").read_text("utf-8")
    assert len(readme.splitlines()) < 60
    linked = {target.partition("#")[0] for target in links(ROOT / "README.md")}
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in linked, page.name
