"""``sms-optin --sandbox URL`` over real HTTP: `python -m local` in a child process, and the CLI in this
one, speaking to the sandbox's /sandbox/admin routes (which run the same service as against a stack)."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.testing import SandboxProcess
from optin.admin.cli import main

CONFIRMED = "+12065550181"
PENDING = "+12065550182"
STOPPED = "+12065550183"
CARRIER_OPT_OUT = "+12065550184"
IMPORTED = "+12065550185"


def call(url: str, method: str, path: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - 127.0.0.1
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def cli(url: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--sandbox", url], stdout=out, stderr=err, sleep=lambda s: None)
    return code, out.getvalue(), err.getvalue()


def sign_up(url: str, phone: str, first: str = "Ana") -> None:
    body = {"destinationNumber": phone, "firstName": first, "lastName": "Lee", "consent": True}
    assert call(url, "POST", "/register", body)[0] == 202


def reply(url: str, phone: str, body: str) -> None:
    assert call(url, "POST", "/sandbox/inbound", {"originationNumber": phone, "messageBody": body})[0] == 202


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


def test_every_command_works_against_the_sandbox(sandbox: SandboxProcess, tmp_path: Path) -> None:
    url = sandbox.url
    sign_up(url, CONFIRMED, 'Ana "Nana", Jr.')
    reply(url, CONFIRMED, "YES")
    sign_up(url, PENDING, "Bo")
    sign_up(url, STOPPED, "Cy")
    reply(url, STOPPED, "STOP")
    assert call(url, "GET", f"/sandbox/schedules?phone=%2B{CONFIRMED[1:]}")[1]["schedules"]  # the demo steps

    code, out, _ = cli(url, "contacts", "show", CONFIRMED, "--json")
    record = json.loads(out)
    assert code == 0 and record["status"] == "CONFIRMED" and record["firstName"] == 'Ana "Nana", Jr.'
    assert "CONFIRMED" in [e["type"] for e in record["events"]]
    assert cli(url, "contacts", "show", "+12065550189")[0] == 1

    export = tmp_path / "all.csv"
    code, _, err = cli(url, "contacts", "export", "--output", str(export))
    assert code == 0 and "Exported 3 contact(s)" in err
    rows = {r["phone"]: r for r in csv.DictReader(export.open(encoding="utf-8", newline=""))}
    assert rows[CONFIRMED]["firstName"] == 'Ana "Nana", Jr.' and rows[STOPPED]["optedOutKeyword"] == "STOP"
    code, out, _ = cli(url, "contacts", "export", "--status", "PENDING", "--format", "jsonl", "--with-audit")
    (pending,) = [json.loads(line) for line in out.splitlines()]
    assert pending["phone"] == PENDING and pending["events"][0]["type"] == "SUBMITTED"

    listing = tmp_path / "list.csv"
    listing.write_text(f"phone,first_name,last_name\n{IMPORTED},Di,Ng\n{STOPPED},Cy,Lee\nnope,X,Y\n")
    code, _, err = cli(url, "contacts", "import", str(listing))
    assert code == 1 and "1 would register" in err and "Dry run" in err
    code, _, err = cli(url, "contacts", "import", str(listing), "--apply", "--rate", "50")
    assert "1 registered" in err and "Confirmation texts sent: 1" in err
    status, texts = call(url, "GET", f"/sandbox/messages?phone=%2B{IMPORTED[1:]}")
    assert status == 200 and len(texts) == 1 and "Reply YES" in texts[0]["body"]
    assert call(url, "GET", f"/sandbox/messages?phone=%2B{STOPPED[1:]}")[1][-1]["body"].count("unsubscribed")

    assert call(url, "POST", "/sandbox/admin/optouts", {"phone": CARRIER_OPT_OUT})[0] == 200
    code, _, err = cli(url, "optouts", "sync")
    assert code == 0 and "1 opted out here" in err and "1 put on the opt-out list" in err
    _, aws_list = call(url, "GET", "/sandbox/admin/optouts")
    assert {n["phone"] for n in aws_list["numbers"]} == {CARRIER_OPT_OUT, STOPPED}
    assert (
        json.loads(cli(url, "contacts", "show", CARRIER_OPT_OUT, "--json")[1])["optedOutKeyword"] == "CARRIER"
    )
    # The opt-out list stops texts, as in AWS: a new sign-up of a listed number gets none.
    sign_up(url, CARRIER_OPT_OUT)
    assert call(url, "GET", f"/sandbox/messages?phone=%2B{CARRIER_OPT_OUT[1:]}")[1] == []

    code, _, err = cli(url, "contacts", "erase", CONFIRMED, "--reason", "GDPR request 7", "--yes")
    assert code == 0 and "3 follow-up schedules" in err
    assert call(url, "GET", f"/sandbox/schedules?phone=%2B{CONFIRMED[1:]}")[1]["schedules"] == []
    erased = json.loads(cli(url, "contacts", "show", CONFIRMED, "--json")[1])
    assert (erased["status"], erased["firstName"], [e["type"] for e in erased["events"]]) == (
        "OPTED_OUT",
        "",
        ["ERASED"],
    )
    assert "erased already" in cli(url, "contacts", "erase", CONFIRMED, "--reason", "again", "--yes")[2]
    assert CONFIRMED not in sandbox.output()  # the sandbox's log masks numbers too


def test_a_sandbox_that_is_not_running_or_not_local_is_a_clear_error() -> None:
    code, _, err = cli("http://127.0.0.1:9", "contacts", "show", CONFIRMED)
    assert code == 1 and "Cannot reach the sandbox" in err and "make run" in err
    code, _, err = cli("http://example.com", "contacts", "show", CONFIRMED)
    assert code == 1 and "local address" in err


def test_admin_routes_refuse_bad_requests(sandbox: SandboxProcess) -> None:
    url = sandbox.url
    assert call(url, "POST", "/sandbox/admin/erase", {"phone": "12"})[0] == 400
    assert call(url, "POST", "/sandbox/admin/import", {"row": ["x"]})[0] == 400
    assert call(url, "GET", "/sandbox/admin/export?status=MAYBE")[0] == 400
    assert call(url, "GET", "/sandbox/admin/erase")[0] == 405
