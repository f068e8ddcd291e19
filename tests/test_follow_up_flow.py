"""Follow-up sequences end to end through the real handlers: EventBridge Scheduler and DynamoDB emulated
by moto, SMS under botocore's Stubber. A schedule "fires" by handing its stored input to the sender."""

import json
import os
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY

from optin.handlers import follow_up, inbound_sms, registration
from optin.ports import DependencyUnavailable
from optin.settings import Settings
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"  # Seattle: America/Los_Angeles
GROUP = "sms-optin-follow-ups"
TARGET = "arn:aws:sqs:us-east-1:123456789012:sms-optin-follow-ups"
ROLE = "arn:aws:iam::123456789012:role/sms-optin-scheduler"
DLQ = "arn:aws:sqs:us-east-1:123456789012:sms-optin-follow-ups-dlq"
SEQUENCE = [
    {
        "id": "tips",
        "after": "1d",
        "body": "{{Brand}}: Hi {{FirstName}}, 3 tips to start. Reply STOP to cancel.",
    },
    {
        "id": "week-1",
        "after": "7d",
        "body": "{{Brand}}: A week in! Reply STOP to cancel.",
        "messageType": "TRANSACTIONAL",
    },
]
FOLLOW_UP_ENV = {
    "FOLLOW_UP_SEQUENCE": json.dumps(SEQUENCE),
    "FOLLOW_UP_SCHEDULE_GROUP": GROUP,
    "FOLLOW_UP_TARGET_ARN": TARGET,
    "FOLLOW_UP_SCHEDULER_ROLE_ARN": ROLE,
    "FOLLOW_UP_DLQ_ARN": DLQ,
}


def utc(*args):
    from datetime import UTC, datetime

    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def fu(aws, clock):
    """Dependencies with the follow-up sequence on and moto's EventBridge Scheduler."""
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    scheduler.create_schedule_group(Name=GROUP)
    settings = Settings.from_env({**os.environ, **FOLLOW_UP_ENV})

    def clients(service):
        return scheduler if service == "scheduler" else aws.client(service)

    deps = Dependencies(settings, clients=clients, clock=clock)
    install(deps)
    return SimpleNamespace(aws=aws, deps=deps, scheduler=scheduler, clock=clock)


# -- helpers ----------------------------------------------------------------------------------------------
def register(aws, phone=PHONE, **lookup):
    aws.expect_lookup(phone, **lookup)
    aws.expect_sms(phone)
    body = {"destinationNumber": phone, "firstName": "Carlos", "lastName": "Salazar", "source": "form"}
    assert registration.handler(api_event("/register", body), LambdaContext())["statusCode"] == 202


def text(aws, body, phone=PHONE, *, at=None, message_id=None, reply_expected=True):
    """The handset texts ``body``; returns the SQS record (to redeliver it)."""
    if reply_expected:
        aws.expect_sms(phone)
    record = sqs_record(two_way(phone, body, message_id=message_id), at=at)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    return record


def schedules(fu):
    """Every schedule in the group, in full, earliest first."""
    names = [s["Name"] for s in fu.scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
    full = [fu.scheduler.get_schedule(GroupName=GROUP, Name=name) for name in names]
    return sorted(full, key=lambda s: (s["ScheduleExpression"], s["Name"]))


def payload(schedule):
    return json.loads(schedule["Target"]["Input"])


def fire(job):
    """EventBridge Scheduler invoking the sender function with the schedule's input."""
    return follow_up.handler(job, LambdaContext())["outcome"]


def expect_follow_up(aws, phone=PHONE, message_type="PROMOTIONAL"):
    aws.sms_stub.add_response(
        "send_text_message",
        {"MessageId": f"fu-{len(aws.sent)}"},
        {
            "DestinationPhoneNumber": phone,
            "OriginationIdentity": ANY,
            "MessageBody": ANY,
            "MessageType": message_type,
            "Context": ANY,
        },
    )


def confirm(fu, phone=PHONE, **lookup):
    register(fu.aws, phone, **lookup)
    return text(fu.aws, "YES", phone, at=utc(2026, 11, 22, 15, 5))


# -- scheduling --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phone", "lookup", "tips_at"),
    [
        (PHONE, {}, "at(2026-11-23T17:00:00)"),  # 07:05 PST -> 09:00 PST
        ("+12125550142", {}, "at(2026-11-23T15:05:00)"),  # 10:05 EST: inside, unchanged
        (PHONE, {"Timezone": "America/Chicago"}, "at(2026-11-23T15:05:00)"),  # lookup's zone: 09:05 CST
    ],
)
def test_confirmation_creates_one_time_schedules_in_the_recipients_window(fu, phone, lookup, tips_at):
    confirm(fu, phone, **lookup)
    tips, week = schedules(fu)
    assert tips["ScheduleExpression"] == tips_at
    for schedule, step in ((tips, "tips"), (week, "week-1")):
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["GroupName"] == GROUP
        assert schedule["Target"]["Arn"] == TARGET
        assert schedule["Target"]["RoleArn"] == ROLE
        assert schedule["Target"]["DeadLetterConfig"] == {"Arn": DLQ}
        assert phone[2:] not in schedule["Name"]
        job = payload(schedule)
        assert (job["phone"], job["step"], job["episode"]) == (phone, step, "2026-11-22T15:05:00.000Z")
    assert week["ScheduleExpression"] in {"at(2026-11-29T17:00:00)", "at(2026-11-29T15:05:00)"}


def test_a_redelivered_confirmation_creates_nothing_twice(fu):
    record = confirm(fu)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(schedules(fu)) == 2
    assert len(fu.aws.texts_to(PHONE)) == 2  # the confirmation request and one welcome


def test_a_scheduler_outage_keeps_the_opt_in_and_the_reply_and_the_retry_schedules(fu, monkeypatch):
    register(fu.aws)
    real = fu.scheduler.create_schedule

    def throttled(**kwargs):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "CreateSchedule"
        )

    monkeypatch.setattr(fu.scheduler, "create_schedule", throttled)
    fu.aws.expect_sms(PHONE)
    record = sqs_record(two_way(PHONE, "YES", message_id="in-yes"), at=utc(2026, 11, 22, 15, 5))
    result = inbound_sms.handler(sqs_event(record), LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}  # retried by SQS
    assert fu.deps.contacts.get(PHONE).status == "CONFIRMED"
    assert "subscribed" in fu.aws.texts_to(PHONE)[-1]  # the welcome went out before the schedules
    assert schedules(fu) == []

    monkeypatch.setattr(fu.scheduler, "create_schedule", real)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(schedules(fu)) == 2
    assert len(fu.aws.texts_to(PHONE)) == 2  # no second welcome
    assert [e.type for e in fu.deps.contacts.events(PHONE)].count("CONFIRMED") == 1


@pytest.mark.parametrize("scheduler_client", [True, False])
def test_a_misconfigured_scheduler_never_blocks_the_opt_in_or_the_opt_out(
    aws, clock, capfd, scheduler_client
):
    settings = Settings.from_env({**os.environ, "FOLLOW_UP_SEQUENCE": json.dumps(SEQUENCE)})  # no target
    scheduler = boto3.client("scheduler", region_name="us-east-1")

    def clients(service):  # without a scheduler client at all, or with one but no target to give it
        return scheduler if service == "scheduler" and scheduler_client else aws.client(service)

    install(Dependencies(settings, clients=clients, clock=clock))
    register(aws)
    aws.expect_sms(PHONE)
    assert inbound_sms.handler(sqs_event(sqs_record(two_way(PHONE, "YES"))), LambdaContext())[
        "batchItemFailures"
    ]
    aws.expect_sms(PHONE)
    assert inbound_sms.handler(sqs_event(sqs_record(two_way(PHONE, "STOP"))), LambdaContext())[
        "batchItemFailures"
    ]
    assert aws.deps.contacts.get(PHONE).status == "OPTED_OUT"
    assert len(aws.texts_to(PHONE)) == 3  # confirmation request, welcome, opt-out confirmation
    if scheduler_client:
        assert '"FollowUpSyncFailed"' in capfd.readouterr().out  # the metric an alarm can watch


def test_without_a_sequence_the_scheduler_is_never_used(aws, deps):
    assert deps.follow_ups is None
    register(aws)
    text(aws, "YES")  # FakeAws has no scheduler client: any use would fail the record
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


# -- sending -----------------------------------------------------------------------------------------------
INJECTION = "Carlos\nURGENT: your account is locked, call 1-900-555-0199 or visit evil.example.com"


def test_a_name_stored_before_the_rules_cannot_inject_a_line_a_number_or_a_url(fu):
    """Issue 10, case 6: the name is put in as one short line; the step's own text is unchanged."""
    from dataclasses import replace

    confirm(fu)
    contact = fu.deps.contacts.get(PHONE)
    fu.deps.contacts.save(replace(contact, first_name=INJECTION), contact.version, [])
    tips = payload(schedules(fu)[0])
    fu.clock.now = utc(2026, 11, 23, 17, 0, 20)
    expect_follow_up(fu.aws)
    assert fire(tips) == "sent"
    assert fu.aws.sent[-1]["MessageBody"] == "ExampleCorp: Hi Carlos, 3 tips to start. Reply STOP to cancel."


def test_a_fired_step_is_rendered_and_sent_once_even_when_invoked_twice(fu):
    confirm(fu)
    tips = payload(schedules(fu)[0])
    fu.clock.now = utc(2026, 11, 23, 17, 0, 20)
    expect_follow_up(fu.aws)
    assert fire(tips) == "sent"
    assert fire(tips) == "duplicate"
    queued = sqs_record(json.dumps(tips), raw=True)  # the same input through an SQS target
    assert follow_up.handler(sqs_event(queued), LambdaContext()) == {"batchItemFailures": []}
    sent = fu.aws.sent[-1]
    assert sent["MessageBody"] == "ExampleCorp: Hi Carlos, 3 tips to start. Reply STOP to cancel."
    assert sent["MessageType"] == "PROMOTIONAL"
    assert len(fu.aws.texts_to(PHONE)) == 3
    audit = [e for e in fu.deps.contacts.events(PHONE) if e.type == "FOLLOW_UP_SENT"]
    assert len(audit) == 1
    assert audit[0].detail["step"] == "tips"
    assert audit[0].detail["messageId"] == "fu-2"
    assert audit[0].detail["body"] == sent["MessageBody"]


def test_each_step_uses_its_message_type(fu):
    confirm(fu)
    week = payload(schedules(fu)[1])
    fu.clock.now = utc(2026, 11, 29, 17, 0, 20)
    expect_follow_up(fu.aws, message_type="TRANSACTIONAL")
    assert fire(week) == "sent"


def test_stop_before_the_send_deletes_the_schedules_and_nothing_is_sent(fu):
    confirm(fu)
    jobs = [payload(s) for s in schedules(fu)]
    text(fu.aws, "STOP", at=utc(2026, 11, 22, 18, 0))
    assert schedules(fu) == []
    fu.clock.now = utc(2026, 11, 23, 17, 0, 20)
    for job in jobs:  # a schedule that fired anyway (deleted too late) finds the contact opted out
        assert fire(job) == "skipped:not_confirmed"
    assert len(fu.aws.texts_to(PHONE)) == 3  # confirmation request, welcome, opt-out confirmation


def test_stop_then_start_does_not_resurrect_the_old_episodes_steps(fu):
    confirm(fu)
    old = [payload(s) for s in schedules(fu)]
    text(fu.aws, "STOP", at=utc(2026, 11, 22, 18, 0))
    text(fu.aws, "START", at=utc(2026, 11, 22, 19, 0))
    new = [payload(s) for s in schedules(fu)]
    assert len(new) == 2 and {j["episode"] for j in new} == {"2026-11-22T19:00:00.000Z"}
    fu.clock.now = utc(2026, 11, 23, 19, 0, 20)
    assert fire(old[0]) == "skipped:other_episode"
    expect_follow_up(fu.aws)
    assert fire(new[0]) == "sent"


def test_a_step_firing_outside_the_window_is_moved_to_the_next_opening(fu):
    confirm(fu)
    tips = payload(schedules(fu)[0])
    fu.clock.now = utc(2026, 11, 24, 4, 30)  # a late retry: 20:30 PST
    assert fire(tips) == "deferred"
    moved = [s for s in schedules(fu) if payload(s)["deferrals"] == 1]
    assert len(moved) == 1 and moved[0]["ScheduleExpression"] == "at(2026-11-24T17:00:00)"
    fu.clock.now = utc(2026, 11, 24, 17, 0, 20)
    expect_follow_up(fu.aws)
    assert fire(payload(moved[0])) == "sent"
    assert fire(tips) == "duplicate"
    text(fu.aws, "STOP")  # the opt-out deletes deferred schedules too
    assert schedules(fu) == []


def test_a_throttled_send_is_retried_and_sent_once(fu):
    confirm(fu)
    tips = payload(schedules(fu)[0])
    fu.clock.now = utc(2026, 11, 23, 17, 0, 20)
    fu.aws.expect_sms_outage()
    with pytest.raises(DependencyUnavailable):
        fire(tips)  # the function fails: the scheduler (or the queue) tries again
    queued = sqs_record(json.dumps(tips), raw=True)
    fu.aws.expect_sms_outage()
    result = follow_up.handler(sqs_event(queued), LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": queued["messageId"]}]}
    expect_follow_up(fu.aws)
    assert fire(tips) == "sent"
    assert fire(tips) == "duplicate"
    assert len(fu.aws.texts_to(PHONE)) == 3


def test_a_step_removed_from_the_sequence_is_skipped(fu, aws, clock):
    confirm(fu)
    week = payload(schedules(fu)[1])
    shorter = {**os.environ, **FOLLOW_UP_ENV, "FOLLOW_UP_SEQUENCE": json.dumps(SEQUENCE[:1])}
    scheduler = fu.scheduler
    install(
        Dependencies(
            Settings.from_env(shorter),
            clients=lambda s: scheduler if s == "scheduler" else aws.client(s),
            clock=clock,
        )
    )
    fu.clock.now = utc(2026, 11, 29, 17, 0, 20)
    assert fire(week) == "skipped:unknown_step"


def test_a_malformed_job_fails_the_invocation(fu):
    with pytest.raises(ValueError):
        follow_up.handler({"type": "something else"}, LambdaContext())
    queued = sqs_record("not json", raw=True)
    assert follow_up.handler(sqs_event(queued), LambdaContext())["batchItemFailures"]
