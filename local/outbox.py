"""Where the sandbox's text messages go instead of a phone: an in-memory log of both directions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from optin.clock import iso, utcnow
from optin.ports import RecipientOptedOut, SentMessage


@dataclass
class Message:
    """One text message. ``direction`` is "outbound" (we sent it) or "inbound" (the handset did).
    ``delivery`` is what the text's delivery events said last (SENT, DELIVERED, FAILED), outbound only."""

    to: str
    sender: str
    body: str
    sent_at: datetime
    message_id: str
    direction: str = "outbound"
    context: dict[str, str] = field(default_factory=dict)  # SendTextMessage's Context (outbound only)
    message_type: str = "TRANSACTIONAL"
    delivery: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The sandbox API's message shape: {"to", "from", "body", "sentAt", "messageId", "delivery"}."""
        return {
            "to": self.to,
            "from": self.sender,
            "body": self.body,
            "sentAt": iso(self.sent_at),
            "messageId": self.message_id,
            "delivery": self.delivery,
        }


class Outbox:
    """:class:`optin.ports.SmsSender` that keeps every message instead of sending it, and the
    simulator's replies beside them. Safe to use from several threads."""

    def __init__(
        self,
        origination: str,
        clock: Callable[[], datetime] = utcnow,
        on_message: Callable[[Message], None] | None = None,
        opted_out: Callable[[str], bool] | None = None,
    ) -> None:
        self.origination = origination
        # As End User Messaging does for a number on the origination number's opt-out list.
        self._opted_out = opted_out
        self._clock = clock
        self._on_message = on_message
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        # Indexes, so that a long-running sandbox answers in constant time whatever the log's length.
        self._outbound: dict[str, Message] = {}
        self._inbound_ids: set[str] = set()
        self._last_sent: dict[str, str] = {}

    # -- SmsSender ----------------------------------------------------------------------------------
    def send(
        self,
        to: str,
        body: str,
        *,
        context: Mapping[str, str] | None = None,
        message_type: str = "TRANSACTIONAL",
    ) -> SentMessage:
        if self._opted_out is not None and self._opted_out(to):
            raise RecipientOptedOut()
        message = Message(
            to,
            self.origination,
            body,
            self._clock(),
            str(uuid.uuid4()),
            context=dict(context or {}),
            message_type=message_type,
        )
        self._append(message)
        return SentMessage(message_id=message.message_id, sent_at=message.sent_at)

    # -- the simulator ------------------------------------------------------------------------------
    def record_inbound(self, sender: str, to: str, body: str, message_id: str, at: datetime) -> Message:
        message = Message(to, sender, body, at, message_id, direction="inbound")
        self._append(message)
        return message

    def set_delivery(self, message_id: str, status: str) -> None:
        """Show ``status`` under the text (the handset's tick): what its delivery events said last."""
        with self._lock:
            message = self._outbound.get(message_id)
            if message is not None:
                message.delivery = status

    def has_inbound(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._inbound_ids

    def _append(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)
            if message.direction == "outbound":
                self._outbound[message.message_id] = message
                self._last_sent[message.to] = message.message_id
            else:
                self._inbound_ids.add(message.message_id)
        if self._on_message is not None:
            self._on_message(message)

    def sent(self, to: str | None = None) -> list[Message]:
        """Messages we sent (to ``to`` only, when given), oldest first."""
        with self._lock:
            return [m for m in self._messages if m.direction == "outbound" and (to is None or m.to == to)]

    def conversation(self, phone: str) -> list[Message]:
        """Both directions between us and ``phone``, oldest first."""
        with self._lock:
            return [
                m
                for m in self._messages
                if (m.direction == "outbound" and m.to == phone)
                or (m.direction == "inbound" and m.sender == phone)
            ]

    def phones(self) -> list[str]:
        """Every handset in the log, most recently active first."""
        with self._lock:
            latest: dict[str, datetime] = {}
            for m in self._messages:
                phone = m.to if m.direction == "outbound" else m.sender
                latest[phone] = m.sent_at
        return sorted(latest, key=lambda phone: latest[phone], reverse=True)

    def last_sent_id(self, to: str) -> str | None:
        with self._lock:
            return self._last_sent.get(to)

    def count(self) -> int:
        with self._lock:
            return len(self._messages)

    def since(self, index: int) -> list[Message]:
        with self._lock:
            return list(self._messages[index:])

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._outbound.clear()
            self._inbound_ids.clear()
            self._last_sent.clear()
