"""Follow-up schedules in EventBridge Scheduler: one-time ``at()`` schedules that delete themselves.

Each schedule lives in the stack's schedule group, fires once at a UTC time, and hands its input (a
:class:`optin.followups.sequence.FollowUpJob`) to the sender: the follow-up Lambda function, or an SQS queue in
front of it, through the scheduler's execution role. Names are deterministic, so a second create is a
ConflictException (already there: fine) and a delete of a schedule that already fired (and deleted
itself) is a ResourceNotFoundException (nothing left to do: fine).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from optin.adapters.aws import error_code, unavailable_on_failure
from optin.followups.sequence import ScheduledSend, at_expression
from optin.observability import logger
from optin.ports import DependencyUnavailable

# How long, and how often, EventBridge Scheduler retries a target it could not invoke before it gives
# the event to the dead-letter queue. A late delivery is harmless: the sender re-checks the window.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 6 * 3600, "MaximumRetryAttempts": 20}


class EventBridgeScheduler:
    """FollowUpScheduler on EventBridge Scheduler (service name ``scheduler``)."""

    def __init__(
        self,
        client: Any,
        group: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str | None = None,
    ) -> None:
        self._scheduler = client
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn

    def _require_configuration(self) -> None:
        missing = [
            variable
            for variable, value in (
                ("FOLLOW_UP_SCHEDULE_GROUP", self._group),
                ("FOLLOW_UP_TARGET_ARN", self._target_arn),
                ("FOLLOW_UP_SCHEDULER_ROLE_ARN", self._role_arn),
            )
            if not value
        ]
        if missing:
            # Not raised as a SettingsError: a follow-up misconfiguration must never stop the opt-in flow.
            logger.error("follow-ups are configured but cannot be scheduled", extra={"missing": missing})
            raise DependencyUnavailable(f"scheduling follow-ups: {', '.join(missing)} not set")

    def create(self, send: ScheduledSend) -> bool:
        self._require_configuration()
        target: dict[str, Any] = {
            "Arn": self._target_arn,
            "RoleArn": self._role_arn,
            "Input": json.dumps(send.job.to_payload(), separators=(",", ":")),
            "RetryPolicy": dict(RETRY_POLICY),
        }
        if self._dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self._dead_letter_arn}
        with unavailable_on_failure("creating a follow-up schedule"):
            try:
                self._scheduler.create_schedule(
                    Name=send.name,
                    GroupName=self._group,
                    ScheduleExpression=at_expression(send.at),
                    ScheduleExpressionTimezone="UTC",
                    FlexibleTimeWindow={"Mode": "OFF"},
                    ActionAfterCompletion="DELETE",
                    State="ENABLED",
                    Description=send.description[:512],
                    Target=target,
                )
            except ClientError as exc:
                if error_code(exc) == "ConflictException":
                    return False  # created by an earlier attempt
                raise
        return True

    def delete(self, name: str) -> bool:
        self._require_configuration()
        with unavailable_on_failure("deleting a follow-up schedule"):
            try:
                self._scheduler.delete_schedule(Name=name, GroupName=self._group)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return False  # never created, fired already, or deleted before
                raise
        return True
