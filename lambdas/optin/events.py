"""Inbound SMS event payloads: the SNS envelope in an SQS record, and the two-way SMS JSON inside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from optin.consent import InboundMessage


class TwoWayMessage(BaseModel):
    """What End User Messaging publishes to the two-way SNS topic for each inbound SMS."""

    model_config = ConfigDict(extra="ignore")

    originationNumber: str = Field(pattern=r"^\+\d{7,15}$")
    destinationNumber: str = Field(min_length=1)
    messageBody: str = ""
    inboundMessageId: str = Field(min_length=1)
    messageKeyword: str | None = None
    previousPublishedMessageId: str | None = None


class SnsNotification(BaseModel):
    """The SNS envelope around a message delivered to SQS (raw message delivery off)."""

    model_config = ConfigDict(extra="ignore")

    Type: str
    MessageId: str
    Message: str
    Timestamp: datetime


def inbound_message(body: str, queued_at: datetime | None = None) -> InboundMessage:
    """Parse an SQS record body: an SNS notification wrapping the two-way JSON, or (with raw message
    delivery) the two-way JSON itself. Raises pydantic.ValidationError or ValueError when malformed."""
    data = json.loads(body)
    received_at = queued_at or datetime.now(UTC)
    if isinstance(data, dict) and data.get("Type") == "Notification":
        envelope = SnsNotification.model_validate(data)
        received_at = envelope.Timestamp
        data = json.loads(envelope.Message)
    message = TwoWayMessage.model_validate(data)
    return InboundMessage(
        origination_number=message.originationNumber,
        destination_number=message.destinationNumber,
        body=message.messageBody,
        inbound_message_id=message.inboundMessageId,
        received_at=received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC),
        message_keyword=message.messageKeyword,
        previous_published_message_id=message.previousPublishedMessageId,
    )
