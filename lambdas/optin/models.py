"""Request bodies and event payloads, parsed with pydantic.

Validation collects every bad field at once; messages are written for the person filling the
form. The phone number gets the free offline precheck here, so one 400 names all mistakes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from optin.phone_numbers import REJECTION_MESSAGES, Rejection, precheck
from optin.settings import Settings

_FRIENDLY = {
    "missing": "This field is required.",
    "string_type": "Must be text.",
    "bool_type": "Must be true or false.",
    "string_too_short": "This field is required.",
    "string_too_long": "This is too long.",
    "string_pattern_mismatch": "Use a two-letter country code such as US.",
}


class BodyError(ValueError):
    """The body is unusable; ``errors`` maps each bad field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = _FRIENDLY.get(error["type"], error["msg"])
        errors.setdefault(field, message)
    return errors


def _country_error(value: str | None, settings: Settings) -> str | None:
    if value is not None and value.upper() not in settings.allowed_countries:
        return REJECTION_MESSAGES[Rejection.COUNTRY_NOT_SERVED]
    return None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @classmethod
    def parse(cls, raw: str | bytes | dict[str, Any] | None, settings: Settings) -> Any:
        """Parse a JSON body (text or already decoded); raises BodyError."""
        data = raw
        if isinstance(raw, str | bytes):
            try:
                data = json.loads(raw or "null")
            except ValueError:
                raise BodyError({"body": "The request body must be valid JSON."}) from None
        if not isinstance(data, dict):
            raise BodyError({"body": "The request body must be a JSON object."})
        try:
            return cls.model_validate(data, context={"settings": settings})
        except ValidationError as exc:
            raise BodyError(_field_errors(exc)) from None


def _check_number(value: str, info: ValidationInfo) -> str:
    settings: Settings = (info.context or {})["settings"]
    country = info.data.get("country") or settings.default_country
    result = precheck(value, country, settings.allowed_countries)
    if result.rejection is not None and result.rejection.is_input_error:
        raise ValueError(result.message)
    return value


def _check_country(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    problem = _country_error(value, (info.context or {})["settings"])
    if problem:
        raise ValueError(problem)
    return value.upper()


class RegistrationBody(_Body):
    """POST /register — the tutorial's body, plus optional country and consent."""

    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    destinationNumber: str = Field(min_length=1, max_length=40)
    firstName: str = Field(min_length=1, max_length=100)
    lastName: str = Field(min_length=1, max_length=100)
    source: str | None = Field(default=None, max_length=2048)
    consent: bool | None = None

    _country = field_validator("country")(_check_country)
    _number = field_validator("destinationNumber")(_check_number)

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool | None) -> bool | None:
        if value is False:
            raise ValueError("Consent is required to receive text messages.")
        return value


class ValidationBody(_Body):
    """POST /validate."""

    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    phoneNumber: str = Field(min_length=1, max_length=40)

    _country = field_validator("country")(_check_country)
