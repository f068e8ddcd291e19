"""Broadcasts end to end: POST /broadcasts reads CONFIRMED contacts from the byStatus index, queues
custom-channel batches on SQS (moto), and the delivery function's queue entry point sends them to the
fake WhatsApp API, with partial batch failures and requeueing of what failed."""

import json
from dataclasses import replace

import pytest
from moto import mock_aws

from local.fake_whatsapp import FakeWhatsApp
from optin.adapters.contact_directory import DynamoContactDirectory
from optin.consent import Status
from optin.handlers import broadcasts, custom_channel
from optin.whatsapp.broadcast import BroadcastRequest, BroadcastService
from optin.whatsapp.pacing import Deadline
from optin.whatsapp.templates import parse_template
from optin.wiring import install
from tests.support import LambdaContext, api_event
from tests.whatsapp_support import Context, build_world

BODY = {
    "template": "spring_sale",
    "language": "en_US",
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "20%"}]}],
}


@pytest.fixture
def world(settings):
    with FakeWhatsApp() as fake, mock_aws():
        yield build_world(fake, settings)
    install(None)


def post(body):
    response = broadcasts.handler(api_event("/broadcasts", body), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def run_queue(world):
    """Deliver everything on the queue through the function's queue entry point; returns the answers."""
    answers = []
    while records := world.drain():
        answers.append(custom_channel.broadcast_handler({"Records": records}, Context()))
    return answers


def test_a_broadcast_reaches_every_confirmed_contact_once_through_the_queue(world):
    confirmed = world.seed_many(7)
    world.seed_many(3, Status.PENDING, start=100)
    world.seed_many(2, Status.OPTED_OUT, start=200)

    status, answer = post(BODY)

    assert status == 202
    assert answer["queuedContacts"] == 7 and answer["queuedBatches"] == 1 and answer["complete"] is True
    [record] = world.drain()
    batch = json.loads(record["body"])
    assert batch["CampaignId"] == answer["broadcastId"]
    assert json.loads(batch["Data"]) == {
        "templateName": "spring_sale",
        "languageCode": "en_US",
        "components": BODY["components"],
    }
    assert {e["Address"] for e in batch["Endpoints"].values()} == {c.phone for c in confirmed}

    # The same function Pinpoint invokes: it tells an SQS event from a custom-channel event.
    result = custom_channel.handler({"Records": [record]}, Context())

    assert result == {"batchItemFailures": []}
    assert sorted(world.fake.delivered_to()) == sorted(c.phone.lstrip("+") for c in confirmed)
    assert {r.body["template"]["name"] for r in world.fake.requests} == {"spring_sale"}


def test_batches_hold_at_most_50_endpoints(world):
    world.reconfigure(whatsapp_rate_per_second=1000)  # pacing has its own test
    world.seed_many(120)
    status, answer = post(BODY)
    assert (status, answer["queuedContacts"], answer["queuedBatches"]) == (202, 120, 3)
    records = world.drain()
    sizes = sorted(len(json.loads(r["body"])["Endpoints"]) for r in records)
    assert sizes == [20, 50, 50]
    assert custom_channel.broadcast_handler({"Records": records}, Context()) == {"batchItemFailures": []}
    assert len(set(world.fake.delivered_to())) == 120 == len(world.fake.delivered_to())


def test_the_source_filter_picks_contacts_of_that_source(world):
    spring = world.seed_many(3, source="spring-form")
    world.seed_many(4, source="checkout", start=50)
    status, answer = post({**BODY, "source": "spring-form"})
    assert (status, answer["queuedContacts"]) == (202, 3)
    run_queue(world)
    assert sorted(world.fake.delivered_to()) == sorted(c.phone.lstrip("+") for c in spring)


def test_nobody_to_send_to_queues_nothing(world):
    world.seed_many(2, Status.PENDING)
    status, answer = post(BODY)
    assert (status, answer["queuedContacts"], answer["queuedBatches"], answer["complete"]) == (
        202,
        0,
        0,
        True,
    )
    assert world.drain() == []


def test_endpoints_that_failed_retryably_are_requeued_alone(world):
    contacts = world.seed_many(5)
    stuck = contacts[0].phone.lstrip("+")
    world.fake.fail_for(stuck, status=503)  # this one keeps failing; the four others go through
    world.reconfigure(whatsapp_max_attempts=2)
    post(BODY)

    first = custom_channel.broadcast_handler({"Records": world.drain()}, Context())

    assert first == {"batchItemFailures": []}  # progress was made: the batch is done ...
    assert len(world.fake.delivered_to()) == 4
    [requeued] = world.drain()  # ... and what failed is back on the queue, alone
    assert list(json.loads(requeued["body"])["Endpoints"]) == [stuck]

    second = custom_channel.broadcast_handler({"Records": [requeued]}, Context())

    # No progress this time: SQS redelivers it (and after maxReceiveCount moves it to the DLQ).
    assert second == {"batchItemFailures": [{"itemIdentifier": requeued["messageId"]}]}
    assert len(world.fake.delivered_to()) == 4  # nobody got the message twice


def test_permanent_failures_and_skips_are_final(world):
    contacts = world.seed_many(3)
    world.fake.fail_for(contacts[0].phone.lstrip("+"), status=400, code=131026)
    post(BODY)
    records = world.drain()
    result = custom_channel.broadcast_handler({"Records": records}, Context())
    assert result == {"batchItemFailures": []}
    assert world.drain() == []  # nothing requeued: an undeliverable number stays undelivered


def test_a_contact_who_opted_out_after_queueing_is_skipped(world):
    contacts = world.seed_many(2)
    post(BODY)
    records = world.drain()
    # Between queueing and sending, one contact texts STOP: the function checks the store again.
    opted_out = contacts[1]
    world.deps.contacts.save(replace(opted_out, status=Status.OPTED_OUT), opted_out.version, [])
    assert custom_channel.broadcast_handler({"Records": records}, Context()) == {"batchItemFailures": []}
    assert world.fake.delivered_to() == [contacts[0].phone.lstrip("+")]


def test_an_unreadable_record_fails_alone(world):
    world.seed_many(2)
    post(BODY)
    good = world.drain()
    bad = [
        {**good[0], "messageId": "not-json", "body": "{oops"},
        {**good[0], "messageId": "no-endpoints", "body": json.dumps({"Data": "{}"})},
        {**good[0], "messageId": "bad-data", "body": json.dumps({"Data": "{}", "Endpoints": {"a": {}}})},
    ]
    result = custom_channel.broadcast_handler({"Records": good + bad}, Context())
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "not-json"},
            {"itemIdentifier": "no-endpoints"},
            {"itemIdentifier": "bad-data"},
        ]
    }
    assert len(world.fake.delivered_to()) == 2


def test_the_body_is_validated_field_by_field(world):
    status, answer = post({"template": "Spring Sale", "language": "English", "components": {}, "source": 5})
    assert status == 400
    assert set(answer["errors"]) == {"template", "language", "components", "source"}
    assert post({"language": "en_US"})[1]["errors"] == {"template": "The template name is required."}
    assert "parameters" in post({**BODY, "parameters": ["x"]})[1]["errors"]
    assert "cursor" in post({**BODY, "cursor": "abc"})[1]["errors"]
    assert post("not json")[0] == 400
    assert world.drain() == []


def test_a_broadcast_too_big_for_one_call_resumes_with_its_cursor(world):
    everyone = world.seed_many(7)
    service = BroadcastService(
        world.settings,
        DynamoContactDirectory(world.dynamodb, world.settings.contacts_table, page_size=3),
        world.deps.broadcast_queue,
        world.deps.clock,
    )
    request = BroadcastRequest(parse_template({"templateName": "spring_sale"}))

    first = service.start(request, Deadline.after(0))  # out of time after the first page
    assert (first.contacts, first.complete) == (3, False) and first.cursor

    queued = first.contacts
    cursor = first.cursor
    while cursor:
        resumed = BroadcastRequest(request.template, broadcast_id=first.broadcast_id, cursor=cursor)
        receipt = service.start(resumed, Deadline.after(0))
        assert receipt.broadcast_id == first.broadcast_id
        queued += receipt.contacts
        cursor = receipt.cursor
    assert queued == 7
    run_queue(world)
    assert sorted(world.fake.delivered_to()) == sorted(c.phone.lstrip("+") for c in everyone)


def test_a_forged_cursor_is_refused(world):
    body = {**BODY, "broadcastId": "b-1", "cursor": "eyJwayI6ICIrMSJ9"}  # {"pk": "+1"}
    status, answer = post(body)
    assert status == 400 and "cursor" in answer["errors"]
