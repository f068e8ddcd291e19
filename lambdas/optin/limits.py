"""Size limits of the API's request bodies: one source for the handlers, the pydantic models (and so the
published contract, docs/openapi.json, from which the stack's API Gateway models are derived) and the
stack's WAF rule (``stacks/waf.py`` imports this module).

Plain constants, no imports: the stack reads them at synth time and every function at start.
"""

from __future__ import annotations

from typing import Final

# Whole bodies, in bytes (after base64 decoding). API Gateway REST APIs have no body-size setting: the
# handlers refuse larger bodies with a 400, and the optional WAF web ACL blocks them before Lambda.
MAX_FORM_BODY_BYTES: Final = 8 * 1024  # POST /register, POST /validate
MAX_BROADCAST_BODY_BYTES: Final = 16 * 1024  # POST /broadcasts (WAF's default body inspection size)
MAX_JSON_DEPTH: Final = 16  # nested objects and arrays; the forms' bodies are flat
MAX_REGISTER_FIELDS: Final = 20  # properties in one body (unknown ones are ignored, but counted)
MAX_VALIDATE_FIELDS: Final = 10
MAX_BROADCAST_FIELDS: Final = 20

# Fields, in characters (code points, after NFC normalization and trimming).
MAX_NUMBER_LENGTH: Final = 40  # destinationNumber, phoneNumber (the form's maxlength too)
MAX_COUNTRY_INPUT: Final = 8  # a two-letter ISO code; the schema leaves room for surrounding spaces
MAX_NAME_LENGTH: Final = 100  # firstName, lastName (the form's maxlength too)
MAX_SOURCE_LENGTH: Final = 2048  # source: a page URL or a short label
MAX_USER_AGENT_LENGTH: Final = 512  # kept as consent evidence; longer ones are cut
MAX_NAME_IN_TEXT: Final = 40  # a name as a follow-up text inserts it ({{FirstName}})
MAX_FIELD_IN_TEXT: Final = 160  # any other template field ({{Brand}}, {{HelpUrl}}, ...)

# POST /broadcasts fields.
MAX_TEMPLATE_NAME_LENGTH: Final = 512  # Meta's limit for a template name
MAX_LANGUAGE_LENGTH: Final = 16
MAX_BROADCAST_ID_LENGTH: Final = 128
MAX_CURSOR_LENGTH: Final = 4096

# Two-way SMS as the sandbox's POST /sandbox/inbound takes it.
MAX_SMS_BODY_LENGTH: Final = 1600
MAX_MESSAGE_ID_LENGTH: Final = 256
