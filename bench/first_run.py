"""First run (issue 14): a fresh clone of this repository to the sandbox serving, with ``make run``.

The clone is of the committed HEAD, into a temporary directory; ``make run`` there creates its own
``.venv`` from the package index (pip's cache is left out unless ``--pip-cache``, so the figure is a
fresh machine's) and the clock stops when the sandbox prints where it is serving.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT

TARGET_SECONDS = 45.0
_SERVING = re.compile(r"Sign-up form\s+http://127\.0\.0\.1:\d+/")


@dataclass(frozen=True)
class FirstRun:
    seconds: float
    venv_mb: float
    served: bool
    output: str

    @property
    def on_target(self) -> bool:
        return self.served and self.seconds <= TARGET_SECONDS


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def run(pip_cache: bool = False, timeout: float = 600.0) -> FirstRun:
    with tempfile.TemporaryDirectory(prefix="sms-optin-first-run-") as tmp:
        clone = Path(tmp) / "sms-optin"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)  # noqa: S607
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
        env.update(PORT="0", PYTHONUNBUFFERED="1")
        if not pip_cache:
            env["PIP_NO_CACHE_DIR"] = "1"
        log = Path(tmp) / "run.log"
        started = time.perf_counter()
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["make", "run"],  # noqa: S607 - make from the PATH, as a user runs it
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served = False
        while time.perf_counter() - started < timeout and process.poll() is None:
            if _SERVING.search(log.read_text(errors="replace")):
                served = True
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        venv = _size_mb(clone / ".venv") if (clone / ".venv").is_dir() else 0.0
        output = log.read_text(errors="replace")
        shutil.rmtree(clone, ignore_errors=True)
    return FirstRun(seconds, venv, served, output)


def report(result: FirstRun) -> str:
    if not result.served:
        return "first run: the sandbox did not start:\n" + result.output[-2000:]
    verdict = "ok" if result.on_target else "MISSED"
    return (
        f"first run: fresh clone -> `make run` serving in {result.seconds:.0f} s (target ≤ {TARGET_SECONDS:.0f} s)"
        f"  {verdict}; .venv {result.venv_mb:.0f} MB (the sandbox's requirements only, no pip cache)"
    )


if __name__ == "__main__":
    print(report(run()))
