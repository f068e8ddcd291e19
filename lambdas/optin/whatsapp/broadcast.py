"""Broadcasts without Pinpoint campaigns: CONFIRMED contacts, optionally of one source, are put on the
broadcast queue in batches of at most 50 in the custom-channel event shape; the delivery function takes
them from there exactly as it takes a Pinpoint campaign's batches.

A broadcast larger than one API call can enqueue in time is resumable: the answer carries a cursor,
and posting again with it (and the broadcast id) goes on after the last contact enqueued.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from optin.clock import iso
from optin.consent import Contact
from optin.masking import mask
from optin.observability import logger, metrics
from optin.settings import Settings, SettingsError
from optin.whatsapp.pacing import Deadline
from optin.whatsapp.templates import TemplateMessage

APPLICATION_ID = "sms-optin-broadcast"  # stands in for the Pinpoint project id in queued batches
_STOP_WHEN_LEFT_SECONDS = 3.0  # stop enqueuing with this much time left and hand back a cursor


class ContactDirectory(Protocol):
    def confirmed(
        self, source: str | None = None, cursor: str | None = None
    ) -> Iterator[tuple[list[Contact], str | None]]:
        """Pages of CONFIRMED contacts (of ``source`` when given), each with the cursor that resumes
        after it (None after the last page). Raises InvalidCursor."""
        ...


class BroadcastQueue(Protocol):
    def send(self, events: list[dict[str, Any]], delay_seconds: int = 0) -> int:
        """Enqueue each event as one message; returns how many. Raises DependencyUnavailable."""
        ...


@dataclass(frozen=True)
class BroadcastRequest:
    template: TemplateMessage
    source: str | None = None
    broadcast_id: str | None = None  # with ``cursor``: the broadcast being resumed
    cursor: str | None = None


@dataclass(frozen=True)
class BroadcastReceipt:
    broadcast_id: str
    contacts: int  # enqueued by this call
    batches: int  # messages put on the queue by this call
    cursor: str | None  # None when every confirmed contact has been enqueued

    @property
    def complete(self) -> bool:
        return self.cursor is None


def endpoint_id(contact: Contact) -> str:
    """The endpoint id used in queued batches: E.164 without '+', as the Pinpoint endpoint mirror uses."""
    return contact.phone.removeprefix("+")


def batch_event(
    broadcast_id: str, template: TemplateMessage, contacts: Sequence[Contact], now: datetime
) -> dict[str, Any]:
    """One custom-channel event (the shape Pinpoint sends) for ``contacts`` (at most 50)."""
    return {
        "Message": {},
        "Data": template.to_data(),
        "ApplicationId": APPLICATION_ID,
        "CampaignId": broadcast_id,
        "TreatmentId": "0",
        "ActivityId": f"{broadcast_id}-{uuid.uuid4().hex[:8]}",
        "ScheduledTime": iso(now),
        "Endpoints": {
            endpoint_id(c): {
                "ChannelType": "CUSTOM",
                "Address": c.phone,
                "EndpointStatus": "ACTIVE",
                "OptOut": "NONE",
                "Attributes": {"Source": [c.source]},
            }
            for c in contacts
        },
    }


class BroadcastService:
    def __init__(
        self,
        settings: Settings,
        directory: ContactDirectory,
        queue: BroadcastQueue,
        clock: Callable[[], datetime],
    ) -> None:
        if not settings.broadcast_queue_url:
            raise SettingsError("BROADCAST_QUEUE_URL must name the broadcast queue")
        self._batch_size = settings.broadcast_batch_size
        self._directory = directory
        self._queue = queue
        self._clock = clock

    def start(self, request: BroadcastRequest, deadline: Deadline) -> BroadcastReceipt:
        """Enqueue the CONFIRMED contacts page by page until done or ``deadline`` draws near."""
        broadcast_id = request.broadcast_id or uuid.uuid4().hex
        now = self._clock()
        contacts = batches = 0
        cursor: str | None = None
        for page, cursor in self._directory.confirmed(request.source, request.cursor):
            events = [
                batch_event(broadcast_id, request.template, page[i : i + self._batch_size], now)
                for i in range(0, len(page), self._batch_size)
            ]
            if events:
                batches += self._queue.send(events)
                contacts += len(page)
            if cursor is not None and deadline.remaining() < _STOP_WHEN_LEFT_SECONDS:
                break  # the caller posts again with the cursor
        receipt = BroadcastReceipt(broadcast_id, contacts, batches, cursor)
        logger.info(
            "broadcast enqueued",
            extra={
                "broadcastId": broadcast_id,
                "template": request.template.name,
                "source": mask(request.source) if request.source else None,
                "contacts": contacts,
                "batches": batches,
                "complete": receipt.complete,
            },
        )
        metrics.add_metric(name="BroadcastContactsQueued", unit=MetricUnit.Count, value=contacts)
        return receipt
