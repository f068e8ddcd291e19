"""The sandbox's in-memory scheduler (local/fake_scheduler.py) with the real handlers, the outbox and the
offline carrier lookup: it lists a contact's pending steps and "sends due steps now"."""

import json
import os
from datetime import UTC, datetime

import pytest

from local.carrier import OfflineCarrierLookup
from local.fake_scheduler import FakeScheduler, ScheduleClock, sender_invoker
from local.outbox import Outbox
from optin.handlers import inbound_sms, registration
from optin.settings import Settings
from optin.wiring import Dependencies, install
from tests.support import OUR_NUMBER, LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"
SEQUENCE = [
    {"id": "tips", "after": "1d", "body": "{{Brand}}: Hi {{FirstName}}, tips. Reply STOP to cancel."},
    {"id": "week-1", "after": "7d", "body": "{{Brand}}: A week in. Reply STOP to cancel."},
]


@pytest.fixture
def sandbox(aws, clock):
    settings = Settings.from_env({**os.environ, "FOLLOW_UP_SEQUENCE": json.dumps(SEQUENCE)})
    schedule_clock = ScheduleClock(clock)
    outbox = Outbox(OUR_NUMBER, clock=clock)
    deps = Dependencies(
        settings, clients=aws.client, clock=schedule_clock, sms=outbox, carrier=OfflineCarrierLookup()
    )
    fake = FakeScheduler(clock=schedule_clock)
    deps.scheduler = fake  # what the sandbox does right after building its Dependencies
    install(deps)
    return fake, schedule_clock, outbox, deps


def text(body, at):
    record = sqs_record(two_way(PHONE, body), at=at)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}


def confirm():
    body = {"destinationNumber": PHONE, "firstName": "Carlos", "lastName": "Salazar", "source": "form"}
    assert registration.handler(api_event("/register", body), LambdaContext())["statusCode"] == 202
    text("YES", datetime(2026, 11, 22, 15, 5, tzinfo=UTC))


def test_the_sandbox_lists_pending_steps_and_sends_them_on_request(sandbox):
    fake, schedule_clock, outbox, _ = sandbox
    confirm()
    listing = fake.listing(PHONE)
    assert [(s["step"], s["at"], s["deferrals"]) for s in listing] == [
        ("tips", "2026-11-23T17:00:00.000Z", 0),  # 09:00 in Seattle
        ("week-1", "2026-11-29T17:00:00.000Z", 0),
    ]
    invoke = sender_invoker(LambdaContext)
    assert fake.send_due(invoke) == []  # nothing is due yet
    results = fake.send_due(invoke, early=True, clock=schedule_clock)  # "send due steps now"
    assert [(r["step"], r["outcome"]) for r in results] == [("tips", "sent"), ("week-1", "sent")]
    assert fake.listing() == []  # deleted after completion
    bodies = [m.body for m in outbox.sent(PHONE)]
    assert bodies[-2:] == [
        "ExampleCorp: Hi Carlos, tips. Reply STOP to cancel.",
        "ExampleCorp: A week in. Reply STOP to cancel.",
    ]
    assert fake.send_due(invoke, early=True, clock=schedule_clock) == []


def test_an_opt_out_empties_the_sandbox_schedule(sandbox):
    fake, _, _, deps = sandbox
    confirm()
    assert len(fake.listing(PHONE)) == 2
    text("STOP", datetime(2026, 11, 22, 16, 0, tzinfo=UTC))
    assert fake.listing(PHONE) == []
    assert deps.contacts.get(PHONE).status == "OPTED_OUT"


def test_a_failing_invocation_keeps_the_schedule(sandbox):
    fake, _, _, _ = sandbox
    confirm()

    def broken(payload):
        raise RuntimeError("boom")

    results = fake.send_due(broken, early=True)
    assert all(r["error"] == "RuntimeError: boom" for r in results) and len(results) == 2
    assert len(fake.listing(PHONE)) == 2
