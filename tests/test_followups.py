"""Follow-up sequences, the pure part: the sequence definition, the sending window across time zones and
DST changes, schedule names and jobs, and the plan a confirmation makes."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from optin.consent import Contact, Status
from optin.followups.sequence import (
    MAX_DEFERRALS,
    FollowUpJob,
    FollowUpStep,
    SendWindow,
    at_expression,
    deferral,
    earliest_send_time,
    parse_sequence,
    plan,
    recipient_zones,
    render,
    schedule_name,
    schedule_names,
)
from optin.settings import Settings, SettingsError

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
WINDOW = SendWindow()  # 09:00-20:00


def utc(*args):
    return datetime(*args, tzinfo=UTC)


CONFIRMED_AT = utc(2026, 11, 22, 15, 5)


def contact(phone="+12065550142", confirmed_at=CONFIRMED_AT, timezone=None, status=Status.CONFIRMED):
    return Contact(
        phone=phone,
        status=status,
        first_name="Carlos",
        last_name="Salazar",
        source="form",
        submitted_at=utc(2026, 11, 22, 15, 0),
        consent_text_version="v1",
        timezone=timezone,
        confirmed_at=confirmed_at,
    )


STEPS = (
    FollowUpStep("tips", timedelta(days=1), "{{Brand}}: Hi {{FirstName}}! Reply STOP to cancel."),
    FollowUpStep("week-1", timedelta(days=7), "Week one", "TRANSACTIONAL"),
)


# -- the sequence ----------------------------------------------------------------------------------------
def test_a_sequence_parses_with_defaults_and_sorted_by_offset():
    raw = json.dumps(
        [
            {"after": "1w", "body": "{{Brand}}: a week in, {{ FirstName }}. Reply STOP to cancel."},
            {"id": "day-1", "after": "1d", "body": "Hi {{FirstName}}", "messageType": "transactional"},
            {"after": "1d12h", "body": "Later"},
        ]
    )
    steps = parse_sequence(raw)
    assert [(s.id, s.after, s.message_type) for s in steps] == [
        ("day-1", timedelta(days=1), "TRANSACTIONAL"),
        ("1d12h", timedelta(days=1, hours=12), "PROMOTIONAL"),
        ("7d", timedelta(days=7), "PROMOTIONAL"),
    ]


def test_an_empty_sequence_means_no_follow_ups():
    assert parse_sequence(None) == parse_sequence("") == parse_sequence(" ") == parse_sequence("[]") == ()
    assert Settings.from_env({}).follow_up_steps == ()


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("{not json", "is not valid JSON"),
        ('{"after": "1d", "body": "x"}', "must be a JSON list of steps"),
        ('["1d"]', "step 1 must be an object"),
        ('[{"offset": "1d", "body": "x"}]', "unknown key(s) offset"),
        ('[{"body": "x"}]', "'after' is required"),
        ('[{"after": "tomorrow", "body": "x"}]', "'after' must be weeks/days/hours/minutes"),
        ('[{"after": "0m", "body": "x"}]', "between 1m and 3650d"),
        ('[{"after": "1d", "body": " "}]', "'body' is required"),
        ('[{"after": "1d", "body": "Hi {{Name}}"}]', "unknown placeholder(s) 'Name'"),
        ('[{"after": "1d", "body": "Hi {{FirstName"}]', "unknown placeholder(s) {{"),
        ('[{"after": "1d", "body": "x", "messageType": "MARKETING"}]', "'messageType' must be"),
        ('[{"after": "1d", "body": "x", "id": "has space"}]', "'id' must be 1 to 24"),
        ('[{"after": "1d", "body": "x"}, {"after": "24h", "body": "y"}]', "id '1d' is used twice"),
    ],
)
def test_a_bad_sequence_fails_loudly_naming_the_variable_and_the_step(raw, complaint):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"FOLLOW_UP_SEQUENCE": raw})
    message = str(error.value)
    assert message.startswith("FOLLOW_UP_SEQUENCE ")  # stacks/config maps the first word to a context key
    assert complaint in message


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("FOLLOW_UP_SEND_WINDOW", "9-20", "must look like 09:00-20:00"),
        ("FOLLOW_UP_SEND_WINDOW", "20:00-09:00", "start before end"),
        ("FOLLOW_UP_SEND_WINDOW", "09:00-24:30", "start before end"),
        ("FOLLOW_UP_SCHEDULE_GROUP", "bad group", "FOLLOW_UP_SCHEDULE_GROUP must be"),
        ("FOLLOW_UP_TARGET_ARN", "follow-ups", "FOLLOW_UP_TARGET_ARN must be an ARN"),
        ("FOLLOW_UP_DLQ_ARN", "dlq", "FOLLOW_UP_DLQ_ARN must be an ARN"),
    ],
)
def test_bad_follow_up_settings_name_their_variable(variable, value, complaint):
    with pytest.raises(SettingsError, match=re.escape(complaint)) as error:
        Settings.from_env({variable: value})
    assert str(error.value).startswith(variable)


def test_follow_up_settings_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "FOLLOW_UP_SEQUENCE": '[{"after": "2d", "body": "x"}]',
            "FOLLOW_UP_SEND_WINDOW": "10:30-19:00",
            "FOLLOW_UP_SCHEDULE_GROUP": "sms-optin-follow-ups",
            "FOLLOW_UP_TARGET_ARN": "arn:aws:sqs:us-east-1:123456789012:follow-ups",
            "FOLLOW_UP_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        }
    )
    assert [s.id for s in settings.follow_up_steps] == ["2d"]
    assert settings.follow_up_window == (10 * 60 + 30, 19 * 60)
    assert settings.follow_up_schedule_group == "sms-optin-follow-ups"
    assert settings.follow_up_target_arn.endswith(":follow-ups")
    assert settings.follow_up_dead_letter_arn is None
    assert Settings.from_env({"FOLLOW_UP_SEND_WINDOW": "00:00-24:00"}).follow_up_window == (0, 1440)


def test_templates_take_the_contacts_fields():
    values = {"FirstName": "Carlos", "LastName": "Salazar", "Brand": "ExampleCorp"}
    assert render("{{Brand}}: Hi {{ FirstName }} {{LastName}}!", values) == "ExampleCorp: Hi Carlos Salazar!"
    assert render("Hi {{FirstName}}{{HelpUrl}}", {"FirstName": "Ann"}) == "Hi Ann"


# -- the sending window ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        # inside the window: unchanged
        (utc(2026, 11, 23, 15, 5), NEW_YORK, utc(2026, 11, 23, 15, 5)),  # 10:05 EST
        (utc(2026, 11, 23, 14, 0), NEW_YORK, utc(2026, 11, 23, 14, 0)),  # 09:00 EST sharp: open
        # before the opening: today's opening
        (utc(2026, 11, 23, 15, 5), LOS_ANGELES, utc(2026, 11, 23, 17, 0)),  # 07:05 PST -> 09:00 PST
        # at or after the close (end exclusive): tomorrow's opening
        (utc(2026, 11, 24, 1, 0), NEW_YORK, utc(2026, 11, 24, 14, 0)),  # 20:00 EST -> 09:00 EST
        (utc(2026, 11, 24, 5, 0), LOS_ANGELES, utc(2026, 11, 24, 17, 0)),  # 21:00 PST -> 09:00 PST
    ],
)
def test_a_send_outside_the_window_moves_to_the_next_opening(when, zone, expected):
    assert earliest_send_time(when, (zone,), WINDOW) == expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # US spring forward, Sunday 2027-03-14 02:00 EST -> 03:00 EDT
        (utc(2027, 3, 13, 13, 30), utc(2027, 3, 13, 14, 0)),  # Saturday 08:30 EST -> 09:00 EST
        (
            utc(2027, 3, 14, 13, 30),
            utc(2027, 3, 14, 13, 30),
        ),  # Sunday 09:30 EDT: inside (EST would say 08:30)
        (utc(2027, 3, 14, 7, 30), utc(2027, 3, 14, 13, 0)),  # 03:30 EDT, just after the gap -> 09:00 EDT
        (utc(2027, 3, 14, 1, 30), utc(2027, 3, 14, 13, 0)),  # Saturday 20:30 EST -> Sunday 09:00 *EDT*
        # US fall back, Sunday 2026-11-01 02:00 EDT -> 01:00 EST
        (utc(2026, 10, 31, 12, 45), utc(2026, 10, 31, 13, 0)),  # Saturday 08:45 EDT -> 09:00 EDT
        (utc(2026, 11, 1, 12, 45), utc(2026, 11, 1, 14, 0)),  # Sunday 07:45 EST -> 09:00 EST (not 13:00 UTC)
        (utc(2026, 11, 1, 0, 30), utc(2026, 11, 1, 14, 0)),  # Saturday 20:30 EDT -> Sunday 09:00 *EST*
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 14, 0)),  # 01:30 EST, the repeated hour -> 09:00 EST
    ],
)
def test_the_window_follows_dst_changes(when, expected):
    sent_at = earliest_send_time(when, (NEW_YORK,), WINDOW)
    assert sent_at == expected
    assert sent_at.astimezone(NEW_YORK).hour >= 9


def test_a_number_spanning_two_zones_gets_a_time_inside_the_window_in_both():
    zones = (CHICAGO, NEW_YORK)
    assert earliest_send_time(utc(2026, 11, 23, 0, 30), zones, WINDOW) == utc(
        2026, 11, 23, 0, 30
    )  # 18:30/19:30
    # 19:30 CST is 20:30 EST: New York's next opening (08:00 CST) is too early for Chicago -> 09:00 CST
    assert earliest_send_time(utc(2026, 11, 23, 1, 30), zones, WINDOW) == utc(2026, 11, 23, 15, 0)


def test_zones_with_no_common_window_fall_back_to_the_first():
    narrow = SendWindow(9 * 60, 12 * 60)
    tokyo = ZoneInfo("Asia/Tokyo")
    when = utc(2026, 11, 23, 12, 0)  # 21:00 in Tokyo
    assert earliest_send_time(when, (tokyo, NEW_YORK), narrow) == utc(2026, 11, 24, 0, 0)  # 09:00 Tokyo


def test_an_always_open_window_changes_nothing():
    when = utc(2026, 11, 23, 8, 0)  # 03:00 EST
    assert earliest_send_time(when, (NEW_YORK,), SendWindow(0, 1440)) == when


@pytest.mark.parametrize(
    ("lookup", "phone", "expected"),
    [
        ("America/Chicago", "+12065550142", ("America/Chicago",)),  # the carrier lookup's zone wins
        (None, "+12065550142", ("America/Los_Angeles",)),  # else libphonenumber's for the number
        ("Pacific Time", "+12065550142", ("America/Los_Angeles",)),  # not an IANA zone: ignored
        (None, "+12125550142", ("America/New_York",)),
        (None, "+17095550142", ("America/Halifax", "America/St_Johns")),  # one area code, two zones
    ],
)
def test_the_recipients_zone(lookup, phone, expected):
    assert tuple(z.key for z in recipient_zones(lookup, phone)) == expected


# -- names, jobs and the plan ------------------------------------------------------------------------------
def test_schedule_names_are_deterministic_short_and_free_of_the_number():
    episode = "2026-11-22T15:05:00.000Z"
    name = schedule_name("+12065550142", episode, "welcome-tips-long-id-xyz", MAX_DEFERRALS)
    assert re.fullmatch(r"[0-9A-Za-z_-]{1,64}", name)
    assert "2065550142" not in name
    assert name == schedule_name("+12065550142", episode, "welcome-tips-long-id-xyz", MAX_DEFERRALS)
    others = {
        schedule_name("+12065550142", episode, "tips"),
        schedule_name("+12065550143", episode, "tips"),
        schedule_name("+12065550142", "2026-11-22T15:05:00.001Z", "tips"),
        schedule_name("+12065550142", episode, "tips", 1),
    }
    assert len(others) == 4


def test_a_job_round_trips_and_malformed_ones_are_refused():
    job = FollowUpJob("+12065550142", "tips", "2026-11-22T15:05:00.000Z", "abc", "2026-11-23T17:00:00.000Z")
    assert FollowUpJob.from_payload(job.to_payload()) == job
    assert FollowUpJob.from_payload(json.dumps(job.to_payload())) == job
    for bad in (
        {},
        {**job.to_payload(), "type": "other"},
        {**job.to_payload(), "version": 2},
        {**job.to_payload(), "phone": "2065550142"},
        {**job.to_payload(), "step": "a b"},
        {**job.to_payload(), "episode": "yesterday"},
        {**job.to_payload(), "deferrals": MAX_DEFERRALS + 1},
    ):
        with pytest.raises(ValueError):
            FollowUpJob.from_payload(bad)


def test_a_confirmation_plans_each_step_inside_the_recipients_window():
    confirmed = contact()  # Seattle number, confirmed 07:05 PST
    planned = plan(confirmed, STEPS, WINDOW, now=utc(2026, 11, 22, 15, 5, 1))
    assert [(s.job.step, s.at) for s in planned.sends] == [
        ("tips", utc(2026, 11, 23, 17, 0)),
        ("week-1", utc(2026, 11, 29, 17, 0)),
    ]
    assert planned.stale == ()
    assert [s.name for s in planned.sends] == schedule_names(confirmed, STEPS)[:: MAX_DEFERRALS + 1]
    assert {s.job.episode for s in planned.sends} == {"2026-11-22T15:05:00.000Z"}
    assert at_expression(planned.sends[0].at) == "at(2026-11-23T17:00:00)"


def test_a_late_plan_drops_stale_steps_and_never_schedules_in_the_past():
    confirmed = contact(confirmed_at=utc(2026, 11, 20, 12, 0), timezone="America/New_York")
    now = utc(2026, 11, 22, 15, 0, 30, 500)  # 10:00 EST, two days after confirmation
    planned = plan(
        confirmed, (STEPS[0], FollowUpStep("47h", timedelta(hours=47), "x"), STEPS[1]), WINDOW, now
    )
    assert planned.stale == ("tips",)  # planned for 2026-11-21 12:00 UTC: more than a day ago
    assert [(s.job.step, s.at) for s in planned.sends] == [
        ("47h", utc(2026, 11, 22, 15, 2, 31)),  # due 11:00 UTC today, passed: now + 2 min, rounded up
        ("week-1", utc(2026, 11, 27, 14, 0)),  # 07:00 EST -> 09:00 EST
    ]


def test_a_step_is_never_scheduled_before_it_is_due():
    """at() takes whole seconds: a confirmation at 17:14:32.557 makes a "+1d" step 17:14:33 the next day,
    not 17:14:32 (which is before one day has passed)."""
    confirmed = contact(confirmed_at=datetime(2026, 11, 20, 17, 14, 32, 557000, tzinfo=UTC), timezone="UTC")
    planned = plan(
        confirmed, (FollowUpStep("day", timedelta(days=1), "x"),), SendWindow(0, 1440), confirmed.confirmed_at
    )
    (send,) = planned.sends
    assert send.at == utc(2026, 11, 21, 17, 14, 33)
    assert send.at - confirmed.confirmed_at >= timedelta(days=1)


def test_nothing_is_planned_for_a_contact_never_confirmed():
    assert (
        plan(contact(confirmed_at=None, status=Status.PENDING), STEPS, WINDOW, utc(2026, 11, 22)).sends == ()
    )
    assert schedule_names(contact(confirmed_at=None), STEPS) == []


def test_a_deferral_moves_the_step_to_the_next_opening_a_bounded_number_of_times():
    confirmed = contact()
    job = plan(confirmed, STEPS, WINDOW, utc(2026, 11, 22, 15, 5)).sends[0].job
    late = utc(2026, 11, 24, 4, 10)  # 20:10 PST
    moved = deferral(job, confirmed, WINDOW, late)
    assert moved is not None
    assert moved.at == utc(2026, 11, 24, 17, 0)
    assert moved.job.deferrals == 1
    assert moved.name == schedule_name(job.phone, job.episode, job.step, 1)
    assert deferral(replace(job, deferrals=MAX_DEFERRALS), confirmed, WINDOW, late) is None
