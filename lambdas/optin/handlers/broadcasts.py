"""POST /broadcasts (IAM-authorized): send a WhatsApp template to every CONFIRMED contact.

Body: ``{"template": "order_update", "language": "en_US", "components": [...], "source": "form"}``
(``parameters`` instead of ``components`` for body parameters only; ``source`` optional). Answers 202
with what was queued. A broadcast too large to queue within one call answers ``"complete": false``
and a ``cursor``: post the same body again with ``broadcastId`` and ``cursor`` to go on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.http import json_body, json_response, resolver
from optin.limits import (
    MAX_BROADCAST_BODY_BYTES,
    MAX_BROADCAST_FIELDS,
    MAX_BROADCAST_ID_LENGTH,
    MAX_CURSOR_LENGTH,
)
from optin.observability import logger, metrics, tracer
from optin.person_names import TextProblem, clean_source
from optin.ports import InvalidCursor
from optin.request_body import BodyError, require_object
from optin.settings import load_settings
from optin.whatsapp.broadcast import BroadcastRequest
from optin.whatsapp.pacing import Deadline
from optin.whatsapp.templates import InvalidTemplate, parse_template
from optin.wiring import dependencies

API_GATEWAY_SECONDS = 29.0  # API Gateway's integration timeout
MARGIN_SECONDS = 2.0
_TEMPLATE_FIELDS = {"templateName": "template", "languageCode": "language"}  # Data key -> body field
app = resolver(load_settings())


def parse_body(parsed: Any, default_language: str) -> BroadcastRequest:
    """The broadcast request in a parsed JSON body; raises BodyError naming each bad field, with a code
    per field (``required``, ``invalid_value``, ``not_text``, ``too_long``, the source's character
    codes, ``invalid_cursor``)."""
    body = require_object(parsed, MAX_BROADCAST_FIELDS)
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    data = {
        "templateName": body.get("template"),
        "languageCode": body.get("language"),
        "components": body.get("components"),
        "parameters": body.get("parameters"),
    }
    template = None
    try:
        template = parse_template(data, default_language)
    except InvalidTemplate as exc:
        for key, message in exc.errors.items():
            head, _, rest = key.partition(".")
            field = _TEMPLATE_FIELDS.get(head, head)
            name = f"{field}.{rest}" if rest else field
            errors[name] = message
            codes[name] = "required" if body.get(field) is None and not rest else "invalid_value"
    source = body.get("source")
    if source is not None:
        try:
            source = _source(source)
        except TextProblem as problem:
            errors["source"], codes["source"] = problem.message, problem.code
    broadcast_id, cursor = body.get("broadcastId"), body.get("cursor")
    if (broadcast_id is None) != (cursor is None):
        errors["cursor"] = "Give broadcastId and cursor together, to resume a broadcast."
        codes["cursor"] = "invalid_cursor"
    elif broadcast_id is not None and not (
        isinstance(broadcast_id, str)
        and isinstance(cursor, str)
        and len(broadcast_id) <= MAX_BROADCAST_ID_LENGTH
        and len(cursor) <= MAX_CURSOR_LENGTH
    ):
        errors["cursor"] = "Use the broadcastId and cursor of the previous answer."
        codes["cursor"] = "invalid_cursor"
    if errors or template is None:
        raise BodyError(errors, codes)
    return BroadcastRequest(template=template, source=source, broadcast_id=broadcast_id, cursor=cursor)


def _source(value: Any) -> str:
    """The contacts' sign-up source to select, checked as a sign-up's own source is."""
    if not isinstance(value, str):
        raise TextProblem("not_text", "Must be the source text the contacts signed up with.")
    cleaned = clean_source(value)
    if cleaned is None:
        raise TextProblem("required", "Must be the source text the contacts signed up with.")
    return cleaned


@app.post("/broadcasts")
@tracer.capture_method
def start_broadcast() -> Response:
    deps = dependencies()
    request = parse_body(json_body(app, MAX_BROADCAST_BODY_BYTES), deps.settings.whatsapp_default_language)
    remaining = app.lambda_context.get_remaining_time_in_millis() / 1000
    deadline = Deadline.after(min(remaining, API_GATEWAY_SECONDS) - MARGIN_SECONDS)
    try:
        receipt = deps.broadcasts.start(request, deadline)
    except InvalidCursor:
        raise BodyError.of("cursor", "invalid_cursor", "Use the cursor of the previous answer.") from None
    answer: dict[str, Any] = {
        "broadcastId": receipt.broadcast_id,
        "queuedContacts": receipt.contacts,
        "queuedBatches": receipt.batches,
        "complete": receipt.complete,
    }
    if receipt.cursor:
        answer["cursor"] = receipt.cursor
    return json_response(202, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
