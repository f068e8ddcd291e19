"""Applying one text event: record a send that nobody recorded, and move its delivery status forward.

Every send passes ``{kind, sendId[, marker]}`` as SendTextMessage's Context (optin.outbound), and each of
its events carries it back:

* ``confirmation``: the contact keeps ``confirmationDelivery`` (consent.on_confirmation_delivery); a send
  whose registration could not record it is recorded from here (consent.on_confirmation_sent), so the
  evidence and the cooldown never miss a text that went out.
* ``reply`` / ``followUp``: the marker is marked done if its send was never recorded
  (InboundMarkers.reconcile), and each forward move of the status is one audit entry.

Events without our context (sends from before it existed) are matched on the contact's confirmation
message id. Anything else is counted and ignored. Every step is idempotent: events arrive more than once
and out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from optin.consent import (
    AuditEvent,
    Contact,
    confirmation_event_id,
    on_confirmation_delivery,
    on_confirmation_sent,
)
from optin.contacts import Change, transact
from optin.delivery_events.records import TextEvent
from optin.delivery_events.status import DeliveryStatus
from optin.masking import mask
from optin.observability import count, logger
from optin.outbound import KIND, MARKER, SEND_ID, SendKind
from optin.ports import ContactStore, InboundMarkers
from optin.settings import Settings

_AUDIT_TYPES = {SendKind.REPLY.value: "REPLY_DELIVERY", SendKind.FOLLOW_UP.value: "FOLLOW_UP_DELIVERY"}


class DeliveryEventsService:
    def __init__(
        self,
        settings: Settings,
        contacts: ContactStore,
        markers: InboundMarkers,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._contacts = contacts
        self._markers = markers
        self._clock = clock

    def handle(self, event: TextEvent) -> str:
        """Returns the outcome (for logs and metrics). Raises DependencyUnavailable so the queue
        redelivers the event."""
        if event.status is None:
            count("DeliveryEventIgnored", reason="not_a_text")
            return "ignored"
        kind = event.context.get(KIND)
        if kind in _AUDIT_TYPES and event.context.get(MARKER):
            outcome = self._for_marker(event, kind, event.context[MARKER])
        elif event.destination and kind in (SendKind.CONFIRMATION.value, None):
            outcome = self._for_confirmation(event, event.destination, event.context.get(SEND_ID))
        else:
            outcome = "unmatched"
        if outcome == "unmatched":
            count("DeliveryEventUnmatched")
        logger.info(
            "delivery event",
            extra={
                "to": mask(event.destination or ""),
                "eventType": event.event_type,
                "kind": kind or "",
                "outcome": outcome,
            },
        )
        return outcome

    # -- the confirmation SMS: on the contact ------------------------------------------------------------
    def _for_confirmation(self, event: TextEvent, phone: str, send_id: str | None) -> str:
        delivery = event.delivery()
        assert delivery is not None
        recorded_earlier: dict[str, bool] = {}

        def recorded_late(current: Contact) -> bool:
            # Only for a send whose claim is no longer on the contact: was it recorded when it was?
            if "value" not in recorded_earlier:
                wanted = confirmation_event_id(event.message_id)
                recorded_earlier["value"] = any(e.id == wanted for e in self._contacts.events(phone))
            return recorded_earlier["value"]

        def decide(current: Contact | None) -> tuple[Change | None, str]:
            if current is None:
                return None, "unmatched"
            contact, events, outcome = current, [], "unchanged"
            if (
                send_id
                and current.confirmation_message_id != event.message_id
                and (current.send_lease_token == send_id or not recorded_late(current))
            ):
                sent_at = event.requested_at or event.at
                recorded = on_confirmation_sent(current, send_id, event.message_id, sent_at)
                if recorded is not None:
                    contact, audit = recorded
                    events.append(audit)
                    outcome = "recorded"
            moved = on_confirmation_delivery(contact, event.message_id, delivery)
            if moved is not None:
                contact, audit = moved
                events.append(audit)
                outcome = moved[0].confirmation_delivery.status.value.lower()  # type: ignore[union-attr]
            elif not events and current.confirmation_message_id != event.message_id:
                return None, "unmatched"
            return (Change(contact, events) if events else None), outcome

        _, outcome = transact(self._contacts, phone, decide)
        if outcome == "recorded":
            count("ConfirmationRecordedFromEvent")
        elif outcome == DeliveryStatus.DELIVERED.value.lower():
            count("ConfirmationDelivered")
        elif outcome == DeliveryStatus.FAILED.value.lower():
            count("ConfirmationFailed", eventType=event.event_type)
        return outcome

    # -- replies and follow-ups: on their marker and in the audit trail ------------------------------------
    def _for_marker(self, event: TextEvent, kind: str, marker_id: str) -> str:
        marker = self._markers.get(marker_id)
        if marker is None:
            return "unmatched"
        outcome = "unchanged"
        send_id = event.context.get(SEND_ID)
        if not marker.done and send_id and self._markers.reconcile(marker_id, send_id, event.message_id):
            count("SendRecordedFromEvent", kind=kind)
            outcome = "recorded"
        status = event.status
        assert status is not None
        if status.rank <= marker.delivery_rank:
            return outcome
        contact = self._contacts.get(marker.phone)
        if contact is None:
            return outcome  # a reply to a stranger: no audit trail to add to
        detail = {"messageId": event.message_id, "status": status.value, "eventType": event.event_type}
        audit = AuditEvent(_AUDIT_TYPES[kind], event.at, detail, id=f"{event.message_id}-{status.value}")
        if self._contacts.record_delivery(marker.phone, contact.version, marker_id, status.rank, audit):
            outcome = status.value.lower()
        return outcome
