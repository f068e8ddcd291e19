"""Backups of the contacts table: consent evidence that survives accidents.

The table already has point-in-time recovery (any second of the last 35 days) and deletion protection.
What neither covers: a mistake noticed after 35 days, or a table deleted despite its protection. An AWS
Backup plan keeps a weekly backup of the table for ``backupRetentionDays`` (default 1461 days, 4 years:
the TCPA's statute of limitations, so the evidence of a consent exists as long as a claim about a text
can be brought). Weekly, not daily: each DynamoDB backup is a full copy of the table, and the 35 days of
point-in-time recovery already give finer steps for recent history.

The vault is retained with the stack's retained table, and its access policy denies deleting recovery
points or shortening their lifecycle, to everyone: only the retention itself expires them.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from constructs import Construct

from stacks.nag import acknowledge

# Sundays 05:00 UTC: a quiet hour for US and European traffic.
WEEKLY = events.Schedule.cron(minute="0", hour="5", week_day="SUN")


class ContactsBackup(Construct):
    """A vault, a weekly plan with the configured retention, and the selection of the contacts table."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        retention_days: int,
        plan_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            removal_policy=RemovalPolicy.RETAIN,  # the backups outlive the stack, as the table does
            block_recovery_point_deletion=True,
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_plan_name=plan_name, backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="WeeklyContacts",
                schedule_expression=WEEKLY,
                delete_after=Duration.days(retention_days),
            )
        )
        selection = self.plan.add_selection(
            "Contacts", resources=[backup.BackupResource.from_dynamo_db_table(table)]
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's service role uses the AWS managed backup policy AWS documents for it; this "
            "plan's selection limits what it backs up to the contacts table.",
        )
