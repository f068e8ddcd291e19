"""Phone numbers: the free offline precheck (libphonenumber), carrier facts, and masking for logs.

The precheck rejects what needs no paid lookup: letters, wrong length, unknown country codes,
numbers outside the served countries, and numbers libphonenumber already knows cannot be
mobiles (toll-free, premium-rate, fixed lines in countries that tell them apart, ...).
For US and CA it cannot tell a mobile from a landline, so the carrier lookup still decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

# Characters people type in phone numbers besides digits.
_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_ALLOWED_INPUT = re.compile(r"^\+?[\d\s\-().\u00a0/]+$")

# libphonenumber types that can never receive our confirmation SMS.
_NEVER_MOBILE = {
    PhoneNumberType.FIXED_LINE: "LANDLINE",
    PhoneNumberType.TOLL_FREE: "TOLL_FREE",
    PhoneNumberType.PREMIUM_RATE: "PREMIUM_RATE",
    PhoneNumberType.SHARED_COST: "SHARED_COST",
    PhoneNumberType.VOIP: "VOIP",
    PhoneNumberType.PAGER: "PAGER",
    PhoneNumberType.UAN: "UAN",
    PhoneNumberType.VOICEMAIL: "VOICEMAIL",
}


class Rejection(StrEnum):
    """Why a number was refused. The first group is a client mistake (400), the rest 422."""

    MISSING = "missing"
    LETTERS = "letters"
    BAD_CHARACTERS = "bad_characters"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID_COUNTRY_CODE = "invalid_country_code"
    INVALID = "invalid"
    COUNTRY_NOT_SERVED = "country_not_served"
    # The number is well formed but cannot receive SMS.
    NOT_MOBILE = "not_mobile"
    LANDLINE = "landline"
    VOIP = "voip"
    PREPAID = "prepaid"
    INVALID_PER_LOOKUP = "invalid_per_lookup"
    OTHER = "other"

    @property
    def is_input_error(self) -> bool:
        return self in _INPUT_ERRORS


_INPUT_ERRORS = {
    Rejection.MISSING,
    Rejection.LETTERS,
    Rejection.BAD_CHARACTERS,
    Rejection.TOO_SHORT,
    Rejection.TOO_LONG,
    Rejection.INVALID_COUNTRY_CODE,
    Rejection.INVALID,
    Rejection.COUNTRY_NOT_SERVED,
}

REJECTION_MESSAGES = {
    Rejection.MISSING: "Enter a phone number.",
    Rejection.LETTERS: "A phone number cannot contain letters.",
    Rejection.BAD_CHARACTERS: "Use only digits, spaces, '+', '-', '.', and parentheses.",
    Rejection.TOO_SHORT: "This number has too few digits.",
    Rejection.TOO_LONG: "This number has too many digits.",
    Rejection.INVALID_COUNTRY_CODE: "The country code of this number is not valid.",
    Rejection.INVALID: "This is not a valid phone number.",
    Rejection.COUNTRY_NOT_SERVED: "We do not send messages to numbers in this country.",
    Rejection.NOT_MOBILE: "This number cannot receive text messages.",
    Rejection.LANDLINE: "This is a landline and cannot receive text messages.",
    Rejection.VOIP: "This is a VoIP number; please use a mobile number.",
    Rejection.PREPAID: "Prepaid numbers are not accepted; please use another mobile number.",
    Rejection.INVALID_PER_LOOKUP: "This number is not in service.",
    Rejection.OTHER: "This number cannot receive text messages.",
}


@dataclass(frozen=True)
class Precheck:
    """Outcome of the offline check."""

    e164: str | None = None
    country: str | None = None
    offline_type: str | None = None  # libphonenumber's type name, e.g. FIXED_LINE_OR_MOBILE
    rejection: Rejection | None = None

    @property
    def ok(self) -> bool:
        return self.rejection is None

    @property
    def message(self) -> str | None:
        return REJECTION_MESSAGES[self.rejection] if self.rejection else None


def precheck(raw: str | None, default_country: str, allowed_countries: tuple[str, ...]) -> Precheck:
    """Parse and check a number typed by a person, with no network call."""
    text = (raw or "").strip()
    if not text:
        return Precheck(rejection=Rejection.MISSING)
    if any(ch.isalpha() for ch in text):
        # libphonenumber would turn vanity letters (1-800-FLOWERS) into digits: refuse instead.
        return Precheck(rejection=Rejection.LETTERS)
    if not _ALLOWED_INPUT.match(text):
        return Precheck(rejection=Rejection.BAD_CHARACTERS)
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):  # international prefix typed instead of '+'
        compact = "+" + compact[2:]
    try:
        number = phonenumbers.parse(compact, None if compact.startswith("+") else default_country)
    except NumberParseException as exc:
        return Precheck(rejection=_parse_rejection(exc))
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        return Precheck(rejection=_possibility_rejection(possible))
    if not phonenumbers.is_valid_number(number):
        return Precheck(rejection=Rejection.INVALID)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    country = phonenumbers.region_code_for_number(number)
    number_type = phonenumbers.number_type(number)
    type_name = _type_name(number_type)
    if country not in allowed_countries:
        return Precheck(e164, country, type_name, Rejection.COUNTRY_NOT_SERVED)
    if number_type in _NEVER_MOBILE:
        reason = Rejection.VOIP if number_type == PhoneNumberType.VOIP else Rejection.NOT_MOBILE
        if number_type == PhoneNumberType.FIXED_LINE:
            reason = Rejection.LANDLINE
        return Precheck(e164, country, type_name, reason)
    return Precheck(e164, country, type_name)


_TYPE_NAMES = {value: name for name, value in vars(PhoneNumberType).items() if name.isupper()}


def _type_name(number_type: int) -> str:
    return _TYPE_NAMES.get(number_type, "UNKNOWN")


def _parse_rejection(exc: NumberParseException) -> Rejection:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return Rejection.INVALID_COUNTRY_CODE
    if exc.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return Rejection.TOO_SHORT
    if exc.error_type == NumberParseException.TOO_LONG:
        return Rejection.TOO_LONG
    return Rejection.INVALID


def _possibility_rejection(result: int) -> Rejection:
    if result == ValidationResult.TOO_SHORT:
        return Rejection.TOO_SHORT
    if result == ValidationResult.TOO_LONG:
        return Rejection.TOO_LONG
    if result == ValidationResult.INVALID_COUNTRY_CODE:
        return Rejection.INVALID_COUNTRY_CODE
    return Rejection.INVALID


def time_zone_for(e164: str) -> str | None:
    """libphonenumber's best time zone for a number (first of its list), or None when unknown."""
    from phonenumbers import timezone  # loads a large table: only when asked

    zones = timezone.time_zones_for_number(phonenumbers.parse(e164))
    return zones[0] if zones and zones[0] != "Etc/Unknown" else None


# Carrier lookup (PhoneNumberValidate) type codes.
PHONE_TYPE_NAMES = {0: "MOBILE", 1: "LANDLINE", 2: "VOIP", 3: "INVALID", 4: "OTHER", 5: "PREPAID"}
_TYPE_REJECTIONS = {
    1: Rejection.LANDLINE,
    2: Rejection.VOIP,
    3: Rejection.INVALID_PER_LOOKUP,
    4: Rejection.OTHER,
    5: Rejection.PREPAID,
}


@dataclass(frozen=True)
class CarrierInfo:
    """What the carrier lookup says about a number."""

    e164: str
    country: str | None
    phone_type_code: int
    carrier: str | None = None
    city: str | None = None
    zip_code: str | None = None
    timezone: str | None = None

    @property
    def phone_type(self) -> str:
        return PHONE_TYPE_NAMES.get(self.phone_type_code, "OTHER")

    def rejection(self, allow_prepaid: bool) -> Rejection | None:
        """None when the number can receive our SMS, else why not."""
        if self.phone_type_code == 0 or (self.phone_type_code == 5 and allow_prepaid):
            return None
        return _TYPE_REJECTIONS.get(self.phone_type_code, Rejection.OTHER)
