"""A malformed setting says so in one line naming the variable and the form it takes, where a newcomer
meets it: starting the sandbox, and a function's cold start. No traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.testing import ROOT
from optin.settings import SettingsError, load_settings

BASE_ENV = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args],
        cwd=ROOT,
        env={**BASE_ENV, "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("RESEND_COOLDOWN_SECONDS", "ten", "RESEND_COOLDOWN_SECONDS must be a whole number, got 'ten'"),
        ("ALLOWED_COUNTRIES", "USA", "ALLOWED_COUNTRIES must list ISO 3166 alpha-2 codes, got USA"),
        ("SANDBOX_NUMBER", "2065550100", "SANDBOX_NUMBER must be an E.164 number such as +12065550100"),
    ],
)
def test_the_sandbox_refuses_a_bad_setting_in_one_line(variable, value, says):
    result = run(["-m", "local"], PORT="0", **{variable: value})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"Configuration error: {says}"]
    assert "Traceback" not in result.stdout + result.stderr
    assert "Sign-up form" not in result.stdout  # it did not start


@pytest.mark.parametrize("handler", ["registration", "phone_validation", "broadcasts"])
def test_a_cold_start_with_a_bad_setting_fails_with_one_line(handler):
    result = run(
        ["-c", f"import optin.handlers.{handler}"],
        PYTHONPATH=str(ROOT / "lambdas"),
        AWS_DEFAULT_REGION="us-east-1",
        MAX_CONFIRMATIONS_PER_DAY="-3",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: MAX_CONFIRMATIONS_PER_DAY"), lines


def test_it_is_still_a_settings_error_for_code_that_catches_one(monkeypatch):
    monkeypatch.setenv("RESEND_COOLDOWN_SECONDS", "soon")
    load_settings.cache_clear()  # read once per process: this test reads it again
    try:
        with pytest.raises(SettingsError, match="RESEND_COOLDOWN_SECONDS must be a whole number"):
            load_settings()
    finally:
        load_settings.cache_clear()
