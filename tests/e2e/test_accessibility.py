"""The form and the phone simulator in every state the browser tests reach, at a desktop size (1280x800)
and a phone's (390x844): axe-core finds nothing, nothing scrolls sideways, touch targets are 44 px, focus
rings have 3:1 contrast. Then the polish a person notices: an error said once, the countries we serve
named, the number formatted as typed, the masked number echoed and "send again" once the cooldown
allows. Screenshots of every state go to test-artifacts/e2e/ (axe-*.png).

axe-core is the npm package pinned in package.json, read from node_modules/ (``npm ci``) and run in the
page: nothing is fetched. Without it these tests are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local.testing import ROOT, SandboxProcess
from tests.e2e.browser_support import expect, screenshot
from tests.e2e.conftest import Page

AXE = ROOT / "node_modules" / "axe-core"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="session")
def axe_source() -> str:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    if not (AXE / "axe.min.js").is_file():
        reason = "axe-core is not in node_modules/ (npm ci installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this is a failure", pytrace=False)
        pytest.skip(reason)
    installed = json.loads((AXE / "package.json").read_text())["version"]
    assert installed == pinned, f"node_modules has axe-core {installed}, package.json pins {pinned}: npm ci"
    return (AXE / "axe.min.js").read_text("utf-8")


class Audit:
    """Runs axe in a page and keeps a screenshot of each state it judged."""

    def __init__(self, page: Any, source: str, size: str) -> None:
        self.page, self.source, self.size = page, source, size

    def check(self, state: str) -> None:
        page = self.page
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.source)  # through the debugger protocol: the page's CSP does not apply
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found = [
            f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in result["violations"]
        ]
        screenshot(page, f"axe-{state}-{self.size}")
        assert found == [], f"{state} at {self.size}: {found}"
        if self.size == "phone":
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{state} scrolls sideways at 390 px: {widths}"


@pytest.fixture(params=list(SIZES))
def audit(request: pytest.FixtureRequest, browser: Any, axe_source: str) -> Iterator[Audit]:
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    context.set_default_timeout(10_000)
    watched = Page(context.new_page())
    try:
        yield Audit(watched.page, axe_source, request.param)
    finally:
        context.close()
    assert not watched.problems, watched.problems


def post(sandbox: Any, path: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback
        sandbox.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.status


def texts_to(sandbox: Any, phone: str) -> list[dict[str, Any]]:
    url = f"{sandbox.url}/sandbox/messages?phone={urllib.parse.quote(phone)}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def fill(page: Any, number: str, first: str = "Grace", last: str = "Hopper") -> None:
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Mobile number").fill(number)
    page.get_by_role("checkbox").check()


# -- axe in every state ---------------------------------------------------------------------------------
def test_the_form_in_every_state(audit, sandbox):
    page = audit.page
    last = "4" if audit.size == "phone" else "3"
    page.goto(sandbox.url + "/")
    expect(page.locator("#country option")).to_have_count(2)
    audit.check("form-empty")

    page.get_by_role("button", name="Sign up").click()  # our own checks: every field at once
    expect(page.locator("#firstName-message")).to_have_text("Enter your first name.")
    audit.check("form-required")

    fill(page, "206-555-CALL")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#phone-message")).to_have_text("A phone number cannot contain letters.")
    audit.check("form-api-400")

    page.get_by_label("Mobile number").fill("(206) 555-0111")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#phone-message")).to_have_text(
        "This is a landline and cannot receive text messages."
    )
    audit.check("form-api-422")

    page.get_by_label("Mobile number").fill("+44 7400 123456")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#phone-message")).to_contain_text("United States and Canada")
    audit.check("form-country")

    held: list[Any] = []
    page.route("**/register", lambda route: held.append(route))  # the answer waits: the form shows it is busy
    page.get_by_label("Mobile number").fill(f"(206) 555-019{last}")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#submit")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#submit")).to_contain_text("Signing you up")
    audit.check("form-busy")
    held[0].continue_()
    expect(page.locator("#success")).to_be_visible()
    page.unroute("**/register")
    audit.check("form-success")

    page.get_by_label("Language").select_option("es")
    expect(page.locator("#success-title")).to_have_text("Revisa tu teléfono")
    audit.check("form-success-es")


def test_the_simulator_in_every_state(audit, sandbox):
    page = audit.page
    phone = "+1206555016" + ("2" if audit.size == "phone" else "1")
    page.goto(sandbox.url + "/sandbox")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Phone simulator")
    audit.check("simulator-empty")

    page.get_by_label("Open a phone by number").fill("call me")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#open-number-message")).to_have_class(re.compile(r"\bis-error\b"))
    audit.check("simulator-open-error")

    post(sandbox, "/register", {"destinationNumber": phone, "firstName": "Ada", "lastName": "Byron"})
    page.goto(f"{sandbox.url}/sandbox?phone={urllib.parse.quote(phone)}")
    expect(page.locator("#messages .bubble-in").first).to_contain_text("Reply YES to confirm")
    audit.check("simulator-pending")

    page.get_by_role("button", name="YES", exact=True).click()
    expect(page.locator("#contact-status")).to_have_text("CONFIRMED")
    expect(page.get_by_role("list", name="Scheduled follow-up steps").get_by_role("listitem")).to_have_count(
        3
    )
    audit.check("simulator-conversation")

    held: list[Any] = []
    page.route("**/sandbox/inbound", lambda route: held.append(route))
    page.get_by_label("Reply as this phone").fill("HELP")
    page.get_by_label("Reply as this phone").press("Enter")
    expect(page.locator("#reply-status")).to_have_text("Sending…")
    audit.check("simulator-busy")
    held[0].continue_()
    expect(page.locator("#reply-status")).to_contain_text("Delivered")
    page.unroute("**/sandbox/inbound")

    page.get_by_label("Template name").fill("order_update")
    page.get_by_role("button", name="Send broadcast").click()
    expect(page.locator("#broadcast-status")).to_contain_text("delivered")
    expect(page.locator("#wa-messages tr").first).to_contain_text("order_update")
    audit.check("simulator-broadcast")


# -- what axe does not measure ----------------------------------------------------------------------------
def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgb(css: str) -> tuple[float, float, float]:
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    assert len(parts) == 3 or parts[3] == 1, f"a focus ring must be opaque, got {css}"
    return parts[0], parts[1], parts[2]


def test_focus_rings_have_three_to_one_contrast_against_white(page, sandbox):
    page.goto(sandbox.url + "/")
    white = (255.0, 255.0, 255.0)
    for element_id in ("consent", "submit", "phone"):
        page.locator(f"#{element_id}").focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
        assert page.evaluate("document.activeElement.id") == element_id
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; })()"
        )
        assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2, (element_id, style)
        assert contrast(rgb(style[2]), white) >= 3, (element_id, style)


def test_the_simulator_s_controls_are_44_px_touch_targets_on_a_phone(browser, sandbox):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(sandbox.url + "/sandbox?phone=%2B12065550185")
        expect(page.locator("#followups")).to_be_visible()
        small = page.evaluate(
            """Array.from(document.querySelectorAll('button, .link-button, input:not([type=hidden])'))
                 .filter(e => e.offsetParent !== null)
                 .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect().width, e.getBoundingClientRect().height])
                 .filter(([, w, h]) => w < 44 || h < 44)"""
        )
        assert small == []
        chips = page.get_by_role("group", name="Quick replies").get_by_role("button")
        expect(chips).to_have_count(4)
        expect(page.get_by_role("button", name="Send due steps now")).to_be_visible()
    finally:
        context.close()


def test_the_open_a_phone_error_looks_like_an_error(page, sandbox):
    page.goto(sandbox.url + "/sandbox")
    hint = page.locator("#open-number-message")
    quiet = page.evaluate("getComputedStyle(document.getElementById('open-number-message')).color")
    page.get_by_label("Open a phone by number").fill("12")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(hint).to_have_text("Not a phone number: use E.164, e.g. +12065550142")
    expect(page.get_by_label("Open a phone by number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Open a phone by number")).to_be_focused()
    loud = page.evaluate("getComputedStyle(document.getElementById('open-number-message')).color")
    assert loud != quiet and contrast(rgb(loud), (255.0, 255.0, 255.0)) >= 4.5
    red, green, blue = rgb(loud)
    assert red > 2 * green and red > 2 * blue  # the form's error red, not the hint's grey
    page.get_by_label("Open a phone by number").fill("+12065550186")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(hint).not_to_have_class(re.compile(r"\bis-error\b"))


def test_the_audit_trail_shows_what_the_handset_sent(page, sandbox):
    post(sandbox, "/register", {"destinationNumber": "+12065550187", "firstName": "Ann", "lastName": "Lee"})
    post(sandbox, "/sandbox/inbound", {"originationNumber": "+12065550187", "messageBody": "Yes please"})
    page.goto(sandbox.url + "/sandbox?phone=%2B12065550187")
    inbound = page.locator(".events li", has_text="INBOUND")
    expect(inbound).to_have_count(1)
    expect(inbound.locator(".event-body")).to_have_text("Yes please")
    expect(inbound).to_contain_text("leading_keyword")


def test_an_unserved_country_names_the_countries_we_serve(page, sandbox):
    page.goto(sandbox.url + "/")
    page.get_by_label("Mobile number").fill("+44 7400 123456")  # a UK mobile
    message = page.locator("#phone-message")
    expect(message).to_have_text("We only text numbers in these countries: United States and Canada.")
    page.get_by_label("Language").select_option("fr")
    expect(message).to_have_text("Nous n'envoyons de SMS qu'aux numéros de ces pays : États-Unis et Canada.")


def test_the_number_is_formatted_as_it_is_typed(page, sandbox):
    page.goto(sandbox.url + "/")
    phone = page.get_by_label("Mobile number")
    phone.press_sequentially("2065550142")
    expect(phone).to_have_value("(206) 555-0142")
    phone.press("Backspace")
    phone.press("Backspace")
    expect(phone).to_have_value("(206) 555-01")
    phone.fill("")
    phone.press_sequentially("+442071838750")
    expect(phone).to_have_value("+44 20 7183 8750")
    phone.fill("")
    phone.press_sequentially("206-555-CALL")  # letters are left as typed, for the API to name
    expect(phone).to_have_value(re.compile(r"^\(206\) 555-?CALL$"))
    page.get_by_label("Country").select_option("CA")
    phone.fill("")
    phone.press_sequentially("6045550123")
    expect(phone).to_have_value("(604) 555-0123")


def test_the_vendored_formatter_is_the_pinned_package_unmodified():
    vendored = ROOT / "web" / "vendor" / "libphonenumber-min.js"
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["libphonenumber-js"]
    assert f"libphonenumber-js {pinned} (MIT" in (ROOT / "web" / "index.html").read_text()
    assert "MIT License" in (ROOT / "web" / "vendor" / "libphonenumber-js.LICENSE.txt").read_text()
    assert vendored.stat().st_size < 200_000
    package = ROOT / "node_modules" / "libphonenumber-js"
    if not package.is_dir():
        pytest.skip("libphonenumber-js is not in node_modules/ (npm ci) to compare with")
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    assert vendored.read_bytes() == (package / "bundle" / "libphonenumber-min.js").read_bytes()


@pytest.fixture(scope="module")
def quick_sandbox() -> Iterator[SandboxProcess]:
    env = {"RANGE_REGISTRATIONS_PER_HOUR": "0", "FORM_MIN_FILL_SECONDS": "0", "RESEND_COOLDOWN_SECONDS": "3"}
    with SandboxProcess(env=env) as process:
        yield process


def test_the_success_panel_echoes_the_masked_number_and_offers_to_send_again(page, quick_sandbox):
    page.goto(quick_sandbox.url + "/")
    fill(page, "2065550188")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#success")).to_be_visible()
    number = page.locator("#success-number .masked-number")
    expect(number).to_have_text("+1 (•••) •••-0188")
    expect(number).to_have_attribute("aria-label", "ending in 0188")
    expect(page.locator("#success")).not_to_contain_text("555")  # only the last four digits show
    again = page.get_by_role("button", name="Didn't get it? Send again")
    expect(again).to_be_hidden()
    expect(page.locator("#resend-wait")).to_contain_text("You can ask for another text in 0:0")
    started = time.monotonic()
    expect(again).to_be_visible(timeout=8_000)
    assert time.monotonic() - started > 1  # not before the cooldown
    assert len(texts_to(quick_sandbox, "+12065550188")) == 1
    again.click()
    expect(page.locator("#resend-status")).to_have_text("Sent again. It can take a minute to arrive.")
    expect(again).to_be_hidden()
    assert len(texts_to(quick_sandbox, "+12065550188")) == 2
