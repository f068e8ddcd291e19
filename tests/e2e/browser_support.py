"""Shared by the browser tests: Playwright's ``expect`` (a module-level skip when Playwright is not
installed, except under CI, where that is a failure) and screenshots saved as test artifacts."""

from __future__ import annotations

import os
from typing import Any

import pytest

from local.testing import ROOT

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture says why; under CI that is a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("Playwright for Python is not installed", allow_module_level=True)

ARTIFACTS = ROOT / "test-artifacts" / "e2e"

__all__ = ["ARTIFACTS", "expect", "screenshot"]


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
