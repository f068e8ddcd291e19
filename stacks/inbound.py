"""Inbound pipeline: two-way topic -> encrypted SQS queue (with a dead-letter queue) -> inbound function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.nag import acknowledge
from stacks.queues import queue_key, subscribe_queue, work_queue


class InboundPipeline(Construct):
    """Buffers inbound SMS between SNS and the function so a failing record is retried, then parked.

    SNS delivers at least once into the queue; the function reports partial batch failures, so only
    failed records return to the queue, and a record that fails ``max_receive_count`` times moves to the
    dead-letter queue (alarmed on by the monitoring construct). A message SNS itself cannot deliver into
    the queue goes to the subscription's dead-letter queue (also alarmed), not nowhere.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        function: lambda_.Function,
        max_receive_count: int,
        max_concurrency: int,
    ) -> None:
        super().__init__(scope, construct_id)
        # SNS encrypts into the queue with this key; its policy (added by the subscription) lets
        # sns.amazonaws.com use it only for deliveries from the two-way topic.
        self.key = queue_key(self, "inbound SMS in the SQS queues")
        timeout = function.timeout.to_seconds() if function.timeout else 30
        self.queue, self.dead_letter_queue = work_queue(
            self, "", key=self.key, consumer_timeout_seconds=int(timeout), max_receive_count=max_receive_count
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the inbound queue; a DLQ of a DLQ would only move "
            "the problem. Its depth is alarmed on.",
        )
        self.subscription_dead_letter_queue = subscribe_queue(self, topic, self.queue, key=self.key)
        function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
