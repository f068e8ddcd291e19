"""How far a text got, from End User Messaging's text events: pure, no I/O.

Events arrive late, more than once and out of order, so a status only moves forward: SENT (accepted,
on its way) < FAILED (given up) < DELIVERED (the handset or its carrier has it). Of two events of the
same status the later one (by event time, then type) wins, so the outcome never depends on the order
in which the events arrived, and an event seen twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class DeliveryStatus(StrEnum):
    SENT = "SENT"
    FAILED = "FAILED"
    DELIVERED = "DELIVERED"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {DeliveryStatus.SENT: 1, DeliveryStatus.FAILED: 2, DeliveryStatus.DELIVERED: 3}

# The TEXT_* event types that end a text's journey without it arriving (End User Messaging user guide,
# "Event types for SMS, MMS, and voice"). A failure that is not final (isFinal false) may still be retried
# by the service, so it only says the text is on its way.
FAILURE_EVENTS = frozenset(
    {
        "TEXT_INVALID",
        "TEXT_INVALID_MESSAGE",
        "TEXT_UNREACHABLE",
        "TEXT_CARRIER_UNREACHABLE",
        "TEXT_BLOCKED",
        "TEXT_CARRIER_BLOCKED",
        "TEXT_SPAM",
        "TEXT_UNKNOWN",
        "TEXT_TTL_EXPIRED",
        "TEXT_PROTECT_BLOCKED",
    }
)


def status_of(event_type: str, is_final: bool) -> DeliveryStatus | None:
    """The status an event reports; None for events that are not about a text (VOICE_*, MEDIA_*)."""
    if not event_type.startswith("TEXT_"):
        return None
    if event_type == "TEXT_DELIVERED":
        return DeliveryStatus.DELIVERED
    if event_type == "TEXT_SUCCESSFUL":
        # Accepted by the recipient's carrier; final where the country sends no delivery receipt.
        return DeliveryStatus.DELIVERED if is_final else DeliveryStatus.SENT
    if event_type in FAILURE_EVENTS and is_final:
        return DeliveryStatus.FAILED
    return DeliveryStatus.SENT  # TEXT_PENDING, TEXT_QUEUED, a failure still being retried, a new type


@dataclass(frozen=True)
class Delivery:
    """The latest word on one text: what the contact keeps as ``confirmationDelivery``."""

    status: DeliveryStatus
    event_type: str
    at: datetime
    carrier: str | None = None
    price_usd: Decimal | None = None

    def _order(self) -> tuple[int, datetime, str]:
        return (self.status.rank, self.at, self.event_type)


def advance(current: Delivery | None, reported: Delivery) -> Delivery | None:
    """``reported`` when it moves the text forward, None when it changes nothing (older, equal, a
    duplicate). Keeps the carrier and price an earlier event named when a later one leaves them out."""
    if current is not None and reported._order() <= current._order():
        return None
    if current is None:
        return reported
    return Delivery(
        reported.status,
        reported.event_type,
        reported.at,
        reported.carrier or current.carrier,
        reported.price_usd if reported.price_usd is not None else current.price_usd,
    )
