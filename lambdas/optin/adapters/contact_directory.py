"""CONFIRMED contacts, read page by page from the contacts table's sparse ``byStatus`` index.

Index ``byStatus``: partition key ``status`` (S), sort key ``pk`` (S). Only profile items carry
``status``, so audit events never appear in it. Reads from a GSI are eventually consistent: a number
confirmed a second ago may miss a broadcast, and the delivery function re-checks each number against
the table before sending.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from optin.adapters.aws import unavailable_on_failure
from optin.adapters.contact_store import PROFILE, contact_from_item
from optin.consent import Contact, Status
from optin.ports import DependencyUnavailable, InvalidCursor

STATUS_INDEX = "byStatus"
PAGE_SIZE = 500  # ten queued batches of 50: one SendMessageBatch per page
BATCH_GET_KEYS = 100  # BatchGetItem's limit
_UNPROCESSED_ATTEMPTS = 5
_KEY_ATTRIBUTES = frozenset({"status", "pk", "sk"})
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def encode_cursor(last_key: dict[str, Any]) -> str:
    plain = {name: _deserializer.deserialize(value) for name, value in last_key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("cursor") from None
    if (
        not isinstance(plain, dict)
        or set(plain) != _KEY_ATTRIBUTES
        or not all(isinstance(v, str) for v in plain.values())
        or plain["status"] != Status.CONFIRMED
    ):
        raise InvalidCursor("cursor")
    return {name: _serializer.serialize(value) for name, value in plain.items()}


class DynamoContactDirectory:
    def __init__(self, client: Any, contacts_table: str, page_size: int = PAGE_SIZE) -> None:
        self._db = client
        self._table = contacts_table
        self._page_size = page_size

    def get_many(self, phones: Sequence[str]) -> dict[str, Contact]:
        """The contacts of ``phones`` that exist (strongly consistent), in as few calls as possible:
        one BatchGetItem per 100 numbers, plus retries of what DynamoDB left unprocessed."""
        found: dict[str, Contact] = {}
        unique = list(dict.fromkeys(phones))
        for start in range(0, len(unique), BATCH_GET_KEYS):
            keys = [{"pk": {"S": p}, "sk": {"S": PROFILE}} for p in unique[start : start + BATCH_GET_KEYS]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                with unavailable_on_failure("reading contacts"):
                    answer = self._db.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    contact = contact_from_item({k: _deserializer.deserialize(v) for k, v in item.items()})
                    found[contact.phone] = contact
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)  # throttled: back off briefly, as AWS advises
            if request:
                raise DependencyUnavailable("reading contacts: DynamoDB left keys unprocessed")
        return found

    def confirmed(
        self, source: str | None = None, cursor: str | None = None
    ) -> Iterator[tuple[list[Contact], str | None]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": Status.CONFIRMED.value}},
            "Limit": self._page_size,
        }
        if source is not None:
            kwargs["FilterExpression"] = "#source = :source"
            kwargs["ExpressionAttributeNames"]["#source"] = "source"
            kwargs["ExpressionAttributeValues"][":source"] = {"S": source}
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor)
        while True:
            with unavailable_on_failure("reading confirmed contacts"):
                page = self._db.query(**kwargs)
            contacts = [
                contact_from_item({k: _deserializer.deserialize(v) for k, v in item.items()})
                for item in page.get("Items", [])
            ]
            last_key = page.get("LastEvaluatedKey")
            yield contacts, encode_cursor(last_key) if last_key else None
            if not last_key:
                return
            kwargs["ExclusiveStartKey"] = last_key
