"""Cached carrier lookups in DynamoDB (partition key phoneNumber, TTL attribute expiresAt)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from optin.adapters.aws import unavailable_on_failure
from optin.clock import iso
from optin.phone_numbers import CarrierInfo

_FIELDS = {"country": "S", "carrier": "S", "city": "S", "zip_code": "S", "timezone": "S"}


class DynamoLookupCache:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def get(self, e164: str, now: datetime) -> CarrierInfo | None:
        with unavailable_on_failure("reading the lookup cache"):
            item = self._db.get_item(TableName=self._table, Key={"phoneNumber": {"S": e164}}).get("Item")
        # TTL deletion is lazy: an expired item may still be there.
        if not item or int(item["expiresAt"]["N"]) <= now.timestamp():
            return None
        return CarrierInfo(
            e164=e164,
            phone_type_code=int(item["phoneTypeCode"]["N"]),
            **{name: item[name]["S"] if name in item else None for name in _FIELDS},
        )

    def put(self, info: CarrierInfo, expires_at: datetime) -> None:
        item: dict[str, Any] = {
            "phoneNumber": {"S": info.e164},
            "phoneTypeCode": {"N": str(info.phone_type_code)},
            "phoneType": {"S": info.phone_type},
            "expiresAt": {"N": str(int(expires_at.timestamp()))},
            "cachedUntil": {"S": iso(expires_at)},
        }
        for name in _FIELDS:
            value = getattr(info, name)
            if value:
                item[name] = {"S": str(value)}
        with unavailable_on_failure("writing the lookup cache"):
            self._db.put_item(TableName=self._table, Item=item)
