"""Inbound SMS through the real Lambda handler: SQS records carrying SNS notifications."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from optin.handlers import inbound_sms, registration
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "source": "form"}


def register(aws, phone=PHONE, national="2065550142"):
    aws.expect_lookup(phone)
    aws.expect_sms(phone)
    response = registration.handler(
        api_event("/register", {**BODY, "destinationNumber": national}), LambdaContext()
    )
    assert response["statusCode"] == 202


def deliver(*records):
    return inbound_sms.handler(sqs_event(*records), LambdaContext())


def reply(body, phone=PHONE, *, at=None, message_id=None, destination="+12065550100"):
    return sqs_record(two_way(phone, body, destination=destination, message_id=message_id), at=at)


def test_yes_confirms_and_keeps_the_evidence(aws, deps):
    register(aws)
    at = datetime(2026, 11, 22, 15, 7, 30, tzinfo=UTC)
    aws.expect_sms(PHONE)
    result = deliver(reply("Yes please", at=at, message_id="in-yes-1"))
    assert result == {"batchItemFailures": []}
    contact = deps.contacts.get(PHONE)
    assert contact.status == "CONFIRMED"
    assert contact.confirmed_at == at  # the SNS Timestamp of the YES
    assert (contact.confirmed_message_id, contact.confirmed_body) == ("in-yes-1", "Yes please")
    welcome = aws.texts_to(PHONE)[-1]
    assert "subscribed" in welcome and "STOP" in welcome
    trail = [e.type for e in deps.contacts.events(PHONE)]
    assert trail == ["SUBMITTED", "CONFIRMATION_SENT", "INBOUND", "CONFIRMED"]


def test_a_word_containing_yes_changes_nothing_and_gets_only_the_one_nudge(aws, deps):
    register(aws)
    aws.expect_sms(PHONE, kind="reply")
    assert deliver(reply("yesterday was fine"), reply("eyes")) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE).status == "PENDING"
    texts = aws.texts_to(PHONE)
    assert len(texts) == 2 and "Reply YES to confirm" in texts[1] and "STOP to cancel" in texts[1]
    assert [e.detail["body"] for e in deps.contacts.events(PHONE) if e.type == "INBOUND"] == [
        "yesterday was fine",
        "eyes",
    ]


def test_yes_from_a_never_registered_number_creates_nothing(aws, deps):
    assert deliver(reply("YES", "+14255550182")) == {"batchItemFailures": []}
    assert deps.contacts.get("+14255550182") is None
    assert deps.contacts.events("+14255550182") == []
    assert aws.sent == []  # no sign-up link configured


def test_strangers_get_one_signup_link_per_cooldown_when_configured(aws, settings, clock):
    deps = Dependencies(replace(settings, signup_url="example.com/join"), clients=aws.client, clock=clock)
    install(deps)
    stranger = "+14255550182"
    aws.expect_sms(stranger)
    deliver(reply("YES", stranger), reply("yes", stranger))
    clock.advance(minutes=11)
    aws.expect_sms(stranger)
    deliver(reply("Y", stranger))
    texts = aws.texts_to(stranger)
    assert len(texts) == 2 and all("example.com/join" in t for t in texts)
    assert deps.contacts.get(stranger) is None


def test_yes_after_the_pending_registration_expired_does_not_confirm(aws, deps):
    register(aws)
    late = datetime(2026, 11, 22, 15, 0, tzinfo=UTC) + timedelta(days=31)
    deliver(reply("YES", at=late))
    assert deps.contacts.get(PHONE).status == "PENDING"


def test_a_redelivered_message_changes_nothing_and_sends_no_second_reply(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    record = reply("YES", message_id="in-dup")
    deliver(record)
    version = deps.contacts.get(PHONE).version
    deliver(record)  # SNS/SQS deliver at least once
    deliver(reply("YES", message_id="in-dup"))  # same inboundMessageId in a new envelope
    assert deps.contacts.get(PHONE).version == version
    assert len(aws.texts_to(PHONE)) == 2  # confirmation + one welcome


def test_stop_opts_out_with_one_confirmation(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("YES"))
    aws.expect_sms(PHONE)
    deliver(reply("Stop please", message_id="in-stop"))
    contact = deps.contacts.get(PHONE)
    assert contact.status == "OPTED_OUT"
    assert (contact.opted_out_keyword, contact.opted_out_message_id) == ("STOP", "in-stop")
    assert contact.opted_out_at is not None
    assert "unsubscribed" in aws.texts_to(PHONE)[-1]
    deliver(reply("STOP"))  # a second STOP: nothing more is sent
    assert len(aws.texts_to(PHONE)) == 3


def test_help_names_the_brand_and_stop(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("help"))
    text = aws.texts_to(PHONE)[-1]
    assert "ExampleCorp" in text and "STOP" in text
    assert deps.contacts.get(PHONE).status == "PENDING"


def test_start_after_stop_opts_back_in(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("STOP"))
    aws.expect_sms(PHONE)
    deliver(reply("START"))
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


def test_every_record_of_a_batch_is_processed(aws, deps):
    register(aws, "+12065550142", "2065550142")
    register(aws, "+12065550143", "2065550143")
    aws.expect_sms("+12065550142")
    aws.expect_sms("+12065550143")
    deliver(reply("YES", "+12065550142"), reply("Y", "+12065550143"))
    assert deps.contacts.get("+12065550142").status == "CONFIRMED"
    assert deps.contacts.get("+12065550143").status == "CONFIRMED"


def test_one_bad_record_fails_alone(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    bad = sqs_record("{not json", raw=True)
    missing_id = sqs_record(
        {"originationNumber": PHONE, "destinationNumber": "+12065550100", "messageBody": "YES"}
    )
    good = reply("YES")
    result = deliver(bad, good, missing_id)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": bad["messageId"]},
            {"itemIdentifier": missing_id["messageId"]},
        ]
    }
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


def test_raw_message_delivery_is_understood_too(aws, deps):
    register(aws)
    aws.expect_sms(PHONE)
    record = sqs_record(two_way(PHONE, "YES"), raw=True)
    assert deliver(record) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


def test_messages_to_a_number_that_is_not_ours_are_ignored(aws, deps, logs, capfd):
    register(aws)
    assert deliver(reply("YES", destination="+19995550100")) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE).status == "PENDING"
    assert any("not ours" in r["message"] for r in logs.records())
    assert '"InboundIgnored"' in capfd.readouterr().out  # the metric


def test_a_failed_reply_is_retried_without_applying_the_message_twice(aws, deps):
    register(aws)
    aws.expect_sms_outage()
    record = reply("YES", message_id="in-retry")
    result = deliver(record)
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    confirmed = deps.contacts.get(PHONE)
    assert confirmed.status == "CONFIRMED"
    aws.expect_sms(PHONE)
    assert deliver(record) == {"batchItemFailures": []}  # the queue redelivers it
    assert deps.contacts.get(PHONE).version == confirmed.version
    assert len([e for e in deps.contacts.events(PHONE) if e.type == "CONFIRMED"]) == 1
    assert len(aws.texts_to(PHONE)) == 2
    deliver(record)
    assert len(aws.texts_to(PHONE)) == 2


def test_contact_store_outage_fails_the_record_for_a_retry(aws, deps, monkeypatch):
    from optin.ports import DependencyUnavailable

    register(aws)

    def broken(*args, **kwargs):
        raise DependencyUnavailable("reading the contact")

    monkeypatch.setattr(type(deps.contacts), "get", broken)
    record = reply("YES")
    assert deliver(record) == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}


def test_when_aws_manages_opt_outs_we_do_not_answer_stop_or_help_twice(aws, settings, clock):
    deps = Dependencies(replace(settings, self_managed_opt_outs=False), clients=aws.client, clock=clock)
    install(deps)
    register(aws)
    deliver(reply("HELP"), reply("STOP"))
    assert deps.contacts.get(PHONE).status == "OPTED_OUT"
    assert len(aws.texts_to(PHONE)) == 1  # only the confirmation


def test_opt_in_and_opt_out_are_mirrored_to_pinpoint_when_configured(aws, settings, clock):
    install(Dependencies(replace(settings, pinpoint_project_id="proj123"), clients=aws.client, clock=clock))
    aws.expect_lookup(PHONE)
    aws.expect_endpoint_update("12065550142", "ALL")
    aws.expect_sms(PHONE)
    registration.handler(api_event("/register", BODY), LambdaContext())
    aws.expect_endpoint_update("12065550142", "NONE")
    aws.expect_sms(PHONE)
    deliver(reply("YES"))
    aws.expect_endpoint_update("12065550142", "ALL")
    aws.expect_sms(PHONE)
    deliver(reply("STOP"))


@pytest.mark.parametrize("body", ["yes", "STOP", "help", "hello there"])
def test_phone_numbers_never_appear_whole_in_logs(aws, logs, body):
    register(aws)
    aws.expect_sms(PHONE)  # "hello there" gets the nudge
    deliver(reply(body))
    records = logs.records()  # every line is structured JSON
    assert records and "2065550142" not in logs.text
    assert any(r.get("from") == "+1******0142" for r in records)


def test_keywords_the_number_answers_itself_get_no_second_reply(aws, settings, clock):
    deps = Dependencies(replace(settings, number_keywords=("YES", "START")), clients=aws.client, clock=clock)
    install(deps)
    register(aws)
    deliver(reply("yes"))  # End User Messaging sent the number's own YES message
    assert deps.contacts.get(PHONE).status == "CONFIRMED"
    aws.expect_sms(PHONE)
    deliver(reply("help"))  # not registered on the number: ours to answer
    assert len(aws.texts_to(PHONE)) == 2
