"""Sending SMS with End User Messaging (pinpoint-sms-voice-v2 SendTextMessage)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from optin.adapters.aws import error_code, unavailable_on_failure
from optin.ports import RecipientOptedOut, SendRefused, SentMessage

_REFUSALS = {
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
    "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
    "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE",
    "DESTINATION_COUNTRY_BLOCKED",
    "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY",
}


class EndUserMessagingSender:
    def __init__(self, client: Any, origination_identity: str, configuration_set: str | None = None) -> None:
        self._sms = client
        self._origination = origination_identity
        self._configuration_set = configuration_set

    def send(self, to: str, body: str, message_type: str = "TRANSACTIONAL") -> SentMessage:
        """Send one SMS; ``message_type`` is TRANSACTIONAL (the opt-in flow) or PROMOTIONAL (follow-ups)."""
        request: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": self._origination,
            "MessageBody": body,
            "MessageType": message_type,
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        with unavailable_on_failure("sending the SMS"):
            try:
                response = self._sms.send_text_message(**request)
            except ClientError as exc:
                reason = str(exc.response.get("Reason") or exc.response.get("Error", {}).get("Reason", ""))
                if error_code(exc) == "ConflictException" and reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
                    raise RecipientOptedOut() from exc
                if error_code(exc) in {"ConflictException", "ValidationException"} and reason in _REFUSALS:
                    raise SendRefused(reason) from exc
                raise
        return SentMessage(message_id=response["MessageId"])
