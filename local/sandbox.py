"""The sandbox's engine: the real Lambda handlers, DynamoDB and SQS emulated in-process by moto, the
offline carrier lookup, the outbox, an in-memory EventBridge Scheduler and a fake WhatsApp Cloud API on
127.0.0.1, behind plain methods that the HTTP server calls.

Each request becomes the event its Lambda function receives in AWS (an API Gateway REST proxy event,
an SQS record carrying the SNS notification of a two-way SMS, a schedule's input, or the broadcast
queue's records) and goes through the function's ``handler``: the same code paths as in Lambda. One
invocation runs at a time, as in one Lambda execution environment (the handlers keep per-invocation
state in module globals).

Call :func:`local.environment.prepare_environment` before this module is imported: the handlers
read their settings from the environment when they are imported. Any AWS client the handlers ask for
is answered by moto, so nothing reaches AWS whatever is configured.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any, Final

import boto3
from moto import mock_aws

from local import events
from local.broadcast_log import BroadcastLog, record_deliveries
from local.carrier import OfflineCarrierLookup
from local.environment import ACCOUNT, E164, REGION
from local.events import LambdaContext
from local.fake_opt_outs import FakeOptOutList
from local.fake_scheduler import FakeScheduler, ScheduleClock, sender_invoker
from local.fake_whatsapp import FakeWhatsApp, Received
from local.outbox import Message, Outbox
from local.tables import create_tables, fast_moto_transactions
from local.text_delivery import text_events
from optin.adapters.whatsapp_graph import GraphApiTransport, StaticToken
from optin.admin.adapters import DynamoConsentRecords, ProfileFilter
from optin.admin.rows import record_json
from optin.admin.service import ConsentAdmin, EraseResult, RowResult, SyncReport
from optin.clock import iso, parse_iso, utcnow
from optin.consent import AuditEvent, Contact
from optin.delivery_events.status import status_of
from optin.followups.sequence import SendWindow, format_after, recipient_zones
from optin.handlers import (
    broadcasts,
    custom_channel,
    delivery_events,
    inbound_sms,
    phone_validation,
    registration,
)
from optin.limits import MAX_MESSAGE_ID_LENGTH, MAX_SMS_BODY_LENGTH
from optin.request_body import BodyError
from optin.settings import Settings, load_settings
from optin.wiring import Dependencies, install

BROADCAST_QUEUE: Final = "sms-optin-broadcasts"
DELIVERY_QUEUE: Final = "sms-optin-delivery-events"
MAX_QUEUE_ROUNDS: Final = 100  # receive calls per broadcast at most (each takes up to ten records)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class BadRequest(BodyError):
    """The sandbox API refuses a request (400): ``errors`` maps fields to why and ``codes`` to a stable
    code, as the API's own 400s do (``optin.request_body``)."""

    def __init__(
        self, message: str, errors: dict[str, str] | None = None, codes: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors or {"body": message}, codes or {}, message)


# The API's routes, and the function behind each (as API Gateway maps them in the stack).
API_ROUTES: Final[dict[str, tuple[str, Callable[[dict[str, Any], Any], dict[str, Any]]]]] = {
    "/register": ("registration", registration.handler),
    "/form-token": ("registration", registration.handler),  # GET: the form's signed fill-time token
    "/validate": ("phone-validation", phone_validation.handler),
    "/broadcasts": ("broadcasts", broadcasts.handler),  # IAM-authorized in AWS; served as is here
}


class Sandbox:
    """The handlers with their dependencies installed: moto DynamoDB and SQS, offline lookup, outbox,
    an in-memory scheduler for follow-ups and a fake WhatsApp Cloud API for broadcasts.

    ``on_message`` hears of every text, ``on_whatsapp`` of every request the fake WhatsApp API
    answered, ``on_note`` of what a broadcast or a "send due steps now" did (one line each)."""

    def __init__(
        self,
        on_message: Callable[[Message], None] | None = None,
        on_whatsapp: Callable[[Received], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self._on_note = on_note
        # The WhatsApp Cloud API the delivery function sends to: on 127.0.0.1, any free port.
        self.whatsapp = FakeWhatsApp(on_request=on_whatsapp)
        self._mock = mock_aws()
        self._mock.start()
        # Transactions back up only what they touch (moto copies whole tables), so the sandbox stays small
        # and fast as contacts pile up; tests/test_tables.py shows the emulation behaves the same.
        self._fast_transactions = fast_moto_transactions()
        self._fast_transactions.__enter__()
        try:
            self.whatsapp.start()
            base = load_settings()
            self.dynamodb = boto3.client("dynamodb", region_name=REGION)
            self.sqs = boto3.client("sqs", region_name=REGION)
            self._clients: dict[str, Any] = {"dynamodb": self.dynamodb, "sqs": self.sqs}
            create_tables(self.dynamodb, base)
            self.broadcast_queue_url: str = self.sqs.create_queue(QueueName=BROADCAST_QUEUE)["QueueUrl"]
            self.settings: Settings = replace(
                base,
                whatsapp_transport="graph",
                whatsapp_base_url=self.whatsapp.url,
                whatsapp_phone_number_id=self.whatsapp.phone_number_id,
                whatsapp_secret_id="unused",  # noqa: S106 -- never read: the sandbox uses the fake's token
                broadcast_queue_url=self.broadcast_queue_url,
                whatsapp_requeue_delay_seconds=0,  # what failed is retried within the same drain
            )
            self.number = self.settings.origination_identity
            # End User Messaging's opt-out list of our number: the outbox refuses numbers on it.
            self.opt_out_list = FakeOptOutList()
            self.outbox = Outbox(self.number, on_message=on_message, opted_out=self.opt_out_list.has)
            # Real time, except while a schedule fires early: then the schedule's own time.
            self.clock = ScheduleClock()
            self.deps = Dependencies(
                self.settings,
                clients=self._client,
                clock=self.clock,
                sms=self.outbox,
                carrier=OfflineCarrierLookup(),
            )
            self.scheduler = FakeScheduler(clock=self.clock)
            self.deps.scheduler = self.scheduler  # type: ignore[misc]
            self.deps.whatsapp = GraphApiTransport(  # type: ignore[misc]
                self.whatsapp.url,
                self.settings.whatsapp_api_version,
                self.whatsapp.phone_number_id,
                StaticToken(self.whatsapp.token),
            )
            self.broadcasts = BroadcastLog()
            record_deliveries(self.deps.delivery, self.broadcasts)
            install(self.deps)
            self.admin = ConsentAdmin(
                self.deps,
                DynamoConsentRecords(
                    self.dynamodb,
                    self.settings.contacts_table,
                    self.settings.idempotency_table,
                    self.settings.lookup_cache_table,
                ),
                lambda: self.opt_out_list,
            )
        except BaseException:
            self.whatsapp.stop()
            self._fast_transactions.__exit__(None, None, None)
            self._mock.stop()
            raise
        # One invocation at a time, like one Lambda execution environment; data reads wait too.
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        """A client for ``service``, answered by moto: nothing here reaches AWS. Texts and carrier
        lookups never get here (the outbox and the offline lookup replace them)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def close(self) -> None:
        install(None)
        self.whatsapp.stop()
        self._fast_transactions.__exit__(None, None, None)
        self._mock.stop()

    def _note(self, line: str) -> None:
        if self._on_note is not None:
            self._on_note(line)

    # -- the API (API Gateway -> Lambda proxy) ---------------------------------------------------------
    def invoke_api(self, request: HttpRequest) -> HttpResponse:
        """Run the API function routed at ``request.path`` with the event API Gateway would send. A
        broadcast accepted by ``POST /broadcasts`` is delivered before this returns: the sandbox drains
        the broadcast queue into the delivery function (in AWS the queue's event source mapping does)."""
        event = api_gateway_event(request)
        with self._invocation():
            response = self._run_api(request.path, event)
            if request.path == "/broadcasts" and request.method == "POST" and response.status == 202:
                self._deliver_broadcast(request, response)
        return response

    def invoke_api_event(self, path: str, event: dict[str, Any]) -> HttpResponse:
        """Run the API function routed at ``path`` with ``event`` exactly as given (an API Gateway REST
        proxy event, e.g. one whose ``isBase64Encoded`` flag lies); for fuzzing. No broadcast delivery."""
        with self._invocation():
            return self._run_api(path, event)

    def _run_api(self, path: str, event: dict[str, Any]) -> HttpResponse:
        function_name, handler = API_ROUTES[path]
        return http_response(handler(event, LambdaContext(function_name=f"sms-optin-{function_name}")))

    # -- WhatsApp broadcasts (POST /broadcasts -> SQS -> custom-channel function -> WhatsApp) ------------
    def _deliver_broadcast(self, request: HttpRequest, response: HttpResponse) -> None:
        answer = _json_object(response.body)
        body = _json_object(request.body)  # the handler accepted it: a JSON object
        body.setdefault("language", self.settings.whatsapp_default_language)
        self.broadcasts.started(answer, body, utcnow())
        failed = self._drain_broadcast_queue()
        broadcast_id = str(answer.get("broadcastId"))
        for campaign, count in failed.items():
            self.broadcasts.batches_not_delivered(campaign, count)
        summary = self.broadcasts.get(broadcast_id) or {}
        counts = summary.get("results", {})
        line = (
            f"WhatsApp broadcast {broadcast_id[:8]} ({body.get('template')}): "
            f"{answer.get('queuedContacts', 0)} queued, {counts.get('sent', 0)} sent, "
            f"{counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped"
        )
        if failed:
            line += f"; {sum(failed.values())} queue record(s) not delivered (see above)"
        self._note(line)

    def _drain_broadcast_queue(self) -> dict[str, int]:
        """Deliver everything on the broadcast queue through the custom-channel function, ten records per
        invocation, as the event source mapping would. Every record is removed once handled: a record
        the function reports as failed would come back later in AWS and finally rest in the DLQ; here it
        is counted (per broadcast id) and returned instead."""
        failed: dict[str, int] = {}
        for _ in range(MAX_QUEUE_ROUNDS):
            answer = self.sqs.receive_message(
                QueueUrl=self.broadcast_queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            records = [broadcast_record(m) for m in messages]
            result = custom_channel.handler(
                {"Records": records}, LambdaContext(function_name="sms-optin-custom-channel")
            )
            failures = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failures:
                    campaign = _campaign_of(message["Body"])
                    failed[campaign] = failed.get(campaign, 0) + 1
                self.sqs.delete_message(
                    QueueUrl=self.broadcast_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return failed

    def whatsapp_messages(self) -> list[dict[str, Any]]:
        """What the fake WhatsApp API received, oldest first: {"to" (E.164), "template", "language",
        "components", "receivedAt", "status" (the HTTP status it answered), "messageId" (null unless
        accepted)}."""
        messages = []
        for m in self.whatsapp.messages():
            template = m.get("template") if isinstance(m.get("template"), dict) else {}
            language = template.get("language")
            messages.append(
                {
                    "to": f"+{m['to'].lstrip('+')}" if m.get("to") else None,
                    "template": template.get("name"),
                    "language": language.get("code") if isinstance(language, dict) else None,
                    "components": template.get("components", []),
                    "receivedAt": m.get("receivedAt"),
                    "status": m.get("status"),
                    "messageId": m.get("messageId"),
                }
            )
        return messages

    # -- follow-up sequences (EventBridge Scheduler -> follow-up function) --------------------------------
    def schedules(self, phone: str | None = None) -> dict[str, Any]:
        """The configured sequence, the sending window and the pending schedules (``phone``'s only, when
        given), earliest first, each with its time in the recipient's time zone."""
        with self._lock:
            listing = self.scheduler.listing(phone)
            zones: dict[str, Any] = {}
            for entry in listing:
                number = entry["phone"]
                if number not in zones:
                    contact = self.deps.contacts.get(number)
                    zones[number] = recipient_zones(contact.timezone if contact else None, number)[0]
                zone = zones[number]
                entry["timezone"] = zone.key
                entry["localAt"] = parse_iso(entry["at"]).astimezone(zone).isoformat(timespec="seconds")
        s = self.settings
        return {
            "sequence": [
                {"id": step.id, "after": format_after(step.after), "messageType": step.message_type}
                for step in s.follow_up_steps
            ],
            "sendWindow": str(SendWindow(*s.follow_up_window)),
            "schedules": listing,
        }

    def send_due(self, phone: str | None = None) -> dict[str, Any]:
        """Fire every pending schedule now (``phone``'s only, when given; the page's "Send due steps now")
        through the real follow-up function, with the clock at each schedule's own time. Returns one result per
        schedule fired ({"name", "phone", "step", "at", "outcome"} or {..., "error"}) and the texts sent."""
        invoke = sender_invoker(lambda: LambdaContext(function_name="sms-optin-follow-up"))
        with self._invocation():
            before = self.outbox.count()
            results = self.scheduler.send_due(invoke, early=True, phone=phone, clock=self.clock)
            sent = [m for m in self.outbox.since(before) if m.direction == "outbound"]
        for r in results:
            self._note(
                f"Follow-up {r['step']} to {r['phone']} fired early: {r.get('outcome') or r.get('error')}"
            )
        return {"results": results, "messages": [m.to_json() for m in sent]}

    @contextlib.contextmanager
    def _invocation(self) -> Iterator[None]:
        """One invocation at a time; with metrics off, the metric lines Powertools prints anyway
        (single_metric ignores POWERTOOLS_METRICS_DISABLED) stay off the terminal."""
        with self._lock:
            before = self.outbox.count()
            if not _metrics_disabled():
                yield
                self._publish_text_events(before)
                return
            quiet = _DropMetricLines(sys.stdout)
            try:
                with contextlib.redirect_stdout(quiet):
                    yield
                    self._publish_text_events(before)
            finally:
                quiet.close()

    def _publish_text_events(self, since: int) -> None:
        """The delivery events of the texts an invocation sent, through the real DeliveryEvents handler
        (in AWS: configuration set -> SNS -> SQS -> function). The handset shows what each text's
        events said last."""
        sent = [m for m in self.outbox.since(since) if m.direction == "outbound"]
        if not sent:
            return
        records, statuses = [], {}
        for message in sent:
            for event in text_events(message):
                at = parse_iso(iso(message.sent_at))
                records.append(
                    events.sqs_record(events.sns_notification(event, at), at, queue=DELIVERY_QUEUE)
                )
                status = status_of(event["eventType"], bool(event["isFinal"]))
                if status is not None:
                    statuses[message.message_id] = status.value
        result = delivery_events.handler(
            {"Records": records}, LambdaContext(function_name="sms-optin-delivery-events")
        )
        if result.get("batchItemFailures"):
            self._note("Some delivery events could not be applied; see the log above.")
        for message_id, status in statuses.items():
            self.outbox.set_delivery(message_id, status)

    # -- inbound SMS (End User Messaging -> SNS -> SQS -> Lambda) ---------------------------------------
    def receive(self, payload: Any) -> dict[str, Any]:
        """Deliver a two-way SMS payload to the inbound function. Returns the two-way message as
        delivered and the replies the function sent. Raises BadRequest, or RuntimeError when the
        function reported the record as failed."""
        message = self._complete_two_way(payload)
        now = utcnow()
        record = events.sqs_record(events.sns_notification(message, now), now)
        with self._invocation():
            if not self.outbox.has_inbound(message["inboundMessageId"]):
                self.outbox.record_inbound(
                    message["originationNumber"],
                    message["destinationNumber"],
                    message["messageBody"],
                    message["inboundMessageId"],
                    now,
                )
            before = self.outbox.count()
            result = inbound_sms.handler(
                {"Records": [record]}, LambdaContext(function_name="sms-optin-inbound")
            )
            replies = [m for m in self.outbox.since(before) if m.direction == "outbound"]
        if result.get("batchItemFailures"):
            raise RuntimeError("the inbound function failed to process the message; see the log above")
        return {"message": message, "replies": [m.to_json() for m in replies]}

    def _complete_two_way(self, payload: Any) -> dict[str, str]:
        if not isinstance(payload, dict):
            raise BadRequest(
                "The request body must be a JSON object.",
                {"body": "Send a JSON object."},
                {"body": "not_object"},
            )
        errors: dict[str, str] = {}
        codes: dict[str, str] = {}

        def refuse(field: str, code: str, why: str) -> None:
            errors[field], codes[field] = why, code

        origination = payload.get("originationNumber")
        if not isinstance(origination, str) or not origination.strip():
            refuse(
                "originationNumber",
                "required" if origination is None or isinstance(origination, str) else "not_text",
                "Required: the sending handset's number in E.164, e.g. +12065550142.",
            )
        elif not E164.match(origination.strip()):
            refuse("originationNumber", "not_e164", "Use an E.164 number such as +12065550142.")
        body = payload.get("messageBody")
        if not isinstance(body, str):
            refuse(
                "messageBody",
                "required" if body is None else "not_text",
                "Required: the text of the message.",
            )
        elif len(body) > MAX_SMS_BODY_LENGTH:
            refuse("messageBody", "too_long", f"Use at most {MAX_SMS_BODY_LENGTH} characters.")
        optional = ("destinationNumber", "inboundMessageId", "messageKeyword", "previousPublishedMessageId")
        for name in optional:
            value = payload.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                refuse(name, "not_text", "Must be non-empty text when given.")
            elif isinstance(value, str) and len(value) > MAX_MESSAGE_ID_LENGTH:
                refuse(name, "too_long", f"Use at most {MAX_MESSAGE_ID_LENGTH} characters.")
        if errors:
            raise BadRequest("Some fields are not valid.", errors, codes)
        assert isinstance(origination, str) and isinstance(body, str)
        phone = origination.strip()
        return {
            "originationNumber": phone,
            "destinationNumber": payload.get("destinationNumber") or self.number,
            "messageKeyword": payload.get("messageKeyword") or f"KEYWORD_{ACCOUNT}",
            "messageBody": body,
            "inboundMessageId": payload.get("inboundMessageId") or str(uuid.uuid4()),
            "previousPublishedMessageId": payload.get("previousPublishedMessageId")
            or self.outbox.last_sent_id(phone)
            or str(uuid.uuid4()),
        }

    # -- reading back ------------------------------------------------------------------------------------
    def contact(self, phone: str) -> dict[str, Any] | None:
        """The stored contact with its audit trail, or None."""
        with self._lock:
            contact = self.deps.contacts.get(phone)
            events = self.deps.contacts.events(phone) if contact is not None else []
        return contact_json(contact, events) if contact is not None else None

    def reset(self) -> None:
        """Forget every contact, lookup, text, schedule and broadcast, and what the fake WhatsApp API
        received."""
        with self._lock:
            for name in self.dynamodb.list_tables()["TableNames"]:
                self.dynamodb.delete_table(TableName=name)
            create_tables(self.dynamodb, self.settings)
            self.outbox.clear()
            self.scheduler.clear()
            self.sqs.purge_queue(QueueUrl=self.broadcast_queue_url)
            self.broadcasts.clear()
            self.whatsapp.reset()
            self.opt_out_list.clear()

    # -- the admin tool's routes (sms-optin --sandbox URL): the same ConsentAdmin as against a stack ----
    def admin_show(self, phone: str) -> dict[str, Any] | None:
        with self._lock:
            return self.admin.show(phone)

    def admin_export(self, where: ProfileFilter, with_audit: bool) -> Generator[dict[str, Any], None, None]:
        """Records one at a time (the caller streams them); the tables stay locked until the last."""
        with self._lock:
            yield from self.admin.export(where, with_audit)

    def admin_erase(self, phone: str, reason: str) -> EraseResult:
        with self._lock:
            return self.admin.erase(phone, reason)

    def admin_import_row(self, row: dict[str, Any], line: int, **options: Any) -> RowResult:
        """One row through the registration service: a confirmation text it sends goes to the outbox and
        its delivery events through the real handler, as for the form."""
        with self._invocation():
            return self.admin.import_row(row, line, **options)

    def admin_sync_opt_outs(self, apply: bool) -> SyncReport:
        with self._lock:
            return self.admin.sync_opt_outs(apply)


def _metrics_disabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in {"1", "true", "yes", "on"}


class _DropMetricLines(io.TextIOBase):
    """Text passed through to ``target``, less CloudWatch embedded-metric-format lines."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if not line.startswith('{"_aws"'):
                self._target.write(line + "\n")
        return len(text)

    def close(self) -> None:
        if self._pending and not self._pending.startswith('{"_aws"'):
            self._target.write(self._pending)
        self._pending = ""
        super().close()


# -- events ------------------------------------------------------------------------------------------
def api_gateway_event(request: HttpRequest) -> dict[str, Any]:
    """The API Gateway REST API proxy event for an HTTP request."""
    return events.api_gateway_event(
        request.method,
        request.path,
        request.body,
        headers=request.headers,
        source_ip=request.source_ip,
        query=request.query,
        api_id="sandbox",
    )


def http_response(result: dict[str, Any]) -> HttpResponse:
    """The HTTP response API Gateway makes of a proxy integration's result."""
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (result.get("multiValueHeaders") or {}).items():
        seen.add(name.lower())
        headers.extend((name, str(v)) for v in values)
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return HttpResponse(int(result.get("statusCode", 502)), headers, body)


def broadcast_record(message: dict[str, Any]) -> dict[str, Any]:
    """A message received from the broadcast queue, as the Lambda event source mapping delivers it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{BROADCAST_QUEUE}",
        "awsRegion": REGION,
    }


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _campaign_of(body: str) -> str:
    try:
        return str(json.loads(body).get("CampaignId") or "unknown")
    except (ValueError, AttributeError):
        return "unknown"


# -- JSON ----------------------------------------------------------------------------------------------
def contact_json(contact: Contact, events: list[AuditEvent]) -> dict[str, Any]:
    """The contact as stored (camelCase, absent values as null) with its audit trail, oldest first: the
    record ``sms-optin contacts show --json`` prints."""
    return record_json(contact, sorted(events, key=lambda e: e.at))
