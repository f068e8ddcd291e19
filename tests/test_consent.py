"""The consent state machine, without any I/O."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from optin.consent import (
    CarrierFacts,
    InboundMessage,
    Policy,
    Reply,
    Status,
    Submission,
    on_confirmation_sent,
    on_inbound,
    on_registration,
    on_send_failed,
    send_blocked_by,
)
from optin.inbound import matcher_for
from optin.settings import Settings

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PHONE = "+12065550142"
POLICY = Policy()
MATCH = matcher_for(Settings()).match


def submission(at=T0, source="form"):
    return Submission("Carlos", "Salazar", source, at, "v1", "203.0.113.7", "ua/1", "US")


def register(contact=None, at=T0, token=None):
    token = token or uuid.uuid4().hex
    return on_registration(contact, PHONE, submission(at), CarrierFacts("MOBILE"), at, POLICY, token)


def sent(decision, at, message_id="m-1"):
    contact, _ = on_confirmation_sent(decision.contact, decision.lease_token, message_id, at)
    return contact


def text(body, at, message_id="in-1"):
    return InboundMessage(PHONE, "+12065550100", body, message_id, at)


def inbound(contact, body, at, message_id="in-1"):
    return on_inbound(contact, text(body, at, message_id), MATCH(body))


def pending_contact(at=T0):
    first = register(at=at)
    return sent(first, at)


def test_first_registration_is_pending_and_opted_out_with_evidence():
    decision = register()
    contact = decision.contact
    assert contact.status == Status.PENDING
    assert decision.send_confirmation and decision.lease_token
    assert (contact.first_name, contact.source, contact.client_ip, contact.user_agent) == (
        "Carlos",
        "form",
        "203.0.113.7",
        "ua/1",
    )
    assert contact.consent_text_version == "v1"
    assert contact.pending_expires_at == T0 + timedelta(days=30)
    assert [e.type for e in decision.events] == ["SUBMITTED"]


def test_confirmation_sent_is_recorded_and_releases_the_lease():
    contact = pending_contact()
    assert contact.confirmation_message_id == "m-1" and contact.confirmation_sent_at == T0
    assert contact.send_lease_token is None and contact.send_window_count == 1


def test_repeat_inside_the_cooldown_sends_nothing():
    contact = pending_contact()
    again = register(contact, T0 + timedelta(minutes=9))
    assert not again.send_confirmation and again.outcome == "pending:cooldown"
    assert again.contact.status == Status.PENDING


def test_at_most_three_confirmations_a_day():
    contact = pending_contact()
    sends = 1
    at = T0
    for _ in range(6):
        at += timedelta(minutes=11)
        decision = register(contact, at)
        if decision.send_confirmation:
            contact = sent(decision, at, f"m-{sends + 1}")
            sends += 1
        else:
            contact = decision.contact
            assert decision.outcome.endswith("daily_limit")
    assert sends == 3
    next_day = register(contact, T0 + timedelta(days=1, minutes=1))
    assert next_day.send_confirmation


def test_a_claim_nothing_recorded_blocks_a_second_send_until_it_settles_and_says_when():
    first = register()
    settled = T0 + POLICY.send_lease + POLICY.settle
    for wait in (timedelta(seconds=5), POLICY.send_lease + timedelta(seconds=1)):
        second = register(first.contact, T0 + wait)
        assert not second.send_confirmation and second.outcome.endswith("pending")
        assert second.retry_at == settled  # never a quiet 202: the caller is told when to come back
    later = register(first.contact, settled)
    assert later.send_confirmation and later.lease_token != first.lease_token
    assert [e.type for e in later.events] == ["SUBMITTED", "CONFIRMATION_PRESUMED_UNSENT"]


def test_the_same_request_deciding_again_finds_its_own_claim_and_sends():
    first = register(token="t-1")  # written, but the write's answer was lost
    again = register(first.contact, T0 + timedelta(seconds=1), token="t-1")
    assert again.send_confirmation and again.lease_token == "t-1" and not again.write
    assert again.events == ()


def test_a_recorded_text_within_the_cooldown_answers_quietly_even_with_a_claim_pending():
    contact = pending_contact()
    claimed = replace(contact, send_lease_token="other", send_lease_until=T0 + timedelta(seconds=30))
    again = register(claimed, T0 + timedelta(seconds=40))
    assert again.outcome == "pending:cooldown" and again.retry_at is None


def test_recording_the_same_text_twice_changes_nothing():
    decision = register()
    contact = sent(decision, T0)
    assert on_confirmation_sent(contact, decision.lease_token, "m-1", T0) is None
    assert contact.send_window_count == 1


def test_a_text_recorded_after_its_claim_was_taken_over_still_counts_and_is_audited():
    first = register(token="t-1")
    taken_over = register(first.contact, T0 + POLICY.send_lease + POLICY.settle, token="t-2").contact
    late, event = on_confirmation_sent(taken_over, "t-1", "m-late", T0 + timedelta(seconds=1))
    assert late.send_lease_token == "t-2" and late.confirmation_message_id is None
    assert late.send_window_count == 1 and late.last_sent_at == T0 + timedelta(seconds=1)
    assert event.type == "CONFIRMATION_SENT" and event.detail["late"] == "true"


def test_a_failed_send_releases_the_lease_so_a_retry_can_send():
    first = register()
    released = on_send_failed(first.contact, first.lease_token)
    assert released is not None and released.send_lease_until is None
    assert send_blocked_by(released, T0 + timedelta(seconds=1), POLICY) is None
    assert on_send_failed(first.contact, "someone-else") is None


def test_yes_confirms_a_pending_contact_with_the_evidence_of_the_reply():
    contact = pending_contact()
    at = T0 + timedelta(hours=2)
    decision = inbound(contact, "Yes!", at, "in-42")
    assert decision.contact.status == Status.CONFIRMED
    assert decision.contact.confirmed_at == at
    assert decision.contact.confirmed_message_id == "in-42"
    assert decision.contact.confirmed_body == "Yes!"
    assert decision.reply == Reply.WELCOME
    assert [e.type for e in decision.events] == ["INBOUND", "CONFIRMED"]


def test_yes_after_the_confirm_window_creates_nothing():
    contact = pending_contact()
    decision = inbound(contact, "YES", T0 + timedelta(days=30, seconds=1))
    assert decision.contact.status == Status.PENDING
    assert decision.reply == Reply.SIGNUP and decision.outcome == "unknown"


def test_yes_from_a_stranger_creates_nothing():
    decision = inbound(None, "YES", T0)
    assert decision.contact is None and decision.events == ()
    assert decision.reply == Reply.SIGNUP


def test_a_word_that_contains_yes_does_not_confirm_and_gets_the_nudge_once():
    contact = pending_contact()
    decision = inbound(contact, "yesterday", T0 + timedelta(minutes=1))
    assert decision.contact.status == Status.PENDING and decision.reply == Reply.NUDGE
    assert decision.outcome == "nudged" and decision.contact.nudged_at == T0 + timedelta(minutes=1)
    again = inbound(decision.contact, "eyes", T0 + timedelta(minutes=2))
    assert again.contact.status == Status.PENDING and again.reply is None and again.outcome == "ignored"


def test_stop_opts_out_from_any_state_with_one_reply():
    for contact in (pending_contact(), inbound(pending_contact(), "YES", T0).contact):
        decision = inbound(contact, "Stop please", T0 + timedelta(hours=1), "in-stop")
        assert decision.contact.status == Status.OPTED_OUT
        assert decision.contact.opted_out_keyword == "STOP"
        assert decision.contact.opted_out_message_id == "in-stop"
        assert decision.reply == Reply.OPT_OUT


def test_a_second_stop_gets_no_second_confirmation():
    opted_out = inbound(pending_contact(), "STOP", T0).contact
    again = inbound(opted_out, "STOP", T0 + timedelta(minutes=1), "in-2")
    assert again.reply is None and again.contact.status == Status.OPTED_OUT


def test_yes_after_stop_does_not_resubscribe_but_start_does():
    opted_out = inbound(pending_contact(), "STOP", T0).contact
    assert inbound(opted_out, "YES", T0 + timedelta(minutes=1)).contact.status == Status.OPTED_OUT
    back = inbound(opted_out, "START", T0 + timedelta(minutes=2), "in-start")
    assert back.contact.status == Status.CONFIRMED and back.reply == Reply.WELCOME
    assert back.outcome == "opted_in" and back.contact.opted_out_at is None


def test_re_registration_after_stop_starts_a_new_pending_episode():
    confirmed = inbound(pending_contact(), "YES", T0).contact
    opted_out = inbound(confirmed, "STOP", T0 + timedelta(days=1)).contact
    again = register(opted_out, T0 + timedelta(days=2))
    assert again.contact.status == Status.PENDING and again.outcome == "renewed"
    assert again.contact.confirmed_at is None and again.contact.opted_out_at is None
    assert again.send_confirmation


def test_sending_limits_outlive_a_stop_and_a_new_registration():
    contact = pending_contact()
    opted_out = inbound(contact, "STOP", T0 + timedelta(minutes=1)).contact
    again = register(opted_out, T0 + timedelta(minutes=2))
    assert again.contact.status == Status.PENDING and not again.send_confirmation
    assert again.outcome == "renewed:cooldown"
    assert again.contact.confirmation_message_id is None  # evidence belongs to the new episode


def test_re_registration_after_expiry_renews_the_window():
    contact = pending_contact()
    later = T0 + timedelta(days=31)
    again = register(contact, later)
    assert again.outcome == "renewed" and again.contact.pending_expires_at == later + timedelta(days=30)


def test_a_confirmed_contact_is_never_sent_another_confirmation():
    confirmed = inbound(pending_contact(), "YES", T0).contact
    decision = register(confirmed, T0 + timedelta(days=3))
    assert not decision.send_confirmation and decision.contact.status == Status.CONFIRMED
    assert decision.outcome == "confirmed"


@pytest.mark.parametrize("body", ["HELP", "info"])
def test_help_is_answered_in_every_state(body):
    for contact in (None, pending_contact(), replace(pending_contact(), status=Status.OPTED_OUT)):
        assert inbound(contact, body, T0).reply == Reply.HELP


def test_yes_when_already_confirmed_says_so():
    confirmed = inbound(pending_contact(), "YES", T0).contact
    decision = inbound(confirmed, "yes", T0 + timedelta(minutes=5), "in-2")
    assert decision.reply == Reply.ALREADY_CONFIRMED and decision.contact.confirmed_message_id == "in-1"
