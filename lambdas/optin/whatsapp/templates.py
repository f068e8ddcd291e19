"""WhatsApp template messages: what a custom-channel ``Data`` may say, the Cloud API body built from it,
and the port every transport (Meta's Graph API, AWS End User Messaging Social) implements.

No I/O here. ``Data`` is validated by hand (no pydantic) to keep the delivery function's cold start low.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")  # Meta: lowercase letters, digits and underscores
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,3})?$")  # en, en_US, pt_BR, zh_CN ...
MAX_DATA_BYTES = 32 * 1024  # components are small; this keeps a 50-endpoint batch far below SQS limits


class InvalidTemplate(ValueError):
    """``Data`` does not describe a template message; ``errors`` maps each bad field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class TemplateMessage:
    """A template name, its language and its components, exactly as the Cloud API takes them."""

    name: str
    language: str
    components: tuple[dict[str, Any], ...] = ()

    def body(self, to: str) -> dict[str, Any]:
        """The JSON body of ``POST /<version>/<phone-number-id>/messages`` for recipient ``to`` (digits)."""
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.components:
            template["components"] = [dict(c) for c in self.components]
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }

    def to_data(self) -> str:
        """The canonical custom-channel ``Data`` string for this message."""
        return json.dumps(
            {"templateName": self.name, "languageCode": self.language, "components": list(self.components)},
            separators=(",", ":"),
        )


def _first(data: Mapping[str, Any], *keys: str) -> tuple[str | None, Any]:
    for key in keys:
        if key in data and data[key] is not None:
            return key, data[key]
    return None, None


def _components(value: Any, field: str, errors: dict[str, str]) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        errors[field] = "Must be a list of component objects."
        return ()
    for index, component in enumerate(value):
        if not isinstance(component.get("type"), str) or not component["type"]:
            errors[f"{field}.{index}.type"] = "Each component needs a type such as body, header or button."
    return tuple(value)


def _body_parameters(value: Any, field: str, errors: dict[str, str]) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value:
        errors[field] = "Must be a non-empty list of texts or parameter objects."
        return ()
    parameters: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            parameters.append({"type": "text", "text": str(item)})
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            parameters.append(item)
        else:
            errors[f"{field}.{index}"] = "Must be a text or an object with a type."
    return ({"type": "body", "parameters": parameters},)


def parse_template(data: Any, default_language: str = "en_US") -> TemplateMessage:
    """Read a template message from custom-channel ``Data`` (a JSON string) or an already-decoded object.

    Accepted keys: ``templateName`` (or ``template``), ``languageCode`` (or ``language``; default
    ``default_language``) and either ``components`` (Cloud API components; ``params`` as in the seed)
    or ``parameters`` (body parameters: texts or parameter objects). Raises InvalidTemplate.
    """
    if isinstance(data, str | bytes):
        if len(data) > MAX_DATA_BYTES:
            raise InvalidTemplate({"Data": f"Must be at most {MAX_DATA_BYTES} bytes."})
        try:
            data = json.loads(data or "null")
        except ValueError:
            raise InvalidTemplate({"Data": "Must be a JSON object."}) from None
    if not isinstance(data, dict):
        raise InvalidTemplate({"Data": "Must be a JSON object."})

    errors: dict[str, str] = {}
    name_key, name = _first(data, "templateName", "template")
    if name_key is None:
        errors["templateName"] = "The template name is required."
    elif not isinstance(name, str) or not TEMPLATE_NAME.fullmatch(name):
        errors[name_key] = "Use the template's name: lowercase letters, digits and underscores."

    language_key, language = _first(data, "languageCode", "language")
    if language_key is None:
        language = default_language
    elif not isinstance(language, str) or not LANGUAGE_CODE.fullmatch(language):
        errors[language_key] = "Use a WhatsApp language code such as en_US."

    components_key, components = _first(data, "components", "params")
    parameters_key, parameters = _first(data, "parameters")
    parsed: tuple[dict[str, Any], ...] = ()
    if components_key and parameters_key:
        errors[parameters_key] = f"Give either {components_key} or parameters, not both."
    elif components_key:
        parsed = _components(components, components_key, errors)
    elif parameters_key:
        parsed = _body_parameters(parameters, parameters_key, errors)

    if errors:
        raise InvalidTemplate(errors)
    return TemplateMessage(name=str(name), language=str(language), components=parsed)


# -- the transport port -----------------------------------------------------------------------------
class SendError(Exception):
    """A message was not accepted. ``reason`` is short and safe to log and to return to Pinpoint."""

    retryable = False

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TransientSendError(SendError):
    """Worth another attempt: throttling, a server error, a timeout or a network failure."""

    retryable = True


class PermanentSendError(SendError):
    """Another attempt would fail the same way: a rejected recipient or template, or bad credentials."""


class WhatsAppTransport(Protocol):
    def send(self, body: dict[str, Any], timeout: float) -> str:
        """Send one Cloud API message body within ``timeout`` seconds; returns the message id.
        Raises TransientSendError or PermanentSendError."""
        ...
