"""Monitoring: alarms on what needs a person, optionally emailed through an encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.functions import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """CloudWatch alarms; with ``alarm_email`` they notify through a KMS-encrypted topic."""

    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, alarm_email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        self.topic: sns.Topic | None = None
        if alarm_email:
            self.topic = sns.Topic(
                self, "AlarmTopic", display_name="sms-optin alarms", master_key=key, enforce_ssl=True
            )
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            # CloudWatch publishes to the encrypted topic with this key.
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToEncrypt",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],  # in a key policy, '*' is this key
                    conditions={
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnLike": {
                            "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                        },
                    },
                )
            )

    def dead_letter_queue(
        self,
        queue: sqs.IQueue,
        *,
        name: str = "",
        what: str = "Inbound SMS failed repeatedly and sits in the dead-letter queue",
    ) -> cloudwatch.Alarm:
        """Any message in a dead-letter queue is work that was not done (an SMS nobody answered...)."""
        return self._alarm(
            f"{name}DeadLetterQueueAlarm",
            queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            description=f"{what}: inspect and redrive.",
        )

    def queue_age(self, queue: sqs.IQueue, max_age_seconds: int = 300) -> cloudwatch.Alarm:
        return self._alarm(
            "InboundQueueAgeAlarm",
            queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            threshold=max_age_seconds,
            description="Inbound SMS are waiting longer than expected: replies are late.",
        )

    def function_errors(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        return self._alarm(
            f"{name}ErrorsAlarm",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            threshold=1,
            description=f"The {name} function raised errors.",
        )

    def api_server_errors(self, api: apigw.RestApi) -> cloudwatch.Alarm:
        return self._alarm(
            "Api5xxAlarm",
            api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=5,
            description="The API answered 5xx repeatedly (AWS failures or handler errors).",
        )

    def spend_limit_reached(self, services: Sequence[str]) -> cloudwatch.Alarm:
        """Any refusal by the spend circuit breaker, summed over the functions that pay (``services``).
        The functions count one ``SpendLimitReached`` per refusal with only Powertools' ``service``
        dimension (the function's POWERTOOLS_SERVICE_NAME)."""
        metrics = {
            f"s{index}": cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="SpendLimitReached",
                dimensions_map={"service": service},
                statistic="Sum",
                period=PERIOD,
            )
            for index, service in enumerate(services)
        }
        return self._alarm(
            "SpendLimitAlarm",
            cloudwatch.MathExpression(
                expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
                using_metrics=metrics,
                label="SpendLimitReached",
                period=PERIOD,
            ),
            threshold=1,
            description="The spend circuit breaker is refusing paid lookups or confirmation texts: "
            "/register and /validate answer 503 capacity until the hour or day rolls over. An attack, "
            "or real demand above spendTextsPerHour/Day, spendLookupsPerHour/Day.",
        )

    def range_blocked(self, service: str) -> cloudwatch.Alarm:
        """A number range was blocked for SMS pumping (``service``: the registration function)."""
        return self._alarm(
            "RangeBlockedAlarm",
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="RangeBlocked",
                dimensions_map={"service": service},
                statistic="Sum",
                period=PERIOD,
            ),
            threshold=1,
            description="A number range got more than rangeRegistrationsPerHour registrations in an hour "
            "and gets no texts for rangeBlockSeconds: the signature of SMS pumping.",
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self.topic:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm
