"""The broadcast queue on SQS: one message per custom-channel batch, sent ten at a time."""

from __future__ import annotations

import json
import uuid
from typing import Any

from optin.adapters.aws import unavailable_on_failure
from optin.ports import DependencyUnavailable

MAX_ENTRIES = 10  # SendMessageBatch takes at most ten messages ...
MAX_BATCH_BYTES = 256 * 1024  # ... of 256 KiB together
_ATTEMPTS = 3  # entries SQS refuses for a transient reason are sent again, this many times in all


class SqsBroadcastQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, events: list[dict[str, Any]], delay_seconds: int = 0) -> int:
        bodies = [json.dumps(event, separators=(",", ":")) for event in events]
        for body in bodies:
            if len(body.encode()) > MAX_BATCH_BYTES:
                raise ValueError("a batch is larger than an SQS message may be")
        for group in _groups(bodies):
            self._send_group(group, delay_seconds)
        return len(bodies)

    def _send_group(self, bodies: list[str], delay_seconds: int) -> None:
        entries = {uuid.uuid4().hex: {"MessageBody": body, "DelaySeconds": delay_seconds} for body in bodies}
        for _ in range(_ATTEMPTS):
            with unavailable_on_failure("queueing the broadcast"):
                response = self._sqs.send_message_batch(
                    QueueUrl=self._url, Entries=[{"Id": key, **entry} for key, entry in entries.items()]
                )
            failed = response.get("Failed", [])
            if any(f.get("SenderFault") for f in failed):
                raise DependencyUnavailable(f"SQS refused a broadcast batch: {failed[0].get('Code')}")
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            if not entries:
                return
        raise DependencyUnavailable("SQS kept failing to queue part of the broadcast")


def _groups(bodies: list[str]) -> list[list[str]]:
    """Consecutive groups within SendMessageBatch's limits."""
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if current and (len(current) == MAX_ENTRIES or size + length > MAX_BATCH_BYTES):
            groups.append(current)
            current, size = [], 0
        current.append(body)
        size += length
    if current:
        groups.append(current)
    return groups
