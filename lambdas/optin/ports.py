"""What the services need from the outside world. Adapters implement these; tests and the
local sandbox may substitute their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from optin.consent import AuditEvent, Contact

if TYPE_CHECKING:
    from optin.followups import ScheduledSend
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
    """Idempotency record of one inbound message, and the reply it still owes."""

    id: str
    phone: str
    reply: str | None  # a consent.Reply value, or None when nothing is owed
    done: bool
    expires_at: datetime
    reply_message_id: str | None = None


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


class InboundMarkers(Protocol):
    def get(self, marker_id: str) -> InboundMarker | None: ...

    def claim_reply(self, marker_id: str, now: datetime, until: datetime) -> bool:
        """Take the right to send the owed reply; False when done or someone else holds it."""
        ...

    def complete(self, marker_id: str, message_id: str | None) -> None: ...

    def release(self, marker_id: str) -> None: ...

    def claim_cooldown(self, key: str, now: datetime, until: datetime) -> bool:
        """True at most once per cooldown for ``key``."""
        ...


class LookupCache(Protocol):
    def get(self, e164: str, now: datetime) -> CarrierInfo | None: ...

    def put(self, info: CarrierInfo, expires_at: datetime) -> None: ...


class CarrierLookup(Protocol):
    def lookup(self, e164: str, country: str | None) -> CarrierInfo: ...


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> SentMessage: ...


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


class TypedSmsSender(Protocol):
    """An SmsSender that also sets the message type (PROMOTIONAL for a drip)."""

    def send(self, to: str, body: str, message_type: str = "TRANSACTIONAL") -> SentMessage: ...
