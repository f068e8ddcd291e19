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
    MAX_NUMBER_LENGTH,
    MAX_REGISTER_FIELDS,
    MAX_VALIDATE_FIELDS,
)
from optin.person_names import TextProblem, clean_name, clean_source
from optin.phone_numbers import REJECTION_MESSAGES, Rejection, precheck
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


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)
    max_fields: ClassVar[int]

    @classmethod
    def parse(cls, body: Any, settings: Settings) -> Any:
        """Validate a parsed JSON body (``optin.http.json_body``: any JSON value, None when empty);
        raises BodyError."""
        data = require_object(body, cls.max_fields)
        try:
            return cls.model_validate(data, context={"settings": settings})
        except ValidationError as exc:
            raise BodyError(*_field_problems(exc)) from None


def _check_number(value: str, info: ValidationInfo) -> str:
    settings: Settings = (info.context or {})["settings"]
    country = info.data.get("country") or settings.default_country
    result = precheck(value, country, settings.allowed_countries)
    if result.rejection is not None and result.rejection.is_input_error:
        raise PydanticCustomError(number_code(result.rejection), result.message or "Not a phone number.")
    return value


def _check_country(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    settings: Settings = (info.context or {})["settings"]
    if value.upper() not in settings.allowed_countries:
        raise PydanticCustomError("country_not_served", REJECTION_MESSAGES[Rejection.COUNTRY_NOT_SERVED])
    return value.upper()


_COUNTRY = Field(default=None, max_length=MAX_COUNTRY_INPUT, pattern=r"^[A-Za-z]{2}$")
_LANGUAGE = Field(default=None, max_length=MAX_LANGUAGE_LENGTH)
_NUMBER = Field(min_length=1, max_length=MAX_NUMBER_LENGTH)


class RegistrationBody(_Body):
    """POST /register — the tutorial's body, plus optional country, consent (JSON true when sent; null
    counts as absent, as for every optional field) and language (en, es or fr, any case: the texts')."""

    max_fields: ClassVar[int] = MAX_REGISTER_FIELDS

    country: str | None = _COUNTRY
    destinationNumber: str = _NUMBER
    # Names and source are checked and measured (after NFC) by person_names.
    firstName: str
    lastName: str
    source: str | None = None
    consent: bool | None = None
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
    phoneNumber: str = _NUMBER

    _country = field_validator("country")(_check_country)
