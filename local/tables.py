"""Tables with the same keys as the stack's, created in an emulated DynamoDB (moto)."""

from __future__ import annotations

from typing import Any

from optin.settings import Settings


def create_tables(dynamodb: Any, settings: Settings) -> None:
    """Create the contacts, lookup-cache and idempotency tables if they do not exist."""
    existing = set(dynamodb.list_tables()["TableNames"])
    specs = {
        settings.contacts_table: [("pk", "HASH"), ("sk", "RANGE")],
        settings.lookup_cache_table: [("phoneNumber", "HASH")],
        settings.idempotency_table: [("id", "HASH")],
    }
    # Contacts: the sparse index of profiles by consent status (broadcasts read CONFIRMED from it).
    indexes = {settings.contacts_table: {"byStatus": [("status", "HASH"), ("pk", "RANGE")]}}
    for name, keys in specs.items():
        if name in existing:
            continue
        table_indexes = indexes.get(name, {})
        attributes = dict.fromkeys([a for a, _ in keys] + [a for k in table_indexes.values() for a, _ in k])
        extra: dict[str, Any] = {}
        if table_indexes:
            extra["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": attr, "KeyType": kind} for attr, kind in index_keys],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, index_keys in table_indexes.items()
            ]
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": attr, "KeyType": kind} for attr, kind in keys],
            AttributeDefinitions=[{"AttributeName": attr, "AttributeType": "S"} for attr in attributes],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
