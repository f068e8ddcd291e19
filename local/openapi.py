"""``docs/openapi.json``: the API's OpenAPI 3.1 document (``optin.contract``) with the sandbox's own JSON
routes added under the tag ``sandbox``. The sandbox serves the committed file at ``/openapi.json``.

    python -m local.openapi          # rewrite docs/openapi.json
    python -m local.openapi --check  # exit 1 when docs/openapi.json is not what the models say

The sandbox routes' answers are described by the models below, which mirror what ``local/sandbox.py``
and ``local/server.py`` return; schemathesis (``tests/test_api_contract.py``) checks the running
sandbox against every route of the document.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

import local  # noqa: F401 -- puts lambdas/ on the import path
from optin.contract import REF, answer, api_document, json_body, schema_of
from optin.limits import MAX_MESSAGE_ID_LENGTH, MAX_SMS_BODY_LENGTH

ROOT: Final = Path(__file__).resolve().parent.parent
DOCUMENT: Final = ROOT / "docs" / "openapi.json"
SANDBOX_URL: Final = "http://127.0.0.1:8000"

# What the sandbox trims from a number it is given (Python's str.strip), as a JSON-schema class.
_SPACE: Final = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
E164: Final = "^\\+[1-9][0-9]{6,14}$"  # a phone in a query, a path or send-due's body: as is
PADDED_E164: Final = f"^{_SPACE}*\\+[1-9][0-9]{{6,14}}{_SPACE}*$"  # /sandbox/inbound trims it
NOT_BLANK: Final = f"[^{_SPACE[1:-1]}]"  # at least one character that is not a space


class SandboxMessage(BaseModel):
    """A text we sent (or, in a conversation, one the handset sent)."""

    model_config = ConfigDict(extra="allow")

    to: str = Field(examples=["+12065550142"])
    from_: str = Field(alias="from", examples=["+12065550100"])
    body: str
    sentAt: str = Field(examples=["2026-11-22T15:00:00.123Z"])
    messageId: str
    delivery: str | None = Field(description="SENT, DELIVERED or FAILED: what its delivery events said last.")


class TwoWayMessage(BaseModel):
    """A two-way SMS as End User Messaging publishes it; only the handset and the body are required."""

    originationNumber: str = Field(pattern=PADDED_E164, examples=["+12065550142"])
    messageBody: str = Field(max_length=MAX_SMS_BODY_LENGTH, examples=["YES"])
    destinationNumber: str | None = Field(
        default=None, pattern=NOT_BLANK, max_length=MAX_MESSAGE_ID_LENGTH, description="Default: our number."
    )
    inboundMessageId: str | None = Field(
        default=None, pattern=NOT_BLANK, max_length=MAX_MESSAGE_ID_LENGTH, description="Default: a new UUID."
    )
    messageKeyword: str | None = Field(default=None, pattern=NOT_BLANK, max_length=MAX_MESSAGE_ID_LENGTH)
    previousPublishedMessageId: str | None = Field(
        default=None,
        pattern=NOT_BLANK,
        max_length=MAX_MESSAGE_ID_LENGTH,
        description="Default: the last text we sent to that number.",
    )


class InboundProcessed(BaseModel):
    message: str
    inboundMessageId: str
    twoWayMessage: dict[str, str]
    replies: list[SandboxMessage]


class AuditEntry(BaseModel):
    type: str = Field(examples=["CONFIRMED"])
    at: str
    detail: dict[str, Any]
    id: str


class SandboxContact(BaseModel):
    """Every field of ``optin.consent.Contact`` in camelCase (null when unset) and the audit trail."""

    model_config = ConfigDict(extra="allow")

    phone: str
    status: str = Field(examples=["CONFIRMED"])
    events: list[AuditEntry]


class Schedule(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    phone: str
    step: str
    at: str
    localAt: str
    timezone: str
    episode: str
    deferrals: int


class Schedules(BaseModel):
    sequence: list[dict[str, Any]]
    sendWindow: str = Field(examples=["09:00-20:00"])
    schedules: list[Schedule]


class SendDueRequest(BaseModel):
    phone: str | None = Field(default=None, pattern=E164)


class SendDueResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    phone: str
    step: str
    at: str
    outcome: str | None = Field(default=None, description="sent, duplicate, in_flight, deferred, skipped:…")
    error: str | None = None


class SentDue(BaseModel):
    results: list[SendDueResult]
    messages: list[SandboxMessage]


class WhatsAppReceived(BaseModel):
    to: str | None
    template: str | None
    language: str | None
    components: list[Any]
    receivedAt: str | None
    status: int | None
    messageId: str | None


class BroadcastSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    broadcastId: str
    queuedContacts: int
    queuedBatches: int
    complete: bool
    batchesNotDelivered: int
    results: dict[str, int]
    endpoints: list[dict[str, Any]]


SANDBOX_MODELS: Final[tuple[type[BaseModel], ...]] = (
    SandboxMessage,
    TwoWayMessage,
    InboundProcessed,
    AuditEntry,
    SandboxContact,
    Schedule,
    Schedules,
    SendDueRequest,
    SendDueResult,
    SentDue,
    WhatsAppReceived,
    BroadcastSummary,
)


def _list_of(model: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"$ref": REF.format(model=model)}}}
        },
    }


def _phone_parameter(where: str, description: str) -> dict[str, Any]:
    return {
        "name": "phone",
        "in": where,
        "required": where == "path",
        "description": description + " A literal `+` means plus (%2B works too).",
        "schema": {"type": "string", "pattern": E164, "examples": ["+12065550142"]},
    }


NOT_E164: Final = answer("FieldErrors", "`phone` is not E.164 (`codes: {phone: not_e164}`).")


def sandbox_paths() -> dict[str, Any]:
    """The sandbox's JSON routes that are part of its contract (docs/sandbox.md, "The sandbox JSON API")."""
    tag = ["sandbox"]
    return {
        "/sandbox/messages": {
            "get": {
                "tags": tag,
                "operationId": "sandboxMessages",
                "summary": "The texts we sent, oldest first.",
                "parameters": [_phone_parameter("query", "Only those to this number.")],
                "responses": {"200": _list_of("SandboxMessage", "The texts."), "400": NOT_E164},
            }
        },
        "/sandbox/inbound": {
            "post": {
                "tags": tag,
                "operationId": "sandboxInbound",
                "summary": "A two-way SMS from a handset, through SNS and SQS to the inbound function.",
                "requestBody": json_body("TwoWayMessage"),
                "responses": {
                    "202": answer("InboundProcessed", "Processed (also a redelivered inboundMessageId)."),
                    "400": answer("FieldErrors", "Missing or malformed fields, or an unusable body."),
                    "415": answer("FieldErrors", "A Content-Type other than JSON."),
                },
            }
        },
        "/sandbox/contacts/{phone}": {
            "get": {
                "tags": tag,
                "operationId": "sandboxContact",
                "summary": "The stored contact and its audit trail, oldest first.",
                "parameters": [_phone_parameter("path", "The contact's number.")],
                "responses": {
                    "200": answer("SandboxContact", "The contact."),
                    "400": NOT_E164,
                    "404": answer("NotFound", "No contact for this number."),
                },
            }
        },
        "/sandbox/schedules": {
            "get": {
                "tags": tag,
                "operationId": "sandboxSchedules",
                "summary": "The follow-up sequence, the sending window and the pending schedules.",
                "parameters": [_phone_parameter("query", "Only this number's schedules.")],
                "responses": {"200": answer("Schedules", "Earliest first."), "400": NOT_E164},
            }
        },
        "/sandbox/schedules/send-due": {
            "post": {
                "tags": tag,
                "operationId": "sandboxSendDue",
                "summary": "Fire pending follow-ups now through the real follow-up function.",
                "parameters": [_phone_parameter("query", "Only this number's (the body's `phone` wins).")],
                "requestBody": {
                    "required": False,
                    "description": "Optional; an empty body or JSON null counts as none.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "anyOf": [{"$ref": REF.format(model="SendDueRequest")}, {"type": "null"}]
                            }
                        }
                    },
                },
                "responses": {
                    "200": answer("SentDue", "One result per schedule fired, and the texts sent."),
                    "400": NOT_E164,
                    "415": answer("FieldErrors", "A Content-Type other than JSON."),
                },
            }
        },
        "/sandbox/whatsapp/messages": {
            "get": {
                "tags": tag,
                "operationId": "sandboxWhatsAppMessages",
                "summary": "Every request the fake WhatsApp Cloud API received, oldest first.",
                "responses": {"200": _list_of("WhatsAppReceived", "The requests.")},
            }
        },
        "/sandbox/broadcasts": {
            "get": {
                "tags": tag,
                "operationId": "sandboxBroadcasts",
                "summary": "Each broadcast with each contact's result, newest first.",
                "responses": {"200": _list_of("BroadcastSummary", "The broadcasts.")},
            }
        },
    }


def document() -> dict[str, Any]:
    """The whole document: the API, then the sandbox's routes (tag ``sandbox``)."""
    doc = api_document()
    doc["servers"].append(
        {"url": SANDBOX_URL, "description": "The local sandbox (make run; PORT=... moves it)."}
    )
    doc["tags"].append(
        {
            "name": "sandbox",
            "description": "Only in the local sandbox (make run): the phone simulator's JSON API.",
        }
    )
    doc["paths"].update(sandbox_paths())
    schemas = doc["components"]["schemas"]
    for model in SANDBOX_MODELS:
        schema, definitions = schema_of(model)
        schemas.update(definitions)
        schemas[model.__name__] = schema
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    return doc


def as_served(doc: dict[str, Any], url: str) -> dict[str, Any]:
    """The document as the sandbox serves it at ``/openapi.json``: its own address as the one server,
    and no signature on ``POST /broadcasts``, which the sandbox serves unsigned (in AWS it is AWS_IAM)."""
    served = json.loads(json.dumps(doc))
    served["servers"] = [{"url": url, "description": "This sandbox."}]
    for item in served["paths"].values():
        for operation in item.values():
            if operation.pop("security", None) is not None:
                operation.setdefault("responses", {}).pop("403", None)
                operation["description"] = (
                    "In AWS this route needs SigV4 (security sigv4); here it is unsigned."
                )
    return served


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/openapi.json is stale")
    args = parser.parse_args(argv)
    text = render(document())
    if args.check:
        current = DOCUMENT.read_text("utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT.relative_to(ROOT)} is stale: run python -m local.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, "utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
