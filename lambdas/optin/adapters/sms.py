"""Sending SMS with End User Messaging (pinpoint-sms-voice-v2 SendTextMessage).

SendTextMessage has no idempotency token, so a repeated request can put a second copy of a text on
the phone. The client never retries by itself (``adapters.aws``); this adapter retries only failures that
certainly did not reach the service or that the service answered (a connection that could not be made,
throttling, a 5xx). A request that may have reached it with no answer back (a read timeout, a dropped
connection) is reported as SendOutcomeUnknown and never repeated here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from optin.adapters.aws import error_code
from optin.ports import (
    DependencyUnavailable,
    RecipientOptedOut,
    SendOutcomeUnknown,
    SendRefused,
    SentMessage,
)

ATTEMPTS = 3
_sleep: Callable[[float], None] = time.sleep  # module-level so tests and benchmarks can skip the waits
_BACKOFF_SECONDS = 0.1
_REFUSALS = {
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
    "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
    "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE",
    "DESTINATION_COUNTRY_BLOCKED",
    "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY",
}
_RETRYABLE_CODES = {"ThrottlingException", "ServiceUnavailableException", "InternalServerException"}


class EndUserMessagingSender:
    def __init__(
        self,
        client: Any,
        origination_identity: str,
        configuration_set: str | None = None,
    ) -> None:
        self._sms = client
        self._origination = origination_identity
        self._configuration_set = configuration_set

    def send(
        self,
        to: str,
        body: str,
        *,
        context: Mapping[str, str] | None = None,
        message_type: str = "TRANSACTIONAL",
    ) -> SentMessage:
        """Send one SMS; ``message_type`` is TRANSACTIONAL (the opt-in flow) or PROMOTIONAL (follow-ups).
        ``context`` is passed back in the text's delivery events."""
        request: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": self._origination,
            "MessageBody": body,
            "MessageType": message_type,
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if context:
            request["Context"] = dict(context)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self._sms.send_text_message(**request)
            except HTTPClientError as exc:  # sent, maybe received: repeating it could text twice
                raise SendOutcomeUnknown(f"sending the SMS: {type(exc).__name__}") from exc
            except (ConnectionError, ClientError) as exc:
                if isinstance(exc, ClientError):
                    _raise_refusal(exc)
                if attempt == ATTEMPTS or not _retryable(exc):
                    raise DependencyUnavailable(f"sending the SMS: {type(exc).__name__}") from exc
                _sleep(random.uniform(0, _BACKOFF_SECONDS * 2**attempt))  # noqa: S311 -- jitter
                continue
            return SentMessage(message_id=response["MessageId"])
        raise AssertionError("unreachable")  # pragma: no cover


def _raise_refusal(exc: ClientError) -> None:
    reason = str(exc.response.get("Reason") or exc.response.get("Error", {}).get("Reason", ""))
    if error_code(exc) == "ConflictException" and reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
        raise RecipientOptedOut() from exc
    if error_code(exc) in {"ConflictException", "ValidationException"} and reason in _REFUSALS:
        raise SendRefused(reason) from exc


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, ConnectionError):
        return True  # the request never left: no copy can be on its way
    assert isinstance(exc, ClientError)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return error_code(exc) in _RETRYABLE_CODES or status >= 500
