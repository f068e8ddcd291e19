"""The admin tool's adapters: DynamoDB reads and deletes the functions never need, and End User
Messaging's opt-out list (pinpoint-sms-voice-v2). The only modules of the tool that touch boto3.

Profiles are read page by page from the contacts table's sparse ``byStatus`` index (partition key
``status``, sort key ``pk``; only profiles carry ``status``), one status after the other, so an export
never reads audit entries it was not asked for and never holds more than one page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from optin.adapters.aws import error_code, unavailable_on_failure
from optin.adapters.contact_store import EVENT_PREFIX, contact_from_item
from optin.clock import iso, parse_iso
from optin.consent import Contact, Status
from optin.ports import DependencyUnavailable

STATUS_INDEX = "byStatus"
PAGE_SIZE = 10_000  # profiles per Query page at most; DynamoDB stops a page at 1 MB first (~2,000)
BATCH_WRITE = 25  # BatchWriteItem's limit
_ATTEMPTS = 6
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items()}


@dataclass(frozen=True)
class ProfileFilter:
    """Which profiles an export reads. ``since``/``until`` bound ``by`` (submitted or confirmed), both
    inclusive; a contact never confirmed has no confirmed time and never matches a confirmed range."""

    status: Status | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    by: str = "submitted"  # submitted | confirmed

    def expression(self) -> tuple[str | None, dict[str, str], dict[str, Any]]:
        """DynamoDB FilterExpression, names and values (ISO 8601 UTC sorts as time does)."""
        clauses: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.source is not None:
            clauses.append("#source = :source")
            names["#source"] = "source"
            values[":source"] = self.source
        if self.since is not None or self.until is not None:
            names["#at"] = "confirmedAt" if self.by == "confirmed" else "submittedAt"
            if self.since is not None:
                clauses.append("#at >= :since")
                values[":since"] = iso(self.since)
            if self.until is not None:
                clauses.append("#at <= :until")
                values[":until"] = iso(self.until)
        return (" AND ".join(clauses) or None), names, values


class DynamoConsentRecords:
    """The contacts, idempotency and lookup-cache tables, as the admin tool reads and erases them."""

    def __init__(
        self,
        client: Any,
        contacts_table: str,
        idempotency_table: str,
        lookup_cache_table: str,
        page_size: int | None = None,
    ) -> None:
        self._db = client
        self._contacts = contacts_table
        self._markers = idempotency_table
        self._lookups = lookup_cache_table
        self._page_size = page_size

    @property
    def page_size(self) -> int:
        return self._page_size or PAGE_SIZE

    def profiles(self, where: ProfileFilter) -> Iterator[list[Contact]]:
        """Pages of profiles (each at most ``page_size``; some may be empty after filtering)."""
        statuses = [where.status] if where.status is not None else list(Status)
        expression, names, values = where.expression()
        for status in statuses:
            kwargs: dict[str, Any] = {
                "TableName": self._contacts,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status", **names},
                "ExpressionAttributeValues": _dump({":status": status.value, **values}),
                "Limit": self.page_size,
            }
            if expression:
                kwargs["FilterExpression"] = expression
            while True:
                with unavailable_on_failure("reading contacts"):
                    page = self._db.query(**kwargs)
                yield [contact_from_item(_load(item)) for item in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def event_keys(self, phone: str) -> dict[str, str]:
        """Every audit entry's id -> its sort key."""
        keys: dict[str, str] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._contacts,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": _dump({":pk": phone, ":prefix": EVENT_PREFIX}),
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        with unavailable_on_failure("reading the audit trail"):
            while True:
                page = self._db.query(**kwargs)
                for item in page.get("Items", []):
                    sk = item["sk"]["S"]
                    keys[sk.rsplit("#", 1)[-1]] = sk
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return keys

    def delete_events(self, phone: str, sort_keys: Sequence[str]) -> int:
        return self._delete(self._contacts, [{"pk": phone, "sk": sk} for sk in sort_keys])

    def delete_markers(self, marker_ids: Sequence[str]) -> int:
        """Delete these idempotency items; returns how many existed."""
        existing = [m for m in marker_ids if self._exists(self._markers, {"id": m})]
        self._delete(self._markers, [{"id": m} for m in existing])
        return len(existing)

    def forget_lookup(self, phone: str) -> bool:
        """Delete the cached carrier lookup of ``phone``; False when there was none."""
        with unavailable_on_failure("deleting the cached lookup"):
            answer = self._db.delete_item(
                TableName=self._lookups, Key=_dump({"phoneNumber": phone}), ReturnValues="ALL_OLD"
            )
        return "Attributes" in answer

    def _exists(self, table: str, key: dict[str, str]) -> bool:
        with unavailable_on_failure("reading an idempotency record"):
            return "Item" in self._db.get_item(TableName=table, Key=_dump(key), ProjectionExpression="id")

    def _delete(self, table: str, keys: list[dict[str, str]]) -> int:
        for start in range(0, len(keys), BATCH_WRITE):
            request = {
                table: [{"DeleteRequest": {"Key": _dump(k)}} for k in keys[start : start + BATCH_WRITE]]
            }
            for attempt in range(_ATTEMPTS):
                with unavailable_on_failure("deleting records"):
                    answer = self._db.batch_write_item(RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)  # throttled: back off as AWS advises
            if request:
                raise DependencyUnavailable("deleting records: DynamoDB left items unprocessed")
        return len(keys)


@dataclass(frozen=True)
class ListedNumber:
    phone: str
    opted_out_at: datetime
    end_user_opted_out: bool  # True: the person opted out (a keyword); False: put there through the API


class EndUserMessagingOptOutList:
    """One opt-out list of End User Messaging (DescribeOptedOutNumbers, PutOptedOutNumber,
    DeleteOptedOutNumber)."""

    def __init__(self, client: Any, name: str, page_size: int = 100) -> None:
        self._sms = client
        self.name = name
        self._page_size = page_size

    def pages(self) -> Iterator[list[ListedNumber]]:
        kwargs: dict[str, Any] = {"OptOutListName": self.name, "MaxResults": self._page_size}
        while True:
            with unavailable_on_failure("reading the opt-out list"):
                page = self._sms.describe_opted_out_numbers(**kwargs)
            yield [
                ListedNumber(
                    n["OptedOutNumber"], _as_datetime(n["OptedOutTimestamp"]), bool(n.get("EndUserOptedOut"))
                )
                for n in page.get("OptedOutNumbers", [])
            ]
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token

    def put(self, phone: str) -> None:
        with unavailable_on_failure("putting a number on the opt-out list"):
            self._sms.put_opted_out_number(OptOutListName=self.name, OptedOutNumber=phone)

    def remove(self, phone: str) -> bool:
        """False when End User Messaging refused (a number can be removed once every 30 days)."""
        with unavailable_on_failure("removing a number from the opt-out list"):
            try:
                self._sms.delete_opted_out_number(OptOutListName=self.name, OptedOutNumber=phone)
            except ClientError as exc:
                if error_code(exc) in {
                    "ValidationException",
                    "ConflictException",
                    "ResourceNotFoundException",
                }:
                    return False
                raise
        return True


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        from datetime import UTC

        return datetime.fromtimestamp(value, tz=UTC)
    return parse_iso(str(value))
