"""WhatsApp delivery for Amazon Pinpoint's custom channel, and for the broadcast queue.

A Pinpoint campaign or journey (``CustomDeliveryConfiguration.DeliveryUri`` = this function's ARN)
invokes ``handler`` with up to 50 endpoints; it answers with one ``EventAttributes`` entry per endpoint
(status sent, failed or skipped) for journeys to split on.

The broadcast queue (filled by ``POST /broadcasts``) carries the same event shape, one per message;
``handler`` recognises an SQS event and processes it with partial batch failures: a message whose
batch made no progress is reported failed and comes back later, and after the queue's receive limit
rests in the DLQ. ``broadcast_handler`` is that path alone, for a function dedicated to the queue.
"""

from __future__ import annotations

import json
from typing import Any

# First: the batch utility loads its (slow) pydantic support only if pydantic is loaded before it.
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.observability import logger, metrics, tracer
from optin.whatsapp.delivery import FAILED, SENT, SKIPPED, parse_event, pinpoint_response
from optin.wiring import dependencies

# Failed records are reported, never raised: SQS redelivers exactly those, even when all fail.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _pinpoint(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse_event(event)
    delivery = dependencies().delivery
    return pinpoint_response(delivery.deliver(batch, delivery.deadline(context)))


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, int]:
    try:
        batch = parse_event(json.loads(record.body))
    except ValueError:
        # Not a batch at all: fail this record only; after the queue's retries it rests in the DLQ.
        logger.exception("unreadable broadcast record", extra={"messageId": record.message_id})
        raise
    delivery = dependencies().delivery
    # Each record gets the time left when it starts; the queue's batch size keeps that sufficient.
    results = delivery.deliver_queued(batch, delivery.deadline(lambda_context))
    statuses = [r.status for r in results.values()]
    return {status: statuses.count(status) for status in (SENT, FAILED, SKIPPED)}


def _queue(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def _from_sqs(event: Any) -> bool:
    return isinstance(event, dict) and "Endpoints" not in event and isinstance(event.get("Records"), list)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One function for both sources: a Pinpoint custom-channel event gets
    ``{endpointId: {"EventAttributes": {...}}}`` for every endpoint; an SQS event from the broadcast
    queue gets ``{"batchItemFailures": [...]}``. Raises UnsupportedEvent for anything else."""
    return _queue(event, context) if _from_sqs(event) else _pinpoint(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def broadcast_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The broadcast queue only (for a function dedicated to it)."""
    return _queue(event, context)
