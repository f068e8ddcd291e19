"""Turning the bytes of a request body into JSON, or into a 400/415 that says why. Pure: no AWS event,
no pydantic; the API functions (``optin.http``) and the sandbox's own routes share it.

Every refusal carries, per field, an English sentence (``errors``) and a stable snake_case code
(``codes``) that clients may translate. The body-level codes, under the field ``body``:
``body_too_large``, ``invalid_base64``, ``invalid_encoding`` (not UTF-8), ``too_deep``,
``invalid_json``, ``not_object``, ``too_many_fields``, ``invalid_unicode`` (a lone surrogate such as
``"\\ud800"``; named under the top-level field that holds it); and ``unsupported_media_type`` under
``Content-Type`` (415).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from optin.limits import MAX_JSON_DEPTH

INVALID_FIELDS_MESSAGE: Final = "Some fields are not valid."
# Every code a refusal here carries.
CODES: Final = frozenset(
    {
        "body_too_large",
        "invalid_base64",
        "invalid_encoding",
        "too_deep",
        "invalid_json",
        "not_object",
        "too_many_fields",
        "invalid_unicode",
        "unsupported_media_type",
    }
)
_STRINGS: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS: Final = re.compile(r"[\[\]{}]")


class BodyError(ValueError):
    """The body is unusable (400): ``errors`` maps each bad field to why, ``codes`` to a stable code."""

    status = 400

    def __init__(
        self, errors: Mapping[str, str], codes: Mapping[str, str], message: str = INVALID_FIELDS_MESSAGE
    ) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.message = message
        self.errors = dict(errors)
        self.codes = {field: codes.get(field, "invalid_value") for field in self.errors}

    @classmethod
    def of(cls, field: str, code: str, why: str, message: str = INVALID_FIELDS_MESSAGE) -> BodyError:
        return cls({field: why}, {field: code}, message)

    def to_json(self) -> dict[str, Any]:
        """The answer's body: ``{"message", "errors": {field: why}, "codes": {field: code}}``."""
        return {"message": self.message, "errors": self.errors, "codes": self.codes}


class UnsupportedMediaType(BodyError):
    """The body is not declared as JSON (415)."""

    status = 415

    def __init__(self) -> None:
        super().__init__(
            {"Content-Type": "Send the body as application/json, encoded in UTF-8."},
            {"Content-Type": "unsupported_media_type"},
            "The request body must be JSON.",
        )


def check_media_type(content_type: str | None) -> None:
    """Accept ``application/json`` (any case, with or without ``charset=utf-8``); no Content-Type at all
    counts as JSON, as it does for API Gateway's model selection. Raises UnsupportedMediaType."""
    if content_type is None or not content_type.strip():
        return
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != "application/json":
        raise UnsupportedMediaType()
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType()


def body_bytes(body: Any, base64_encoded: bool, max_bytes: int) -> bytes:
    """The raw bytes of an API Gateway proxy event's ``body``. Raises BodyError."""
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BodyError.of("body", "invalid_json", "The request body must be JSON text.")
    if base64_encoded:
        if len(body) > (max_bytes + 2) // 3 * 4 + 4:
            raise _too_large(max_bytes)
        try:
            raw = base64.b64decode(body.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            raise BodyError.of(
                "body", "invalid_base64", "The request body is marked base64 but is not valid base64."
            ) from None
    else:
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
        # surrogatepass: a lone surrogate in the event reaches the UTF-8 check below instead of failing here.
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def _too_large(max_bytes: int) -> BodyError:
    return BodyError.of("body", "body_too_large", f"The request body must be at most {max_bytes} bytes.")


def load_json(raw: bytes | str, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode UTF-8 and parse JSON, refusing what would break or burden the code after it: bodies over
    ``max_bytes``, nesting deeper than ``max_depth``, NaN and Infinity, and lone surrogates in strings.
    An empty body parses as ``None``. Raises BodyError."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError.of("body", "invalid_encoding", "The request body must be UTF-8 text.") from None
    if not text.strip():
        return None
    if _depth(text) > max_depth:
        raise BodyError.of(
            "body", "too_deep", f"The request body nests objects or arrays more than {max_depth} deep."
        )
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BodyError.of("body", "invalid_json", "The request body must be valid JSON.") from None
    field = _lone_surrogate_field(value)
    if field is not None:
        raise BodyError.of(
            field, "invalid_unicode", "This contains an invalid character (a lone UTF-16 surrogate)."
        )
    return value


def require_object(value: Any, max_fields: int) -> dict[str, Any]:
    """The parsed body as a JSON object of at most ``max_fields`` properties. Raises BodyError."""
    if not isinstance(value, dict):
        raise BodyError.of("body", "not_object", "The request body must be a JSON object.")
    if len(value) > max_fields:
        raise BodyError.of(
            "body", "too_many_fields", f"The request body may have at most {max_fields} fields."
        )
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(text: str) -> int:
    """How deep objects and arrays nest, ignoring brackets inside strings (a linear scan, no recursion)."""
    deepest = depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _lone_surrogate_field(value: Any) -> str | None:
    """The top-level field holding a lone surrogate (``body`` for a key or a non-object), or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _has_lone_surrogate(key):
                return "body"
            if _has_lone_surrogate(item):
                return key
        return None
    return "body" if _has_lone_surrogate(value) else None
