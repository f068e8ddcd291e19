"""Pacing for outbound calls: a time budget, a token bucket shared by threads, and backoff with jitter.

Pure standard library and no I/O of its own: the clock, the sleep and the randomness are injectable,
so the rules are testable without waiting.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Deadline:
    """A point in monotonic time after which no new work may start."""

    def __init__(self, at: float, clock: Clock = time.monotonic) -> None:
        self.at = at
        self._clock = clock

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def from_context(
        cls, context: Any, margin_seconds: float, default_seconds: float = 30.0, clock: Clock = time.monotonic
    ) -> Deadline:
        """The Lambda's remaining time minus ``margin_seconds`` (kept for answering); without a Lambda
        context (a local call), ``default_seconds``."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        budget = remaining() / 1000.0 if callable(remaining) else default_seconds
        return cls(clock() + max(0.0, budget - margin_seconds), clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, bursts up to ``burst``; thread-safe.

    ``hold`` pauses every taker until a time (a Retry-After seen by one worker applies to all).
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else rate)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._not_before = 0.0
        self._lock = threading.Lock()

    def _wait_time(self) -> float:
        """Take a token and return 0, or return how long to wait before trying again (lock held)."""
        now = self._clock()
        if now < self._not_before:
            return self._not_before - now
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def acquire(self, deadline: Deadline | None = None) -> bool:
        """Wait for a token; False (and no token taken) when it would come after ``deadline``."""
        while True:
            with self._lock:
                wait = self._wait_time()
            if wait == 0.0:
                return True
            if deadline is not None and wait > deadline.remaining():
                return False
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """Let nobody take a token for ``seconds`` from now (extends, never shortens, a hold)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)


class Backoff:
    """Exponential backoff with full jitter, at least any Retry-After the server asked for."""

    def __init__(
        self, base: float, cap: float, rng: Callable[[float, float], float] = random.uniform
    ) -> None:
        self.base = base
        self.cap = cap
        self._uniform = rng

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempt``-th (1-based) failure."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        jittered = self._uniform(0.0, ceiling)
        return max(jittered, retry_after or 0.0)
