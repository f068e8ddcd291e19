"""Inbound SMS: keyword confirmation, opt-out, opt-in and help, idempotent on inboundMessageId.

Each message is applied once: the contact change, its audit entry and a marker keyed by the
inboundMessageId are written in one transaction. The marker also remembers the reply owed, so
a redelivery after a failed send sends the reply without applying the message a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from optin.consent import Contact, InboundDecision, InboundMessage, Reply, on_inbound
from optin.contacts import Change, mirror_quietly, transact
from optin.keywords import KeywordMatch, KeywordMatcher
from optin.masking import mask
from optin.observability import count, logger
from optin.ports import (
    ContactStore,
    DependencyUnavailable,
    DuplicateMessage,
    EndpointMirror,
    InboundMarker,
    InboundMarkers,
    RecipientOptedOut,
    SendRefused,
    SmsSender,
)
from optin.settings import Settings, SettingsError
from optin.texts import reply_text

MARKER_LIFETIME = timedelta(days=14)  # longer than SQS can keep a message
_OUTCOME_METRICS = {
    "confirmed": "OptInConfirmed",
    "opted_in": "OptedIn",
    "opted_out": "OptedOut",
    "help": "HelpRequested",
}
# Replies End User Messaging sends itself when it manages opt-outs (self-managed opt-outs off).
_AWS_ANSWERS = {Reply.HELP, Reply.OPT_OUT}


def matcher_for(settings: Settings) -> KeywordMatcher:
    return KeywordMatcher(
        settings.confirm_keywords, settings.opt_out_keywords, settings.opt_in_keywords, settings.help_keywords
    )


class InboundService:
    def __init__(
        self,
        settings: Settings,
        contacts: ContactStore,
        markers: InboundMarkers,
        sms: SmsSender,
        mirror: EndpointMirror | None,
        clock: Callable[[], datetime],
    ) -> None:
        if not settings.our_numbers:
            raise SettingsError("OWN_NUMBERS (or an E.164 ORIGINATION_IDENTITY) must name our number(s)")
        self._settings = settings
        self._contacts = contacts
        self._markers = markers
        self._sms = sms
        self._mirror = mirror
        self._clock = clock
        self._matcher = matcher_for(settings)

    def handle(self, message: InboundMessage) -> str:
        """Apply one inbound message; returns the outcome. Raises DependencyUnavailable so the
        queue redelivers the message."""
        if message.destination_number not in self._settings.our_numbers:
            logger.info(
                "inbound message for a number that is not ours",
                extra={"to": mask(message.destination_number)},
            )
            count("InboundIgnored", reason="not_our_number")
            return "not_ours"
        marker_id = f"inbound#{message.inbound_message_id}"
        marker = self._markers.get(marker_id)
        if marker is not None and marker.done:
            count("InboundDuplicate")
            return "duplicate"
        outcome = "redelivered"
        if marker is None:
            try:
                marker, outcome = self._apply(message, marker_id)
            except DuplicateMessage:
                count("InboundDuplicate")
                return "duplicate"
        if marker.reply:
            self._deliver(marker)
        return outcome

    def _apply(self, message: InboundMessage, marker_id: str) -> tuple[InboundMarker, str]:
        match = self._matcher.match(message.body)
        phone = message.origination_number
        expires = self._clock() + MARKER_LIFETIME

        def decide(current: Contact | None) -> tuple[Change, tuple[InboundDecision, InboundMarker]]:
            decision = on_inbound(current, message, match)
            reply = self._owed(decision, match)
            marker = InboundMarker(marker_id, phone, reply.value if reply else None, reply is None, expires)
            return Change(decision.contact, decision.events, marker), (decision, marker)

        contact, (decision, marker) = transact(self._contacts, phone, decide)
        logger.info(
            "inbound message",
            extra={"from": mask(phone), "intent": match.intent.value, "outcome": decision.outcome},
        )
        count("InboundReceived")
        if decision.outcome in _OUTCOME_METRICS:
            count(_OUTCOME_METRICS[decision.outcome])
        if decision.outcome == "unknown":
            count("InboundFromUnknown")
        if contact is not None and decision.outcome in {"confirmed", "opted_in", "opted_out"}:
            mirror_quietly(self._mirror, contact)
        return marker, decision.outcome

    def _owed(self, decision: InboundDecision, match: KeywordMatch) -> Reply | None:
        reply = decision.reply
        if reply is None or match.keyword in self._settings.number_keywords:
            return None  # nothing to say, or the number already answered this keyword itself
        if not self._settings.self_managed_opt_outs and (
            reply in _AWS_ANSWERS or decision.outcome == "opted_in"
        ):
            return None
        if reply == Reply.SIGNUP and not self._settings.signup_url:
            return None
        return reply

    def _deliver(self, marker: InboundMarker) -> None:
        now = self._clock()
        lease = timedelta(seconds=self._settings.send_lease_seconds)
        if not self._markers.claim_reply(marker.id, now, now + lease):
            return  # done meanwhile, or another delivery of this message is sending it
        reply = Reply(marker.reply)
        if reply == Reply.SIGNUP:
            cooldown = timedelta(seconds=self._settings.resend_cooldown_seconds)
            if not self._markers.claim_cooldown(f"signup#{marker.phone}", now, now + cooldown):
                self._markers.complete(marker.id, None)
                count("ReplySuppressed", reason="cooldown")
                return
        try:
            sent = self._sms.send(marker.phone, reply_text(reply, self._settings))
        except (RecipientOptedOut, SendRefused):
            self._markers.complete(marker.id, None)
            count("ReplySuppressed", reason="undeliverable")
            return
        except DependencyUnavailable:
            try:
                self._markers.release(marker.id)
            except DependencyUnavailable:
                logger.warning("could not release the reply claim; it expires by itself")
            raise
        self._markers.complete(marker.id, sent.message_id)
        count("ReplySent", reply=reply.value)
