"""Lambda events and contexts as AWS delivers them, for the sandbox, the tests and the benchmarks.

The one place that knows these shapes outside AWS: an API Gateway REST proxy event, the SNS
notification a two-way SMS topic publishes, the SQS record an event source mapping hands a function,
and a Lambda context whose remaining time runs down for real.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local.environment import ACCOUNT, REGION
from optin.clock import iso

STAGE = "v1"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes Powertools and handlers read)."""

    function_name: str = "sms-optin"
    remaining_ms: int = 30_000
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/sms-optin"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = (time.monotonic() - self._started) * 1000
        return max(0, int(self.remaining_ms - elapsed_ms))


def api_gateway_event(
    method: str,
    path: str,
    body: str | bytes | None,
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    source_ip: str = "127.0.0.1",
    query: Mapping[str, str] | None = None,
    api_id: str = "local",
) -> dict[str, Any]:
    """The API Gateway REST API proxy event for one HTTP request (stage ``v1``)."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    lower = {k.lower(): v for k, v in single.items()}
    encoded = False
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": lower.get("host", "127.0.0.1"),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": lower.get("user-agent")},
        },
        "body": body or None,
        "isBase64Encoded": encoded,
    }


def sns_notification(message: Mapping[str, Any] | str, at: datetime) -> dict[str, Any]:
    """What SNS delivers to an SQS subscription (raw message delivery off), e.g. for a two-way SMS."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:sms-optin-two-way",
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": iso(at),
        "SignatureVersion": "1",
        "Signature": "local",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    }


def sqs_record(
    body: Mapping[str, Any] | str, at: datetime, *, queue: str = "sms-optin-inbound"
) -> dict[str, Any]:
    """One SQS record as the Lambda event source mapping delivers it."""
    sent_ms = str(int(at.timestamp() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "local",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent_ms,
            "SenderId": "local",
            "ApproximateFirstReceiveTimestamp": sent_ms,
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


# End User Messaging's status for each TEXT_* event type, and what it says (user guide, "Event types").
_TEXT_STATUS = {
    "TEXT_PENDING": ("PENDING", "Message is pending delivery"),
    "TEXT_QUEUED": ("QUEUED", "Message is queued for delivery"),
    "TEXT_SUCCESSFUL": ("SUCCESSFUL", "Message has been accepted by phone carrier"),
    "TEXT_DELIVERED": ("DELIVERED", "Message has been delivered to the handset"),
    "TEXT_CARRIER_UNREACHABLE": ("CARRIER_UNREACHABLE", "The carrier could not be reached"),
    "TEXT_UNREACHABLE": ("UNREACHABLE", "The handset is not reachable"),
    "TEXT_BLOCKED": ("BLOCKED", "The handset or carrier blocked the message"),
}


def text_event_record(
    event_type: str,
    *,
    message_id: str,
    destination: str,
    origination: str,
    at: datetime,
    requested_at: datetime | None = None,
    is_final: bool = True,
    context: Mapping[str, str] | None = None,
    message_type: str = "TRANSACTIONAL",
    carrier: str = "Sandbox Wireless",
    price_usd: float = 0.00581,
) -> dict[str, Any]:
    """One text event record as a configuration set's event destination publishes it (End User
    Messaging user guide, "Example event data"; the SNS destination publishes it as the message)."""
    status, description = _TEXT_STATUS.get(event_type, (event_type.removeprefix("TEXT_"), ""))
    return {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": int(at.timestamp() * 1000),
        "isFinal": is_final,
        "originationPhoneNumber": origination,
        "destinationPhoneNumber": destination,
        "isoCountryCode": "US",
        "isInternationalSend": False,
        "mcc": "310",
        "mnc": "800",
        "carrierName": carrier,
        "messageId": message_id,
        "messageRequestTimestamp": int((requested_at or at).timestamp() * 1000),
        "messageEncoding": "GSM",
        "messageType": message_type,
        "messageStatus": status,
        "messageStatusDescription": description,
        "context": dict(context or {}),
        "totalMessageParts": 1,
        "totalMessagePrice": price_usd,
        "totalCarrierFee": 0.0,
    }
