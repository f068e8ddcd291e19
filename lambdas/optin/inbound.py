"""Inbound SMS: keyword confirmation, opt-out, opt-in and help, idempotent on inboundMessageId.

Each message is applied once: the contact change, its audit entry and a marker keyed by the
inboundMessageId are written in one transaction. The marker also remembers the reply owed, so
a redelivery after a failed send sends the reply without applying the message a second time.

Follow-ups (when a sequence is configured): after a confirmation, opt-in or opt-out, and after the
reply, the contact's scheduled follow-ups are synced (created or deleted). That sync is idempotent and
runs again on every redelivery or duplicate of a message, from the contact as it is then; when it
fails, the record fails (the opt-in and the reply stand) so the queue redelivers it and the sync is
retried, ending in the dead-letter queue if it keeps failing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from optin.consent import Contact, InboundDecision, InboundMessage, Reply, Status, on_inbound
from optin.contacts import Change, mirror_quietly, transact
from optin.keywords import KeywordMatch, KeywordMatcher, Rule
from optin.masking import mask
from optin.observability import count, logger
from optin.outbound import SendKind, send_for_marker, send_timing
from optin.ports import (
    ContactStore,
    DependencyUnavailable,
    DuplicateMessage,
    EndpointMirror,
    FollowUps,
    InboundMarker,
    InboundMarkers,
    SmsSender,
)
from optin.settings import Settings, SettingsError
from optin.texts import reply_text

MARKER_LIFETIME = timedelta(days=14)  # longer than SQS can keep a message
_FOLLOW_UP_OUTCOMES = {"confirmed", "opted_in", "opted_out"}  # the consent changes follow-ups track
_OUTCOME_METRICS = {
    "confirmed": "OptInConfirmed",
    "opted_in": "OptedIn",
    "opted_out": "OptedOut",
    "help": "HelpRequested",
    "nudged": "ReplyUnrecognized",
}
# Replies End User Messaging sends itself when it manages opt-outs (self-managed opt-outs off).
_AWS_ANSWERS = {Reply.HELP, Reply.OPT_OUT}


def reply_language(contact: Contact | None, match: KeywordMatch, settings: Settings) -> str:
    """Replies go out in the contact's language; a stranger's (or a contact's from before languages) in
    the language of the keyword, when it tells one; else in the default language."""
    if contact is not None and contact.language:
        return contact.language
    return match.language or settings.default_language


def matcher_for(settings: Settings) -> KeywordMatcher:
    return KeywordMatcher(
        settings.confirm_keywords,
        settings.opt_out_keywords,
        settings.opt_in_keywords,
        settings.help_keywords,
        revocation_words=settings.revocation_words,
        phrases=settings.revocation_phrases,
        exceptions=settings.keyword_exceptions,
        languages=settings.keyword_languages,
        rules=tuple(Rule(rule) for rule in settings.revocation_rules),
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
        follow_ups: FollowUps | None = None,
    ) -> None:
        if not settings.our_numbers:
            raise SettingsError("OWN_NUMBERS (or an E.164 ORIGINATION_IDENTITY) must name our number(s)")
        self._settings = settings
        self._contacts = contacts
        self._markers = markers
        self._sms = sms
        self._mirror = mirror
        self._clock = clock
        self._follow_ups = follow_ups
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
            self._sync_follow_ups(message.origination_number)  # an earlier sync may have failed
            return "duplicate"
        outcome = "redelivered"
        changed: Contact | None = None
        if marker is None:
            try:
                marker, outcome, changed = self._apply(message, marker_id)
            except DuplicateMessage:
                count("InboundDuplicate")
                return "duplicate"  # the delivery that applied it syncs the follow-ups
        if marker.reply:
            language = marker.language or self._language_of(message)
            self._deliver(marker, language, redelivered=outcome == "redelivered")
        if outcome == "redelivered":
            self._sync_follow_ups(message.origination_number)
        elif changed is not None:
            self._sync_follow_ups(message.origination_number, changed)
        return outcome

    def _sync_follow_ups(self, phone: str, contact: Contact | None = None) -> None:
        """Schedule or cancel the contact's follow-ups (``contact``: as just saved; None: read it).
        Raises DependencyUnavailable so the record is retried; the retry syncs again."""
        if self._follow_ups is None:
            return
        try:
            contact = contact or self._contacts.get(phone)
            if contact is not None:
                self._follow_ups.sync(contact)
        except DependencyUnavailable as exc:
            logger.warning("follow-up sync failed; the message will be retried", extra={"error": str(exc)})
            count("FollowUpSyncFailed")
            raise

    def _apply(self, message: InboundMessage, marker_id: str) -> tuple[InboundMarker, str, Contact | None]:
        match = self._matcher.match(message.body)
        phone = message.origination_number
        expires = self._clock() + MARKER_LIFETIME

        def decide(current: Contact | None) -> tuple[Change, tuple[InboundDecision, InboundMarker]]:
            decision = on_inbound(current, message, match, nudge=self._settings.nudge_unrecognized)
            reply = self._owed(decision, match)
            language = reply_language(current, match, self._settings)
            marker = InboundMarker(
                marker_id, phone, reply.value if reply else None, reply is None, expires, language=language
            )
            return Change(decision.contact, decision.events, marker), (decision, marker)

        contact, (decision, marker) = transact(self._contacts, phone, decide)
        logger.info(
            "inbound message",
            extra={
                "from": mask(phone),
                "intent": match.intent.value,
                "rule": match.rule.value,
                "outcome": decision.outcome,
            },
        )
        count("InboundReceived")
        if decision.outcome in _OUTCOME_METRICS:
            count(_OUTCOME_METRICS[decision.outcome])
        if decision.outcome == "unknown":
            count("InboundFromUnknown")
        if contact is not None and decision.outcome in _FOLLOW_UP_OUTCOMES:
            mirror_quietly(self._mirror, contact)
            return marker, decision.outcome, contact
        return marker, decision.outcome, None

    def _owed(self, decision: InboundDecision, match: KeywordMatch) -> Reply | None:
        reply = decision.reply
        if reply is None:
            return None
        # The number answers only messages that begin with a keyword (registered on it, or its own STOP
        # and HELP when AWS manages opt-outs); any other rule's opt-out is ours to confirm.
        answered_by_number = match.rule == Rule.LEADING_KEYWORD
        if answered_by_number and match.keyword in self._settings.number_keywords:
            return None  # the number already answered this keyword itself
        if (
            not self._settings.self_managed_opt_outs
            and answered_by_number
            and (reply in _AWS_ANSWERS or decision.outcome == "opted_in")
        ):
            return None
        if reply == Reply.SIGNUP and not self._settings.signup_url:
            return None
        return reply

    def _language_of(self, message: InboundMessage) -> str:
        """The reply's language for a redelivered message whose marker does not say it."""
        return reply_language(
            self._contacts.get(message.origination_number), self._matcher.match(message.body), self._settings
        )

    def _deliver(self, marker: InboundMarker, language: str, redelivered: bool) -> None:
        """Send the reply ``marker`` owes in ``language``, at most once (optin.outbound). On a redelivery
        the contact is read again first: a reply owed before a STOP that arrived meanwhile is not sent.
        The sign-up link and the nudge go out at most once per cooldown per number."""
        reply = Reply(marker.reply)
        now = self._clock()
        cooldown_key = {Reply.SIGNUP: "signup", Reply.NUDGE: "nudge"}.get(reply)

        def still_wanted() -> bool:
            if redelivered and reply == Reply.NUDGE:
                contact = self._contacts.get(marker.phone)
                if contact is None or contact.status != Status.PENDING:
                    count("ReplySuppressed", reason="no_longer_pending")
                    return False
            if cooldown_key is not None:
                cooldown = timedelta(seconds=self._settings.resend_cooldown_seconds)
                if not self._markers.claim_cooldown(f"{cooldown_key}#{marker.phone}", now, now + cooldown):
                    count("ReplySuppressed", reason="cooldown")
                    return False
                return True
            if redelivered and reply != Reply.OPT_OUT:
                contact = self._contacts.get(marker.phone)
                if contact is not None and contact.status == Status.OPTED_OUT:
                    count("ReplySuppressed", reason="opted_out_since")
                    return False
            return True

        result = send_for_marker(
            self._markers,
            self._sms,
            marker.id,
            marker.phone,
            reply_text(reply, self._settings, language),
            SendKind.REPLY,
            now,
            send_timing(self._settings),
            still_wanted=still_wanted if redelivered or cooldown_key is not None else None,
        )
        if result.outcome == "sent":
            count("ReplySent", reply=reply.value)
        elif result.outcome == "refused" and result.reason not in ("no_longer_wanted",):
            count("ReplySuppressed", reason="undeliverable")
