"""The sandbox's and benchmarks' faster moto transactions behave exactly as moto's own: same results,
same rollbacks (an Update in a cancelled transaction leaves its item as it was)."""

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from local.tables import create_tables, fast_moto_transactions
from optin.settings import Settings


def scenario():
    """Runs a few transactions and returns what each did and the tables' final content."""
    settings = Settings()
    db = boto3.client("dynamodb", region_name="us-east-1")
    create_tables(db, settings)
    c, m = settings.contacts_table, settings.idempotency_table
    outcomes = []

    def transact(*items):
        try:
            db.transact_write_items(TransactItems=list(items))
            outcomes.append("ok")
        except ClientError as exc:
            reasons = [r["Code"] for r in exc.response.get("CancellationReasons", [])]
            outcomes.append(reasons)

    put = {"Put": {"TableName": c, "Item": {"pk": {"S": "+1"}, "sk": {"S": "PROFILE"}, "v": {"N": "1"}}}}
    marker = {"Put": {"TableName": m, "Item": {"id": {"S": "inbound#1"}, "rank": {"N": "0"}}}}
    transact(put, marker)
    bump = {
        "Update": {
            "TableName": m,
            "Key": {"id": {"S": "inbound#1"}},
            "UpdateExpression": "SET #r = :r",
            "ConditionExpression": "#r < :r",
            "ExpressionAttributeNames": {"#r": "rank"},
            "ExpressionAttributeValues": {":r": {"N": "2"}},
        }
    }
    duplicate = {**put, "Put": {**put["Put"], "ConditionExpression": "attribute_not_exists(pk)"}}
    transact(bump, duplicate)  # cancelled by the second item: the Update must be rolled back
    event = {"Put": {"TableName": c, "Item": {"pk": {"S": "+1"}, "sk": {"S": "EVENT#1"}}}}
    transact(bump, event)  # applied
    transact(bump, {**event, "Put": {**event["Put"], "Item": {"pk": {"S": "+1"}, "sk": {"S": "EVENT#2"}}}})
    # A Put into an existing partition, then a failing item: the Put must be rolled back too.
    third = {**event, "Put": {**event["Put"], "Item": {"pk": {"S": "+1"}, "sk": {"S": "EVENT#3"}}}}
    fresh = {"Put": {"TableName": c, "Item": {"pk": {"S": "+2"}, "sk": {"S": "PROFILE"}}}}
    transact(third, fresh, duplicate)
    tables = {
        name: sorted(str(sorted(i.items())) for i in db.scan(TableName=name)["Items"]) for name in (c, m)
    }
    return outcomes, tables


def test_transactions_behave_the_same_with_and_without_the_fast_backup():
    with mock_aws():
        plain = scenario()
    with mock_aws(), fast_moto_transactions():
        quick = scenario()
    assert quick == plain
    outcomes, tables = plain
    assert outcomes == [
        "ok",
        ["None", "ConditionalCheckFailed"],
        "ok",
        ["ConditionalCheckFailed", "None"],
        ["None", "None", "ConditionalCheckFailed"],
    ]
    assert not any("EVENT#3" in item or "'+2'" in item for item in tables["Contacts"])
    assert any("'rank', {'N': '2'}" in item for item in tables["Idempotency"])
