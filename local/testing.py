"""Run the sandbox in a child process, for tests: ``python -m local`` on a free port of 127.0.0.1.

A child process keeps the sandbox's moto mock, installed dependencies and environment away from the
test process (whose other tests install their own), and exercises exactly what ``make run`` runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
_URL: Final = re.compile(r"Sign-up form\s+(http://127\.0\.0\.1:\d+)/")
# Only these pass from the test process to the sandbox: none of the settings a test run may have set.
_PASSED: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT", "CI")


# The spend breaker and the number-range limit, off: for runs that post thousands of sign-ups to measure
# or fuzz the handlers, which the limits (on in the sandbox, as deployed) would otherwise answer with 503.
ABUSE_LIMITS_LIFTED: Final = {
    "SPEND_TEXTS_PER_HOUR": "0",
    "SPEND_TEXTS_PER_DAY": "0",
    "SPEND_LOOKUPS_PER_HOUR": "0",
    "SPEND_LOOKUPS_PER_DAY": "0",
    "RANGE_REGISTRATIONS_PER_HOUR": "0",
}


class SandboxProcess:
    """``with SandboxProcess() as sandbox: ... sandbox.url ...``; stops it with SIGINT (Ctrl-C)."""

    def __init__(self, env: dict[str, str] | None = None, startup_timeout: float = 60.0) -> None:
        self.env = {name: os.environ[name] for name in _PASSED if name in os.environ}
        self.env.update({"PORT": "0", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"})
        self.env.update(env or {})
        self.startup_timeout = startup_timeout
        self.url = ""
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    def start(self) -> SandboxProcess:
        handle, name = tempfile.mkstemp(prefix="sandbox-", suffix=".log")
        os.close(handle)
        self._log = Path(name)
        # Appending: the child's writes always land at the end while we read from the start.
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "local"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            match = _URL.search(self.output())
            if match:
                self.url = match.group(1)
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        output = self.output()
        self.stop()
        raise RuntimeError(f"the sandbox did not start:\n{output}")

    def output(self) -> str:
        """Everything the sandbox printed so far (stdout and stderr)."""
        if self._log is None or not self._log.exists():
            return ""
        return self._log.read_bytes().decode("utf-8", "replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int | None:
        """Stop as Ctrl-C does; kill after ``timeout`` seconds. Returns the exit code."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if process is not None:
            self.returncode = process.returncode
        return self.returncode

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
