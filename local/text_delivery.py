"""The sandbox's configuration set: the text events End User Messaging would publish for each text in
the outbox, in the event destination's record shape, for the real DeliveryEvents handler.

Every text is accepted by the carrier (TEXT_SUCCESSFUL, not final) and then delivered (TEXT_DELIVERED,
final), except to two test numbers: the texts to one fail (TEXT_CARRIER_UNREACHABLE, final), and the
delivery event of the texts to the other arrives twice, as SNS may deliver it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from local import events
from local.outbox import Message

FAILING_NUMBER: Final = "+12065550155"  # carrier unreachable: the confirmation fails, the cooldown lifts
TWICE_NUMBER: Final = "+12065550166"  # each delivery event arrives twice: the second changes nothing


def text_events(message: Message) -> list[dict[str, Any]]:
    """The event records for one outbound text, in the order they arrive."""

    def record(event_type: str, after_ms: int, is_final: bool) -> dict[str, Any]:
        return events.text_event_record(
            event_type,
            message_id=message.message_id,
            destination=message.to,
            origination=message.sender,
            at=message.sent_at + timedelta(milliseconds=after_ms),
            requested_at=message.sent_at,
            is_final=is_final,
            context=message.context,
            message_type=message.message_type,
        )

    if message.to == FAILING_NUMBER:
        return [record("TEXT_CARRIER_UNREACHABLE", 400, True)]
    accepted, delivered = record("TEXT_SUCCESSFUL", 300, False), record("TEXT_DELIVERED", 900, True)
    if message.to == TWICE_NUMBER:
        return [accepted, delivered, dict(delivered)]
    return [accepted, delivered]
