"""End User Messaging's opt-out list, in memory, for the sandbox (moto does not emulate the
pinpoint-sms-voice-v2 API). The same interface as :class:`optin.admin.adapters.EndUserMessagingOptOutList`,
and, as in AWS, the outbox refuses to text a number on it (``RecipientOptedOut``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime

from optin.admin.adapters import ListedNumber
from optin.clock import iso, utcnow

SANDBOX_OPT_OUT_LIST = "sandbox-opt-outs"


class FakeOptOutList:
    def __init__(
        self, name: str = SANDBOX_OPT_OUT_LIST, clock: Callable[[], datetime] = utcnow, page_size: int = 100
    ) -> None:
        self.name = name
        self._clock = clock
        self._page_size = page_size
        self._numbers: dict[str, ListedNumber] = {}
        self._lock = threading.Lock()

    def pages(self) -> Iterator[list[ListedNumber]]:
        with self._lock:
            numbers = sorted(self._numbers.values(), key=lambda n: n.phone)
        for start in range(0, max(len(numbers), 1), self._page_size):
            yield numbers[start : start + self._page_size]

    def put(self, phone: str, *, end_user: bool = False) -> None:
        """PutOptedOutNumber (``end_user``: as if the person opted out with a keyword, at AWS's level)."""
        with self._lock:
            if phone not in self._numbers:
                self._numbers[phone] = ListedNumber(phone, self._clock(), end_user)

    def remove(self, phone: str) -> bool:
        with self._lock:
            return self._numbers.pop(phone, None) is not None

    def has(self, phone: str) -> bool:
        with self._lock:
            return phone in self._numbers

    def listing(self) -> dict[str, object]:
        """{"optOutList", "numbers": [{"phone", "optedOutAt", "endUserOptedOut"}]}"""
        with self._lock:
            numbers = sorted(self._numbers.values(), key=lambda n: n.phone)
        return {
            "optOutList": self.name,
            "numbers": [
                {"phone": n.phone, "optedOutAt": iso(n.opted_out_at), "endUserOptedOut": n.end_user_opted_out}
                for n in numbers
            ],
        }

    def clear(self) -> None:
        with self._lock:
            self._numbers.clear()
