"""``sms-optin contacts export``: throughput and peak memory for 100,000 contacts under moto.

The export runs as the command does against a stack (``ConsentAdmin.export`` over
``DynamoConsentRecords``: byStatus index pages, CSV rows written one at a time to a file), against a
moto table of N profiles with realistic evidence (names with commas and quotes, IP, user agent,
confirmation and delivery, opt-outs), in one timed pass. Its memory is how far the process's peak
resident memory (VmHWM, reset just before) rose above what it held when the export started: moto's copy
of the table is already there and not counted. What holding every record at once would take is
estimated from one page's records (tracemalloc).

Under moto a Query reads the whole table for every page (DynamoDB reads only the page), so a page is
the sorted table and index are kept between pages while nothing writes; moto's generic response
serializer is bypassed for Query (DynamoDB's JSON protocol is the result itself: the bench checks that
the first page is the same both ways); and moto's registry of every object it created forgets the copies
a Query returns. Pages are what DynamoDB would return too: 1 MB each (moto enforces it; the adapter
caps them at 10,000 profiles). The seed goes straight into moto's table: it is not measured.

    .venv/bin/python -m bench.export [--contacts N]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"
STATUSES = ("PENDING", "CONFIRMED", "OPTED_OUT")


@dataclass(frozen=True)
class ExportResult:
    contacts: int
    exported: int
    seconds: float
    peak_bytes: int
    all_at_once_bytes: int  # estimated: one page's records in memory, scaled to every contact
    file_bytes: int
    page_size: int
    same_page: bool  # the bypassed serializer gave exactly what moto's own gives

    @property
    def per_second(self) -> float:
        return self.exported / self.seconds if self.seconds else 0.0


def _profile(n: int) -> dict[str, Any]:
    status = STATUSES[n % 3]
    at = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.000Z"
    item: dict[str, Any] = {
        "pk": {"S": f"+1206{n:07d}"},
        "sk": {"S": "PROFILE"},
        "status": {"S": status},
        "firstName": {"S": f'Ana "Nana" {n}, Jr.'},
        "lastName": {"S": "O'Neil-Smith"},
        "source": {"S": "https://example.com/join?utm=spring,2026"},
        "submittedAt": {"S": at},
        "consentTextVersion": {"S": "v3"},
        "clientIp": {"S": f"203.0.{n % 256}.{n % 200}"},
        "userAgent": {"S": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"},
        "country": {"S": "US"},
        "phoneType": {"S": "MOBILE"},
        "carrier": {"S": "Example Wireless"},
        "timezone": {"S": "America/Los_Angeles"},
        "confirmationMessageId": {"S": f"msg-{n:012d}"},
        "confirmationSentAt": {"S": at},
        "confirmationDelivery": {
            "M": {"status": {"S": "DELIVERED"}, "eventType": {"S": "TEXT_DELIVERED"}, "at": {"S": at}}
        },
        "lastSentAt": {"S": at},
        "sendWindowStart": {"S": at},
        "sendWindowCount": {"N": "1"},
        "version": {"N": "3"},
    }
    if status != "PENDING":
        item.update(
            confirmedAt={"S": at},
            confirmedMessageId={"S": f"in-{n:012d}"},
            confirmedBody={"S": "Yes please!"},
            confirmedKeyword={"S": "YES"},
        )
    else:
        item["pendingExpiresAt"] = {"S": "2027-01-01T00:00:00.000Z"}
    if status == "OPTED_OUT":
        item.update(optedOutAt={"S": at}, optedOutKeyword={"S": "STOP"}, optedOutMessageId={"S": f"st-{n}"})
    return item


def seed(contacts: int, settings: Any) -> None:
    """N profiles straight into moto's contacts table (its index included)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(settings.contacts_table)
    for n in range(contacts):
        table.put_item(_profile(n))


@contextlib.contextmanager
def query_answers_as_json() -> Iterator[None]:
    """moto's Query answer as the plain JSON it is (DynamoDB's protocol), without its generic serializer,
    which costs about a millisecond per item."""
    from moto.core import responses

    original = responses.ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if (
            context.service_model.service_name == "dynamodb"
            and context.operation_model.name == "Query"
            and isinstance(self.result, dict)
        ):
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
        return original(self, context)

    responses.ActionResult.execute_result = execute_result
    try:
        yield
    finally:
        responses.ActionResult.execute_result = original


@contextlib.contextmanager
def index_pages_without_resorting() -> Iterator[None]:
    """moto sorts the whole table, and then the whole index partition, again for every page of a Query
    (quadratic in a 100,000-item table). While the table is not written to, the sorted lists are the
    same every time: keep them. Only for a read-only stretch such as this benchmark's export."""
    from moto.dynamodb.models.table import Table

    all_items, sorted_items = Table.all_items, Table.sorted_items
    cache: dict[tuple[Any, ...], Any] = {}

    def cached_all_items(self: Any) -> Any:
        count = sum(len(v) if isinstance(v, dict) else 1 for v in self.items.values())
        key = ("all", id(self), count)
        if key not in cache:
            cache[key] = all_items(self)
        return list(cache[key])

    def cached_sorted_items(self: Any, hash_attrs: Any, range_attrs: Any, items: Any) -> Any:
        ends = (id(items[0]), id(items[-1])) if items else ()
        key = ("index", id(self), tuple(hash_attrs), tuple(range_attrs), len(items), ends)
        if key not in cache:
            cache[key] = sorted_items(self, hash_attrs, range_attrs, items)
        return list(cache[key])

    Table.all_items, Table.sorted_items = cached_all_items, cached_sorted_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items, Table.sorted_items = all_items, sorted_items  # type: ignore[method-assign]


class _Untracked(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        pass


@contextlib.contextmanager
def no_instance_tracking() -> Iterator[None]:
    """moto keeps every model object it ever creates (``BaseModel.instances_tracked``), including the
    copy of each item a Query returns: an emulator's bookkeeping that would grow with the export and be
    counted as its memory. Not kept while this is active."""
    from moto.dynamodb.models.dynamo_type import Item

    tracked = Item.instances_tracked  # type: ignore[attr-defined]
    Item.instances_tracked = _Untracked()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        Item.instances_tracked = tracked  # type: ignore[attr-defined]


def run(contacts: int = 100_000) -> ExportResult:
    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from local.tables import create_tables
    from optin.admin.adapters import PAGE_SIZE, DynamoConsentRecords, ProfileFilter
    from optin.admin.rows import RecordWriter, record_json
    from optin.admin.service import ConsentAdmin
    from optin.settings import Settings
    from optin.wiring import Dependencies

    settings = Settings()
    with mock_aws():
        db = boto3.client("dynamodb", region_name=REGION)
        create_tables(db, settings)
        seed(contacts, settings)
        records = DynamoConsentRecords(
            db, settings.contacts_table, settings.idempotency_table, settings.lookup_cache_table
        )
        admin = ConsentAdmin(Dependencies(settings, clients=lambda service: db), records)
        first = next(records.profiles(ProfileFilter()))
        with query_answers_as_json(), index_pages_without_resorting(), no_instance_tracking():
            same = first == next(records.profiles(ProfileFilter()))
            tracemalloc.start()  # one page read and made into records, as holding them all would
            page = [record_json(contact, None) for contact in next(records.profiles(ProfileFilter()))]
            one_page = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            per_record = one_page / max(1, len(page))
            del page
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / "contacts.csv"
                gc.collect()
                baseline = _resident_bytes(reset_peak=True)
                started = time.perf_counter()
                with path.open("w", encoding="utf-8", newline="") as stream:
                    exported = RecordWriter(stream, "csv", False).write_all(admin.export(ProfileFilter()))
                seconds = time.perf_counter() - started
                peak = max(0, _peak_resident_bytes() - baseline)
                size = path.stat().st_size
    return ExportResult(contacts, exported, seconds, peak, int(per_record * contacts), size, PAGE_SIZE, same)


def _status_value(name: str) -> int:
    """A ``kB`` line of /proc/self/status, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no {name} in /proc/self/status")


def _resident_bytes(reset_peak: bool = False) -> int:
    """The process's resident memory now; with ``reset_peak``, the peak (VmHWM) restarts from here."""
    if reset_peak:
        Path("/proc/self/clear_refs").write_text("5")
    return _status_value("VmRSS")


def _peak_resident_bytes() -> int:
    return _status_value("VmHWM")


def report(result: ExportResult) -> str:
    mib = 1024 * 1024
    lines = [
        f"  exported {result.exported:,} of {result.contacts:,} contacts in {result.seconds:.1f} s: "
        f"{result.per_second:,.0f} contacts/s to CSV ({result.file_bytes / mib:.0f} MiB), under moto",
        f"  peak memory of the export +{result.peak_bytes / mib:.0f} MiB resident (one 1 MB page at a time); holding "
        f"every record at once would take ~{result.all_at_once_bytes / mib:.0f} MiB",
    ]
    if not result.same_page or result.exported != result.contacts:
        lines.append("  INVALID: the export did not return every contact exactly as moto stores it")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(f"== Export: sms-optin contacts export of {args.contacts:,} contacts under moto", flush=True)
    result = run(args.contacts)
    print(report(result))
    return 0 if result.same_page and result.exported == result.contacts else 2


if __name__ == "__main__":
    raise SystemExit(main())
