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
    for name, keys in specs.items():
        if name in existing:
            continue
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": attr, "KeyType": kind} for attr, kind in keys],
            AttributeDefinitions=[{"AttributeName": attr, "AttributeType": "S"} for attr, _ in keys],
            BillingMode="PAY_PER_REQUEST",
        )
