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

from optin.keywords import Intent, KeywordMatch


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


@dataclass(frozen=True)
class Policy:
    confirm_window: timedelta = timedelta(days=30)
    resend_cooldown: timedelta = timedelta(minutes=10)
    max_confirmations_per_day: int = 3
    send_lease: timedelta = timedelta(seconds=60)


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
    # from the carrier lookup
    phone_type: str | None = None
    carrier: str | None = None
    timezone: str | None = None
    city: str | None = None
    postal_code: str | None = None
    # confirmation SMS of the current episode (evidence)
    confirmation_message_id: str | None = None
    confirmation_sent_at: datetime | None = None
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
) -> RegistrationDecision:
    """A form submission for ``phone``. Never changes a CONFIRMED contact's state."""
    submitted = AuditEvent(
        "SUBMITTED",
        now,
        {"source": submission.source, "consentTextVersion": submission.consent_text_version},
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
            confirmed_at=None,
            confirmed_message_id=None,
            confirmed_body=None,
            confirmed_keyword=None,
            opted_out_at=None,
            opted_out_keyword=None,
            opted_out_message_id=None,
            **evidence,
        )

    blocked = send_blocked_by(updated, now, policy)
    if blocked:
        return RegistrationDecision(updated, (submitted,), False, f"{outcome}:{blocked}")
    token = uuid.uuid4().hex
    leased = replace(updated, send_lease_token=token, send_lease_until=now + policy.send_lease)
    return RegistrationDecision(leased, (submitted,), True, outcome, token)


def send_blocked_by(contact: Contact, now: datetime, policy: Policy) -> str | None:
    """Why a confirmation SMS may not go out now (None: it may)."""
    if contact.send_lease_until is not None and contact.send_lease_until > now:
        return "in_flight"
    if contact.last_sent_at is not None and now - contact.last_sent_at < policy.resend_cooldown:
        return "cooldown"
    if (
        contact.send_window_start is not None
        and now - contact.send_window_start < timedelta(days=1)
        and contact.send_window_count >= policy.max_confirmations_per_day
    ):
        return "daily_limit"
    return None


def on_confirmation_sent(
    contact: Contact, token: str, message_id: str, sent_at: datetime
) -> tuple[Contact, AuditEvent]:
    """The confirmation SMS went out: count it toward the limits and keep its id as evidence."""
    if contact.send_window_start is None or sent_at - contact.send_window_start >= timedelta(days=1):
        window_start, count = sent_at, 1
    else:
        window_start, count = contact.send_window_start, contact.send_window_count + 1
    ours = contact.send_lease_token == token
    updated = replace(
        contact,
        confirmation_message_id=message_id,
        confirmation_sent_at=sent_at,
        last_sent_at=sent_at,
        send_window_start=window_start,
        send_window_count=count,
        send_lease_token=None if ours else contact.send_lease_token,
        send_lease_until=None if ours else contact.send_lease_until,
    )
    return updated, AuditEvent("CONFIRMATION_SENT", sent_at, {"messageId": message_id})


def on_send_failed(contact: Contact, token: str) -> Contact | None:
    """Release our lease so a retry is not blocked; None when there is nothing to release."""
    if contact.send_lease_token != token:
        return None
    return replace(contact, send_lease_token=None, send_lease_until=None)


@dataclass(frozen=True)
class InboundDecision:
    contact: Contact | None  # the contact to save (None: no contact change, none exists)
    events: tuple[AuditEvent, ...]
    reply: Reply | None
    outcome: str  # confirmed | opted_out | opted_in | help | already_confirmed | unknown | ignored


def on_inbound(contact: Contact | None, message: InboundMessage, match: KeywordMatch) -> InboundDecision:
    """An inbound SMS from ``contact``'s handset (or from a number we do not know)."""
    at = message.received_at
    audit = AuditEvent(
        "INBOUND",
        at,
        {
            "inboundMessageId": message.inbound_message_id,
            "body": message.body,
            "keyword": match.keyword or "",
            "intent": match.intent.value,
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
        revoked = replace(
            contact,
            status=Status.OPTED_OUT,
            opted_out_at=at,
            opted_out_keyword=match.keyword,
            opted_out_message_id=message.inbound_message_id,
            pending_expires_at=None,
            send_lease_token=None,
            send_lease_until=None,
        )
        event = AuditEvent("OPTED_OUT", at, {"keyword": match.keyword or ""})
        return InboundDecision(revoked, (*events, event), Reply.OPT_OUT, "opted_out")

    if intent == Intent.HELP:
        return InboundDecision(contact, events, Reply.HELP, "help")

    if intent not in (Intent.CONFIRM, Intent.OPT_IN):
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
