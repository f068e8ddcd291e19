"""The operator's consent decisions (optin.consent_records), pure: erasure, suppression, import, sync."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from optin.consent import (
    AuditEvent,
    CarrierFacts,
    Contact,
    InboundMessage,
    Policy,
    Status,
    Submission,
    on_inbound,
    on_registration,
)
from optin.consent_records import (
    CARRIER,
    ERASED,
    ImportAs,
    SyncAction,
    import_action,
    is_erased,
    opted_out_by_operator,
    personal_markers,
    plan_erasure,
    sync_action,
)
from optin.keywords import KeywordMatcher

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
PHONE = "+12065550142"
PERSONAL = (
    "first_name",
    "last_name",
    "client_ip",
    "user_agent",
    "country",
    "phone_type",
    "carrier",
    "timezone",
    "city",
    "postal_code",
    "confirmation_message_id",
    "confirmed_message_id",
    "confirmed_body",
)
MATCHER = KeywordMatcher(("YES",), ("STOP",), ("START",), ("HELP",))


def confirmed(**changes) -> Contact:
    contact = Contact(
        phone=PHONE,
        status=Status.CONFIRMED,
        first_name="Ana",
        last_name="O'Neil, Jr.",
        source="https://example.com/join",
        submitted_at=NOW - timedelta(days=3),
        consent_text_version="v1",
        client_ip="203.0.113.7",
        user_agent="Mozilla/5.0",
        country="US",
        phone_type="MOBILE",
        carrier="Example Wireless",
        timezone="America/Los_Angeles",
        city="Seattle",
        postal_code="98101",
        confirmation_message_id="msg-1",
        confirmation_sent_at=NOW - timedelta(days=3),
        last_sent_at=NOW - timedelta(days=3),
        send_window_start=NOW - timedelta(days=3),
        send_window_count=1,
        confirmed_at=NOW - timedelta(days=3, minutes=-2),
        confirmed_message_id="in-1",
        confirmed_body="Yes please, I'm Ana",
        confirmed_keyword="YES",
        version=4,
    )
    return dataclasses.replace(contact, **changes)


def trail() -> list[AuditEvent]:
    return [
        AuditEvent("SUBMITTED", NOW - timedelta(days=3), {"source": "web"}),
        AuditEvent(
            "INBOUND", NOW - timedelta(days=3), {"inboundMessageId": "in-1", "body": "Yes please"}, "in-1"
        ),
        AuditEvent("CONFIRMED", NOW - timedelta(days=3, minutes=-2), {"keyword": "YES"}),
        AuditEvent(
            "FOLLOW_UP_SENT", NOW - timedelta(days=2), {"step": "tips", "episode": "2026-11-19T15:02:00.000Z"}
        ),
    ]


def test_erasure_keeps_only_the_opt_out_the_limits_and_a_tombstone() -> None:
    events = trail()
    erasure = plan_erasure(confirmed(), events, "GDPR request 113", NOW)
    assert erasure is not None and erasure.contact is not None and erasure.tombstone is not None
    erased = erasure.contact
    assert erased.status == Status.OPTED_OUT and is_erased(erased)
    assert (erased.opted_out_at, erased.opted_out_keyword) == (NOW, ERASED)
    for name in PERSONAL:
        assert not getattr(erased, name), name
    assert erased.confirmed_at is None and erased.pending_expires_at is None
    assert (erased.last_sent_at, erased.send_window_count) == (NOW - timedelta(days=3), 1)
    assert erasure.tombstone.type == ERASED
    assert erasure.tombstone.detail["note"] == "erased at 2026-11-22T15:00:00.000Z for GDPR request 113"
    assert set(erasure.delete_events) == {e.id for e in events}  # the whole trail but the tombstone


def test_erasure_of_an_opted_out_contact_keeps_when_and_how_it_opted_out() -> None:
    stopped = confirmed(
        status=Status.OPTED_OUT, opted_out_at=NOW - timedelta(days=1), opted_out_keyword="STOP"
    )
    erasure = plan_erasure(stopped, [], "CCPA", NOW)
    assert erasure is not None and erasure.contact is not None
    assert (erasure.contact.opted_out_at, erasure.contact.opted_out_keyword) == (
        NOW - timedelta(days=1),
        "STOP",
    )


def test_erasure_is_idempotent_and_finishes_what_an_interrupted_one_left() -> None:
    first = plan_erasure(confirmed(), trail(), "r", NOW)
    assert first is not None and first.contact is not None and first.tombstone is not None
    later = NOW + timedelta(hours=1)
    assert plan_erasure(first.contact, [first.tombstone], "r", later) is None
    left = trail()
    leftover = plan_erasure(first.contact, [first.tombstone, *left], "r", later)
    assert leftover is not None and leftover.contact is None and leftover.tombstone is None
    assert set(leftover.delete_events) == {e.id for e in left}


def test_after_erasure_stop_changes_nothing_a_registration_starts_over_and_start_opts_in() -> None:
    erasure = plan_erasure(confirmed(), trail(), "r", NOW)
    assert erasure is not None and erasure.contact is not None
    erased = erasure.contact
    later = NOW + timedelta(days=1)

    def text(body: str) -> InboundMessage:
        return InboundMessage(PHONE, "+12065550100", body, f"id-{body}", later)

    stop = on_inbound(erased, text("STOP"), MATCHER.match("STOP"))
    assert stop.contact == erased and stop.reply is None  # already opted out: nothing to send
    assert on_inbound(erased, text("YES"), MATCHER.match("YES")).outcome == "ignored"  # YES is no opt-in

    submission = Submission("Ana", "Lee", "web", later, "v2", "198.51.100.1", "Firefox")
    decision = on_registration(erased, PHONE, submission, CarrierFacts("MOBILE"), later, Policy(), "t1")
    assert decision.outcome == "renewed" and decision.send_confirmation
    fresh = decision.contact
    assert (fresh.status, fresh.first_name, fresh.source, fresh.consent_text_version) == (
        Status.PENDING,
        "Ana",
        "web",
        "v2",
    )
    assert fresh.opted_out_at is None and not is_erased(fresh)

    start = on_inbound(erased, text("START"), MATCHER.match("START"))
    assert start.contact is not None and start.contact.status == Status.CONFIRMED  # the handset opted in


def test_personal_markers_cover_inbound_follow_ups_and_the_signup_cooldown() -> None:
    markers = personal_markers(PHONE, trail(), ["week-1"])
    assert "inbound#in-1" in markers
    assert f"cooldown#signup#{PHONE}" in markers
    assert f"followup#{PHONE}#2026-11-19T15:02:00.000Z#tips" in markers
    assert f"followup#{PHONE}#2026-11-19T15:02:00.000Z#week-1" in markers


def test_an_operator_opt_out_revokes_or_creates_a_suppression_entry() -> None:
    revoked = opted_out_by_operator(confirmed(), PHONE, CARRIER, "opt-out-list", NOW, {})
    assert revoked is not None
    contact, (event,) = revoked
    assert (contact.status, contact.opted_out_keyword, contact.opted_out_at) == (
        Status.OPTED_OUT,
        CARRIER,
        NOW,
    )
    assert contact.first_name == "Ana"  # an opt-out erases nothing
    assert (event.type, event.detail["keyword"]) == ("OPTED_OUT", CARRIER)
    assert opted_out_by_operator(contact, PHONE, CARRIER, "x", NOW, {}) is None
    created = opted_out_by_operator(None, PHONE, "SUPPRESSED", "suppression-list", NOW, {})
    assert created is not None and created[0].status == Status.OPTED_OUT and created[0].first_name == ""


def test_import_never_asks_an_opted_out_or_confirmed_number_and_resumes() -> None:
    pending = confirmed(status=Status.PENDING, confirmed_at=None, pending_expires_at=NOW + timedelta(days=1))
    stopped = confirmed(status=Status.OPTED_OUT)
    assert import_action(None, ImportAs.PENDING, NOW) == "register"
    assert import_action(stopped, ImportAs.PENDING, NOW) == "skip:opted_out"
    assert import_action(confirmed(), ImportAs.PENDING, NOW) == "skip:confirmed"
    assert import_action(pending, ImportAs.PENDING, NOW) == "skip:pending"  # asked already: a re-run skips
    unsent = dataclasses.replace(pending, confirmation_message_id=None)
    assert import_action(unsent, ImportAs.PENDING, NOW) == "register"  # the text never went: ask again
    expired = dataclasses.replace(pending, pending_expires_at=NOW - timedelta(days=1))
    assert import_action(expired, ImportAs.PENDING, NOW) == "register"
    assert import_action(None, ImportAs.OPTED_OUT, NOW) == "suppress"
    assert import_action(confirmed(), ImportAs.OPTED_OUT, NOW) == "suppress"
    assert import_action(stopped, ImportAs.OPTED_OUT, NOW) == "skip:opted_out"


def test_sync_actions_both_ways() -> None:
    listed = NOW - timedelta(days=1)
    pending = confirmed(status=Status.PENDING, confirmed_at=None)
    assert sync_action(None, listed) == SyncAction.OPT_OUT_HERE
    assert sync_action(pending, listed) == SyncAction.OPT_OUT_HERE
    assert sync_action(confirmed(), listed) == SyncAction.OPT_OUT_HERE  # confirmed before the AWS opt-out
    assert sync_action(confirmed(confirmed_at=NOW), listed) == SyncAction.REMOVE_FROM_LIST  # START since
    assert sync_action(confirmed(status=Status.OPTED_OUT), listed) == SyncAction.NONE
    assert sync_action(confirmed(status=Status.OPTED_OUT), None) == SyncAction.PUT_ON_LIST
    assert sync_action(confirmed(), None) == SyncAction.NONE
    assert sync_action(None, None) == SyncAction.NONE
