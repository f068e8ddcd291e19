"""Text events from the configuration set's SNS topic, delivered through SQS, with partial batch failures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.delivery_events.records import UnreadableEvent, text_event
from optin.observability import count, logger, metrics, tracer
from optin.outbound import retrying
from optin.wiring import dependencies

# Failed records are reported, never raised: SQS redelivers exactly those, even when all fail.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    try:
        event = text_event(record.body)
    except UnreadableEvent as exc:
        # Not an event we can read: retrying cannot help, so it is counted and dropped, not parked.
        logger.warning("unreadable delivery event", extra={"messageId": record.message_id, "why": str(exc)})
        count("DeliveryEventIgnored", reason="unreadable")
        return "unreadable"
    # Idempotent: a throttled write is tried again here before the record goes back to the queue, which
    # would bring it back only after the visibility timeout (while a send waits to be recorded).
    return retrying(lambda: dependencies().delivery_events.handle(event))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
