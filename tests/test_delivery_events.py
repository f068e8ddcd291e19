"""DeliveryEvents through the real Lambda handler: End User Messaging's text events, in the event record
shape, inside the SNS envelope inside SQS records, against moto DynamoDB."""

import json
from datetime import timedelta

import pytest

from local import events
from optin.clock import utcnow
from optin.handlers import delivery_events, inbound_sms, registration
from tests.support import OUR_NUMBER, LambdaContext, api_event, sqs_record, two_way

PHONE = "+12065550142"
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "consent": True}


def register(aws):
    aws.expect_lookup(PHONE)
    message_id = aws.expect_sms(PHONE, kind="confirmation")
    response = registration.handler(api_event("/register", BODY), LambdaContext())
    assert response["statusCode"] == 202
    return message_id, aws.sent[-1]["Context"]


def event(event_type, message_id, context, *, at, final=True, phone=PHONE, price=0.00581):
    return events.text_event_record(
        event_type,
        message_id=message_id,
        destination=phone,
        origination=OUR_NUMBER,
        at=at,
        is_final=final,
        context=context,
        price_usd=price,
        carrier="Example Wireless",
    )


def deliver(*records, raw=False):
    batch = {"Records": [sqs_record(json.dumps(r), raw=raw) for r in records]}
    return delivery_events.handler(batch, LambdaContext())


def test_a_confirmation_is_delivered_whatever_order_its_events_arrive_in(aws, deps, clock):
    message_id, context = register(aws)
    at = clock.now
    delivered = event("TEXT_DELIVERED", message_id, context, at=at + timedelta(seconds=3))
    accepted = event("TEXT_SUCCESSFUL", message_id, context, at=at + timedelta(seconds=1), final=False)
    assert deliver(delivered, accepted) == {"batchItemFailures": []}  # the later news first
    contact = deps.contacts.get(PHONE)
    status = contact.confirmation_delivery
    assert (status.status, status.event_type, status.at) == (
        "DELIVERED",
        "TEXT_DELIVERED",
        at + timedelta(seconds=3),
    )
    assert status.carrier == "Example Wireless" and float(status.price_usd) == pytest.approx(0.00581)

    deliver(delivered)  # SNS and SQS deliver at least once
    assert deps.contacts.get(PHONE).version == contact.version
    trail = [e for e in deps.contacts.events(PHONE) if e.type == "CONFIRMATION_DELIVERY"]
    assert [e.detail["status"] for e in trail] == ["DELIVERED"]


def test_the_sns_envelope_and_raw_delivery_read_the_same(aws, deps, clock):
    message_id, context = register(aws)
    deliver(event("TEXT_SUCCESSFUL", message_id, context, at=clock.now, final=False), raw=True)
    assert deps.contacts.get(PHONE).confirmation_delivery.status == "SENT"


def test_a_failed_confirmation_lifts_the_cooldown_and_gives_its_place_in_the_daily_cap_back(aws, deps, clock):
    message_id, context = register(aws)
    assert deps.contacts.get(PHONE).send_window_count == 1
    clock.advance(seconds=30)
    deliver(event("TEXT_CARRIER_UNREACHABLE", message_id, context, at=clock.now))
    contact = deps.contacts.get(PHONE)
    assert contact.confirmation_delivery.status == "FAILED"
    assert contact.last_sent_at is None and contact.send_window_count == 0

    clock.advance(seconds=30)  # well inside the 10-minute cooldown: the person may ask again at once
    second = aws.expect_sms(PHONE, kind="confirmation")
    response = registration.handler(api_event("/register", BODY), LambdaContext())
    assert response["statusCode"] == 202 and len(aws.texts_to(PHONE)) == 2
    again = deps.contacts.get(PHONE)
    assert again.confirmation_message_id == second and again.confirmation_delivery is None
    assert again.send_window_count == 1


def test_a_failure_that_is_not_final_only_says_the_text_is_on_its_way(aws, deps, clock):
    message_id, context = register(aws)
    deliver(event("TEXT_CARRIER_UNREACHABLE", message_id, context, at=clock.now, final=False))
    contact = deps.contacts.get(PHONE)
    assert contact.confirmation_delivery.status == "SENT" and contact.last_sent_at is not None


def test_a_late_failure_never_undoes_a_delivery(aws, deps, clock):
    message_id, context = register(aws)
    deliver(event("TEXT_DELIVERED", message_id, context, at=clock.now + timedelta(seconds=2)))
    deliver(event("TEXT_UNKNOWN", message_id, context, at=clock.now + timedelta(hours=72)))
    contact = deps.contacts.get(PHONE)
    assert contact.confirmation_delivery.status == "DELIVERED" and contact.last_sent_at is not None


def test_an_unknown_message_id_is_ignored_and_counted(aws, deps, clock, capfd):
    register(aws)
    before = deps.contacts.get(PHONE)
    capfd.readouterr()
    stranger = event("TEXT_DELIVERED", "not-ours", {}, at=clock.now, phone="+12065550199")
    mismatch = event("TEXT_DELIVERED", "other-message", {}, at=clock.now)
    assert deliver(stranger, mismatch) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE) == before
    assert capfd.readouterr().out.count('"DeliveryEventUnmatched"') == 2


def test_an_unreadable_record_is_dropped_not_retried(aws, deps):
    batch = {
        "Records": [sqs_record("not json", raw=True), sqs_record(json.dumps({"eventType": 1}), raw=True)]
    }
    assert delivery_events.handler(batch, LambdaContext()) == {"batchItemFailures": []}


def test_a_confirmation_the_registration_could_not_record_is_recorded_from_its_events(
    aws, deps, clock, monkeypatch
):
    """The send succeeded, the write after it failed (case 3 of issue 10): the delivery event carries the
    claim's token and records the evidence, which the cooldown then counts."""
    from optin.ports import DependencyUnavailable

    store = type(deps.contacts)
    original = store.save

    def failing_after_the_send(self, contact, expected_version, events_, marker=None):
        if any(e.type == "CONFIRMATION_SENT" for e in events_):
            raise DependencyUnavailable("saving the contact: ProvisionedThroughputExceededException")
        return original(self, contact, expected_version, events_, marker)

    monkeypatch.setattr(store, "save", failing_after_the_send)
    message_id, context = register(aws)
    claimed = deps.contacts.get(PHONE)
    assert claimed.confirmation_message_id is None and claimed.send_lease_token == context["sendId"]
    monkeypatch.setattr(store, "save", original)  # the store works again

    deliver(event("TEXT_SUCCESSFUL", message_id, context, at=clock.now + timedelta(seconds=1), final=False))
    contact = deps.contacts.get(PHONE)
    assert contact.confirmation_message_id == message_id and contact.send_lease_token is None
    assert contact.confirmation_sent_at == clock.now + timedelta(seconds=1) and contact.send_window_count == 1
    assert contact.confirmation_delivery.status == "SENT"
    assert [e.type for e in deps.contacts.events(PHONE)].count("CONFIRMATION_SENT") == 1

    clock.advance(seconds=61)  # a re-submit finds the text recorded: the cooldown holds, no second text
    response = registration.handler(api_event("/register", BODY), LambdaContext())
    assert response["statusCode"] == 202 and len(aws.texts_to(PHONE)) == 1


def test_reply_outcomes_go_to_the_audit_trail_once_each(aws, deps, clock):
    register(aws)
    aws.expect_sms(PHONE, kind="reply")
    record = sqs_record(two_way(PHONE, "YES", message_id="in-1"), at=utcnow())
    assert inbound_sms.handler({"Records": [record]}, LambdaContext()) == {"batchItemFailures": []}
    context = aws.sent[-1]["Context"]
    assert context["marker"] == "inbound#in-1"
    message_id = deps.markers.get("inbound#in-1").reply_message_id
    at = clock.now + timedelta(seconds=2)
    for _ in range(2):
        deliver(
            event("TEXT_DELIVERED", message_id, context, at=at),
            event("TEXT_SUCCESSFUL", message_id, context, at=at, final=False),
        )
    trail = [e for e in deps.contacts.events(PHONE) if e.type == "REPLY_DELIVERY"]
    assert [(e.detail["status"], e.detail["messageId"]) for e in trail] == [("DELIVERED", message_id)]
