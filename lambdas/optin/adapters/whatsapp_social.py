"""WhatsApp through AWS End User Messaging Social (``socialmessaging`` SendWhatsAppMessage).

The same Cloud API message body travels as the ``message`` blob; AWS holds the Meta credentials, so
there is no token here. IAM: ``social-messaging:SendWhatsAppMessage`` on the phone number's ARN.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from optin.adapters.aws import error_code
from optin.whatsapp.templates import PermanentSendError, TransientSendError

TRANSIENT_CODES = frozenset(
    {"ThrottledRequestException", "InternalServiceException", "DependencyException", "ThrottlingException"}
)


class SocialMessagingTransport:
    """WhatsAppTransport on End User Messaging Social."""

    def __init__(self, client: Any, phone_number_id: str, meta_api_version: str) -> None:
        self._social = client
        self._phone_number_id = phone_number_id
        self._version = meta_api_version

    def send(self, body: dict[str, Any], timeout: float) -> str:
        # botocore enforces its own connect/read timeouts; ``timeout`` only bounds when we start.
        try:
            response = self._social.send_whatsapp_message(
                originationPhoneNumberId=self._phone_number_id,
                message=json.dumps(body, separators=(",", ":")).encode(),
                metaApiVersion=self._version,
            )
        except ClientError as exc:
            code = error_code(exc)
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in TRANSIENT_CODES or status == 429 or status >= 500:
                raise TransientSendError(f"aws_{code or status}") from exc
            raise PermanentSendError(f"aws_{code or status}") from exc
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise TransientSendError("timeout") from exc
        except BotoCoreError as exc:
            raise TransientSendError("network_error") from exc
        return str(response["messageId"])
