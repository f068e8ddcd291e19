"""What each WhatsApp broadcast did in the sandbox: the API's answer, then every endpoint's result as the
delivery function reported it (sent with the message id, failed or skipped with the reason).

The results come from the real :class:`optin.whatsapp.delivery.DeliveryService`: :func:`record_deliveries` wraps
its ``deliver`` so that every batch it handles, from the broadcast queue or a custom-channel event, is
recorded here as well. The queue's answer to Lambda (``batchItemFailures``) carries no per-endpoint
results, and in AWS nobody would see them but the logs and metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from optin.clock import iso
from optin.whatsapp.delivery import FAILED, SENT, SKIPPED, CustomChannelEvent, DeliveryService, EndpointResult
from optin.whatsapp.pacing import Deadline

STATUSES = (SENT, FAILED, SKIPPED)


class BroadcastLog:
    """Broadcasts and their per-endpoint results, newest first. Safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._broadcasts: dict[str, dict[str, Any]] = {}

    def started(self, answer: Mapping[str, Any], request: Mapping[str, Any], at: datetime) -> None:
        """POST /broadcasts answered 202 with ``answer`` for the body ``request``. A resumed broadcast
        (the same broadcastId with a cursor) adds to the one it resumes."""
        broadcast_id = str(answer.get("broadcastId"))
        with self._lock:
            entry = self._entry(broadcast_id)
            entry.update(
                template=request.get("template"),
                language=request.get("language"),
                source=request.get("source"),
                complete=bool(answer.get("complete")),
            )
            entry["startedAt"] = entry["startedAt"] or iso(at)
            entry["queuedContacts"] += int(answer.get("queuedContacts") or 0)
            entry["queuedBatches"] += int(answer.get("queuedBatches") or 0)

    def delivered(self, event: CustomChannelEvent, results: Mapping[str, EndpointResult]) -> None:
        """One batch's results (a later delivery of the same endpoint, after a requeue, replaces it)."""
        with self._lock:
            entry = self._entry(str(event.campaign_id or "unknown"))
            for endpoint_id, result in results.items():
                endpoint = event.endpoints.get(endpoint_id, {})
                item: dict[str, Any] = {
                    "endpointId": endpoint_id,
                    "to": endpoint.get("Address"),
                    "status": result.status,
                }
                if result.message_id:
                    item["messageId"] = result.message_id
                else:
                    item["reason"] = result.reason
                entry["endpoints"][endpoint_id] = item

    def batches_not_delivered(self, broadcast_id: str, count: int) -> None:
        """Queue records the function reported as failed (in AWS: redelivered, then dead-lettered)."""
        with self._lock:
            self._entry(broadcast_id)["batchesNotDelivered"] += count

    def get(self, broadcast_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._broadcasts.get(broadcast_id)
            return _as_json(entry) if entry is not None else None

    def listing(self) -> list[dict[str, Any]]:
        """Every broadcast, newest first: its request, what was queued, a count per status and each
        endpoint's result."""
        with self._lock:
            return [_as_json(entry) for entry in reversed(self._broadcasts.values())]

    def clear(self) -> None:
        with self._lock:
            self._broadcasts.clear()

    def _entry(self, broadcast_id: str) -> dict[str, Any]:
        entry = self._broadcasts.get(broadcast_id)
        if entry is None:
            entry = self._broadcasts[broadcast_id] = {
                "broadcastId": broadcast_id,
                "template": None,
                "language": None,
                "source": None,
                "startedAt": None,
                "queuedContacts": 0,
                "queuedBatches": 0,
                "complete": True,
                "batchesNotDelivered": 0,
                "endpoints": {},
            }
        return entry


def _as_json(entry: Mapping[str, Any]) -> dict[str, Any]:
    endpoints = list(entry["endpoints"].values())
    counts = {status: sum(1 for e in endpoints if e["status"] == status) for status in STATUSES}
    return {**entry, "results": counts, "endpoints": [dict(e) for e in endpoints]}


def record_deliveries(service: DeliveryService, log: BroadcastLog) -> None:
    """Have ``service`` also tell ``log`` the results of every batch it delivers (its own ``deliver`` is
    what both the queue path and the custom-channel path call)."""
    deliver: Callable[[CustomChannelEvent, Deadline], dict[str, EndpointResult]] = service.deliver

    def deliver_and_record(event: CustomChannelEvent, deadline: Deadline) -> dict[str, EndpointResult]:
        results = deliver(event, deadline)
        log.delivered(event, results)
        return results

    service.deliver = deliver_and_record  # type: ignore[method-assign]
