"""The abuse limits' counters on the idempotency table: ``spend#...``, ``range#...``, ``ip#...`` items
with an atomic ``ADD``, and ``rangeblock#...`` items; every one expires by TTL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from optin.abuse.windows import Counter
from optin.adapters.aws import error_code, unavailable_on_failure
from optin.clock import iso, parse_iso

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items()}


class DynamoCounters:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def _update(self, counter: Counter, *, limited: bool) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _dump({"id": counter.key}),
            "UpdateExpression": "ADD #n :one SET expiresAt = :expires",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": _dump({":one": 1, ":expires": int(counter.expires_at.timestamp())}),
        }
        if limited:
            update["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :limit"
            update["ExpressionAttributeValues"].update(_dump({":limit": counter.limit}))
        return update

    def take(self, counters: Sequence[Counter]) -> Counter | None:
        with unavailable_on_failure("counting toward a limit"):
            try:
                if len(counters) == 1:
                    self._db.update_item(**self._update(counters[0], limited=True))
                else:
                    items = [{"Update": self._update(c, limited=True)} for c in counters]
                    self._db.transact_write_items(TransactItems=items)
            except ClientError as exc:
                code = error_code(exc)
                if code == "ConditionalCheckFailedException":
                    return counters[0]
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                    for counter, reason in zip(counters, reasons, strict=False):
                        if reason == "ConditionalCheckFailed":
                            return counter
                raise
        return None

    def add(self, counter: Counter) -> int:
        with unavailable_on_failure("counting"):
            response = self._db.update_item(
                **self._update(counter, limited=False), ReturnValues="UPDATED_NEW"
            )
        return int(_deserializer.deserialize(response["Attributes"]["count"]))

    def full(self, counters: Sequence[Counter]) -> Counter | None:
        with unavailable_on_failure("reading a limit"):
            for counter in counters:
                item = self._db.get_item(TableName=self._table, Key=_dump({"id": counter.key})).get("Item")
                if item and int(_deserializer.deserialize(item["count"])) >= counter.limit:
                    return counter
        return None

    def block(self, key: str, until: datetime) -> None:
        with unavailable_on_failure("blocking a number range"):
            self._db.put_item(
                TableName=self._table,
                Item=_dump({"id": key, "until": iso(until), "expiresAt": int(until.timestamp())}),
            )

    def blocked_until(self, key: str) -> datetime | None:
        with unavailable_on_failure("reading a number range block"):
            item = self._db.get_item(TableName=self._table, Key=_dump({"id": key})).get("Item")
        return parse_iso(_deserializer.deserialize(item["until"])) if item and "until" in item else None
