"""Follow-up sequences: EventBridge Scheduler delivering one-time schedules to the sender function.

When a contact confirms, the inbound function creates one ``at(...)`` schedule per step (deleted after
it runs) in the stack's schedule group. Each schedule sends its payload to an encrypted SQS queue that
drives the FollowUp function with partial batch failures; a schedule the scheduler cannot deliver, and
a step that keeps failing, rest in the dead-letter queue (alarmed).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from stacks.nag import acknowledge, finding_arn
from stacks.queues import queue_key, work_queue

SCHEDULER = "scheduler.amazonaws.com"


class FollowUpScheduling(Construct):
    """The schedule group, the queue schedules deliver to (and its DLQ), and the scheduler's role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        sender_timeout_seconds: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=group_name)
        self.key = queue_key(self, "the follow-up step queues (payloads carry phone numbers)")
        self.queue, self.dead_letter_queue = work_queue(
            self,
            "",
            key=self.key,
            consumer_timeout_seconds=sender_timeout_seconds,
            max_receive_count=max_receive_count,
        )
        group_arn = stack.format_arn(service="scheduler", resource="schedule-group", resource_name=group_name)
        self.role = iam.Role(
            self,
            "SchedulerRole",
            description="Assumed by EventBridge Scheduler to deliver follow-up steps to their queue",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": group_arn},
                },
            ),
        )
        # Only what delivering a step needs (CDK's grant_send_messages would add kms:ReEncrypt* etc.).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn, self.dead_letter_queue.queue_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )
        self.group_name = group_name
        self.schedules_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{group_name}/*"
        )

    def environment(self) -> dict[str, str]:
        return {
            "FOLLOW_UP_SCHEDULE_GROUP": self.group.name or "",
            "FOLLOW_UP_TARGET_ARN": self.queue.queue_arn,
            "FOLLOW_UP_SCHEDULER_ROLE_ARN": self.role.role_arn,
            "FOLLOW_UP_DLQ_ARN": self.dead_letter_queue.queue_arn,
        }

    def grant_scheduling(self, function: lambda_.IFunction, *, delete: bool) -> None:
        """Create (and, for ``delete``, remove) schedules in this group only, passing only our role."""
        actions = ["scheduler:CreateSchedule", *(["scheduler:DeleteSchedule"] if delete else [])]
        function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[self.schedules_arn]))
        if function.role is not None:
            acknowledge(
                function.role,
                "AwsSolutions-IAM5[Resource::"
                + finding_arn(self, "scheduler:{region}:{account}:schedule/" + self.group_name + "/*")
                + "]",
                "Schedule names are made per contact and step at run time; the wildcard is confined to "
                "this stack's schedule group and to creating (and, for opt-outs, deleting) schedules.",
            )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SCHEDULER}},
            )
        )

    def drive(self, sender: lambda_.Function, *, max_concurrency: int = 2) -> None:
        """The queue drives the sender; low concurrency keeps a 09:00 burst within the number's rate."""
        sender.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
