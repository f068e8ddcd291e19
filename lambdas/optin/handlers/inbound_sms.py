"""Inbound SMS from the two-way SNS topic, delivered through SQS, with partial batch failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.events import inbound_message
from optin.observability import logger, metrics, tracer
from optin.wiring import dependencies

# Failed records are reported, never raised: SQS redelivers exactly those, even when all fail.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    queued_at = _queued_at(record)
    try:
        message = inbound_message(record.body, queued_at)
    except ValueError:
        # Malformed: fail this record only; after the queue's retries it rests in the dead-letter queue.
        logger.exception("unreadable inbound record", extra={"messageId": record.message_id})
        raise
    return dependencies().inbound.handle(message)


def _queued_at(record: SQSRecord) -> datetime | None:
    """When SQS got the record (``SentTimestamp``), or None when the attribute is absent or unreadable:
    the SNS envelope's own timestamp, or the time now, is used instead."""
    attributes = record.raw_event.get("attributes")
    sent_ms = attributes.get("SentTimestamp") if isinstance(attributes, dict) else None
    try:
        return datetime.fromtimestamp(int(sent_ms) / 1000, tz=UTC) if sent_ms else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
