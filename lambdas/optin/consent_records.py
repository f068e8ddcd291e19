"""What an operator does to consent records, as pure decisions: erasure (GDPR/CCPA), a suppression
list, the choice an import makes for each row, and reconciling End User Messaging's opt-out list.

Like :mod:`optin.consent`, nothing here does I/O or reads a clock: each function takes the contact as
stored (or None) and returns what should change; the caller writes it with the same conditional store
and ``transact`` helper the functions use (``optin.contacts``).

Erasure keeps what a sender must keep to respect a refusal, and nothing else: the number, its opt-out
state (an erased contact is OPTED_OUT, so it is never texted again until a new opt-in), the sending
limits (no personal data; they keep an erased number from being flooded by a bot), and one tombstone
audit entry ``ERASED`` ("erased at T for REASON"). Names, IP, user agent, carrier facts, message ids and
bodies and every other audit entry go. A later registration is an ordinary re-registration after STOP:
a fresh PENDING episode (``consent.on_registration``); a later START is an opt-in by the handset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from optin.clock import iso
from optin.consent import AuditEvent, Contact, Status, revoke

ERASED = "ERASED"  # the tombstone's audit type, and the opt-out keyword of a contact erased while opted in
ERASED_SOURCE = "erased"  # the source of an erased contact's (empty) evidence
CARRIER = "CARRIER"  # keyword of an opt-out End User Messaging (or a carrier) recorded, not our function
SUPPRESSED = "SUPPRESSED"  # keyword of an opt-out loaded from an imported suppression list
SUPPRESSION_SOURCE = "suppression-list"
OPT_OUT_LIST_SOURCE = "opt-out-list"


def is_erased(contact: Contact) -> bool:
    """The contact holds nothing but an erasure's remains (a new registration or START ends that)."""
    return contact.status == Status.OPTED_OUT and contact.source == ERASED_SOURCE


# -- erasure -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Erasure:
    """What erasing a contact changes. ``contact`` is None when the profile is erased already (only
    audit entries written since, or left by an interrupted run, are to go)."""

    contact: Contact | None
    tombstone: AuditEvent | None
    delete_events: tuple[str, ...]  # ids of the audit entries to delete (every one but the tombstones)


def plan_erasure(
    contact: Contact, events: Sequence[AuditEvent], reason: str, now: datetime
) -> Erasure | None:
    """Erase ``contact`` for ``reason``; None when there is nothing left to erase (idempotent)."""
    doomed = tuple(e.id for e in events if e.type != ERASED)
    if is_erased(contact) and _bare(contact):
        return Erasure(None, None, doomed) if doomed else None
    was_opted_out = contact.status == Status.OPTED_OUT
    erased = Contact(
        phone=contact.phone,
        status=Status.OPTED_OUT,
        first_name="",
        last_name="",
        source=ERASED_SOURCE,
        submitted_at=now,  # required evidence field: the erasure is the last thing this number "submitted"
        consent_text_version="",
        opted_out_at=contact.opted_out_at if was_opted_out and contact.opted_out_at else now,
        opted_out_keyword=(contact.opted_out_keyword or ERASED) if was_opted_out else ERASED,
        # Sending limits carry no personal data and keep protecting the number.
        last_sent_at=contact.last_sent_at,
        send_window_start=contact.send_window_start,
        send_window_count=contact.send_window_count,
        version=contact.version,
    )
    tombstone = AuditEvent(ERASED, now, {"reason": reason, "note": f"erased at {iso(now)} for {reason}"})
    return Erasure(erased, tombstone, doomed)


def _bare(contact: Contact) -> bool:
    """No personal field is set (a STOP after an erasure sets none; a START or registration ends it)."""
    return not (
        contact.first_name
        or contact.last_name
        or contact.client_ip
        or contact.user_agent
        or contact.country
        or contact.phone_type
        or contact.carrier
        or contact.timezone
        or contact.city
        or contact.postal_code
        or contact.confirmation_message_id
        or contact.confirmed_body
        or contact.confirmed_message_id
        or contact.opted_out_message_id
    )


def personal_markers(phone: str, events: Iterable[AuditEvent], step_ids: Iterable[str]) -> list[str]:
    """Idempotency-table items that name the number or quote its messages: each inbound message's marker,
    the follow-up markers of every confirmed episode, and the sign-up reply cooldown."""
    from optin.followups.sequence import FollowUpJob, marker_id

    events = list(events)
    markers = {f"cooldown#signup#{phone}"}
    episodes: set[str] = set()
    steps = set(step_ids)
    for event in events:
        if event.type == "INBOUND":
            markers.add(f"inbound#{event.detail.get('inboundMessageId') or event.id}")
        elif event.type in ("CONFIRMED", "OPTED_IN"):
            episodes.add(iso(event.at))
        elif event.type.startswith("FOLLOW_UP_"):
            if event.detail.get("step"):
                steps.add(event.detail["step"])
            if event.detail.get("episode"):
                episodes.add(event.detail["episode"])
    for episode in sorted(episodes):
        for step in sorted(steps):
            markers.add(marker_id(FollowUpJob(phone, step, episode, "", "")))
    return sorted(markers)


# -- suppression and carrier opt-outs -----------------------------------------------------------------
def opted_out_by_operator(
    contact: Contact | None, phone: str, keyword: str, source: str, at: datetime, detail: dict[str, str]
) -> tuple[Contact, tuple[AuditEvent, ...]] | None:
    """``phone`` is opted out by a suppression list or End User Messaging's opt-out list (``keyword``
    SUPPRESSED or CARRIER, at ``at``). None when it is opted out here already. A number we never knew
    becomes an OPTED_OUT contact with no evidence but the opt-out, so nothing ever texts it."""
    event = AuditEvent("OPTED_OUT", at, {"keyword": keyword, **detail})
    if contact is None:
        created = Contact(
            phone=phone,
            status=Status.OPTED_OUT,
            first_name="",
            last_name="",
            source=source,
            submitted_at=at,
            consent_text_version="",
            opted_out_at=at,
            opted_out_keyword=keyword,
        )
        return created, (event,)
    if contact.status == Status.OPTED_OUT:
        return None
    return revoke(contact, at, keyword), (event,)


# -- import ---------------------------------------------------------------------------------------------
class ImportAs(StrEnum):
    PENDING = "pending"  # re-permission: a confirmation text through the registration service
    OPTED_OUT = "opted-out"  # a suppression list


def import_action(contact: Contact | None, mode: ImportAs, now: datetime) -> str:
    """What importing a row for ``contact`` does: ``register`` (re-permission text), ``suppress``, or
    ``skip:<why>``. A number that opted out is never asked again by an import; one that is pending
    and was texted (by this import's earlier run, or after the form) or confirmed is left as it is, which
    is also what makes an interrupted import resumable."""
    if mode == ImportAs.OPTED_OUT:
        if contact is not None and contact.status == Status.OPTED_OUT:
            return "skip:opted_out"
        return "suppress"
    if contact is None:
        return "register"
    if contact.status == Status.OPTED_OUT:
        return "skip:opted_out"
    if contact.status == Status.CONFIRMED:
        return "skip:confirmed"
    if contact.is_pending_at(now) and (contact.confirmation_message_id or contact.send_lease_token):
        return "skip:pending"  # asked already (or being asked): wait for the YES
    return "register"  # never texted (a send failed), or the pending registration expired: ask again


# -- End User Messaging's opt-out list ------------------------------------------------------------------
class SyncAction(StrEnum):
    NONE = "none"  # both sides agree
    OPT_OUT_HERE = "opt_out_here"  # on the AWS list only: OPTED_OUT here with keyword CARRIER
    PUT_ON_LIST = "put_on_list"  # opted out here only: put on the AWS list
    REMOVE_FROM_LIST = "remove_from_list"  # confirmed here after the AWS opt-out: the opt-in is newer


def sync_action(contact: Contact | None, listed_at: datetime | None) -> SyncAction:
    """Reconcile one number: ``listed_at`` is when End User Messaging's list opted it out (None: not on
    the list). A confirmation here that is newer than the AWS opt-out (the handset sent START or YES after
    it) wins, else an opt-out on either side wins."""
    if listed_at is None:
        if contact is not None and contact.status == Status.OPTED_OUT:
            return SyncAction.PUT_ON_LIST
        return SyncAction.NONE
    if contact is None or contact.status == Status.PENDING:
        return SyncAction.OPT_OUT_HERE
    if contact.status == Status.OPTED_OUT:
        return SyncAction.NONE
    if contact.confirmed_at is not None and contact.confirmed_at > listed_at:
        return SyncAction.REMOVE_FROM_LIST
    return SyncAction.OPT_OUT_HERE
