"""HTTP answers shared by the API functions: one JSON shape for every error, and the one place that
reads a request body out of an API Gateway event (media type, base64, size, UTF-8, JSON)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types

from optin.limits import MAX_SOURCE_LENGTH, MAX_USER_AGENT_LENGTH
from optin.observability import count, logger
from optin.person_names import header_text
from optin.ports import CapacityReached, DependencyUnavailable, RateLimited
from optin.request_body import BodyError, body_bytes, check_media_type, load_json
from optin.settings import Settings


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def cors_for(settings: Settings) -> CORSConfig | None:
    origins = list(settings.allowed_origins)
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0], extra_origins=origins[1:], allow_headers=["Content-Type"], max_age=600
    )


def resolver(settings: Settings) -> APIGatewayRestResolver:
    """A REST resolver whose errors all answer in the same JSON shape; a client mistake is never a 5xx."""
    app = APIGatewayRestResolver(cors=cors_for(settings))

    @app.exception_handler(BodyError)
    def _bad_body(exc: BodyError) -> Response:
        count("RequestRejected", reason="unsupported_media_type" if exc.status == 415 else "bad_body")
        return json_response(exc.status, exc.to_json())

    @app.exception_handler(DependencyUnavailable)
    def _unavailable(exc: DependencyUnavailable) -> Response:
        seconds = exc.retry_after_seconds
        body: dict[str, Any] = {
            "message": "We could not process this right now. Please try again shortly.",
            "retryAfterSeconds": seconds,
        }
        if isinstance(exc, CapacityReached):
            body["reason"] = exc.reason  # the same for every number: nothing to enumerate
        else:
            logger.error("dependency unavailable", extra={"what": exc.what})
            count("DependencyUnavailable")
        return json_response(503, body, {"Retry-After": str(seconds)})

    @app.exception_handler(RateLimited)
    def _rate_limited(exc: RateLimited) -> Response:
        seconds = exc.retry_after_seconds
        body = {
            "message": "Too many sign-ups from this network. Please try again later.",
            "reason": "rate_limited",
            "retryAfterSeconds": seconds,
        }
        return json_response(429, body, {"Retry-After": str(seconds)})

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return json_response(404, {"message": "Not found."})

    return app


def _header(event: dict[str, Any], name: str) -> str | None:
    """A request header, case-insensitively, from ``headers`` or else ``multiValueHeaders``."""
    for key, value in (event.get("headers") or {}).items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(key, str) and key.lower() == name and isinstance(values, list) and values:
            return str(values[0])
    return None


def json_body(app: APIGatewayRestResolver, max_bytes: int) -> Any:
    """The current request's body as parsed JSON (``None`` when empty). A Content-Type other than
    ``application/json`` is a 415; no Content-Type counts as JSON. A body over ``max_bytes``, marked
    base64 but not base64, not UTF-8, nested too deep, not JSON, or holding a lone surrogate is a 400.
    Raises BodyError (the resolver answers it)."""
    event = app.current_event.raw_event
    check_media_type(_header(event, "content-type"))
    raw = body_bytes(event.get("body"), bool(event.get("isBase64Encoded")), max_bytes)
    return load_json(raw, max_bytes)


def client_details(app: APIGatewayRestResolver) -> tuple[str | None, str | None, str | None]:
    """Client IP, user agent and the page the request came from (Referer or Origin), each None when
    the event lacks it (``requestContext.identity`` is optional); header values are cleaned of control
    and format characters and capped."""
    event = app.current_event.raw_event
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, dict) else None
    identity = identity if isinstance(identity, dict) else {}
    ip = identity.get("sourceIp")
    user_agent = identity.get("userAgent") or _header(event, "user-agent")
    page = _header(event, "referer") or _header(event, "origin")
    return (
        ip if isinstance(ip, str) and ip else None,
        header_text(user_agent if isinstance(user_agent, str) else None, MAX_USER_AGENT_LENGTH),
        header_text(page, MAX_SOURCE_LENGTH),
    )
