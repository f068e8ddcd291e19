"""EventBridge Scheduler for the sandbox: follow-up schedules kept in memory, fired on request.

:class:`FakeScheduler` is an :class:`optin.ports.FollowUpScheduler` (assign it to ``deps.scheduler``
before the inbound function first runs). It lists each contact's pending steps, and
:meth:`FakeScheduler.send_due` fires schedules through the real follow-up handler with the input
EventBridge Scheduler would deliver, deleting each one after a successful invocation as
``ActionAfterCompletion: DELETE`` does.

Follow-up steps are hours or days away, so the sandbox usually fires them early ("send due steps
now"): with ``early=True`` every pending schedule fires, and, when the dependencies use a
:class:`ScheduleClock`, the handler runs with the clock set to the schedule's own time, so quiet hours
are judged as they would be when the schedule really fires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from optin.clock import iso, utcnow
from optin.followups.sequence import ScheduledSend


class ScheduleClock:
    """The sandbox's clock: real time, except while a schedule fires early (then its time)."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self._now = now
        self._override: datetime | None = None

    def __call__(self) -> datetime:
        return self._override or self._now()

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        previous, self._override = self._override, when
        try:
            yield
        finally:
            self._override = previous


class FakeScheduler:
    """In-memory FollowUpScheduler. Safe to use from several threads."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._schedules: dict[str, ScheduledSend] = {}

    # -- FollowUpScheduler --------------------------------------------------------------------------------
    def create(self, send: ScheduledSend) -> bool:
        with self._lock:
            if send.name in self._schedules:
                return False  # ConflictException
            self._schedules[send.name] = send
            return True

    def delete(self, name: str) -> bool:
        with self._lock:
            return self._schedules.pop(name, None) is not None  # ResourceNotFoundException when absent

    # -- what the sandbox shows ------------------------------------------------------------------------------
    def pending(self, phone: str | None = None) -> list[ScheduledSend]:
        """Pending schedules (for ``phone`` only, when given), earliest first."""
        with self._lock:
            sends = [s for s in self._schedules.values() if phone is None or s.job.phone == phone]
        return sorted(sends, key=lambda s: (s.at, s.name))

    def listing(self, phone: str | None = None) -> list[dict[str, Any]]:
        """The pending schedules as JSON: {"name", "phone", "step", "at", "episode", "deferrals"}."""
        return [
            {
                "name": s.name,
                "phone": s.job.phone,
                "step": s.job.step,
                "at": iso(s.at),
                "episode": s.job.episode,
                "deferrals": s.job.deferrals,
            }
            for s in self.pending(phone)
        ]

    def clear(self) -> None:
        with self._lock:
            self._schedules.clear()

    # -- firing ----------------------------------------------------------------------------------------------
    def send_due(
        self,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        early: bool = False,
        phone: str | None = None,
        clock: ScheduleClock | None = None,
    ) -> list[dict[str, Any]]:
        """Fire the schedules that are due (all pending ones with ``early``; ``phone``'s only, when given):
        ``invoke`` gets each schedule's input, as the follow-up function would. Returns one entry per
        schedule fired: {"name", "phone", "step", "at", "outcome"} or {..., "error"} (then the schedule
        stays, as EventBridge Scheduler would retry it)."""
        now = self._clock()
        due = [s for s in self.pending(phone) if early or s.at <= now]
        results: list[dict[str, Any]] = []
        for send in due:
            entry: dict[str, Any] = {
                "name": send.name,
                "phone": send.job.phone,
                "step": send.job.step,
                "at": iso(send.at),
            }
            try:
                if clock is not None and send.at > now:
                    with clock.at(send.at):
                        result = invoke(send.job.to_payload())
                else:
                    result = invoke(send.job.to_payload())
            except Exception as exc:  # the sandbox reports it; the schedule stays for another try
                entry["error"] = f"{type(exc).__name__}: {exc}"
            else:
                entry["outcome"] = result.get("outcome") if isinstance(result, dict) else result
                with self._lock:
                    if self._schedules.get(send.name) is send:
                        del self._schedules[send.name]  # ActionAfterCompletion: DELETE
            results.append(entry)
        return results


def sender_invoker(context: Callable[[], Any]) -> Callable[[dict[str, Any]], Any]:
    """``invoke`` for :meth:`FakeScheduler.send_due`: the real follow-up handler with a fresh Lambda
    context from ``context()`` per invocation."""
    from optin.handlers import follow_up

    def invoke(payload: dict[str, Any]) -> Any:
        return follow_up.handler(payload, context())

    return invoke
