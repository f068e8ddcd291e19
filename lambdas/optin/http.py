"""HTTP answers shared by the API functions: one JSON shape for every error."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types

from optin.models import BodyError
from optin.observability import count, logger
from optin.ports import CapacityReached, DependencyUnavailable, RateLimited
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
        count("RequestRejected", reason="bad_body")
        return json_response(400, {"message": "Some fields are not valid.", "errors": exc.errors})

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


def client_details(app: APIGatewayRestResolver) -> tuple[str | None, str | None, str | None]:
    """Client IP, user agent and the page the request came from (Origin or Referer)."""
    event = app.current_event
    identity = event.request_context.identity
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    return identity.source_ip, identity.user_agent, headers.get("referer") or headers.get("origin")
