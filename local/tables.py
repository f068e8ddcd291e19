"""Tables with the same keys as the stack's, created in an emulated DynamoDB (moto)."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def fast_moto_transactions() -> Iterator[None]:
    """Make moto's TransactWriteItems cost O(items written) instead of O(table), behaving the same.

    Before applying a transaction, moto backs up every table it touches with ``copy.deepcopy`` so it can
    roll back, which makes a growing table quadratic. Put and Delete replace or remove ``Item`` objects
    and never change them in place, and Update changes only the item it targets: so a copy of the
    table's key structure that shares the partitions the transaction does not touch, copies the ones it
    touches, and deep-copies just the items an Update targets, is an exact backup. Undone on exit; a moto that copies tables its own way is
    left alone.

    moto also keeps every model object it ever created in a class-level list (``instances_tracked``, for its
    own data dashboard), so every item written, overwritten or copied stays in memory for good. That list
    is not kept for DynamoDB's models meanwhile: memory then follows the items that exist.
    """
    from moto.core.model_instances import model_data
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if "__deepcopy__" in vars(Table):
        yield
        return
    tracked = {cls: cls.instances_tracked for cls in model_data["dynamodb"].values()}
    for cls in tracked:
        cls.instances_tracked = _Untracked()

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        touched: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for item in transact_items:
            (kind, operation), *_ = item.items()
            key = operation.get("Key") or operation.get("Item") or {}
            touched[operation["TableName"]].append((kind, key))

        def snapshot(table: Any, memo: dict[int, Any]) -> Any:
            # The partitions this transaction does not touch are shared as they are; each touched one is
            # a copy of its key -> item map, and the item an Update changes in place is copied whole.
            clone = copy.copy(table)
            clone.items = defaultdict(dict, table.items)
            for kind, key in touched.get(table.name, ()):
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                if range_key is not None and isinstance(table.items.get(hash_key), dict):
                    clone.items[hash_key] = dict(table.items[hash_key])
                if kind != "Update":
                    continue
                current = table.get_item(hash_key, range_key)
                if current is None:
                    continue
                if range_key is None:
                    clone.items[hash_key] = copy.deepcopy(current)
                else:
                    clone.items[hash_key][range_key] = copy.deepcopy(current)
            return clone

        Table.__deepcopy__ = snapshot
        try:
            return original(backend, transact_items)
        finally:
            del Table.__deepcopy__

    DynamoDBBackend.transact_write_items = transact_write_items
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original
        for cls, instances in tracked.items():
            cls.instances_tracked = instances


class _Untracked(list):
    """A list that keeps nothing appended to it."""

    def append(self, item: Any) -> None:
        pass
