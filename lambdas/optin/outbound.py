"""One text per reason: how a text owed for a marker (an inbound reply, a follow-up step) is sent.

A send goes through five states (docs/design.md, "A send, step by step"):

    intent -> claimed -> sent -> recorded -> delivered

* **intent**: the marker says a text is owed (written with the decision that owes it).
* **claimed**: ``claim_reply`` puts a token and a lease on the marker. Only one claim at a time; an
  earlier claim is taken over only after its lease *and* the settle time have passed, so a send that
  went out but was never recorded has time to be recorded from its delivery events first.
* **sent**: End User Messaging accepted the text. The request carries the claim's token in ``Context``.
* **recorded**: ``complete`` marks the marker done with the message id. If that write fails, the
  delivery events (which carry the token) record it: ``reconcile``.
* **delivered**: the delivery events move the text's status forward (delivery_events).

What can go wrong between the states, and what happens then:

* the send certainly did not go out (throttled, refused, no connection): the claim is released and the
  caller retries; if the release fails too, the claim expires and settles, and the retry sends then;
* the outcome is unknown (read timeout), or the function dies after sending: the claim stays; a retry
  before it has settled is told to come back (SendPending); after, it finds the text recorded from its
  delivery events, or, if none came, presumes it was never sent and sends;
* a duplicate delivery of the same reason finds the marker done, or the claim held: nothing is sent.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from optin.observability import count, logger
from optin.ports import (
    ClaimResult,
    DependencyUnavailable,
    InboundMarkers,
    RecipientOptedOut,
    SendOutcomeUnknown,
    SendRefused,
    SentMessage,
    SmsSender,
)
from optin.settings import Settings

T = TypeVar("T")

# Keys of SendTextMessage's Context (at most 5 entries), passed back in every delivery event.
KIND = "kind"
SEND_ID = "sendId"
MARKER = "marker"


class SendKind(StrEnum):
    CONFIRMATION = "confirmation"
    REPLY = "reply"
    FOLLOW_UP = "followUp"


class SendPending(DependencyUnavailable):
    """An earlier send of the same text has an outcome nobody knows yet: try again after it settles."""


def send_context(kind: SendKind, send_id: str, marker: str | None = None) -> dict[str, str]:
    context = {KIND: kind.value, SEND_ID: send_id}
    if marker:
        context[MARKER] = marker
    return context


def new_send_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SendTiming:
    lease: timedelta  # longer than the function can run: a claim never ends while its send is in flight
    settle: timedelta  # after the lease: time for the delivery events to record a send nothing recorded

    @property
    def retry_after_seconds(self) -> int:
        """When a caller that just failed may come back and find the claim settled."""
        return int((self.lease + self.settle).total_seconds()) + 1


def send_timing(settings: Settings) -> SendTiming:
    return SendTiming(
        lease=timedelta(seconds=settings.send_lease_seconds),
        settle=timedelta(seconds=settings.send_settle_seconds),
    )


@dataclass(frozen=True)
class MarkerSend:
    """What happened to a marker's text: sent (with the message), done (nothing to send), or refused."""

    outcome: str  # sent | done | refused
    sent: SentMessage | None = None
    reason: str | None = None


def send_for_marker(
    markers: InboundMarkers,
    sms: SmsSender,
    marker_id: str,
    to: str,
    body: str,
    kind: SendKind,
    now: datetime,
    timing: SendTiming,
    *,
    message_type: str = "TRANSACTIONAL",
    still_wanted: Callable[[], bool] | None = None,
) -> MarkerSend:
    """Send the text ``marker_id`` owes, at most once. ``still_wanted`` is asked after the claim, before
    sending (a reply nobody wants any more, say after a STOP, is completed unsent). Raises SendPending
    or DependencyUnavailable when the caller should try again later."""
    token = new_send_id()
    claim = markers.claim_reply(marker_id, token, now, now + timing.lease, timing.settle)
    if claim == ClaimResult.DONE:
        return MarkerSend("done")
    if claim == ClaimResult.HELD:
        raise SendPending("an earlier send of this text has not settled", timing.retry_after_seconds)
    if still_wanted is not None and not still_wanted():
        markers.complete(marker_id, None)
        return MarkerSend("refused", reason="no_longer_wanted")
    try:
        sent = sms.send(to, body, context=send_context(kind, token, marker_id), message_type=message_type)
    except (RecipientOptedOut, SendRefused) as exc:
        markers.complete(marker_id, None)
        return MarkerSend("refused", reason=exc.reason if isinstance(exc, SendRefused) else "opted_out")
    except SendOutcomeUnknown as exc:
        count("SendOutcomeUnknown", kind=kind.value)
        logger.warning("send outcome unknown; the claim stays until it settles", extra={"error": exc.what})
        raise SendPending(exc.what, timing.retry_after_seconds) from exc
    except DependencyUnavailable:
        try:
            retrying(lambda: markers.release(marker_id, token))
        except DependencyUnavailable:
            logger.warning("could not release the claim; it settles by itself")
        raise
    try:
        retrying(lambda: markers.complete(marker_id, sent.message_id))
    except DependencyUnavailable as exc:
        # The text is out; its delivery events carry the token and record it (reconcile).
        logger.error("text sent but not recorded", extra={"messageId": sent.message_id, "error": exc.what})
        count("SendNotRecorded", kind=kind.value)
    return MarkerSend("sent", sent)


_sleep: Callable[[float], None] = time.sleep
ATTEMPTS = 3


def retrying(write: Callable[[], T], attempts: int = ATTEMPTS, base_seconds: float = 0.05) -> T:
    """Run an idempotent write, again after a DependencyUnavailable (with jittered backoff); the SDK
    retried each attempt already. Raises the last error."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except DependencyUnavailable:
            if attempt == attempts:
                raise
            _sleep(random.uniform(0, base_seconds * 2**attempt))  # noqa: S311 -- jitter, not secrecy
    raise AssertionError("unreachable")  # pragma: no cover
