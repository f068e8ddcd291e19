"""Applying consent decisions to the contact store with optimistic concurrency."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from optin.consent import AuditEvent, Contact
from optin.observability import count, logger
from optin.ports import ContactConflict, ContactStore, DependencyUnavailable, EndpointMirror, InboundMarker

T = TypeVar("T")
MAX_ATTEMPTS = 6


class Change:
    """What a decision wants written: the contact (None: no contact), its new events, an inbound marker."""

    __slots__ = ("contact", "events", "marker")

    def __init__(
        self,
        contact: Contact | None,
        events: Sequence[AuditEvent] = (),
        marker: InboundMarker | None = None,
    ) -> None:
        self.contact = contact
        self.events = tuple(events)
        self.marker = marker


def transact(
    store: ContactStore,
    phone: str,
    decide: Callable[[Contact | None], tuple[Change | None, T]],
) -> tuple[Contact | None, T]:
    """Read the contact, let ``decide`` say what changes, write it conditionally; on a concurrent
    change, read again and decide again. Returns the contact as saved (or as read) and the decision."""
    for _ in range(MAX_ATTEMPTS):
        current = store.get(phone)
        change, decision = decide(current)
        if change is None:
            return current, decision
        try:
            saved = store.save(
                change.contact,
                current.version if current is not None else None,
                change.events,
                change.marker,
            )
        except ContactConflict:
            continue
        return (saved if change.contact is not None else current), decision
    raise DependencyUnavailable("the contact kept changing under us", retry_after_seconds=5)


def mirror_quietly(mirror: EndpointMirror | None, contact: Contact) -> None:
    """Mirror to Pinpoint when configured; a failure there never fails the opt-in flow."""
    if mirror is None:
        return
    try:
        mirror.mirror(contact)
    except DependencyUnavailable as exc:
        logger.warning("endpoint mirror failed", extra={"error": str(exc)})
        count("EndpointMirrorFailed")
