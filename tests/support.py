"""Test helpers: a controllable clock, stubbed AWS clients, and Lambda event builders."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from local import events
from local.events import LambdaContext as LambdaContext  # re-exported for the tests
from optin.settings import Settings
from optin.wiring import Dependencies, install

OUR_NUMBER = "+12065550100"
PHONE_TYPE_CODES = {"MOBILE": 0, "LANDLINE": 1, "VOIP": 2, "INVALID": 3, "OTHER": 4, "PREPAID": 5}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class FakeAws:
    """moto DynamoDB plus real pinpoint / pinpoint-sms-voice-v2 clients under botocore's Stubber."""

    def __init__(self, dynamodb: Any) -> None:
        self.dynamodb = dynamodb
        self.pinpoint = boto3.client("pinpoint", region_name="us-east-1")
        self.sms = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
        self.pinpoint_stub = Stubber(self.pinpoint)
        self.sms_stub = Stubber(self.sms)
        self.sent: list[dict[str, Any]] = []  # every SendTextMessage that succeeded, in order
        self._request: dict[str, Any] = {}
        events = self.sms.meta.events
        events.register("provide-client-params.pinpoint-sms-voice-v2.SendTextMessage", self._remember_request)
        events.register("after-call.pinpoint-sms-voice-v2.SendTextMessage", self._record_if_sent)
        self.deps: Dependencies

    def client(self, service: str) -> Any:
        return {"dynamodb": self.dynamodb, "pinpoint": self.pinpoint, "pinpoint-sms-voice-v2": self.sms}[
            service
        ]

    def install(self, settings: Settings, clock: Clock) -> Dependencies:
        self.deps = Dependencies(settings, clients=self.client, clock=clock)
        install(self.deps)
        return self.deps

    # -- expectations ---------------------------------------------------------------------------
    def expect_lookup(self, e164: str, phone_type: str = "MOBILE", country: str = "US", **extra: str) -> None:
        response = {
            "NumberValidateResponse": {
                "CleansedPhoneNumberE164": e164,
                "CountryCodeIso2": country,
                "PhoneType": phone_type,
                "PhoneTypeCode": PHONE_TYPE_CODES[phone_type],
                "Carrier": "Example Wireless",
                **extra,
            }
        }
        self.pinpoint_stub.add_response(
            "phone_number_validate",
            response,
            {"NumberValidateRequest": {"PhoneNumber": e164, "IsoCountryCode": ANY}},
        )

    def expect_lookup_error(self, code: str = "InternalServerErrorException", status: int = 500) -> None:
        self.pinpoint_stub.add_client_error(
            "phone_number_validate", service_error_code=code, http_status_code=status
        )

    def expect_sms(self, to: str, message_id: str | None = None, kind: str | None = None) -> str:
        """One accepted SendTextMessage to ``to``; ``kind`` (confirmation, reply, followUp) checks the
        Context our send passes for its delivery events."""
        message_id = message_id or f"msg-{uuid.uuid4().hex[:12]}"
        self.sms_stub.add_response(
            "send_text_message",
            {"MessageId": message_id},
            {
                "DestinationPhoneNumber": to,
                "OriginationIdentity": ANY,
                "MessageBody": ANY,
                "MessageType": "TRANSACTIONAL",
                "Context": ANY if kind is None else _ContextOf(kind),
            },
        )
        return message_id

    def expect_sms_error(
        self, code: str = "InternalServerException", status: int = 500, *, times: int = 1, **response: Any
    ) -> None:
        for _ in range(times):
            self.sms_stub.add_client_error(
                "send_text_message",
                service_error_code=code,
                http_status_code=status,
                response_meta=None,
                modeled_fields=response or None,
            )

    def expect_sms_outage(self) -> None:
        """SendTextMessage throttled on every attempt the adapter makes (it retries what did not reach
        the service)."""
        from optin.adapters.sms import ATTEMPTS

        self.expect_sms_error("ThrottlingException", 400, times=ATTEMPTS)

    def expect_endpoint_update(self, endpoint_id: str, opt_out: str) -> None:
        self.pinpoint_stub.add_response(
            "update_endpoint",
            {"MessageBody": {"Message": "Accepted", "RequestID": "r-1"}},
            {"ApplicationId": ANY, "EndpointId": endpoint_id, "EndpointRequest": _with_opt_out(opt_out)},
        )

    def texts_to(self, phone: str) -> list[str]:
        """Bodies of the SMS sent to ``phone``, oldest first."""
        return [call["MessageBody"] for call in self.sent if call["DestinationPhoneNumber"] == phone]

    def _remember_request(self, params: dict[str, Any], **_: Any) -> None:
        self._request = dict(params)

    def _record_if_sent(self, parsed: dict[str, Any], **_: Any) -> None:
        if "MessageId" in parsed:
            self.sent.append({**self._request, "MessageId": parsed["MessageId"]})


class _OptOutMatcher(dict):
    """Matches an EndpointRequest whose OptOut is the expected value."""

    def __init__(self, opt_out: str) -> None:
        super().__init__()
        self.opt_out = opt_out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("OptOut") == self.opt_out

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


class _ContextOf(dict):
    """Matches a SendTextMessage Context of the given kind that names its send."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("kind") == self.kind and bool(other.get("sendId"))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def _with_opt_out(opt_out: str) -> Any:
    return _OptOutMatcher(opt_out)


# -- Lambda events (the shapes live in local.events, shared with the sandbox and the benchmarks) ------
def api_event(
    path: str,
    body: Any,
    *,
    ip: str = "203.0.113.7",
    user_agent: str = "pytest-browser/1.0",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (proxy) event for POST ``path``."""
    return events.api_gateway_event(
        "POST",
        path,
        body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": "application/json", "User-Agent": user_agent, **(headers or {})},
        source_ip=ip,
    )


def two_way(
    origination: str, body: str, *, destination: str = OUR_NUMBER, message_id: str | None = None
) -> dict[str, Any]:
    return {
        "originationNumber": origination,
        "destinationNumber": destination,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": message_id or str(uuid.uuid4()),
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }


def sqs_record(
    payload: dict[str, Any] | str, *, at: datetime | None = None, raw: bool = False
) -> dict[str, Any]:
    """An SQS record carrying an SNS notification (or, with ``raw``, the payload itself)."""
    at = at or datetime(2026, 11, 22, 15, 5, tzinfo=UTC)
    message = payload if isinstance(payload, str) else json.dumps(payload)
    return events.sqs_record(message if raw else events.sns_notification(message, at), at)


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
