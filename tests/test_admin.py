"""``sms-optin`` against a deployed stack: CloudFormation outputs and the function's environment under
Stubber, DynamoDB under moto, End User Messaging under Stubber. The real CLI, service and adapters."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.stub import ANY

from optin.admin.adapters import DynamoConsentRecords, ProfileFilter
from optin.admin.cli import build_parser, main
from optin.admin.service import ConsentAdmin
from optin.consent import AuditEvent, Contact, InboundMessage, Status
from optin.consent_records import CARRIER, ERASED
from optin.registration import RegistrationRequest
from tests.admin_support import OPT_OUT_LIST, STACK, StackSession
from tests.support import OUR_NUMBER

PHONE = "+12065550142"
HIDDEN = "+1******0142"
TRICKY_FIRST = 'Ana "Nana", Jr.'
TRICKY_LAST = "O'Neil,\nSmith"


@pytest.fixture
def stack(aws) -> StackSession:
    return StackSession(aws)


def register(aws, deps, phone: str, first: str = "Ana", last: str = "Lee", source: str = "web") -> str:
    aws.expect_lookup(phone)
    message_id = aws.expect_sms(phone, kind="confirmation")
    request = RegistrationRequest(
        phone, first, last, source, client_ip="203.0.113.7", user_agent="pytest/1.0"
    )
    deps.registration.register(request)
    return message_id


def text(aws, deps, clock, phone: str, body: str, *, reply: bool = True) -> str:
    if reply:
        aws.expect_sms(phone, kind="reply")
    message_id = str(uuid.uuid4())
    deps.inbound.handle(InboundMessage(phone, OUR_NUMBER, body, message_id, clock.now))
    return message_id


def seed(deps, phone: str, status: Status, at: datetime, **fields) -> Contact:
    values = {
        "first_name": "Pat",
        "last_name": "Doe",
        "source": "web",
        "submitted_at": at,
        "consent_text_version": "v1",
        "confirmed_at": at + timedelta(minutes=5) if status == Status.CONFIRMED else None,
        "opted_out_at": at + timedelta(days=1) if status == Status.OPTED_OUT else None,
        "opted_out_keyword": "STOP" if status == Status.OPTED_OUT else None,
        **fields,
    }
    contact = Contact(phone=phone, status=status, **values)
    return deps.contacts.save(contact, None, [AuditEvent("SUBMITTED", at, {"source": values["source"]})])


def item(aws, table: str, key: dict) -> dict | None:
    return aws.dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()}).get("Item")


# -- targets and help -----------------------------------------------------------------------------------
def test_every_command_has_help_with_an_example(capsys) -> None:
    for args in (
        [],
        ["contacts"],
        ["contacts", "show"],
        ["contacts", "export"],
        ["contacts", "erase"],
        ["contacts", "import"],
        ["optouts"],
        ["optouts", "sync"],
    ):
        assert main([*args, "--help"]) == 0
        shown = capsys.readouterr().out
        assert "example" in shown and "sms-optin" in shown, args


def test_no_target_or_two_targets_is_a_usage_error() -> None:
    err = io.StringIO()
    assert main(["contacts", "show", PHONE], stderr=err) == 2
    assert "--stack NAME" in err.getvalue() and "--sandbox URL" in err.getvalue()
    err = io.StringIO()
    assert (
        main(["contacts", "show", PHONE, "--stack", "A", "--sandbox", "http://127.0.0.1:1"], stderr=err) == 2
    )
    assert "not both" in err.getvalue()
    assert build_parser().parse_args(["--sandbox", "http://127.0.0.1:9", "optouts", "sync"]).sandbox


def test_a_missing_stack_or_output_is_a_clear_error(aws, stack) -> None:
    gone = stack.run("contacts", "show", PHONE, stack_exists=False)
    assert gone.code == 1 and f"There is no stack '{STACK}'" in gone.err
    del stack.outputs["ContactsTableName"]
    missing = stack.run("contacts", "show", PHONE)
    assert missing.code == 1 and "has no output ContactsTableName" in missing.err
    stack.outputs["ContactsTableName"] = "Contacts"
    del stack.outputs["OptOutListName"]
    assert "has no output OptOutListName" in stack.run("optouts", "sync").err


def test_region_is_passed_to_the_session(aws, stack) -> None:
    stack.run("contacts", "show", PHONE, "--region", "eu-west-1")
    assert stack.regions[-1] == "eu-west-1"


# -- show ----------------------------------------------------------------------------------------------
def test_show_prints_the_evidence_and_the_whole_trail(aws, deps, clock, stack) -> None:
    message_id = register(aws, deps, PHONE, TRICKY_FIRST, "Lee")
    clock.advance(minutes=2)
    inbound_id = text(aws, deps, clock, PHONE, "Yes!")
    shown = stack.run("contacts", "show", PHONE, "--json")
    assert shown.code == 0, shown.err
    record = json.loads(shown.out)
    assert (record["status"], record["firstName"], record["confirmationMessageId"]) == (
        "CONFIRMED",
        TRICKY_FIRST,
        message_id,
    )
    assert (record["confirmedMessageId"], record["confirmedBody"]) == (inbound_id, "Yes!")
    assert [e["type"] for e in record["events"]] == ["SUBMITTED", "CONFIRMATION_SENT", "INBOUND", "CONFIRMED"]

    table = stack.run("contacts", "show", PHONE)
    assert table.code == 0
    for fragment in (
        "CONFIRMED",
        TRICKY_FIRST,
        "203.0.113.7",
        "Audit trail (4)",
        "CONFIRMATION_SENT",
        "body=Yes!",
    ):
        assert fragment in table.out, fragment


def test_show_of_an_unknown_number_fails_without_printing_it(aws, stack) -> None:
    result = stack.run("contacts", "show", PHONE)
    assert result.code == 1 and HIDDEN in result.err and PHONE not in result.err


# -- export --------------------------------------------------------------------------------------------
def test_export_pages_through_many_pages_with_bounded_pages(aws, deps, clock, monkeypatch) -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = [Status.PENDING, Status.CONFIRMED, Status.OPTED_OUT]
    for n in range(60):
        seed(deps, f"+1206555{n:04d}", statuses[n % 3], day + timedelta(days=n))
    records = DynamoConsentRecords(aws.dynamodb, "Contacts", "Idempotency", "PhoneLookups", page_size=7)
    pages: list[int] = []
    original = records.profiles

    def counted(where):
        for page in original(where):
            pages.append(len(page))
            yield page

    monkeypatch.setattr(records, "profiles", counted)
    admin = ConsentAdmin(deps, records)
    exported = list(admin.export(ProfileFilter()))
    assert sorted(r["phone"] for r in exported) == sorted(f"+1206555{n:04d}" for n in range(60))
    assert len(pages) >= 9 and max(pages) <= 7  # 20 per status, 7 at a time
    confirmed = list(admin.export(ProfileFilter(status=Status.CONFIRMED, since=day + timedelta(days=30))))
    assert {r["phone"] for r in confirmed} == {f"+1206555{n:04d}" for n in range(31, 60, 3)}


def test_export_csv_keeps_names_with_commas_quotes_and_line_breaks_whole(aws, deps, stack, tmp_path) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    seed(
        deps,
        PHONE,
        Status.CONFIRMED,
        at,
        first_name=TRICKY_FIRST,
        last_name=TRICKY_LAST,
        client_ip="198.51.100.9",
    )
    seed(deps, "+12065550143", Status.PENDING, at, source="https://example.com/a,b")
    out = tmp_path / "consent.csv"
    result = stack.run("contacts", "export", "--output", str(out))
    assert result.code == 0 and "Exported 2 contact(s)" in result.err
    rows = {r["phone"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert (rows[PHONE]["firstName"], rows[PHONE]["lastName"]) == (TRICKY_FIRST, TRICKY_LAST)
    assert rows[PHONE]["clientIp"] == "198.51.100.9" and rows[PHONE]["status"] == "CONFIRMED"
    assert rows["+12065550143"]["source"] == "https://example.com/a,b"
    for column in ("consentTextVersion", "confirmationDelivery.status", "confirmedBody", "optedOutKeyword"):
        assert column in rows[PHONE]
    assert PHONE not in result.err


def test_export_filters_and_jsonl_with_audit(aws, deps, stack, tmp_path) -> None:
    base = datetime(2026, 5, 1, tzinfo=UTC)
    seed(deps, "+12065550150", Status.CONFIRMED, base, source="web")
    seed(deps, "+12065550151", Status.CONFIRMED, base + timedelta(days=10), source="web")
    seed(deps, "+12065550152", Status.CONFIRMED, base + timedelta(days=10), source="store")
    seed(deps, "+12065550153", Status.PENDING, base + timedelta(days=10), source="web")
    out = tmp_path / "x.jsonl"
    result = stack.run(
        "contacts",
        "export",
        "--status",
        "confirmed",
        "--since",
        "2026-05-05",
        "--until",
        "2026-05-11",
        "--by",
        "confirmed",
        "--source",
        "web",
        "--format",
        "jsonl",
        "--with-audit",
        "-o",
        str(out),
    )
    assert result.code == 0, result.err
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["phone"] == "+12065550151"
    assert [e["type"] for e in record["events"]] == ["SUBMITTED"]
    bad = stack.run("contacts", "export", "--since", "yesterday")
    assert bad.code == 2 and "--since must be a date" in bad.err


def test_export_to_a_terminal_warns(aws, deps, stack, monkeypatch) -> None:
    seed(deps, PHONE, Status.PENDING, datetime(2026, 1, 1, tzinfo=UTC))
    stack.expect_stack()
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(out, "isatty", lambda: True)
    with stack.cloudformation_stub:
        assert (
            main(["contacts", "export", "--stack", STACK], stdout=out, stderr=err, session_factory=stack) == 0
        )
    assert "Warning" in err.getvalue() and PHONE in out.getvalue()


# -- erase ---------------------------------------------------------------------------------------------
def test_erase_removes_personal_data_everywhere_and_is_idempotent(aws, deps, clock, stack, logs) -> None:
    register(aws, deps, PHONE, TRICKY_FIRST, "Lee")
    clock.advance(minutes=2)
    inbound_id = text(aws, deps, clock, PHONE, "YES I'm Ana from Seattle")
    assert item(aws, "Idempotency", {"id": f"inbound#{inbound_id}"}) is not None
    assert item(aws, "PhoneLookups", {"phoneNumber": PHONE}) is not None
    clock.advance(days=1)

    erased = stack.run("contacts", "erase", PHONE, "--reason", "GDPR request 113", "--yes", settings=True)
    assert erased.code == 0, erased.err
    assert f"Erased {HIDDEN}" in erased.err and PHONE not in erased.err
    contact = deps.contacts.get(PHONE)
    assert contact is not None and contact.status == Status.OPTED_OUT
    assert (contact.first_name, contact.last_name, contact.client_ip, contact.user_agent) == (
        "",
        "",
        None,
        None,
    )
    assert contact.confirmed_body is None and contact.carrier is None
    (tombstone,) = deps.contacts.events(PHONE)
    assert tombstone.type == ERASED and tombstone.detail["reason"] == "GDPR request 113"
    assert tombstone.detail["note"].startswith("erased at 2026-11-23T15:02")
    assert item(aws, "Idempotency", {"id": f"inbound#{inbound_id}"}) is None
    assert item(aws, "PhoneLookups", {"phoneNumber": PHONE}) is None
    raw = json.dumps(aws.dynamodb.scan(TableName="Contacts")["Items"])
    assert "Ana" not in raw and "Seattle" not in raw and "203.0.113.7" not in raw
    assert PHONE not in logs.text

    again = stack.run("contacts", "erase", PHONE, "--reason", "GDPR request 113", "--yes", settings=True)
    assert again.code == 0 and "erased already" in again.err
    assert len(deps.contacts.events(PHONE)) == 1


def test_after_erase_stop_sends_nothing_and_a_registration_starts_afresh(aws, deps, clock, stack) -> None:
    register(aws, deps, PHONE)
    clock.advance(minutes=2)
    text(aws, deps, clock, PHONE, "YES")
    assert stack.run("contacts", "erase", PHONE, "--reason", "CCPA", "--yes", settings=True).code == 0
    clock.advance(hours=1)
    text(aws, deps, clock, PHONE, "STOP", reply=False)  # already opted out: no second opt-out text
    assert deps.contacts.get(PHONE).status == Status.OPTED_OUT
    # The STOP's body is personal data too: erasing again removes it and keeps one tombstone.
    assert stack.run("contacts", "erase", PHONE, "--reason", "CCPA", "--yes", settings=True).code == 0
    assert [e.type for e in deps.contacts.events(PHONE)] == [ERASED]
    clock.advance(days=2)
    register(aws, deps, PHONE, "Ana", "Lee", "web-2")
    fresh = deps.contacts.get(PHONE)
    assert (fresh.status, fresh.first_name, fresh.source) == (Status.PENDING, "Ana", "web-2")
    assert fresh.confirmation_message_id is not None and fresh.opted_out_at is None


def test_erase_asks_first_and_refuses_without_a_terminal(aws, deps, clock, stack) -> None:
    register(aws, deps, PHONE)
    no_tty = stack.run("contacts", "erase", PHONE, "--reason", "r")
    assert no_tty.code == 2 and "--yes" in no_tty.err
    declined = stack.run("contacts", "erase", PHONE, "--reason", "r", stdin="no\n", tty=True)
    assert declined.code == 1 and deps.contacts.get(PHONE).first_name == "Ana"
    assert "Type yes to erase" in declined.err
    accepted = stack.run("contacts", "erase", PHONE, "--reason", "r", stdin="yes\n", settings=True, tty=True)
    assert accepted.code == 0 and deps.contacts.get(PHONE).first_name == ""


# -- import --------------------------------------------------------------------------------------------
def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


IMPORT_ROWS = [
    ["Phone Number", "First Name", "Last_Name", "source"],
    ["(206) 555-0160", "Bo", "Ng", "store"],  # 2: ok, national format
    ["+12065550161", "Cy", "Ode", ""],  # 3: ok
    ["12345", "Short", "Number", ""],  # 4: too few digits
    ["+12065550162", "", "", ""],  # 5: names required
    ["+12065550163", "Visit http://x.example", "Spam", ""],  # 6: a URL is no name
    ["+442071838750", "Uk", "Landline", ""],  # 7: a country not served
    ["+12065550161", "Cy", "Ode", ""],  # 8: a duplicate of line 3
]


def test_import_dry_run_reports_every_bad_row_and_writes_nothing(aws, deps, stack, tmp_path) -> None:
    path = write_csv(tmp_path / "list.csv", IMPORT_ROWS)
    report = tmp_path / "rejected.csv"
    result = stack.run("contacts", "import", str(path), "--report", str(report), settings=True)
    assert result.code == 1  # rows were rejected
    assert "Dry run" in result.err and "3 would register" in result.err and "4 rejected" in result.err
    rejected = {int(r["line"]): r for r in csv.DictReader(report.open(encoding="utf-8"))}
    assert set(rejected) == {4, 5, 6, 7}
    assert rejected[4]["reason"] == "too_few_digits"
    assert rejected[6]["field"] == "firstName" and rejected[6]["reason"] == "url"
    assert rejected[7]["reason"] == "country_not_served"
    assert deps.contacts.get("+12065550160") is None and not aws.sent


def test_import_apply_sends_paced_confirmations_and_a_rerun_skips_them(aws, deps, stack, tmp_path) -> None:
    path = write_csv(tmp_path / "list.csv", IMPORT_ROWS)
    for phone in ("+12065550160", "+12065550161"):
        aws.expect_sms(phone, kind="confirmation")
    result = stack.run("contacts", "import", str(path), "--apply", "--rate", "2", settings=True)
    assert result.code == 1 and "2 registered" in result.err and "1 skipped" in result.err
    assert "Confirmation texts sent: 2" in result.err
    assert stack.time.sleeps == [0.5]  # the second text waited for its slot at 2 per second; nothing else
    contact = deps.contacts.get("+12065550160")
    assert (contact.status, contact.first_name, contact.source, contact.user_agent) == (
        Status.PENDING,
        "Bo",
        "store",
        "sms-optin import",
    )
    assert deps.contacts.get("+12065550161").source == "import"
    again = stack.run("contacts", "import", str(path), "--apply", settings=True)
    assert "3 skipped" in again.err and "Confirmation texts sent: 0" in again.err
    assert len(aws.sent) == 2


def test_an_interrupted_import_resumes_where_it_stopped(aws, deps, stack, tmp_path) -> None:
    rows = [["phone", "first_name", "last_name"]] + [[f"+1206555017{n}", "A", "B"] for n in range(4)]
    path = write_csv(tmp_path / "list.csv", rows)
    aws.expect_sms("+12065550170", kind="confirmation")

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    stopped = stack.run("contacts", "import", str(path), "--apply", settings=True, sleep=interrupt)
    assert stopped.code == 130 and "resume" in stopped.err
    for n in range(1, 4):
        aws.expect_sms(f"+1206555017{n}", kind="confirmation")
    resumed = stack.run("contacts", "import", str(path), "--apply", settings=True)
    assert resumed.code == 0 and "3 registered" in resumed.err and "1 skipped" in resumed.err
    assert [call["DestinationPhoneNumber"] for call in aws.sent] == [f"+1206555017{n}" for n in range(4)]


def test_import_with_lookup_rejects_what_the_carrier_says_cannot_text(aws, deps, stack, tmp_path) -> None:
    path = write_csv(
        tmp_path / "list.csv", [["phone", "first_name", "last_name"], ["+12065550180", "Lan", "D"]]
    )
    aws.expect_lookup("+12065550180", phone_type="LANDLINE")
    result = stack.run("contacts", "import", str(path), "--apply", "--lookup", settings=True)
    assert result.code == 1 and "landline" in result.err.lower()
    assert deps.contacts.get("+12065550180") is None


def test_a_suppression_list_opts_numbers_out_and_nothing_texts_them(
    aws, deps, clock, stack, tmp_path
) -> None:
    register(aws, deps, "+12065550191")
    clock.advance(minutes=2)
    text(aws, deps, clock, "+12065550191", "YES")
    rows = [["number"], ["+12065550190"], ["+12065550191"], ["not a number"]]
    path = write_csv(tmp_path / "dnt.csv", rows)
    result = stack.run("contacts", "import", str(path), "--as", "opted-out", "--apply", settings=True)
    assert "2 suppressed" in result.err and "1 rejected" in result.err
    for phone in ("+12065550190", "+12065550191"):
        contact = deps.contacts.get(phone)
        assert (contact.status, contact.opted_out_keyword) == (Status.OPTED_OUT, "SUPPRESSED"), phone
    assert deps.contacts.get("+12065550190").first_name == ""  # a suppression list keeps no names
    # A later re-permission import of the same numbers texts nobody.
    pending = write_csv(tmp_path / "again.csv", [["phone", "first", "last"], ["+12065550190", "A", "B"]])
    again = stack.run("contacts", "import", str(pending), "--apply", settings=True)
    assert "1 skipped" in again.err and len(aws.sent) == 2  # the confirmation and welcome of before


# -- opt-out sync --------------------------------------------------------------------------------------
def listed(phone: str, at: datetime, end_user: bool = False) -> dict:
    return {"OptedOutNumber": phone, "OptedOutTimestamp": at, "EndUserOptedOut": end_user}


def test_sync_both_ways(aws, deps, clock, stack) -> None:
    old = clock.now - timedelta(days=30)
    seed(deps, "+12065550201", Status.PENDING, old)  # listed at AWS: becomes OPTED_OUT here
    seed(deps, "+12065550202", Status.CONFIRMED, old)  # confirmed before its AWS opt-out: OPTED_OUT
    seed(deps, "+12065550203", Status.CONFIRMED, clock.now - timedelta(days=1))  # START since: off the list
    seed(deps, "+12065550204", Status.OPTED_OUT, old)  # ours only: onto the AWS list
    seed(deps, "+12065550205", Status.OPTED_OUT, old)  # on both: nothing to do
    listed_at = clock.now - timedelta(days=10)
    aws.sms_stub.add_response(
        "describe_opted_out_numbers",
        {
            "OptOutListName": OPT_OUT_LIST,
            "OptedOutNumbers": [
                listed("+12065550200", listed_at, True),  # unknown here
                listed("+12065550201", listed_at),
                listed("+12065550202", listed_at),
            ],
            "NextToken": "page-2",
        },
        {"OptOutListName": OPT_OUT_LIST, "MaxResults": ANY},
    )
    aws.sms_stub.add_response(
        "describe_opted_out_numbers",
        {
            "OptOutListName": OPT_OUT_LIST,
            "OptedOutNumbers": [listed("+12065550203", listed_at), listed("+12065550205", listed_at)],
        },
        {"OptOutListName": OPT_OUT_LIST, "MaxResults": ANY, "NextToken": "page-2"},
    )
    aws.sms_stub.add_response(
        "delete_opted_out_number",
        {"OptOutListName": OPT_OUT_LIST, "OptedOutNumber": "+12065550203"},
        {"OptOutListName": OPT_OUT_LIST, "OptedOutNumber": "+12065550203"},
    )
    aws.sms_stub.add_response(
        "put_opted_out_number",
        {"OptOutListName": OPT_OUT_LIST, "OptedOutNumber": "+12065550204"},
        {"OptOutListName": OPT_OUT_LIST, "OptedOutNumber": "+12065550204"},
    )
    result = stack.run("optouts", "sync")
    assert result.code == 0, result.err
    assert "5 number(s) on it" in result.err and "3 opted out here" in result.err
    assert "1 put on the opt-out list" in result.err and "1 taken off the list" in result.err
    for phone in ("+12065550200", "+12065550201", "+12065550202"):
        contact = deps.contacts.get(phone)
        assert (contact.status, contact.opted_out_keyword, contact.opted_out_at) == (
            Status.OPTED_OUT,
            CARRIER,
            listed_at,
        ), phone
        assert deps.contacts.events(phone)[-1].detail["keyword"] == CARRIER
    assert deps.contacts.get("+12065550203").status == Status.CONFIRMED
    assert "+12065550" not in result.err  # numbers masked


def test_sync_dry_run_changes_nothing(aws, deps, clock, stack) -> None:
    seed(deps, "+12065550204", Status.OPTED_OUT, clock.now - timedelta(days=3))
    aws.sms_stub.add_response(
        "describe_opted_out_numbers",
        {"OptOutListName": OPT_OUT_LIST, "OptedOutNumbers": [listed("+12065550200", clock.now)]},
        {"OptOutListName": OPT_OUT_LIST, "MaxResults": ANY},
    )
    result = stack.run("optouts", "sync", "--dry-run")
    assert result.code == 0 and "would be opted out here" in result.err and "Dry run" in result.err
    assert "1 would be put on the opt-out list" in result.err
    assert deps.contacts.get("+12065550200") is None


def test_show_prints_stored_text_literally_never_as_markup_or_terminal_codes(aws, deps, stack) -> None:
    seed(deps, PHONE, Status.PENDING, datetime(2026, 1, 1, tzinfo=UTC), first_name="[/] [bold]x\x1b[2J")
    shown = stack.run("contacts", "show", PHONE)
    assert shown.code == 0, shown.err
    assert "[/] [bold]x\\x1b[2J" in shown.out and "\x1b" not in shown.out
