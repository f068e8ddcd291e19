"""The sandbox's engine: the real Lambda handlers, DynamoDB emulated in-process by moto, the offline
carrier lookup and the outbox, behind plain methods that the HTTP server calls.

Each request becomes the event its Lambda function receives in AWS (an API Gateway REST proxy event,
or an SQS record carrying the SNS notification of a two-way SMS) and goes through the function's
``handler``: the same code paths as in Lambda. One invocation runs at a time, as in one Lambda
execution environment (the handlers keep per-invocation state in module globals).

Call :func:`local.environment.prepare_environment` before this module is imported: the handlers
read their settings from the environment when they are imported. Any AWS client the handlers ask for
is answered by moto, so nothing reaches AWS whatever is configured.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

import boto3
from moto import mock_aws

from local.carrier import OfflineCarrierLookup
from local.environment import ACCOUNT, E164, REGION
from local.outbox import Message, Outbox
from local.tables import create_tables
from optin.clock import iso, utcnow
from optin.consent import AuditEvent, Contact
from optin.handlers import inbound_sms, phone_validation, registration
from optin.settings import Settings, load_settings
from optin.wiring import Dependencies, install

STAGE: Final = "sandbox"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes Powertools reads)."""

    function_name: str
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    log_group_name: str = "/aws/lambda/sandbox"
    log_stream_name: str = "sandbox"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


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


class BadRequest(ValueError):
    """The sandbox API refuses a request; ``errors`` maps fields to why."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


# The API's routes, and the function behind each (as API Gateway maps them in the stack).
API_ROUTES: Final[dict[str, tuple[str, Callable[[dict[str, Any], Any], dict[str, Any]]]]] = {
    "/register": ("registration", registration.handler),
    "/validate": ("phone-validation", phone_validation.handler),
}


class Sandbox:
    """The handlers with their dependencies installed: moto DynamoDB, offline lookup, outbox."""

    def __init__(self, on_message: Callable[[Message], None] | None = None) -> None:
        self._mock = mock_aws()
        self._mock.start()
        try:
            self.settings: Settings = load_settings()
            self.dynamodb = boto3.client("dynamodb", region_name=REGION)
            self._clients: dict[str, Any] = {"dynamodb": self.dynamodb}
            create_tables(self.dynamodb, self.settings)
            self.number = self.settings.origination_identity
            self.outbox = Outbox(self.number, on_message=on_message)
            self.deps = Dependencies(
                self.settings, clients=self._client, sms=self.outbox, carrier=OfflineCarrierLookup()
            )
            install(self.deps)
        except BaseException:
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
        self._mock.stop()

    # -- the API (API Gateway -> Lambda proxy) ---------------------------------------------------------
    def invoke_api(self, request: HttpRequest) -> HttpResponse:
        """Run the API function routed at ``request.path`` with the event API Gateway would send."""
        function_name, handler = API_ROUTES[request.path]
        event = api_gateway_event(request)
        with self._invocation():
            result = handler(event, LambdaContext(function_name=f"sms-optin-{function_name}"))
        return http_response(result)

    @contextlib.contextmanager
    def _invocation(self) -> Iterator[None]:
        """One invocation at a time; with metrics off, the metric lines Powertools prints anyway
        (single_metric ignores POWERTOOLS_METRICS_DISABLED) stay off the terminal."""
        with self._lock:
            if not _metrics_disabled():
                yield
                return
            quiet = _DropMetricLines(sys.stdout)
            try:
                with contextlib.redirect_stdout(quiet):
                    yield
            finally:
                quiet.close()

    # -- inbound SMS (End User Messaging -> SNS -> SQS -> Lambda) ---------------------------------------
    def receive(self, payload: Any) -> dict[str, Any]:
        """Deliver a two-way SMS payload to the inbound function. Returns the two-way message as
        delivered and the replies the function sent. Raises BadRequest, or RuntimeError when the
        function reported the record as failed."""
        message = self._complete_two_way(payload)
        now = utcnow()
        record = sqs_record(sns_notification(message, now), now)
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
            raise BadRequest("The request body must be a JSON object.", {"body": "Send a JSON object."})
        errors: dict[str, str] = {}
        origination = payload.get("originationNumber")
        if not isinstance(origination, str) or not origination.strip():
            errors["originationNumber"] = (
                "Required: the sending handset's number in E.164, e.g. +12065550142."
            )
        elif not E164.match(origination.strip()):
            errors["originationNumber"] = "Use an E.164 number such as +12065550142."
        body = payload.get("messageBody")
        if not isinstance(body, str):
            errors["messageBody"] = "Required: the text of the message."
        optional = ("destinationNumber", "inboundMessageId", "messageKeyword", "previousPublishedMessageId")
        for name in optional:
            value = payload.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                errors[name] = "Must be non-empty text when given."
        if errors:
            raise BadRequest("Some fields are not valid.", errors)
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
        """Forget every contact, lookup and message."""
        with self._lock:
            for name in self.dynamodb.list_tables()["TableNames"]:
                self.dynamodb.delete_table(TableName=name)
            create_tables(self.dynamodb, self.settings)
            self.outbox.clear()


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
    headers: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi.setdefault(name, []).append(value)
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        body: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode("ascii"), True
    now_ms = int(time.time() * 1000)
    return {
        "resource": request.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": dict(request.query) or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in request.query.items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": request.path,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": now_ms,
            "accountId": ACCOUNT,
            "apiId": "sandbox",
            "domainName": lower.get("host", "127.0.0.1"),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.source_ip, "userAgent": lower.get("user-agent")},
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


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


def sns_notification(two_way: dict[str, str], at: datetime) -> dict[str, Any]:
    """What SNS delivers to an SQS subscription (raw message delivery off) for a two-way SMS."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:sms-optin-two-way",
        "Message": json.dumps(two_way),
        "Timestamp": iso(at),
        "SignatureVersion": "1",
        "Signature": "sandbox",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    }


def sqs_record(notification: dict[str, Any], at: datetime) -> dict[str, Any]:
    """One SQS record as the Lambda event source mapping delivers it."""
    body = json.dumps(notification)
    sent_ms = str(int(at.timestamp() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "sandbox",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent_ms,
            "SenderId": "sandbox",
            "ApproximateFirstReceiveTimestamp": sent_ms,
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:sms-optin-inbound",
        "awsRegion": REGION,
    }


# -- JSON ----------------------------------------------------------------------------------------------
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    return value


def contact_json(contact: Contact, events: list[AuditEvent]) -> dict[str, Any]:
    """The contact as stored (camelCase, absent values as null) with its audit trail, oldest first."""
    data = {_camel(f.name): _plain(getattr(contact, f.name)) for f in dataclasses.fields(contact)}
    data["events"] = [
        {"type": e.type, "at": iso(e.at), "detail": dict(e.detail), "id": e.id}
        for e in sorted(events, key=lambda e: e.at)
    ]
    return data
