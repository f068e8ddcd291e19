"""Contacts, their audit trail and inbound-message markers in DynamoDB.

Contacts table: pk = E.164 number; sk = "PROFILE" for the contact, "EVENT#<contact version>#<n>#<id>"
for each audit event. Idempotency table: id = "inbound#<inboundMessageId>" or "cooldown#<key>".
Every change is a conditional write; a profile change, its events and an inbound marker are
written in one transaction, so a crash never leaves one without the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from optin.adapters.aws import error_code, unavailable_on_failure
from optin.clock import iso, parse_iso
from optin.consent import AuditEvent, Contact, Status
from optin.delivery_events.status import Delivery, DeliveryStatus
from optin.ports import ClaimResult, ContactConflict, DuplicateMessage, InboundMarker

PROFILE = "PROFILE"
EVENT_PREFIX = "EVENT#"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_CONTACT_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Contact)}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_ATTRIBUTE = {name: _camel(name) for name in _CONTACT_FIELDS}


def contact_to_item(contact: Contact) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": contact.phone, "sk": PROFILE}
    for f in dataclasses.fields(contact):
        value = getattr(contact, f.name)
        if f.name == "phone" or value is None:
            continue
        if isinstance(value, Delivery):
            value = delivery_to_map(value)
        elif isinstance(value, datetime):
            value = iso(value)
        item[_ATTRIBUTE[f.name]] = value.value if isinstance(value, Status) else value
    return item


def delivery_to_map(delivery: Delivery) -> dict[str, Any]:
    """``confirmationDelivery``: {status, eventType, at, carrier, priceUsd} (absent values left out)."""
    data: dict[str, Any] = {"status": delivery.status.value, "eventType": delivery.event_type}
    data["at"] = iso(delivery.at)
    if delivery.carrier:
        data["carrier"] = delivery.carrier
    if delivery.price_usd is not None:
        data["priceUsd"] = delivery.price_usd
    return data


def delivery_from_map(data: dict[str, Any]) -> Delivery:
    price = data.get("priceUsd")
    return Delivery(
        DeliveryStatus(data["status"]),
        str(data["eventType"]),
        parse_iso(data["at"]),
        data.get("carrier"),
        None if price is None else price,
    )


def contact_from_item(item: dict[str, Any]) -> Contact:
    values: dict[str, Any] = {"phone": item["pk"]}
    for name, kind in _CONTACT_FIELDS.items():
        raw = item.get(_ATTRIBUTE[name])
        if name == "phone" or raw is None:
            continue
        if "Delivery" in kind:
            values[name] = delivery_from_map(raw)
        elif "datetime" in kind:
            values[name] = parse_iso(raw)
        elif kind.startswith("int"):
            values[name] = int(raw)
        elif name == "status":
            values[name] = Status(raw)
        else:
            values[name] = raw
    return Contact(**values)


def event_to_item(phone: str, event: AuditEvent, version: int, index: int) -> dict[str, Any]:
    """Events sort in the order they were written: by the contact version that wrote them."""
    return {
        "pk": phone,
        "sk": f"{EVENT_PREFIX}{version:010d}#{index:02d}#{event.id}",
        "type": event.type,
        "at": iso(event.at),
        "detail": dict(event.detail),
    }


def marker_to_item(marker: InboundMarker) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": marker.id,
        "phone": marker.phone,
        "done": marker.done,
        "expiresAt": int(marker.expires_at.timestamp()),
    }
    if marker.reply:
        item["reply"] = marker.reply
    return item


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


class DynamoContactStore:
    """ContactStore on the contacts table (inbound markers go to the idempotency table in the same
    transaction)."""

    def __init__(self, client: Any, contacts_table: str, idempotency_table: str) -> None:
        self._db = client
        self._contacts = contacts_table
        self._markers = idempotency_table

    # -- contacts -----------------------------------------------------------------------------
    def get(self, phone: str) -> Contact | None:
        with unavailable_on_failure("reading the contact"):
            response = self._db.get_item(
                TableName=self._contacts, Key=_dump({"pk": phone, "sk": PROFILE}), ConsistentRead=True
            )
        item = response.get("Item")
        return contact_from_item(_load(item)) if item else None

    def save(
        self,
        contact: Contact | None,
        expected_version: int | None,
        events: Sequence[AuditEvent],
        marker: InboundMarker | None = None,
    ) -> Contact | None:
        writes: list[dict[str, Any]] = []
        saved = None
        if contact is not None:
            saved = dataclasses.replace(contact, version=(expected_version or 0) + 1)
            put: dict[str, Any] = {"TableName": self._contacts, "Item": _dump(contact_to_item(saved))}
            if expected_version is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "#v = :expected"
                put["ExpressionAttributeNames"] = {"#v": "version"}
                put["ExpressionAttributeValues"] = _dump({":expected": expected_version})
            writes.append({"Put": put})
            for index, event in enumerate(events):
                writes.append(
                    {
                        "Put": {
                            "TableName": self._contacts,
                            "Item": _dump(event_to_item(contact.phone, event, saved.version, index)),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    }
                )
        if marker is not None:
            writes.append(
                {
                    "Put": {
                        "TableName": self._markers,
                        "Item": _dump(marker_to_item(marker)),
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
            )
        if not writes:
            return None
        with unavailable_on_failure("saving the contact"):
            try:
                self._db.transact_write_items(TransactItems=writes)
            except ClientError as exc:
                if error_code(exc) == "TransactionCanceledException":
                    _raise_cancellation(exc, has_contact=contact is not None, has_marker=marker is not None)
                raise
        return saved

    def events(self, phone: str) -> list[AuditEvent]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._contacts,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": _dump({":pk": phone, ":prefix": EVENT_PREFIX}),
        }
        with unavailable_on_failure("reading the audit trail"):
            while True:
                page = self._db.query(**kwargs)
                items.extend(_load(i) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            AuditEvent(i["type"], parse_iso(i["at"]), dict(i.get("detail", {})), i["sk"].rsplit("#", 1)[-1])
            for i in items
        ]

    def record_delivery(self, phone: str, version: int, marker_id: str, rank: int, event: AuditEvent) -> bool:
        writes = [
            {
                "Update": {
                    "TableName": self._markers,
                    "Key": _dump({"id": marker_id}),
                    "UpdateExpression": "SET deliveryRank = :rank",
                    "ConditionExpression": "attribute_exists(id) AND "
                    "(attribute_not_exists(deliveryRank) OR deliveryRank < :rank)",
                    "ExpressionAttributeValues": _dump({":rank": rank}),
                }
            },
            {
                "Put": {
                    "TableName": self._contacts,
                    # Sorted after what the contact's current version wrote; the marker's rank, written in
                    # the same transaction, keeps a duplicate event from adding a second entry.
                    "Item": _dump(event_to_item(phone, event, version, 99)),
                    "ConditionExpression": "attribute_not_exists(sk)",
                }
            },
        ]
        with unavailable_on_failure("recording a delivery event"):
            try:
                self._db.transact_write_items(TransactItems=writes)
            except ClientError as exc:
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                    return False
                raise
        return True


def _raise_cancellation(exc: ClientError, *, has_contact: bool, has_marker: bool) -> None:
    """Map a cancelled transaction to what it means for the caller (or return to re-raise it)."""
    reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
    if has_marker and reasons and reasons[-1] == "ConditionalCheckFailed":
        raise DuplicateMessage() from exc
    if has_contact and reasons and reasons[0] == "ConditionalCheckFailed":
        raise ContactConflict() from exc
    if "TransactionConflict" in reasons:
        raise ContactConflict() from exc


class DynamoInboundMarkers:
    """InboundMarkers on the idempotency table. A claim is ``claimToken`` + ``claimUntil``; a text that
    went out sets ``done`` (and ``replyMessageId``)."""

    def __init__(self, client: Any, idempotency_table: str) -> None:
        self._db = client
        self._table = idempotency_table

    def get(self, marker_id: str) -> InboundMarker | None:
        with unavailable_on_failure("reading the inbound marker"):
            response = self._db.get_item(
                TableName=self._table, Key=_dump({"id": marker_id}), ConsistentRead=True
            )
        if "Item" not in response:
            return None
        item = _load(response["Item"])
        claim_until = item.get("claimUntil")
        return InboundMarker(
            id=item["id"],
            phone=item.get("phone", ""),
            reply=item.get("reply"),
            done=bool(item.get("done")),
            expires_at=datetime.fromtimestamp(int(item["expiresAt"]), tz=UTC),
            reply_message_id=item.get("replyMessageId"),
            claim_token=item.get("claimToken"),
            claim_until=parse_iso(claim_until) if claim_until else None,
            delivery_rank=int(item.get("deliveryRank", 0)),
        )

    def _conditional(self, operation: str, what: str, **kwargs: Any) -> bool:
        with unavailable_on_failure(what):
            try:
                getattr(self._db, operation)(TableName=self._table, **kwargs)
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def claim_reply(
        self, marker_id: str, token: str, now: datetime, until: datetime, settle: timedelta
    ) -> ClaimResult:
        # ISO-8601 UTC with milliseconds (optin.clock.iso) sorts as time does.
        claimed = self._conditional(
            "update_item",
            "claiming the text",
            Key=_dump({"id": marker_id}),
            UpdateExpression="SET claimUntil = :until, claimToken = :token",
            ConditionExpression="attribute_exists(id) AND done = :false AND "
            "(attribute_not_exists(claimUntil) OR claimUntil < :settled)",
            ExpressionAttributeValues=_dump(
                {":until": iso(until), ":token": token, ":settled": iso(now - settle), ":false": False}
            ),
        )
        if claimed:
            return ClaimResult.CLAIMED
        marker = self.get(marker_id)
        return ClaimResult.DONE if marker is None or marker.done else ClaimResult.HELD

    def complete(self, marker_id: str, message_id: str | None) -> None:
        values: dict[str, Any] = {":true": True}
        expression = "SET done = :true REMOVE claimUntil"
        if message_id:
            expression = "SET done = :true, replyMessageId = :mid REMOVE claimUntil"
            values[":mid"] = message_id
        with unavailable_on_failure("completing the inbound marker"):
            self._db.update_item(
                TableName=self._table,
                Key=_dump({"id": marker_id}),
                UpdateExpression=expression,
                ExpressionAttributeValues=_dump(values),
            )

    def release(self, marker_id: str, token: str) -> None:
        self._conditional(
            "update_item",
            "releasing the claim",
            Key=_dump({"id": marker_id}),
            UpdateExpression="REMOVE claimUntil, claimToken",
            ConditionExpression="claimToken = :token",
            ExpressionAttributeValues=_dump({":token": token}),
        )

    def reconcile(self, marker_id: str, token: str, message_id: str) -> bool:
        return self._conditional(
            "update_item",
            "recording a text from its delivery event",
            Key=_dump({"id": marker_id}),
            UpdateExpression="SET done = :true, replyMessageId = :mid REMOVE claimUntil",
            ConditionExpression="attribute_exists(id) AND (claimToken = :token OR replyMessageId = :mid)",
            ExpressionAttributeValues=_dump({":true": True, ":mid": message_id, ":token": token}),
        )

    def claim_cooldown(self, key: str, now: datetime, until: datetime) -> bool:
        return self._conditional(
            "put_item",
            "claiming a reply cooldown",
            Item=_dump({"id": f"cooldown#{key}", "until": iso(until), "expiresAt": int(until.timestamp())}),
            ConditionExpression="attribute_not_exists(id) OR #u < :now",
            ExpressionAttributeNames={"#u": "until"},
            ExpressionAttributeValues=_dump({":now": iso(now)}),
        )
