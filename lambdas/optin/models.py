"""Request bodies, parsed with pydantic in strict mode: a JSON string where text is expected, JSON
``true`` for consent; no coercion of numbers or words.

Validation collects every bad field at once; messages are written for the person filling the form,
and each field also gets one stable code (``codes``) for clients that translate. The phone number gets
the free offline precheck here, so one 400 names all mistakes. Names and source follow
:mod:`optin.person_names`; the size limits come from :mod:`optin.limits`.

Field codes: ``required``, ``not_text``, ``must_be_true``, ``too_long``, ``invalid_format`` (country),
``country_not_served``, ``unsupported_language`` (:data:`LANGUAGE_CODE`), the name and source codes of :mod:`optin.person_names` (``control_characters``,
``format_characters``, ``invalid_characters``, ``no_visible_characters``, ``digits``, ``url``) and the
number codes in :data:`NUMBER_CODES`. Body-level codes are in :mod:`optin.request_body`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from optin.languages import LANGUAGES
from optin.limits import (
    MAX_COUNTRY_INPUT,
    MAX_LANGUAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NUMBER_LENGTH,
    MAX_REGISTER_FIELDS,
    MAX_SOURCE_LENGTH,
    MAX_VALIDATE_FIELDS,
)
from optin.person_names import TextProblem, clean_name, clean_source
from optin.phone_numbers import Rejection, precheck
from optin.request_body import BodyError, require_object
from optin.settings import Settings

__all__ = ["LANGUAGE_CODE", "NUMBER_CODES", "BodyError", "RegistrationBody", "ValidationBody", "number_code"]

# pydantic's error type -> (code, message) for the errors its own checks raise.
_BUILT_IN: Final = {
    "missing": ("required", "This field is required."),
    "string_type": ("not_text", "Must be text (a JSON string)."),
    "bool_type": ("must_be_true", "Must be true (the JSON value, not text or a number)."),
    "string_too_short": ("required", "This field is required."),
    "string_pattern_mismatch": ("invalid_format", "Use a two-letter country code such as US."),
}
# Why the offline precheck refused a number -> its code (the 400s; the rest are 422 with a reason).
NUMBER_CODES: Final = {
    Rejection.MISSING: "required",
    Rejection.LETTERS: "letters_in_number",
    Rejection.BAD_CHARACTERS: "bad_characters",
    Rejection.TOO_SHORT: "too_few_digits",
    Rejection.TOO_LONG: "too_many_digits",
    Rejection.INVALID_COUNTRY_CODE: "invalid_country_code",
    Rejection.INVALID: "invalid_number",
    Rejection.COUNTRY_NOT_SERVED: "country_not_served",
}


# A language the texts do not exist in.
LANGUAGE_CODE: Final = "unsupported_language"

# What the models trim from both ends of a text field before checking it (pydantic's
# str_strip_whitespace: Unicode White_Space), as a JSON-schema character class, so the published
# schema (optin.contract) accepts exactly the padded values the models accept.
_PADDING: Final = "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
COUNTRY_PATTERN: Final = f"^{_PADDING}[A-Za-z]{{2}}{_PADDING}$"
LANGUAGE_PATTERN: Final = f"^{_PADDING}([Ee][Nn]|[Ee][Ss]|[Ff][Rr]){_PADDING}$"


def number_code(rejection: Rejection | None) -> str:
    return NUMBER_CODES.get(rejection, "invalid_number") if rejection else "invalid_number"


def _field_problems(exc: ValidationError) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if field in errors:
            continue
        kind = error["type"]
        if kind == "string_too_long":
            code, message = "too_long", f"Use at most {error.get('ctx', {}).get('max_length')} characters."
        elif kind in _BUILT_IN:
            code, message = _BUILT_IN[kind]
        else:  # our own validators raise PydanticCustomError(code, message)
            code, message = kind, error["msg"]
        errors[field], codes[field] = message, code
    return errors, codes


def _refuse(problem: TextProblem) -> PydanticCustomError:
    return PydanticCustomError(problem.code, problem.message)


def _text(max_length: int, schema_pattern: str | None = None, **kwargs: Any) -> Any:
    """A text field of at most ``max_length`` characters as sent (before trimming), as the published
    schema says (``maxLength``); names and source are measured again after NFC by person_names.
    ``schema_pattern`` is published only: a validator checks it and answers with its own code."""
    extra: dict[str, Any] = {"maxLength": max_length}
    if schema_pattern:
        extra["pattern"] = schema_pattern
    return Field(json_schema_extra=extra, **kwargs)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)
    max_fields: ClassVar[int]

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema["maxProperties"] = cls.max_fields  # optin.request_body counts unknown fields too
        return schema

    @field_validator("*", mode="before")
    @classmethod
    def _length_as_sent(cls, value: Any, info: ValidationInfo) -> Any:
        """A text longer than its field's ``maxLength`` is too long, however much of it is spaces."""
        extra = cls.model_fields[info.field_name or ""].json_schema_extra
        limit = extra.get("maxLength") if isinstance(extra, dict) else None
        if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
            raise PydanticCustomError("too_long", "Use at most {max} characters.", {"max": limit})
        return value

    @classmethod
    def parse(cls, body: Any, settings: Settings) -> Any:
        """Validate a parsed JSON body (``optin.http.json_body``: any JSON value, None when empty);
        raises BodyError."""
        data = require_object(body, cls.max_fields)
        try:
            return cls.model_validate(data, context={"settings": settings})
        except ValidationError as exc:
            raise BodyError(*_field_problems(exc)) from None


def not_served_message(settings: Settings) -> str:
    """Why a country is refused, naming the ones this deployment texts."""
    return f"We do not send messages to numbers in this country; we text numbers in {', '.join(settings.allowed_countries)}."


def _check_number(value: str, info: ValidationInfo) -> str:
    settings: Settings = (info.context or {})["settings"]
    country = info.data.get("country") or settings.default_country
    result = precheck(value, country, settings.allowed_countries)
    if result.rejection is Rejection.COUNTRY_NOT_SERVED:
        raise PydanticCustomError(number_code(result.rejection), not_served_message(settings))
    if result.rejection is not None and result.rejection.is_input_error:
        raise PydanticCustomError(number_code(result.rejection), result.message or "Not a phone number.")
    return value


def _check_country(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    settings: Settings = (info.context or {})["settings"]
    if value.upper() not in settings.allowed_countries:
        raise PydanticCustomError("country_not_served", not_served_message(settings))
    return value.upper()


_COUNTRY = _text(
    MAX_COUNTRY_INPUT,
    default=None,
    pattern=COUNTRY_PATTERN,
    description="ISO 3166 alpha-2 country for a number in national format, any case; one the "
    "deployment serves (ALLOWED_COUNTRIES), else `country_not_served`. Default DEFAULT_COUNTRY.",
    examples=["US"],
)
_LANGUAGE = _text(
    MAX_LANGUAGE_LENGTH,
    LANGUAGE_PATTERN,
    default=None,
    description="The texts' language: en, es or fr, any case. Default DEFAULT_LANGUAGE.",
    examples=["en"],
)


def _number(description: str) -> Any:
    return _text(MAX_NUMBER_LENGTH, min_length=1, description=description, examples=["2065550142"])


class RegistrationBody(_Body):
    """POST /register — the tutorial's body, plus optional country, consent (JSON true when sent; null
    counts as absent, as for every optional field) and language (en, es or fr, any case: the texts')."""

    max_fields: ClassVar[int] = MAX_REGISTER_FIELDS

    country: str | None = _COUNTRY
    destinationNumber: str = _number(
        "The mobile number to text: E.164 (+12065550142) or national format with `country`. Letters, "
        "wrong lengths, unknown or unserved country codes and numbers that can never be mobiles are 400s."
    )
    # Names and source are checked and measured (after NFC) by person_names.
    firstName: str = _text(MAX_NAME_LENGTH, description="No digits, URLs, control or invisible characters.")
    lastName: str = _text(MAX_NAME_LENGTH, description="As firstName.")
    source: str | None = _text(
        MAX_SOURCE_LENGTH,
        default=None,
        description="Where the sign-up came from (a page URL or a label); default the Referer.",
    )
    consent: bool | None = Field(
        default=None,
        json_schema_extra={"anyOf": [{"const": True}, {"type": "null"}]},
        description="JSON true when sent (false is `must_be_true`); absent or null is allowed.",
    )
    language: str | None = _LANGUAGE

    _country = field_validator("country")(_check_country)
    _number = field_validator("destinationNumber")(_check_number)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in LANGUAGES:
            raise PydanticCustomError(LANGUAGE_CODE, "Use en, es or fr.")
        return value.lower()

    @field_validator("firstName", "lastName")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return clean_name(value)
        except TextProblem as problem:
            raise _refuse(problem) from None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        try:
            return clean_source(value) if value is not None else None
        except TextProblem as problem:
            raise _refuse(problem) from None

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool | None) -> bool | None:
        if value is False:
            raise PydanticCustomError("must_be_true", "Consent is required to receive text messages.")
        return value


class ValidationBody(_Body):
    """POST /validate."""

    max_fields: ClassVar[int] = MAX_VALIDATE_FIELDS

    country: str | None = _COUNTRY
    phoneNumber: str = _number("The number to check, as for destinationNumber.")

    _country = field_validator("country")(_check_country)
