"""POST /register: start a double opt-in."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from optin.abuse.friction import FormTokenRequired
from optin.http import client_details, json_body, json_response, resolver
from optin.limits import MAX_FORM_BODY_BYTES
from optin.models import RegistrationBody, number_code
from optin.observability import count, logger, metrics, tracer
from optin.registration import CannotReceiveSms, InvalidPhoneNumber, RegistrationRequest
from optin.settings import load_settings
from optin.wiring import dependencies

ACCEPTED = (
    "Thanks! If this number can receive our texts, a message is on its way: reply YES to it to confirm."
)
app = resolver(load_settings())


@app.post("/register")
@tracer.capture_method
def register() -> Response:
    deps = dependencies()
    raw = json_body(app, MAX_FORM_BODY_BYTES)
    ip, user_agent, page = client_details(app)
    sign = deps.friction.bot_sign(raw)
    if sign is not None:
        if sign != "too_fast":  # a quick person with autofill is possible; a filled hidden field is not
            deps.abuse.flag_address(ip)
        return json_response(202, {"message": ACCEPTED})  # the usual answer; nothing stored or sent
    body = RegistrationBody.parse(raw, deps.settings)
    deps.registration.register(
        RegistrationRequest(
            phone=body.destinationNumber,
            first_name=body.firstName,
            last_name=body.lastName,
            source=body.source or page or "api",
            country=body.country,
            client_ip=ip,
            user_agent=user_agent,
            language=body.language,
        )
    )
    # The same answer whether the number was new, pending or already confirmed.
    return json_response(202, {"message": ACCEPTED})


@app.get("/form-token")
@tracer.capture_method
def form_token() -> Response:
    """The form asks for this when the page loads (optin.abuse.friction)."""
    deps = dependencies()
    token = deps.friction.token()
    if token is None:
        return json_response(404, {"message": "This deployment does not issue form tokens."})
    return json_response(200, {"formToken": token, "minFillSeconds": deps.settings.form_min_fill_seconds})


@app.exception_handler(FormTokenRequired)
def _token_required(exc: FormTokenRequired) -> Response:
    count("RequestRejected", reason="form_token_required")
    message = "Please reload the page and submit the form again."
    return json_response(
        400,
        {"message": message, "errors": {"formToken": message}, "codes": {"formToken": "form_token_required"}},
    )


@app.exception_handler(InvalidPhoneNumber)
def _invalid_number(exc: InvalidPhoneNumber) -> Response:
    count("RequestRejected", reason=str(exc.verdict.rejection))
    return json_response(
        400,
        {
            "message": "Some fields are not valid.",
            "errors": {"destinationNumber": exc.verdict.message},
            "codes": {"destinationNumber": number_code(exc.verdict.rejection)},
        },
    )


@app.exception_handler(CannotReceiveSms)
def _cannot_receive(exc: CannotReceiveSms) -> Response:
    return json_response(
        422,
        {
            "message": exc.message,
            "reason": exc.reason,
            "errors": {"destinationNumber": exc.message},
            "codes": {"destinationNumber": exc.reason},
        },
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
