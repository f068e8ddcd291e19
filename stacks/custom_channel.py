"""Custom-channel delivery (WhatsApp) and broadcasts without Pinpoint campaigns.

One function delivers WhatsApp template messages for a batch of at most 50 endpoints. Two things
drive it: a Pinpoint campaign's custom channel (where the account still has Pinpoint; the stack lets
this project's campaigns invoke it), and the broadcast queue, which ``POST /broadcasts`` (IAM
authorized) fills with batches of CONFIRMED contacts. The WhatsApp token lives in Secrets Manager.
"""

from __future__ import annotations

from aws_cdk import SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.nag import acknowledge
from stacks.queues import queue_key, work_queue

PLACEHOLDER_NOTE = (
    "WhatsApp Cloud API access token for sms-optin's custom channel. Replace the placeholder with "
    '{"token": "<permanent system-user token>"} (aws secretsmanager put-secret-value).'
)


class CustomChannel(Construct):
    """The WhatsApp token secret and the broadcast queue (with DLQ); grants for the two functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_arn: str | None,
        delivery_timeout_seconds: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        if secret_arn:
            self.secret = secretsmanager.Secret.from_secret_complete_arn(self, "WhatsAppToken", secret_arn)
        else:
            # Created with a placeholder: the token is Meta's to issue, so the operator puts it in after
            # deploying (the description says how). The delivery function reads it with caching.
            self.secret = secretsmanager.Secret(
                self,
                "WhatsAppToken",
                description=PLACEHOLDER_NOTE,
                secret_string_value=SecretValue.unsafe_plain_text('{"token": ""}'),
            )
            acknowledge(
                self.secret,
                "AwsSolutions-SMG4",
                "A WhatsApp Cloud API token is issued by Meta and cannot be rotated by a Lambda here; the "
                "operator replaces it in Meta's Business Manager and puts the new value in this secret.",
            )
        self.key = queue_key(self, "the broadcast queues (batches carry phone numbers)")
        self.queue, self.dead_letter_queue = work_queue(
            self,
            "Broadcast",
            key=self.key,
            consumer_timeout_seconds=delivery_timeout_seconds,
            max_receive_count=max_receive_count,
        )

    def environment(self) -> dict[str, str]:
        return {"WHATSAPP_SECRET_ID": self.secret.secret_arn, "BROADCAST_QUEUE_URL": self.queue.queue_url}

    def grant_enqueue(self, function: lambda_.IFunction) -> None:
        """SendMessage(Batch) to the broadcast queue, and the key use that needs; nothing broader."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )

    def grant_delivery(
        self,
        function: lambda_.Function,
        *,
        social_phone_number_id: str | None,
        pinpoint_project_id: str | None,
        max_concurrency: int = 2,
    ) -> None:
        """The delivery function: read the token, requeue retryable failures, be driven by the queue,
        send through End User Messaging Social when that transport is chosen, and be invoked by this
        project's Pinpoint campaigns."""
        stack = Stack.of(self)
        self.secret.grant_read(function)
        self.grant_enqueue(function)
        function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=1,  # one message is one batch of up to 50 endpoints
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
        if social_phone_number_id:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["social-messaging:SendWhatsAppMessage"],
                    resources=[
                        stack.format_arn(
                            service="social-messaging",
                            resource="phone-number-id",
                            resource_name=social_phone_number_id.removeprefix("phone-number-id-"),
                        )
                    ],
                )
            )
        if pinpoint_project_id:
            function.add_permission(
                "PinpointCampaigns",
                principal=iam.ServicePrincipal(f"pinpoint.{stack.region}.amazonaws.com"),
                action="lambda:InvokeFunction",
                source_account=stack.account,
                source_arn=stack.format_arn(
                    service="mobiletargeting", resource="apps", resource_name=f"{pinpoint_project_id}/*"
                ),
            )
