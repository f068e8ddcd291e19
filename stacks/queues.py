"""Work queues: encrypted with a customer managed key, TLS only, 14 days, each with its DLQ."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

RETENTION = Duration.days(14)


def queue_key(scope: Construct, what: str) -> kms.Key:
    """The customer managed key of one pipeline's queues; it goes with the stack, as its queues do."""
    return kms.Key(
        scope,
        "Key",
        description=f"Encrypts {what}",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
    )


def encrypted_queue(scope: Construct, construct_id: str, key: kms.IKey, **options: Any) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=RETENTION,
        **options,
    )


def work_queue(
    scope: Construct,
    prefix: str,
    *,
    key: kms.IKey,
    consumer_timeout_seconds: int,
    max_receive_count: int,
) -> tuple[sqs.Queue, sqs.Queue]:
    """``<prefix>Queue`` and ``<prefix>DeadLetterQueue``. The visibility timeout is six times the
    consuming function's timeout (AWS guidance for SQS event sources)."""
    dead_letters = encrypted_queue(scope, f"{prefix}DeadLetterQueue", key)
    queue = encrypted_queue(
        scope,
        f"{prefix}Queue",
        key,
        visibility_timeout=Duration.seconds(6 * consumer_timeout_seconds),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count),
    )
    return queue, dead_letters
