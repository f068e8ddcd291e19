"""One scheduled follow-up step, sent when its EventBridge Scheduler schedule fires.

The schedule's input is a :class:`optin.followups.sequence.FollowUpJob`. It arrives either as the event itself
(the schedule targets this function) or as the body of each SQS record (the schedule targets a queue in
front of it; failed records are reported as partial batch failures and redelivered).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.followups.sequence import FollowUpJob
from optin.observability import logger, metrics, tracer
from optin.wiring import dependencies

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _job(payload: Any) -> FollowUpJob:
    try:
        return FollowUpJob.from_payload(payload)
    except ValueError:
        # Malformed: retries cannot help; it ends in the dead-letter queue (or the async failure destination).
        logger.exception("unreadable follow-up job")
        raise


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    return dependencies().follow_up_sender.send(_job(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return {"outcome": dependencies().follow_up_sender.send(_job(event))}
