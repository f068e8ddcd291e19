"""The consent lifecycle of a contact, as pure functions: no I/O, no AWS, no clock of its own.

PENDING (opted out, awaiting YES) -> CONFIRMED -> OPTED_OUT, with re-registration after STOP
and expiry of a pending registration after the confirm window. Each function takes the
current contact (or None) and returns what should change; the store applies the change with a
conditional write on ``version``, and on a conflict the caller re-reads and asks again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from optin.delivery_events.status import Delivery, DeliveryStatus, advance
from optin.keywords import Intent, KeywordMatch
from optin.languages import DEFAULT_LANGUAGE


class Status(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    OPTED_OUT = "OPTED_OUT"


class Reply(StrEnum):
    """The one reply an inbound keyword message may get."""

    WELCOME = "WELCOME"
    HELP = "HELP"
    OPT_OUT = "OPT_OUT"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
    SIGNUP = "SIGNUP"
    NUDGE = "NUDGE"  # "reply YES to confirm, STOP to cancel": once per pending episode


@dataclass(frozen=True)
class Policy:
    confirm_window: timedelta = timedelta(days=30)
    resend_cooldown: timedelta = timedelta(minutes=10)
    max_confirmations_per_day: int = 3
    # A claim on the confirmation SMS: held for ``send_lease`` (longer than the function may run), then,
    # if nothing recorded the send, ``settle`` more for the delivery events to tell whether it went out.
    send_lease: timedelta = timedelta(seconds=30)
    settle: timedelta = timedelta(seconds=150)


@dataclass(frozen=True)
class Submission:
    """Consent evidence captured when the form is submitted."""

    first_name: str
    last_name: str
    source: str
    submitted_at: datetime
    consent_text_version: str
    client_ip: str | None = None
    user_agent: str | None = None
    country: str | None = None
    language: str = DEFAULT_LANGUAGE  # of the form, and of every text the contact gets


@dataclass(frozen=True)
class InboundMessage:
    """One two-way SMS message, as published by End User Messaging."""

    origination_number: str  # the customer
    destination_number: str  # our number
    body: str
    inbound_message_id: str
    received_at: datetime  # the SNS Timestamp
    message_keyword: str | None = None
    previous_published_message_id: str | None = None


@dataclass(frozen=True)
class Contact:
    """The system-of-record entry for one phone number (E.164)."""

    phone: str
    status: Status
    first_name: str
    last_name: str
    source: str
    submitted_at: datetime
    consent_text_version: str
    pending_expires_at: datetime | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    country: str | None = None
    language: str | None = None  # en, es or fr: the texts' language (None: registered before languages)
    # from the carrier lookup
    phone_type: str | None = None
    carrier: str | None = None
    timezone: str | None = None
    city: str | None = None
    postal_code: str | None = None
    # confirmation SMS of the current episode (evidence), and how far it got (delivery events)
    confirmation_message_id: str | None = None
    confirmation_sent_at: datetime | None = None
    confirmation_delivery: Delivery | None = None
    # sending limits, which outlive episodes
    last_sent_at: datetime | None = None
    send_window_start: datetime | None = None
    send_window_count: int = 0
    send_lease_token: str | None = None
    send_lease_until: datetime | None = None
    # confirmation by the handset
    confirmed_at: datetime | None = None
    confirmed_message_id: str | None = None
    confirmed_body: str | None = None
    confirmed_keyword: str | None = None
    # the pending episode's one nudge ("reply YES to confirm, STOP to cancel") was owed at this time
    nudged_at: datetime | None = None
    # revocation
    opted_out_at: datetime | None = None
    opted_out_keyword: str | None = None
    opted_out_message_id: str | None = None
    version: int = 0

    def is_pending_at(self, when: datetime) -> bool:
        """PENDING and still inside the confirm window at ``when``."""
        return self.status == Status.PENDING and (
            self.pending_expires_at is None or when <= self.pending_expires_at
        )


@dataclass(frozen=True)
class AuditEvent:
    """One entry of a contact's audit trail."""

    type: str
    at: datetime
    detail: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class RegistrationDecision:
    contact: Contact
    events: tuple[AuditEvent, ...]
    send_confirmation: bool
    outcome: str  # new | renewed | pending | confirmed ; plus why no SMS when relevant
    lease_token: str | None = None
    # Set when an earlier claim's outcome is not known yet: answer "try again" at this time, never 202.
    retry_at: datetime | None = None
    write: bool = True  # False: the contact already says all of this (our own claim, written before)


@dataclass(frozen=True)
class Blocked:
    """Why a confirmation SMS may not go out now."""

    reason: str  # cooldown | daily_limit | pending (an earlier claim's outcome is not known yet)
    retry_at: datetime | None = None


@dataclass(frozen=True)
class CarrierFacts:
    phone_type: str | None = None
    carrier: str | None = None
    timezone: str | None = None
    city: str | None = None
    postal_code: str | None = None


def on_registration(
    contact: Contact | None,
    phone: str,
    submission: Submission,
    facts: CarrierFacts,
    now: datetime,
    policy: Policy,
    token: str,
) -> RegistrationDecision:
    """A form submission for ``phone``. Never changes a CONFIRMED contact's state. ``token`` names the
    send this submission would make: when the contact already holds a claim with it (the claim was written
    but its answer lost, and this is the same request deciding again), the claim is ours."""
    if contact is not None and contact.send_lease_token == token:
        return RegistrationDecision(contact, (), True, "claimed", token, write=False)
    submitted = AuditEvent(
        "SUBMITTED",
        now,
        {
            "source": submission.source,
            "consentTextVersion": submission.consent_text_version,
            "language": submission.language,
        },
    )
    if contact is not None and contact.status == Status.CONFIRMED:
        return RegistrationDecision(contact, (submitted,), False, "confirmed")

    evidence = {
        "first_name": submission.first_name,
        "last_name": submission.last_name,
        "source": submission.source,
        "submitted_at": submission.submitted_at,
        "consent_text_version": submission.consent_text_version,
        "client_ip": submission.client_ip,
        "user_agent": submission.user_agent,
        "country": submission.country,
        "language": submission.language,
        "phone_type": facts.phone_type,
        "carrier": facts.carrier,
        "timezone": facts.timezone,
        "city": facts.city,
        "postal_code": facts.postal_code,
        "pending_expires_at": now + policy.confirm_window,
    }
    if contact is None:
        outcome = "new"
        updated = Contact(phone=phone, status=Status.PENDING, **evidence)
    elif contact.is_pending_at(now):
        # Same pending registration: keep its window, refresh the evidence of the latest submission.
        outcome = "pending"
        evidence["pending_expires_at"] = contact.pending_expires_at
        updated = replace(contact, **evidence)
    else:
        # Expired, or re-registration after STOP: a new consent episode; send limits carry over.
        outcome = "renewed"
        updated = replace(
            contact,
            status=Status.PENDING,
            confirmation_message_id=None,
            confirmation_sent_at=None,
            confirmation_delivery=None,
            confirmed_at=None,
            confirmed_message_id=None,
            confirmed_body=None,
            confirmed_keyword=None,
            nudged_at=None,
            opted_out_at=None,
            opted_out_keyword=None,
            opted_out_message_id=None,
            **evidence,
        )

    events: tuple[AuditEvent, ...] = (submitted,)
    blocked = send_blocked_by(updated, now, policy)
    if blocked is not None:
        return RegistrationDecision(
            updated, events, False, f"{outcome}:{blocked.reason}", retry_at=blocked.retry_at
        )
    if updated.send_lease_token is not None:
        # A claim nothing recorded and no delivery event confirmed within the settle time: presumed never
        # sent (the function stopped before sending, or the send failed and the release did too).
        stale = {"sendId": updated.send_lease_token}
        events = (*events, AuditEvent("CONFIRMATION_PRESUMED_UNSENT", now, stale))
    leased = replace(updated, send_lease_token=token, send_lease_until=now + policy.send_lease)
    return RegistrationDecision(leased, events, True, outcome, token)


def send_blocked_by(contact: Contact, now: datetime, policy: Policy) -> Blocked | None:
    """Why a confirmation SMS may not go out now (None: it may). A text recorded within the cooldown
    or the daily cap blocks quietly (the person has it); a claim whose outcome is not known yet blocks
    until it has settled, and the caller is told when to try again."""
    if contact.last_sent_at is not None and now - contact.last_sent_at < policy.resend_cooldown:
        return Blocked("cooldown")
    if (
        contact.send_window_start is not None
        and now - contact.send_window_start < timedelta(days=1)
        and contact.send_window_count >= policy.max_confirmations_per_day
    ):
        return Blocked("daily_limit")
    if contact.send_lease_token is not None and contact.send_lease_until is not None:
        settled_at = contact.send_lease_until + policy.settle
        if now < settled_at:
            return Blocked("pending", settled_at)
    return None


def confirmation_event_id(message_id: str) -> str:
    """The audit entry of a recorded confirmation SMS: one per message, whoever records it."""
    return f"confirmation-{message_id}"


def on_confirmation_sent(
    contact: Contact, token: str, message_id: str, sent_at: datetime
) -> tuple[Contact, AuditEvent] | None:
    """Confirmation SMS ``message_id`` went out under claim ``token``: keep it as evidence and count it
    toward the cooldown and the daily cap. Recorded by the registration that sent it, or from its
    delivery events when that write failed. None when it is recorded already.

    A send whose claim is no longer on the contact (it was presumed unsent, and a later one took over)
    still counts and gets its audit entry, but is not the episode's evidence."""
    if contact.confirmation_message_id == message_id:
        return None
    ours = contact.send_lease_token == token
    if contact.send_window_start is None or sent_at - contact.send_window_start >= timedelta(days=1):
        window_start, count = sent_at, 1
    else:
        window_start, count = contact.send_window_start, contact.send_window_count + 1
    last_sent = sent_at if contact.last_sent_at is None else max(contact.last_sent_at, sent_at)
    detail = {"messageId": message_id, "sendId": token}
    if ours:
        updated = replace(
            contact,
            confirmation_message_id=message_id,
            confirmation_sent_at=sent_at,
            confirmation_delivery=None,
            last_sent_at=last_sent,
            send_window_start=window_start,
            send_window_count=count,
            send_lease_token=None,
            send_lease_until=None,
        )
    else:
        detail["late"] = "true"
        updated = replace(
            contact, last_sent_at=last_sent, send_window_start=window_start, send_window_count=count
        )
    return updated, AuditEvent("CONFIRMATION_SENT", sent_at, detail, id=confirmation_event_id(message_id))


def on_send_failed(contact: Contact, token: str) -> Contact | None:
    """Release our claim after a send that certainly did not go out; None when there is nothing to
    release."""
    if contact.send_lease_token != token:
        return None
    return replace(contact, send_lease_token=None, send_lease_until=None)


def on_confirmation_delivery(
    contact: Contact, message_id: str, reported: Delivery
) -> tuple[Contact, AuditEvent] | None:
    """A delivery event for the episode's confirmation SMS. The status only moves forward; a text that
    finally failed lifts the resend cooldown and gives its place in the daily cap back, so the person can
    ask again at once. None when the event changes nothing (another message, a duplicate, older news)."""
    if contact.confirmation_message_id != message_id:
        return None
    moved = advance(contact.confirmation_delivery, reported)
    if moved is None:
        return None
    updated = replace(contact, confirmation_delivery=moved)
    was_failed = contact.confirmation_delivery is not None and (
        contact.confirmation_delivery.status == DeliveryStatus.FAILED
    )
    if moved.status == DeliveryStatus.FAILED and not was_failed:
        updated = replace(updated, last_sent_at=None, send_window_count=max(0, contact.send_window_count - 1))
    detail = {"messageId": message_id, "status": moved.status.value, "eventType": moved.event_type}
    return updated, AuditEvent("CONFIRMATION_DELIVERY", reported.at, detail)


@dataclass(frozen=True)
class InboundDecision:
    contact: Contact | None  # the contact to save (None: no contact change, none exists)
    events: tuple[AuditEvent, ...]
    reply: Reply | None
    outcome: str  # confirmed | opted_out | opted_in | help | already_confirmed | unknown | nudged | ignored


def revoke(contact: Contact, at: datetime, keyword: str | None, message_id: str | None = None) -> Contact:
    """The contact opted out at ``at`` (by ``keyword``, in message ``message_id`` when a text said so):
    no pending confirmation, no claim on a confirmation send. The one opt-out transition, for STOP and
    for the operator's suppressions alike."""
    return replace(
        contact,
        status=Status.OPTED_OUT,
        opted_out_at=at,
        opted_out_keyword=keyword,
        opted_out_message_id=message_id,
        pending_expires_at=None,
        send_lease_token=None,
        send_lease_until=None,
    )


def on_inbound(
    contact: Contact | None, message: InboundMessage, match: KeywordMatch, *, nudge: bool = True
) -> InboundDecision:
    """An inbound SMS from ``contact``'s handset (or from a number we do not know). Its audit entry
    records which rule classified it, so a disputed opt-out can be explained. ``nudge``: a pending
    contact's first unrecognized reply of the episode is answered with the nudge."""
    at = message.received_at
    audit = AuditEvent(
        "INBOUND",
        at,
        {
            "inboundMessageId": message.inbound_message_id,
            "body": message.body,
            "keyword": match.keyword or "",
            "intent": match.intent.value,
            "rule": match.rule.value,
            "language": match.language or "",
        },
        id=message.inbound_message_id,
    )
    events: tuple[AuditEvent, ...] = (audit,) if contact is not None else ()
    intent = match.intent

    if intent == Intent.OPT_OUT:
        if contact is None or contact.status == Status.OPTED_OUT:
            # Nothing to revoke, or already revoked: only a first-time STOP from a stranger is answered.
            reply = Reply.OPT_OUT if contact is None else None
            return InboundDecision(contact, events, reply, "opted_out")
        revoked = revoke(contact, at, match.keyword, message.inbound_message_id)
        event = AuditEvent("OPTED_OUT", at, {"keyword": match.keyword or "", "rule": match.rule.value})
        return InboundDecision(revoked, (*events, event), Reply.OPT_OUT, "opted_out")

    if intent == Intent.HELP:
        return InboundDecision(contact, events, Reply.HELP, "help")

    if intent not in (Intent.CONFIRM, Intent.OPT_IN):
        if nudge and contact is not None and contact.is_pending_at(at) and contact.nudged_at is None:
            # Silence would leave them thinking they are done: tell them once how to confirm or cancel.
            return InboundDecision(replace(contact, nudged_at=at), events, Reply.NUDGE, "nudged")
        return InboundDecision(contact, events, None, "ignored")
    if contact is None or (contact.status == Status.PENDING and not contact.is_pending_at(at)):
        # Never registered, or the pending registration expired: create nothing.
        return InboundDecision(contact, events, Reply.SIGNUP, "unknown")
    if contact.status == Status.CONFIRMED:
        return InboundDecision(contact, events, Reply.ALREADY_CONFIRMED, "already_confirmed")
    if contact.status == Status.OPTED_OUT and intent == Intent.CONFIRM:
        # YES only answers a pending confirmation; after STOP it takes START or a new sign-up.
        return InboundDecision(contact, events, None, "ignored")
    # A pending contact's YES or START, or an opted-out contact's START.
    opting_in = contact.status == Status.OPTED_OUT
    confirmed = replace(
        contact,
        status=Status.CONFIRMED,
        confirmed_at=at,
        confirmed_message_id=message.inbound_message_id,
        confirmed_body=message.body,
        confirmed_keyword=match.keyword,
        pending_expires_at=None,
        opted_out_at=None,
        opted_out_keyword=None,
        opted_out_message_id=None,
    )
    kind = "OPTED_IN" if opting_in else "CONFIRMED"
    event = AuditEvent(kind, at, {"keyword": match.keyword or ""})
    return InboundDecision(confirmed, (*events, event), Reply.WELCOME, kind.lower())
