"""Registration: a form submission becomes a PENDING contact and, at most once per cooldown,
a confirmation SMS. The answer to the caller is the same whatever the number's state was."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from optin.consent import (
    CarrierFacts,
    Contact,
    Policy,
    RegistrationDecision,
    Status,
    Submission,
    on_confirmation_sent,
    on_registration,
    on_send_failed,
)
from optin.contacts import Change, mirror_quietly, transact
from optin.lookup import PhoneLookupService, PhoneVerdict
from optin.masking import mask
from optin.observability import count, logger
from optin.outbound import SendKind, SendPending, new_send_id, retrying, send_context, send_timing
from optin.ports import (
    CapacityReached,
    ContactStore,
    DependencyUnavailable,
    EndpointMirror,
    RecipientOptedOut,
    SendOutcomeUnknown,
    SendRefused,
    SmsSender,
)
from optin.settings import Settings
from optin.texts import confirmation_text, consent_text_version

if TYPE_CHECKING:
    from optin.abuse.guard import AbuseGuard


@dataclass(frozen=True)
class RegistrationRequest:
    phone: str
    first_name: str
    last_name: str
    source: str
    country: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    language: str | None = None  # en, es or fr (None: the default language)


class InvalidPhoneNumber(Exception):
    """The number is malformed or outside the served countries: the client's mistake (400)."""

    def __init__(self, verdict: PhoneVerdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


class CannotReceiveSms(Exception):
    """The number is well formed but cannot receive our SMS (422)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RETRY_AFTER_NOTHING_HELD = 5  # seconds: nothing of this request stands in a retry's way


def policy_from(settings: Settings) -> Policy:
    timing = send_timing(settings)
    return Policy(
        confirm_window=timedelta(days=settings.confirm_window_days),
        resend_cooldown=timedelta(seconds=settings.resend_cooldown_seconds),
        max_confirmations_per_day=settings.max_confirmations_per_day,
        send_lease=timing.lease,
        settle=timing.settle,
    )


class RegistrationService:
    def __init__(
        self,
        settings: Settings,
        lookup: PhoneLookupService,
        contacts: ContactStore,
        sms: SmsSender,
        mirror: EndpointMirror | None,
        clock: Callable[[], datetime],
        guard: AbuseGuard | None = None,
    ) -> None:
        self._settings = settings
        self._lookup = lookup
        self._contacts = contacts
        self._sms = sms
        self._mirror = mirror
        self._clock = clock
        self._policy = policy_from(settings)
        self._timing = send_timing(settings)
        self._guard = guard

    def register(self, request: RegistrationRequest) -> str:
        """Returns the outcome for logs and metrics. Raises InvalidPhoneNumber, CannotReceiveSms,
        RateLimited, CapacityReached or DependencyUnavailable (after undoing anything that would block a
        retry). The checks run cheapest first: nothing is paid for before the abuse guard agreed."""
        pre = self._lookup.precheck(request.phone, request.country)
        guard = self._guard
        if pre.ok and pre.e164 and guard and not guard.admit_registration(pre.e164, request.client_ip):
            return "suppressed"  # the same 202 as always: nothing tells the sender what happened
        try:
            if guard is not None and pre.ok:
                guard.ensure_text_capacity()  # no lookup is paid for a text that could not follow
            verdict = self._lookup.check(request.phone, request.country)
        except CapacityReached:
            if pre.e164 and self._is_confirmed(pre.e164):
                count("ConfirmationSuppressed", reason="confirmed")
                return "confirmed"  # a confirmed number costs nothing and is never blocked
            raise
        if verdict.rejection is not None:
            if verdict.rejection.is_input_error:
                raise InvalidPhoneNumber(verdict)
            raise CannotReceiveSms(str(verdict.rejection), verdict.message or "")
        assert verdict.e164 is not None and verdict.info is not None
        phone = verdict.e164
        now = self._clock()
        language = request.language or self._settings.default_language
        submission = Submission(
            first_name=request.first_name,
            last_name=request.last_name,
            source=request.source,
            submitted_at=now,
            consent_text_version=consent_text_version(self._settings, language),
            client_ip=request.client_ip,
            user_agent=request.user_agent,
            country=verdict.country,
            language=language,
        )
        info = verdict.info
        facts = CarrierFacts(info.phone_type, info.carrier, info.timezone, info.city, info.zip_code)
        token = new_send_id()  # the send this request would make; deciding again with it is idempotent

        def decide(current: Contact | None) -> tuple[Change | None, RegistrationDecision]:
            decision = on_registration(current, phone, submission, facts, now, self._policy, token)
            return (Change(decision.contact, decision.events) if decision.write else None), decision

        try:
            contact, decision = retrying(lambda: transact(self._contacts, phone, decide))
        except DependencyUnavailable as exc:
            # The claim may have been written with its answer lost: a retry must wait for it to settle.
            exc.retry_after_seconds = self._timing.retry_after_seconds
            raise
        count("RegistrationStarted")
        logger.info("registration", extra={"phone": mask(phone), "outcome": decision.outcome})
        if contact is not None and decision.outcome.split(":")[0] in {"new", "renewed"}:
            # A new pending episode; repeats of a pending or confirmed number leave the endpoint as it is.
            mirror_quietly(self._mirror, contact)
        if decision.retry_at is not None:
            count("ConfirmationSuppressed", reason="pending")
            wait = max(1, math.ceil((decision.retry_at - now).total_seconds()))
            raise SendPending("an earlier confirmation SMS has not settled yet", wait)
        if decision.send_confirmation and decision.lease_token:
            if self._guard is not None:
                try:
                    self._guard.reserve_text()
                except CapacityReached:
                    self._release(phone, decision.lease_token)
                    raise
            self._send_confirmation(phone, decision.lease_token, language)
        else:
            count("ConfirmationSuppressed", reason=decision.outcome.split(":")[-1])
        return decision.outcome

    def _send_confirmation(self, phone: str, token: str, language: str) -> None:
        """Send under claim ``token`` (optin.outbound describes the states). Raises CannotReceiveSms,
        SendPending (outcome unknown: the claim stays until it settles) or DependencyUnavailable."""
        context = send_context(SendKind.CONFIRMATION, token)
        try:
            sent = self._sms.send(phone, confirmation_text(self._settings, language), context=context)
        except RecipientOptedOut:
            # Opted out at the carrier/number level: say nothing different to the caller.
            self._release(phone, token)
            count("ConfirmationSuppressed", reason="opted_out_at_number")
            return
        except SendRefused as exc:
            self._release(phone, token)
            raise CannotReceiveSms("cannot_deliver", "We cannot send text messages to this number.") from exc
        except SendOutcomeUnknown as exc:
            count("SendOutcomeUnknown", kind=SendKind.CONFIRMATION.value)
            raise SendPending(exc.what, self._timing.retry_after_seconds) from exc
        except DependencyUnavailable as exc:
            released = self._release(phone, token)
            exc.retry_after_seconds = (
                RETRY_AFTER_NOTHING_HELD if released else self._timing.retry_after_seconds
            )
            raise
        count("ConfirmationSent")
        sent_at = sent.sent_at or self._clock()

        def record(current: Contact | None) -> tuple[Change | None, None]:
            recorded = on_confirmation_sent(current, token, sent.message_id, sent_at) if current else None
            return (Change(recorded[0], (recorded[1],)) if recorded else None), None

        try:
            retrying(lambda: transact(self._contacts, phone, record))
        except DependencyUnavailable:
            # The SMS is out and a 503 would only invite a second one. Its delivery events carry the claim's
            # token and record it (DeliveryEvents); until then the claim keeps a second send away.
            logger.exception("confirmation sent but not recorded", extra={"messageId": sent.message_id})
            count("ConfirmationNotRecorded")

    def _is_confirmed(self, phone: str) -> bool:
        contact = self._contacts.get(phone)
        return contact is not None and contact.status == Status.CONFIRMED

    def _release(self, phone: str, token: str) -> bool:
        """Give the claim back after a send that certainly did not go out. False when that failed too
        (the claim then settles by itself)."""

        def release(current: Contact | None) -> tuple[Change | None, None]:
            updated = on_send_failed(current, token) if current is not None else None
            return (Change(updated) if updated else None), None

        try:
            retrying(lambda: transact(self._contacts, phone, release))
        except DependencyUnavailable:
            logger.warning("could not release the send claim; it settles by itself")
            return False
        return True
