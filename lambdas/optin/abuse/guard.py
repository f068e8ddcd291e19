"""The abuse guard: what the registration and validation services ask before anything costs money.

* **Spend circuit breaker.** Paid carrier lookups and confirmation texts are counted per hour and per
  day across all numbers (atomic DynamoDB counters). A full counter refuses the paid call with
  CapacityReached, the same for every number, until its window rolls over.
* **Number ranges.** Registrations are counted per number range per hour; past the limit the range is
  blocked for a while and gets no lookup and no text (SMS pumping walks through ranges).
* **Client IP.** Registrations per client IP per hour, beyond which RateLimited refuses them (WAF does
  the same at the edge; this also holds where there is no WAF, as in the sandbox).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from optin.abuse.windows import Counter, Window, number_range, seconds_left
from optin.masking import mask
from optin.observability import count, logger
from optin.ports import CapacityReached, Counters, RateLimited
from optin.settings import Settings


class AbuseGuard:
    def __init__(self, settings: Settings, counters: Counters, clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._counters = counters
        self._clock = clock

    # -- the spend circuit breaker ------------------------------------------------------------------------
    def reserve_lookup(self) -> None:
        """Before a paid carrier lookup. Raises CapacityReached."""
        s = self._settings
        self._reserve("lookups", s.spend_lookups_per_hour, s.spend_lookups_per_day)

    def reserve_text(self) -> None:
        """Before a confirmation text. Raises CapacityReached."""
        s = self._settings
        self._reserve("texts", s.spend_texts_per_hour, s.spend_texts_per_day)

    def ensure_text_capacity(self) -> None:
        """Before paying a lookup for a registration: when no text could follow it, pay nothing.
        Raises CapacityReached (reserve_text still decides, atomically, when it is time to send)."""
        s = self._settings
        now = self._clock()
        counters = self._counters_for("texts", s.spend_texts_per_hour, s.spend_texts_per_day, now)
        if counters:
            self._refuse_if("texts", self._counters.full(counters), now)

    def _counters_for(self, what: str, per_hour: int, per_day: int, now: datetime) -> list[Counter]:
        return [
            Counter.of(f"spend#{what}", window, limit, now)
            for window, limit in ((Window.HOUR, per_hour), (Window.DAY, per_day))
            if limit > 0
        ]

    def _reserve(self, what: str, per_hour: int, per_day: int) -> None:
        now = self._clock()
        counters = self._counters_for(what, per_hour, per_day, now)
        if counters:
            self._refuse_if(what, self._counters.take(counters), now)

    def _refuse_if(self, what: str, full: Counter | None, now: datetime) -> None:
        if full is None:
            return
        count("SpendLimitReached")  # per function: what the alarm watches
        count("SpendLimitReached", kind=what, window=full.window.value)
        logger.warning("spend limit reached", extra={"kind": what, "window": full.window.value})
        raise CapacityReached(f"{what} per {full.window.value}", seconds_left(full.window, now))

    # -- registrations: client IP and number range -------------------------------------------------------
    def flag_address(self, client_ip: str | None) -> None:
        """A submission from ``client_ip`` gave itself away as a bot (honeypot, a form filled faster
        than anyone types): its later registrations this hour get the usual answer and nothing else."""
        seconds = self._settings.bot_ip_block_seconds
        if client_ip and seconds > 0:
            self._counters.block(f"ipblock#{client_ip}", self._clock() + timedelta(seconds=seconds))

    def admit_registration(self, e164: str, client_ip: str | None) -> bool:
        """False when the registration must get no lookup and no text (its address was flagged, or its
        number range is blocked); the caller answers as always. Raises RateLimited when the client IP
        has registered too often this hour. The range counts every attempt, refused ones too."""
        s = self._settings
        now = self._clock()
        if client_ip and s.bot_ip_block_seconds > 0 and self._is_blocked(f"ipblock#{client_ip}", now):
            count("RegistrationSuppressed", reason="flagged_address")
            return False
        if not self._range_open(e164, now):
            return False
        if client_ip and s.ip_registrations_per_hour > 0:
            ip = Counter.of(f"ip#{client_ip}", Window.HOUR, s.ip_registrations_per_hour, now)
            if self._counters.take([ip]) is not None:
                count("RegistrationRateLimited")
                raise RateLimited("registrations from this address", seconds_left(Window.HOUR, now))
        return True

    def _is_blocked(self, key: str, now: datetime) -> bool:
        until = self._counters.blocked_until(key)
        return until is not None and until > now

    def _range_open(self, e164: str, now: datetime) -> bool:
        s = self._settings
        if s.range_registrations_per_hour <= 0:
            return True
        numbers = number_range(e164, s.range_trailing_digits)
        block_key = f"rangeblock#{numbers}"
        if self._is_blocked(block_key, now):
            count("RegistrationSuppressed", reason="range_blocked")
            return False
        seen = self._counters.add(
            Counter.of(f"range#{numbers}", Window.HOUR, s.range_registrations_per_hour, now)
        )
        if seen <= s.range_registrations_per_hour:
            return True
        self._counters.block(block_key, now + timedelta(seconds=s.range_block_seconds))
        count("RangeBlocked")
        logger.warning("number range blocked", extra={"range": mask(numbers), "registrations": seen})
        return False
