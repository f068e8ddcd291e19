"""What the services need from the outside world. Adapters implement these; tests and the
local sandbox may substitute their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from optin.consent import AuditEvent, Contact

if TYPE_CHECKING:
    from optin.abuse.windows import Counter
    from optin.followups.sequence import ScheduledSend
    from optin.phone_numbers import CarrierInfo


class ContactConflict(Exception):
    """Someone else changed the contact since we read it: re-read and decide again."""


class DuplicateMessage(Exception):
    """This inbound message was already processed."""


class DependencyUnavailable(Exception):
    """An AWS service failed or timed out; the caller may retry later."""

    def __init__(self, what: str, retry_after_seconds: int = 30) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after_seconds = retry_after_seconds


class CapacityReached(DependencyUnavailable):
    """A spend limit is reached: no paid call until its window rolls over (503, reason capacity), the
    same answer for every number."""

    reason = "capacity"


class RateLimited(Exception):
    """Too many requests of this kind from one client (429)."""

    def __init__(self, what: str, retry_after_seconds: int) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after_seconds = retry_after_seconds


class SendOutcomeUnknown(Exception):
    """The send request may have reached the messaging service but no answer came back (a read
    timeout, a dropped connection): the text may or may not be on its way. Never retried blindly; the
    claim stays, and the delivery events or the settle time decide (docs/design.md, "A send, step by step")."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class InvalidCursor(ValueError):
    """A broadcast's resume cursor was not one this API handed out."""


class RecipientOptedOut(Exception):
    """The messaging service refuses to send to this number because it opted out there."""


class SendRefused(Exception):
    """The messaging service will not deliver to this number (blocked country, sandbox, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    sent_at: datetime | None = None  # when the sender knows better than the service's clock


@dataclass(frozen=True)
class InboundMarker:
    """Idempotency record of one reason to text (an inbound message, a follow-up step), and the
    text it still owes."""

    id: str
    phone: str
    reply: str | None  # a consent.Reply value, or None when nothing is owed
    done: bool
    expires_at: datetime
    reply_message_id: str | None = None
    claim_token: str | None = None  # the send that holds (or last held) the claim
    claim_until: datetime | None = None
    delivery_rank: int = 0  # how far the text's delivery got (delivery_events.status), 0: no event yet
    language: str | None = None  # of the owed reply's text (None: work it out again from the message)


class ClaimResult(StrEnum):
    CLAIMED = "CLAIMED"  # ours: send now
    DONE = "DONE"  # the text went out already, or nothing is owed any more
    HELD = "HELD"  # another send holds it, or one whose outcome is not known yet: try again later


class ContactStore(Protocol):
    def get(self, phone: str) -> Contact | None: ...

    def save(
        self,
        contact: Contact | None,
        expected_version: int | None,
        events: Sequence[AuditEvent],
        marker: InboundMarker | None = None,
    ) -> Contact | None:
        """Write all of it or nothing. Raises ContactConflict when ``expected_version`` is stale
        (None: the contact must not exist yet) and DuplicateMessage when ``marker`` exists."""
        ...

    def events(self, phone: str) -> list[AuditEvent]: ...

    def record_delivery(self, phone: str, version: int, marker_id: str, rank: int, event: AuditEvent) -> bool:
        """Append ``event`` to ``phone``'s audit trail (after what contact ``version`` wrote) and move the
        marker's delivery rank up to ``rank``, both or neither. False when the marker is missing or already at ``rank`` or beyond (a duplicate or
        a late event)."""
        ...


class InboundMarkers(Protocol):
    def get(self, marker_id: str) -> InboundMarker | None: ...

    def claim_reply(
        self, marker_id: str, token: str, now: datetime, until: datetime, settle: timedelta
    ) -> ClaimResult:
        """Take the right to send the owed text. An earlier claim is taken over only once it has been
        over for ``settle`` (time for its delivery events to say whether it was sent)."""
        ...

    def complete(self, marker_id: str, message_id: str | None) -> None:
        """The text went out (``message_id``) or is owed no more (None). Idempotent."""
        ...

    def release(self, marker_id: str, token: str) -> None:
        """Give the claim back after a send that certainly did not go out (only ``token``'s claim)."""
        ...

    def reconcile(self, marker_id: str, token: str, message_id: str) -> bool:
        """A delivery event says ``token``'s send went out: mark the text done. False when the marker
        is unknown or another send holds it."""
        ...

    def claim_cooldown(self, key: str, now: datetime, until: datetime) -> bool:
        """True at most once per cooldown for ``key``."""
        ...


class Counters(Protocol):
    """Atomic counters for the abuse limits (optin.abuse)."""

    def take(self, counters: Sequence[Counter]) -> Counter | None:
        """Add one to every counter, all or none, unless one is at its limit: then return that one."""
        ...

    def add(self, counter: Counter) -> int:
        """Add one and return the new count (no limit)."""
        ...

    def full(self, counters: Sequence[Counter]) -> Counter | None:
        """The first counter already at its limit, without taking anything (a look before paying)."""
        ...

    def block(self, key: str, until: datetime) -> None: ...

    def blocked_until(self, key: str) -> datetime | None: ...


class LookupCache(Protocol):
    def get(self, e164: str, now: datetime) -> CarrierInfo | None: ...

    def put(self, info: CarrierInfo, expires_at: datetime) -> None: ...


class CarrierLookup(Protocol):
    def lookup(self, e164: str, country: str | None) -> CarrierInfo: ...


class SmsSender(Protocol):
    def send(
        self,
        to: str,
        body: str,
        *,
        context: Mapping[str, str] | None = None,
        message_type: str = "TRANSACTIONAL",
    ) -> SentMessage:
        """Send one text. ``context`` comes back in its delivery events (at most 5 entries).
        Raises RecipientOptedOut, SendRefused, DependencyUnavailable (certainly not sent) or
        SendOutcomeUnknown (maybe sent)."""
        ...


class EndpointMirror(Protocol):
    """Keeps a Pinpoint endpoint in step with the contact, where the account still has Pinpoint."""

    def mirror(self, contact: Contact) -> None: ...


# -- Follow-up sequences (issue 6) -----------------------------------------------------------------------
class FollowUps(Protocol):
    """Keeps a contact's scheduled follow-up steps in line with its consent state."""

    def sync(self, contact: Contact) -> None:
        """CONFIRMED: make sure this episode's steps are scheduled; OPTED_OUT: delete them. Idempotent;
        raises DependencyUnavailable (the caller retries)."""
        ...


class FollowUpScheduler(Protocol):
    """One-time schedules that invoke the follow-up sender."""

    def create(self, send: ScheduledSend) -> bool:
        """False when a schedule of that name exists already."""
        ...

    def delete(self, name: str) -> bool:
        """False when there was no such schedule."""
        ...
