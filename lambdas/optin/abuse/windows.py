"""Counting windows for the abuse limits: pure, no I/O.

A window is a clock hour or a UTC day. Each counter is one DynamoDB item whose key names its window,
so a new window starts at zero by itself and old ones expire (TTL) shortly after they end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Window(StrEnum):
    HOUR = "hour"
    DAY = "day"


_LENGTH = {Window.HOUR: timedelta(hours=1), Window.DAY: timedelta(days=1)}
KEEP_AFTER_END = timedelta(hours=1)  # counters outlive their window a little, then TTL removes them


def window_start(window: Window, now: datetime) -> datetime:
    if window == Window.HOUR:
        return now.replace(minute=0, second=0, microsecond=0)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def window_end(window: Window, now: datetime) -> datetime:
    return window_start(window, now) + _LENGTH[window]


def seconds_left(window: Window, now: datetime) -> int:
    """Seconds until ``window`` rolls over (at least 1): the Retry-After of a full counter."""
    return max(1, math.ceil((window_end(window, now) - now).total_seconds()))


@dataclass(frozen=True)
class Counter:
    """One counter to take a unit from: ``key`` names the thing and its window."""

    key: str
    limit: int
    window: Window
    expires_at: datetime

    @classmethod
    def of(cls, name: str, window: Window, limit: int, now: datetime) -> Counter:
        start = window_start(window, now)
        stamp = start.strftime("%Y-%m-%dT%H") if window == Window.HOUR else start.strftime("%Y-%m-%d")
        return cls(f"{name}#{window.value}#{stamp}", limit, window, window_end(window, now) + KEEP_AFTER_END)


def number_range(e164: str, trailing_digits: int) -> str:
    """The range a number belongs to: country code and leading digits, the last ``trailing_digits``
    left out (+1 206 555 0142 and +1 206 555 0199 share +1206555 01 with two)."""
    return e164[: len(e164) - trailing_digits] if trailing_digits > 0 else e164
