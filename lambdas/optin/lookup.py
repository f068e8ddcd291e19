"""Is this a number we can text? The offline precheck first, then the cached carrier lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from optin.observability import count, logger
from optin.phone_numbers import REJECTION_MESSAGES, CarrierInfo, Precheck, Rejection, precheck
from optin.ports import CarrierLookup, DependencyUnavailable, LookupCache
from optin.settings import Settings

if TYPE_CHECKING:
    from optin.abuse.guard import AbuseGuard


@dataclass(frozen=True)
class PhoneVerdict:
    precheck: Precheck
    info: CarrierInfo | None = None
    rejection: Rejection | None = None

    @property
    def can_receive_sms(self) -> bool:
        return self.rejection is None

    @property
    def e164(self) -> str | None:
        return self.info.e164 if self.info else self.precheck.e164

    @property
    def country(self) -> str | None:
        return (self.info.country if self.info else None) or self.precheck.country

    @property
    def phone_type(self) -> str | None:
        return self.info.phone_type if self.info else self.precheck.offline_type

    @property
    def message(self) -> str | None:
        return REJECTION_MESSAGES[self.rejection] if self.rejection else None


class PhoneLookupService:
    def __init__(
        self,
        settings: Settings,
        cache: LookupCache,
        carrier: CarrierLookup,
        clock: Callable[[], datetime],
        guard: AbuseGuard | None = None,
    ) -> None:
        self._settings = settings
        self._cache = cache
        self._carrier = carrier
        self._clock = clock
        self._guard = guard

    def precheck(self, raw: str | None, country: str | None = None) -> Precheck:
        """The free offline check alone."""
        return precheck(raw, country or self._settings.default_country, self._settings.allowed_countries)

    def check(self, raw: str | None, country: str | None = None) -> PhoneVerdict:
        """Raises DependencyUnavailable when the carrier lookup itself fails, CapacityReached when the
        spend limit on paid lookups is reached (nothing is paid then)."""
        pre = self.precheck(raw, country)
        if not pre.ok:
            count("ValidationRejected", reason=str(pre.rejection))
            return PhoneVerdict(pre, rejection=pre.rejection)
        assert pre.e164 is not None
        now = self._clock()
        info = self._cached(pre.e164, now)
        if info is None:
            if self._guard is not None:
                self._guard.reserve_lookup()
            info = self._carrier.lookup(pre.e164, pre.country)
            count("CarrierLookup")
            self._remember(info, now)
        rejection = info.rejection(self._settings.allow_prepaid)
        if rejection and pre.e164 in self._settings.simulator_destinations:
            rejection = None  # stays inside AWS and answers with realistic delivery events
        if rejection:
            count("ValidationRejected", reason=str(rejection))
        return PhoneVerdict(pre, info, rejection)

    def _cached(self, e164: str, now: datetime) -> CarrierInfo | None:
        try:
            return self._cache.get(e164, now)
        except DependencyUnavailable as exc:  # the cache only saves money: carry on without it
            logger.warning("lookup cache unavailable", extra={"error": str(exc)})
            return None

    def _remember(self, info: CarrierInfo, now: datetime) -> None:
        try:
            self._cache.put(info, now + timedelta(days=self._settings.lookup_cache_days))
        except DependencyUnavailable as exc:
            logger.warning("lookup cache write failed", extra={"error": str(exc)})
