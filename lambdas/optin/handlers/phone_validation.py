"""POST /validate: can this number receive our texts? For the form's inline check."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.http import json_body, json_response, resolver
from optin.limits import MAX_FORM_BODY_BYTES
from optin.models import ValidationBody
from optin.observability import logger, metrics, tracer
from optin.settings import load_settings
from optin.wiring import dependencies

app = resolver(load_settings())


@app.post("/validate")
@tracer.capture_method
def validate() -> Response:
    deps = dependencies()
    body = ValidationBody.parse(json_body(app, MAX_FORM_BODY_BYTES), deps.settings)
    verdict = deps.lookup.check(body.phoneNumber, body.country)
    return json_response(
        200,
        {
            "valid": verdict.precheck.ok,
            "e164": verdict.e164,
            "country": verdict.country,
            "type": verdict.phone_type,
            "canReceiveSms": verdict.can_receive_sms,
            "reason": str(verdict.rejection) if verdict.rejection else None,
            "message": verdict.message,
        },
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
