"""Contacts data: the system of record, the phone lookup cache and the idempotency records."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.nag import acknowledge

TTL_ATTRIBUTE = "expiresAt"

CONTACTS = "contacts"
LOOKUP_CACHE = "lookupCache"
IDEMPOTENCY = "idempotency"


STATUS_INDEX = "byStatus"


class ContactsData(Construct):
    """Three on-demand tables with point-in-time recovery, KMS encryption at rest and a TTL attribute.

    The contacts table holds consent evidence (who agreed to what, when, how they confirmed), which must
    outlive the stack: it is retained on stack deletion and protected against deletion. The cache and
    idempotency tables hold derived, short-lived data and go with the stack.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.contacts = self._table(
            "Contacts",
            partition_key="pk",  # E.164 number
            sort_key="sk",  # PROFILE or EVENT#...
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=True,
        )
        # Sparse: only profiles carry ``status``. Broadcasts read the CONFIRMED contacts from it.
        self.contacts.add_global_secondary_index(
            index_name=STATUS_INDEX,
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.lookup_cache = self._table("LookupCache", partition_key="phoneNumber")
        self.idempotency = self._table("Idempotency", partition_key="id")
        self.tables: dict[str, dynamodb.Table] = {
            CONTACTS: self.contacts,
            LOOKUP_CACHE: self.lookup_cache,
            IDEMPOTENCY: self.idempotency,
        }

    def grant(self, function: lambda_.IFunction, table: str, *, write: bool = True) -> None:
        """Read (and write) data on one table. CDK includes the table's indexes in such grants."""
        target = self.tables[table]
        (target.grant_read_write_data if write else target.grant_read_data)(function)
        if table == CONTACTS and function.role is not None:
            logical_id = Stack.of(self).get_logical_id(target.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]",
                "CDK grants table access with '<table>/index/*'; the contacts table's only index (byStatus) "
                "is a projection of the items this function may already read.",
            )

    def _table(
        self,
        construct_id: str,
        *,
        partition_key: str,
        sort_key: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        deletion_protection: bool = False,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=(
                dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=removal_policy,
            deletion_protection=deletion_protection,
        )
