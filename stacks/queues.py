"""Work queues: encrypted with a customer managed key, TLS only, 14 days, each with its DLQ; and SNS
subscriptions into them that park what SNS cannot deliver instead of losing it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge

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


def subscribe_queue(scope: Construct, topic: sns.ITopic, queue: sqs.Queue, *, key: kms.IKey) -> sqs.Queue:
    """Subscribe ``queue`` to ``topic`` with the SNS envelope (the handlers read its Timestamp and
    MessageId) and a redrive policy; return the subscription's dead-letter queue.

    Without a redrive policy, a message SNS cannot put into the queue (a queue or key policy mistake,
    a deleted key) is retried for a while and then dropped without a trace. With it, SNS moves the
    message to ``<scope>SubscriptionDeadLetterQueue``, which is alarmed on. That queue uses the same
    key as ``queue``: the subscription already lets sns.amazonaws.com use that key for this topic
    only, and CDK adds the queue policy that lets this topic send to it.
    """
    dead_letters = encrypted_queue(scope, "SubscriptionDeadLetterQueue", key)
    acknowledge(
        dead_letters,
        "AwsSolutions-SQS3",
        "This queue is the dead-letter queue of an SNS subscription (its redrive policy): it holds "
        "what SNS could not deliver. A DLQ of a DLQ would only move the problem; its depth is alarmed on.",
    )
    topic.add_subscription(
        subscriptions.SqsSubscription(queue, raw_message_delivery=False, dead_letter_queue=dead_letters)
    )
    return dead_letters
