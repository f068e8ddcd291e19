"""The API's OpenAPI 3.1 description, generated from the models that validate its requests.

The request bodies of ``POST /register`` and ``POST /validate`` are the pydantic models the handlers
parse them with (:mod:`optin.models`, via ``model_json_schema``); the broadcast body's rules come from
:mod:`optin.whatsapp.templates` and :mod:`optin.limits`, which its handler checks against. This module adds the
paths, the answers (202, 400 with ``errors`` and ``codes``, 415, 422 with ``reason``, 429 and 503 with
``Retry-After``) and ``GET /form-token``.

Not imported by any handler (cold start): ``python -m local.openapi`` writes ``docs/openapi.json`` with
the sandbox's own routes added, a test fails when that file is stale, and the stack's API Gateway
models are derived from it (``stacks/api.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from optin import limits
from optin.models import RegistrationBody, ValidationBody
from optin.phone_numbers import Rejection
from optin.whatsapp.templates import LANGUAGE_CODE, TEMPLATE_NAME

OPENAPI_VERSION: Final = "3.1.0"
REF: Final = "#/components/schemas/{model}"
# A Rejection that is a 422 (the number is well formed but cannot receive texts).
CANNOT_RECEIVE: Final = tuple(str(r) for r in Rejection if not r.is_input_error)


# -- answers ------------------------------------------------------------------------------------------
class Accepted(BaseModel):
    """The same answer whether the number was new, pending or already confirmed (and for a submission
    that gave itself away as a bot): the API does not reveal who is subscribed."""

    message: str = Field(examples=["Thanks! If this number can receive our texts, a message is on its way."])


class FieldErrors(BaseModel):
    """Every bad field at once: ``errors`` in English for people, ``codes`` stable for clients that
    translate (``required``, ``not_text``, ``must_be_true``, ``too_long``, ``invalid_format``,
    ``country_not_served``, ``unsupported_language``, ``letters_in_number``, ``bad_characters``,
    ``too_few_digits``, ``too_many_digits``, ``invalid_country_code``, ``invalid_number``, the name codes
    ``control_characters``, ``format_characters``, ``invalid_characters``, ``no_visible_characters``,
    ``digits``, ``url``; under ``body``: ``body_too_large``, ``invalid_base64``, ``invalid_encoding``,
    ``too_deep``, ``invalid_json``, ``not_object``, ``too_many_fields``, ``invalid_unicode``,
    ``invalid_body`` (API Gateway's schema check); ``form_token_required``; for broadcasts
    ``invalid_value`` and ``invalid_cursor``). A 415 has the same shape, with ``unsupported_media_type``
    under ``Content-Type``."""

    message: str = Field(examples=["Some fields are not valid."])
    errors: dict[str, str] = Field(examples=[{"destinationNumber": "A phone number cannot contain letters."}])
    codes: dict[str, str] = Field(examples=[{"destinationNumber": "letters_in_number"}])


class CannotReceive(BaseModel):
    """The number is well formed but cannot receive our texts (a landline, VoIP, prepaid, not in
    service, not a mobile): ``reason`` says which, and is the field's code."""

    message: str = Field(examples=["This is a landline and cannot receive text messages."])
    reason: str = Field(description="One of: " + ", ".join(CANNOT_RECEIVE) + ".", examples=["landline"])
    errors: dict[str, str]
    codes: dict[str, str] = Field(examples=[{"destinationNumber": "landline"}])


class RateLimitedAnswer(BaseModel):
    """Too many registrations from one client address (the functions' per-IP limit, or WAF's rate rules
    when deployed, which answer in the same shape)."""

    message: str
    reason: Literal["rate_limited"]
    retryAfterSeconds: int = Field(ge=0)


class Unavailable(BaseModel):
    """A dependency failed or the outcome of a send is unknown (retry after ``retryAfterSeconds``: the
    retry either sends or finds the text recorded), or a spend limit is reached (``reason`` ``capacity``,
    the same for every number)."""

    message: str
    retryAfterSeconds: int = Field(ge=0)
    reason: Annotated[Literal["capacity"] | None, WithJsonSchema({"const": "capacity"})] = None


class NotFound(BaseModel):
    message: str


class FormToken(BaseModel):
    """The issue time signed by the API (HMAC-SHA256): send it back as ``formToken`` with the
    registration. One sent sooner than ``minFillSeconds`` after it was issued is quietly dropped."""

    formToken: str = Field(examples=["v1.1795000000000.3q2-7w"])
    minFillSeconds: int = Field(ge=0, examples=[3])


class NumberCheck(BaseModel):
    """What the form shows as the number is typed. The paid carrier lookup runs only for numbers that
    pass the free offline checks, and is cached (shared with /register)."""

    valid: bool = Field(description="The offline checks passed (digits, length, country, type).")
    e164: str | None = Field(examples=["+12065550142"])
    country: str | None = Field(examples=["US"])
    type: str | None = Field(
        description="MOBILE, LANDLINE, VOIP, PREPAID, … when known.", examples=["MOBILE"]
    )
    canReceiveSms: bool
    reason: str | None = Field(description="Why not, as the 400 codes and 422 reasons of /register.")
    message: str | None


class BroadcastReceipt(BaseModel):
    broadcastId: str
    queuedContacts: int = Field(ge=0)
    queuedBatches: int = Field(ge=0)
    complete: bool = Field(description="false: post the same body again with broadcastId and cursor.")
    cursor: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        default=None, description="Only when complete is false."
    )


# -- the broadcast request --------------------------------------------------------------------------
class TemplateComponent(BaseModel):
    """A WhatsApp Cloud API template component, passed on as given."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, examples=["body"])


class ParameterObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["text"])


class BroadcastRequest(BaseModel):
    """``POST /broadcasts``: a WhatsApp template for every CONFIRMED contact (of one ``source`` if
    given). ``components`` or ``parameters`` (body parameters), not both. A broadcast too large for one
    call answers ``complete: false`` with a ``cursor``: send the same body with ``broadcastId`` and
    ``cursor`` to go on."""

    model_config = ConfigDict(
        title="BroadcastRequest",
        json_schema_extra={
            "maxProperties": limits.MAX_BROADCAST_FIELDS,
            "not": {
                "required": ["components", "parameters"],
                "properties": {"components": {"type": "array"}, "parameters": {"type": "array"}},
            },
        },
    )

    template: str = Field(
        pattern=TEMPLATE_NAME.pattern, max_length=limits.MAX_TEMPLATE_NAME_LENGTH, examples=["order_update"]
    )
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_CODE.pattern,
        max_length=limits.MAX_LANGUAGE_LENGTH,
        description="A WhatsApp language code; default WHATSAPP_DEFAULT_LANGUAGE.",
        examples=["en_US"],
    )
    components: list[TemplateComponent] | None = None
    parameters: list[str | float | ParameterObject] | None = Field(default=None, min_length=1)
    source: str | None = Field(
        default=None,
        max_length=limits.MAX_SOURCE_LENGTH,
        description="Only contacts who signed up from this source (as they sent it, or its Referer).",
    )
    broadcastId: str | None = Field(default=None, max_length=limits.MAX_BROADCAST_ID_LENGTH)
    cursor: str | None = Field(default=None, max_length=limits.MAX_CURSOR_LENGTH)


# Both or neither: a resumed broadcast names its id and the cursor it was given (null counts as absent).
_RESUME: Final = {
    "anyOf": [
        {
            "properties": {"broadcastId": {"type": "string"}, "cursor": {"type": "string"}},
            "required": ["broadcastId", "cursor"],
        },
        {"properties": {"broadcastId": {"type": "null"}, "cursor": {"type": "null"}}},
    ]
}


# -- the document -------------------------------------------------------------------------------------
REQUEST_MODELS: Final[dict[str, type[BaseModel]]] = {
    "RegisterRequest": RegistrationBody,
    "ValidateRequest": ValidationBody,
    "BroadcastRequest": BroadcastRequest,
}
ANSWER_MODELS: Final[tuple[type[BaseModel], ...]] = (
    Accepted,
    FieldErrors,
    CannotReceive,
    RateLimitedAnswer,
    Unavailable,
    NotFound,
    FormToken,
    NumberCheck,
    BroadcastReceipt,
)


def schema_of(model: type[BaseModel], name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model``'s JSON schema (2020-12, as OpenAPI 3.1 takes it) and the definitions it refers to."""
    schema = model.model_json_schema(ref_template=REF)
    definitions = schema.pop("$defs", {})
    if name:
        schema["title"] = name
    return schema, definitions


def components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, model in REQUEST_MODELS.items():
        schema, definitions = schema_of(model, name)
        schemas.update(definitions)
        schemas[name] = schema
    for model in ANSWER_MODELS:
        schema, definitions = schema_of(model)
        schemas.update(definitions)
        schemas[model.__name__] = schema
    resume = {"$ref": REF.format(model="BroadcastResume")}
    schemas["BroadcastRequest"]["dependentSchemas"] = {"broadcastId": resume, "cursor": resume}
    schemas["BroadcastResume"] = _RESUME
    return {
        "schemas": dict(sorted(schemas.items())),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        },
        "securitySchemes": {
            "sigv4": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "AWS Signature Version 4 with credentials allowed execute-api:Invoke on the "
                "route (the stack's `POST /broadcasts` is AWS_IAM). The sandbox serves it unsigned.",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        },
    }


def answer(model: str, description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return response


def json_body(model: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}},
    }


BAD_BODY: Final = answer("FieldErrors", "Bad fields or an unusable body: every bad field with its code.")
NOT_JSON: Final = answer("FieldErrors", "A Content-Type other than application/json (none counts as JSON).")
BUSY: Final = answer(
    "Unavailable",
    "Try again after Retry-After: a dependency failed or a spend limit is reached.",
    retry_after=True,
)
TOO_MANY: Final = answer("RateLimitedAnswer", "Too many requests from this client address.", retry_after=True)


def api_paths() -> dict[str, Any]:
    """The API's routes (stage ``v1``), as API Gateway and the Lambda functions answer them."""
    register = {
        "post": {
            "tags": ["api"],
            "operationId": "register",
            "summary": "Start a double opt-in: record a PENDING contact and text it 'Reply YES'.",
            "description": (
                "The tutorial's body, plus optional `country`, `consent`, `language` and the form's bot "
                "friction fields (`website`: a hidden field that must stay empty; `formToken`: from "
                "GET /form-token). Free checks run first (body, offline number precheck), then the abuse "
                "limits, the cached or paid carrier lookup and the text. At most one confirmation per "
                "number per cooldown (RESEND_COOLDOWN_SECONDS) and MAX_CONFIRMATIONS_PER_DAY a day."
            ),
            "requestBody": json_body("RegisterRequest"),
            "responses": {
                "202": answer("Accepted", "Accepted; the same answer for every number."),
                "400": BAD_BODY,
                "415": NOT_JSON,
                "422": answer("CannotReceive", "A well-formed number that cannot receive texts."),
                "429": TOO_MANY,
                "503": BUSY,
            },
        }
    }
    validate = {
        "post": {
            "tags": ["api"],
            "operationId": "validate",
            "summary": "Can this number receive our texts? The form's inline check.",
            "requestBody": json_body("ValidateRequest"),
            "responses": {
                "200": answer("NumberCheck", "The verdict (also for numbers that cannot receive texts)."),
                "400": BAD_BODY,
                "415": NOT_JSON,
                "429": TOO_MANY,
                "503": BUSY,
            },
        }
    }
    form_token = {
        "get": {
            "tags": ["api"],
            "operationId": "formToken",
            "summary": "A signed fill-time token for the form (bot friction).",
            "responses": {
                "200": answer("FormToken", "The token and the minimum fill time."),
                "404": answer("NotFound", "This deployment issues no form tokens."),
                "429": TOO_MANY,
                "503": BUSY,
            },
        }
    }
    broadcasts = {
        "post": {
            "tags": ["api"],
            "operationId": "startBroadcast",
            "summary": "Send a WhatsApp template to every CONFIRMED contact (IAM-authorized).",
            "security": [{"sigv4": []}],
            "requestBody": json_body("BroadcastRequest"),
            "responses": {
                "202": answer("BroadcastReceipt", "Queued for the custom-channel function."),
                "400": BAD_BODY,
                "403": {"description": "Not signed, or not allowed execute-api:Invoke (API Gateway)."},
                "415": NOT_JSON,
                "503": BUSY,
            },
        }
    }
    return {
        "/register": register,
        "/validate": validate,
        "/form-token": form_token,
        "/broadcasts": broadcasts,
    }


def api_document() -> dict[str, Any]:
    """The API alone (no sandbox routes): an OpenAPI 3.1 document as a JSON-ready dict."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "SMS double opt-in API",
            "version": "1",
            "description": (
                "Sign-up form API: register a number for text alerts (double opt-in: the person confirms "
                "by replying YES), check a number as it is typed, and broadcast WhatsApp templates to the "
                "confirmed contacts. Errors always have the shape `{message, errors, codes}`; a client "
                "mistake is never a 5xx. API Gateway refuses a body its JSON-schema model does not fit "
                "with a 400 of the same shape (`invalid_body`), and with WAF on, rate rules answer 429 "
                "and other rules 403."
            ),
        },
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com/v1",
                "description": "The deployed stage (output ApiUrl).",
                "variables": {"apiId": {"default": "abc123"}, "region": {"default": "us-east-1"}},
            }
        ],
        "tags": [{"name": "api", "description": "The deployed API (stage v1)."}],
        "paths": api_paths(),
        "components": components(),
    }
