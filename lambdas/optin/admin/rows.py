"""One JSON shape for a contact record, and the CSV and JSON-lines rows an export writes from it.

A record is the contact as stored (camelCase names, as in the table and the sandbox's contact JSON;
absent values as null) and, when asked for, ``events``: its audit trail, oldest first. Every field of
:class:`optin.consent.Contact` is in it, so a field added to the contact is exported without a change
here. In CSV, ``confirmationDelivery`` becomes ``confirmationDelivery.status`` and its other parts, and
the trail is one ``events`` column of JSON text.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import IO, Any

from optin.adapters.contact_store import delivery_to_map
from optin.clock import iso
from optin.consent import AuditEvent, Contact
from optin.delivery_events.status import Delivery

DELIVERY_PARTS = ("status", "eventType", "at", "carrier", "priceUsd")
FORMATS = ("csv", "jsonl")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, Delivery):
        data = delivery_to_map(value)
        if "priceUsd" in data:
            data["priceUsd"] = float(data["priceUsd"])
        return data
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    return value


def contact_json(contact: Contact) -> dict[str, Any]:
    return {camel(f.name): _plain(getattr(contact, f.name)) for f in dataclasses.fields(contact)}


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {"type": event.type, "at": iso(event.at), "detail": dict(event.detail), "id": event.id}


def record_json(contact: Contact, events: Sequence[AuditEvent] | None) -> dict[str, Any]:
    data = contact_json(contact)
    if events is not None:
        data["events"] = [event_json(e) for e in events]
    return data


def csv_columns(with_audit: bool) -> list[str]:
    """The CSV header: every contact field (delivery split in its parts), then ``events``."""
    columns: list[str] = []
    for f in dataclasses.fields(Contact):
        name = camel(f.name)
        if name == "confirmationDelivery":
            columns += [f"{name}.{part}" for part in DELIVERY_PARTS]
        else:
            columns.append(name)
    return [*columns, "events"] if with_audit else columns


def csv_row(record: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in record.items():
        if name == "confirmationDelivery":
            for part in DELIVERY_PARTS:
                row[f"{name}.{part}"] = "" if not value else _cell(value.get(part))
        elif name == "events":
            row[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            row[name] = _cell(value)
    return row


def _cell(value: Any) -> Any:
    return "" if value is None else value


class RecordWriter:
    """Writes records one at a time as CSV (RFC 4180 quoting: a name with a comma, a quote or a line
    break stays one cell) or JSON lines; nothing is buffered beyond the current row."""

    def __init__(self, stream: IO[str], fmt: str, with_audit: bool) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self._stream = stream
        self._fmt = fmt
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(
                stream, fieldnames=csv_columns(with_audit), extrasaction="ignore", lineterminator="\r\n"
            )
            self._csv.writeheader()
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow(csv_row(record))
        else:
            self._stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.count += 1

    def write_all(self, records: Iterable[Mapping[str, Any]]) -> int:
        for record in records:
            self.write(record)
        return self.count
