"""Delivery events: the configuration set every send uses, its SNS event destination, and the queue
that feeds the DeliveryEvents function.

``SendTextMessage`` accepting a text says nothing about the phone receiving it. End User Messaging
reports what happened next (queued, delivered, blocked, unreachable...) as one event record per text
to a configuration set's event destinations. The stack owns a configuration set whose SNS destination
is a KMS-encrypted topic; the topic feeds an encrypted SQS queue (with a dead-letter queue) that drives
the DeliveryEvents function with partial batch responses, as the inbound pipeline does.

The stack's configuration set also carries the protect configuration (:mod:`stacks.protect`), so SMS can
go only to the allowed countries. With context ``configurationSet`` naming an existing set instead,
sends use that set; the topic still exists and its policies accept events from that set, but the set's
event destination and protect configuration are its owner's to add (docs/deploy.md says how).
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.protect import SendingCountries
from stacks.queues import queue_key, subscribe_queue, work_queue

SMS_VOICE = "sms-voice.amazonaws.com"
EVENT_DESTINATION = "delivery-events"
# Every text event a configuration set can publish (botocore's EventType enum, pinpoint-sms-voice-v2),
# except TEXT_ALL (a shorthand) and TEXT_SENT, which event destinations do not support.
TEXT_EVENT_TYPES = (
    "TEXT_PENDING",
    "TEXT_QUEUED",
    "TEXT_SUCCESSFUL",
    "TEXT_DELIVERED",
    "TEXT_INVALID",
    "TEXT_INVALID_MESSAGE",
    "TEXT_UNREACHABLE",
    "TEXT_CARRIER_UNREACHABLE",
    "TEXT_BLOCKED",
    "TEXT_CARRIER_BLOCKED",
    "TEXT_SPAM",
    "TEXT_UNKNOWN",
    "TEXT_TTL_EXPIRED",
    "TEXT_PROTECT_BLOCKED",
)
_NAME_SUFFIX = "-delivery"
_MAX_NAME = 64  # configuration set names: 1-64 of [A-Za-z0-9_-]


def configuration_set_name(stack_name: str) -> str:
    """The name of the configuration set the stack owns (fixed, so its ARN is known before it exists)."""
    return stack_name[: _MAX_NAME - len(_NAME_SUFFIX)] + _NAME_SUFFIX


class DeliveryEvents(Construct):
    """Configuration set (or an existing one), protect configuration, event topic, queue and DLQs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        existing_configuration_set: str | None,
        allowed_countries: Iterable[str],
        traffic_filter: bool,
        consumer_timeout_seconds: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.owns_configuration_set = existing_configuration_set is None
        name = existing_configuration_set or configuration_set_name(stack_name)
        self.configuration_set_arn = stack.format_arn(
            service="sms-voice", resource="configuration-set", resource_name=name
        )
        # Only this configuration set, in this account, may publish events (confused deputy).
        from_the_configuration_set = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": self.configuration_set_arn},
        }

        # The topic's own key: the queue key's policy names this topic, so sharing one key would be a cycle.
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts SMS delivery events on their SNS topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # the events it protects are transient
        )
        self.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEndUserMessagingToEncryptEvents",
                principals=[iam.ServicePrincipal(SMS_VOICE)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],  # in a key policy, '*' is this key
                conditions=from_the_configuration_set,
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="SMS delivery events",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEndUserMessagingEvents",
                principals=[iam.ServicePrincipal(SMS_VOICE)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_the_configuration_set,
            )
        )

        self.sending_countries = SendingCountries(
            self, "SendingCountries", allowed=allowed_countries, traffic_filter=traffic_filter
        )
        self.configuration_set: smsvoice.CfnConfigurationSet | None = None
        if self.owns_configuration_set:
            self.configuration_set = smsvoice.CfnConfigurationSet(
                self,
                "ConfigurationSet",
                configuration_set_name=name,
                event_destinations=[
                    smsvoice.CfnConfigurationSet.EventDestinationProperty(
                        event_destination_name=EVENT_DESTINATION,
                        enabled=True,
                        matching_event_types=list(TEXT_EVENT_TYPES),
                        sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                            topic_arn=self.topic.topic_arn
                        ),
                    )
                ],
                protect_configuration_id=self.sending_countries.id,
            )
            # The topic policy before End User Messaging is told to publish there (the key's policy is
            # part of the key, which the topic already waits for).
            self.configuration_set.node.add_dependency(self.topic.node.find_child("Policy"))
        # Ref of our set is its name: every function that sends then waits for the set to exist.
        self.configuration_set_name = self.configuration_set.ref if self.configuration_set else name

        self.queue_key = queue_key(self, "SMS delivery events in the SQS queues")
        self.queue, self.dead_letter_queue = work_queue(
            self,
            "",
            key=self.queue_key,
            consumer_timeout_seconds=consumer_timeout_seconds,
            max_receive_count=max_receive_count,
        )
        self.subscription_dead_letter_queue = subscribe_queue(
            self, self.topic, self.queue, key=self.queue_key
        )

    def drive(self, function: lambda_.Function) -> None:
        """The queue drives the DeliveryEvents function; failed records alone return to the queue."""
        function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )
