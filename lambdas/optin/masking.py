"""Hiding phone numbers in anything that may be logged."""

from __future__ import annotations

import re

_PHONE_LIKE = re.compile(r"\+?\d{7,15}")


def mask(text: str | None) -> str:
    """Keep only the last four digits of every phone-number-like run: '+12065550142' -> '+1******0142'."""
    if not text:
        return ""
    return _PHONE_LIKE.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    value = match.group(0)
    plus = "+" if value.startswith("+") else ""
    digits = value.lstrip("+")
    keep_head = 1 if plus else 0
    return plus + digits[:keep_head] + "*" * (len(digits) - 4 - keep_head) + digits[-4:]
