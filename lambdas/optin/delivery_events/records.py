"""End User Messaging text events as the DeliveryEvents function receives them: the event record JSON
(user guide, "Example event data"), published by the configuration set's SNS event destination and
delivered through SQS, usually inside the SNS envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from optin.delivery_events.status import Delivery, DeliveryStatus, status_of


class UnreadableEvent(ValueError):
    """The record is not a text event we can read; retrying will not help."""


@dataclass(frozen=True)
class TextEvent:
    """One text event: which message, what happened, and the context our send passed."""

    message_id: str
    event_type: str
    is_final: bool
    at: datetime  # eventTimestamp
    destination: str | None = None
    carrier: str | None = None
    price_usd: Decimal | None = None
    requested_at: datetime | None = None  # messageRequestTimestamp: when SendTextMessage was called
    context: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> DeliveryStatus | None:
        return status_of(self.event_type, self.is_final)

    def delivery(self) -> Delivery | None:
        status = self.status
        if status is None:
            return None
        return Delivery(status, self.event_type, self.at, self.carrier, self.price_usd)


def text_event(body: str) -> TextEvent:
    """Parse an SQS record body: the SNS notification wrapping the event record, or (raw message
    delivery) the record itself. Raises UnreadableEvent."""
    data = _json(body)
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        data = _json(data["Message"])
    if not isinstance(data, dict):
        raise UnreadableEvent("the event record is not a JSON object")
    message_id, event_type = data.get("messageId"), data.get("eventType")
    if not isinstance(message_id, str) or not message_id or not isinstance(event_type, str) or not event_type:
        raise UnreadableEvent("the event record has no messageId or eventType")
    at = _millis(data.get("eventTimestamp"))
    if at is None:
        raise UnreadableEvent("the event record has no eventTimestamp")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    return TextEvent(
        message_id=message_id,
        event_type=event_type,
        is_final=data.get("isFinal") is True,
        at=at,
        destination=_text(data.get("destinationPhoneNumber")),
        carrier=_text(data.get("carrierName")),
        price_usd=_price(data.get("totalMessagePrice")),
        requested_at=_millis(data.get("messageRequestTimestamp")),
        context={str(k): str(v) for k, v in context.items() if isinstance(v, str | int | float)},
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise UnreadableEvent("the record body is not JSON") from None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _millis(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _price(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None
