"""Follow-up sequences: scheduling on consent changes, and sending one scheduled step.

:class:`FollowUpScheduling` (the ``FollowUps`` port the inbound flow calls) creates a CONFIRMED
contact's one-time schedules and deletes them when the contact opts out; both are idempotent, so the
inbound flow simply calls it again on a redelivery.

:class:`FollowUpSender` handles one schedule firing. It sends only when the step still exists, the
contact is still CONFIRMED in the episode that scheduled it, and the recipient's local time is inside
the sending window (else it reschedules the step for the next opening). At most once per step and
episode: the claim is an inbound-style marker (``followup#<phone>#<episode>#<step>`` in the idempotency
table) written in one transaction with a version check of the contact, so a STOP that lands first wins;
the send itself is leased like an inbound reply, so a failed send is retried and a duplicate invocation
sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from optin.clock import iso
from optin.consent import AuditEvent, Contact, Status
from optin.contacts import Change, transact
from optin.followups.sequence import (
    FollowUpJob,
    FollowUpStep,
    SendWindow,
    deferral,
    episode_of,
    is_sendable,
    marker_id,
    plan,
    recipient_zones,
    render,
    schedule_names,
    text_values,
)
from optin.masking import mask
from optin.observability import count, logger
from optin.outbound import SendKind, SendPending, send_for_marker, send_timing
from optin.ports import (
    ContactStore,
    DependencyUnavailable,
    DuplicateMessage,
    FollowUpScheduler,
    InboundMarker,
    InboundMarkers,
    SmsSender,
)
from optin.settings import Settings

MARKER_LIFETIME = timedelta(days=90)  # far longer than a step can be re-scheduled (STALE_AFTER) or retried


class FollowUpScheduling:
    """The FollowUps port on a FollowUpScheduler, which ``scheduler()`` gives on first use (so that
    building the inbound function never depends on the scheduler's client or configuration)."""

    def __init__(
        self, settings: Settings, scheduler: Callable[[], FollowUpScheduler], clock: Callable[[], datetime]
    ) -> None:
        self._steps = settings.follow_up_steps
        self._window = SendWindow(*settings.follow_up_window)
        self._scheduler = scheduler
        self._clock = clock

    def sync(self, contact: Contact) -> None:
        if contact.status == Status.CONFIRMED:
            self._schedule(contact)
        elif contact.status == Status.OPTED_OUT:
            self._cancel(contact)

    def _schedule(self, contact: Contact) -> None:
        planned = plan(contact, self._steps, self._window, self._clock())
        created = 0
        for send in planned.sends:
            if self._scheduler().create(send):
                created += 1
                count("FollowUpScheduled")
        for _ in planned.stale:
            count("FollowUpStale")
        logger.info(
            "follow-ups scheduled",
            extra={
                "to": mask(contact.phone),
                "schedulesCreated": created,
                "steps": {s.job.step: iso(s.at) for s in planned.sends},
                "stale": list(planned.stale),
            },
        )

    def _cancel(self, contact: Contact) -> None:
        names = schedule_names(contact, self._steps)
        scheduler = self._scheduler()
        deleted = sum(1 for name in names if scheduler.delete(name))
        for _ in range(deleted):
            count("FollowUpCancelled")
        if names:
            logger.info(
                "follow-ups cancelled", extra={"to": mask(contact.phone), "schedulesDeleted": deleted}
            )


class FollowUpSender:
    """Sends the step a schedule fired for, if it still may be sent."""

    def __init__(
        self,
        settings: Settings,
        contacts: ContactStore,
        markers: InboundMarkers,
        sms: SmsSender,
        scheduler: FollowUpScheduler,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._steps = {step.id: step for step in settings.follow_up_steps}
        self._window = SendWindow(*settings.follow_up_window)
        self._contacts = contacts
        self._markers = markers
        self._sms = sms
        self._scheduler = scheduler
        self._clock = clock
        self._timing = send_timing(settings)

    def send(self, job: FollowUpJob) -> str:
        """Returns the outcome: sent | duplicate | in_flight | deferred | skipped:<reason>. Raises
        DependencyUnavailable when it should be retried."""
        outcome = self._send(job)
        logger.info(
            "follow-up",
            extra={"to": mask(job.phone), "step": job.step, "episode": job.episode, "outcome": outcome},
        )
        count("FollowUpOutcome", outcome=outcome.split(":")[0])
        return outcome

    def _send(self, job: FollowUpJob) -> str:
        step = self._steps.get(job.step)
        if step is None:
            return "skipped:unknown_step"  # removed from the sequence since it was scheduled
        marker = self._markers.get(marker_id(job))
        if marker is not None and marker.done:
            return "duplicate"
        contact = self._contacts.get(job.phone)
        reason = _ineligible(contact, job)
        if reason is not None or contact is None:
            return f"skipped:{reason}"
        now = self._clock()
        if not is_sendable(now, recipient_zones(contact.timezone, contact.phone), self._window):
            return self._defer(job, contact, now)
        if marker is None and not self._open_marker(job, now):
            return "skipped:no_longer_eligible"
        return self._deliver(job, step, contact, now)

    def _open_marker(self, job: FollowUpJob, now: datetime) -> bool:
        """Write the step's marker, in one transaction with a version check of the still-eligible contact;
        False when the contact stopped being eligible meanwhile."""
        marker = InboundMarker(marker_id(job), job.phone, None, False, now + MARKER_LIFETIME)

        def decide(current: Contact | None) -> tuple[Change | None, bool]:
            if _ineligible(current, job) is not None:
                return None, False
            return Change(current, (), marker), True

        try:
            _, eligible = transact(self._contacts, job.phone, decide)
        except DuplicateMessage:
            return True  # another invocation wrote it: the claim below decides who sends
        return eligible

    def _deliver(self, job: FollowUpJob, step: FollowUpStep, contact: Contact, now: datetime) -> str:
        key = marker_id(job)
        s = self._settings
        body = render(step.body, text_values(contact, s.brand, s.help_url, s.message_frequency))
        try:
            result = send_for_marker(
                self._markers,
                self._sms,
                key,
                job.phone,
                body,
                SendKind.FOLLOW_UP,
                now,
                self._timing,
                message_type=step.message_type,
            )
        except SendPending:
            return "in_flight"  # another invocation is sending it, or its outcome has not settled yet
        if result.outcome == "done":
            return "duplicate"
        if result.outcome == "refused" or result.sent is None:
            reason = result.reason or "refused"
            self._audit(job, AuditEvent("FOLLOW_UP_REFUSED", now, {"step": job.step, "reason": reason}))
            return f"skipped:{reason}"
        sent = result.sent
        detail = {
            "step": job.step,
            "episode": job.episode,
            "sequence": job.sequence,
            "messageId": sent.message_id,
            "messageType": step.message_type,
            "body": body,
        }
        self._audit(job, AuditEvent("FOLLOW_UP_SENT", sent.sent_at or now, detail))
        return "sent"

    def _defer(self, job: FollowUpJob, contact: Contact, now: datetime) -> str:
        moved = deferral(job, contact, self._window, now)
        if moved is None:
            return "skipped:outside_window"
        self._scheduler.create(moved)
        return "deferred"

    def _audit(self, job: FollowUpJob, event: AuditEvent) -> None:
        """Append to the contact's audit trail; the message went out already, so a failure here is
        logged and counted, never retried (a retry would find the step done)."""

        def decide(current: Contact | None) -> tuple[Change | None, None]:
            return (Change(current, (event,)) if current is not None else None), None

        try:
            transact(self._contacts, job.phone, decide)
        except DependencyUnavailable as exc:
            logger.error("follow-up audit event not written", extra={"step": job.step, "error": str(exc)})
            count("FollowUpAuditFailed")


def _ineligible(contact: Contact | None, job: FollowUpJob) -> str | None:
    """Why ``job`` may not be sent to ``contact`` (None: it may)."""
    if contact is None:
        return "no_contact"
    if contact.status != Status.CONFIRMED:
        return "not_confirmed"
    if episode_of(contact) != job.episode:
        return "other_episode"  # confirmed again (STOP then START) since it was scheduled
    return None
