"""Registration: a form submission becomes a PENDING contact and, at most once per cooldown,
a confirmation SMS. The answer to the caller is the same whatever the number's state was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from optin.consent import (
    CarrierFacts,
    Contact,
    Policy,
    RegistrationDecision,
    Submission,
    on_confirmation_sent,
    on_registration,
    on_send_failed,
)
from optin.contacts import Change, mirror_quietly, transact
from optin.lookup import PhoneLookupService, PhoneVerdict
from optin.masking import mask
from optin.observability import count, logger
from optin.ports import (
    ContactStore,
    DependencyUnavailable,
    EndpointMirror,
    RecipientOptedOut,
    SendRefused,
    SmsSender,
)
from optin.settings import Settings
from optin.texts import confirmation_text


@dataclass(frozen=True)
class RegistrationRequest:
    phone: str
    first_name: str
    last_name: str
    source: str
    country: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


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


def policy_from(settings: Settings) -> Policy:
    return Policy(
        confirm_window=timedelta(days=settings.confirm_window_days),
        resend_cooldown=timedelta(seconds=settings.resend_cooldown_seconds),
        max_confirmations_per_day=settings.max_confirmations_per_day,
        send_lease=timedelta(seconds=settings.send_lease_seconds),
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
    ) -> None:
        self._settings = settings
        self._lookup = lookup
        self._contacts = contacts
        self._sms = sms
        self._mirror = mirror
        self._clock = clock
        self._policy = policy_from(settings)

    def register(self, request: RegistrationRequest) -> str:
        """Returns the outcome for logs and metrics. Raises InvalidPhoneNumber, CannotReceiveSms,
        or DependencyUnavailable (after undoing anything that would block a retry)."""
        verdict = self._lookup.check(request.phone, request.country)
        if verdict.rejection is not None:
            if verdict.rejection.is_input_error:
                raise InvalidPhoneNumber(verdict)
            raise CannotReceiveSms(str(verdict.rejection), verdict.message or "")
        assert verdict.e164 is not None and verdict.info is not None
        phone = verdict.e164
        now = self._clock()
        submission = Submission(
            first_name=request.first_name,
            last_name=request.last_name,
            source=request.source,
            submitted_at=now,
            consent_text_version=self._settings.consent_text_version,
            client_ip=request.client_ip,
            user_agent=request.user_agent,
            country=verdict.country,
        )
        info = verdict.info
        facts = CarrierFacts(info.phone_type, info.carrier, info.timezone, info.city, info.zip_code)

        def decide(current: Contact | None) -> tuple[Change, RegistrationDecision]:
            decision = on_registration(current, phone, submission, facts, now, self._policy)
            return Change(decision.contact, decision.events), decision

        contact, decision = transact(self._contacts, phone, decide)
        count("RegistrationStarted")
        logger.info("registration", extra={"phone": mask(phone), "outcome": decision.outcome})
        if contact is not None and decision.outcome.split(":")[0] in {"new", "renewed"}:
            # A new pending episode; repeats of a pending or confirmed number leave the endpoint as it is.
            mirror_quietly(self._mirror, contact)
        if decision.send_confirmation and decision.lease_token:
            self._send_confirmation(phone, decision.lease_token)
        else:
            count("ConfirmationSuppressed", reason=decision.outcome.split(":")[-1])
        return decision.outcome

    def _send_confirmation(self, phone: str, token: str) -> None:
        try:
            sent = self._sms.send(phone, confirmation_text(self._settings))
        except RecipientOptedOut:
            # Opted out at the carrier/number level: say nothing different to the caller.
            self._release(phone, token)
            count("ConfirmationSuppressed", reason="opted_out_at_number")
            return
        except SendRefused as exc:
            self._release(phone, token)
            raise CannotReceiveSms("cannot_deliver", "We cannot send text messages to this number.") from exc
        except DependencyUnavailable as exc:
            self._release(phone, token)
            exc.retry_after_seconds = 30
            raise
        count("ConfirmationSent")
        sent_at = sent.sent_at or self._clock()

        def record(current: Contact | None) -> tuple[Change | None, None]:
            if current is None:
                return None, None
            updated, event = on_confirmation_sent(current, token, sent.message_id, sent_at)
            return Change(updated, (event,)), None

        try:
            transact(self._contacts, phone, record)
        except DependencyUnavailable:
            # The SMS is out; a 503 would only invite a second one. The lease expires by itself.
            logger.exception("confirmation sent but not recorded", extra={"messageId": sent.message_id})
            count("ConfirmationNotRecorded")

    def _release(self, phone: str, token: str) -> None:
        def release(current: Contact | None) -> tuple[Change | None, None]:
            updated = on_send_failed(current, token) if current is not None else None
            return (Change(updated) if updated else None), None

        try:
            transact(self._contacts, phone, release)
        except DependencyUnavailable:
            logger.warning("could not release the send lease; it expires by itself")
