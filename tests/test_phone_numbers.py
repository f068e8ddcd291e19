"""Offline precheck, carrier verdicts, masking, and settings parsing."""

import pytest

from optin.masking import mask
from optin.phone_numbers import CarrierInfo, Rejection, precheck
from optin.settings import Settings, SettingsError

US_CA = ("US", "CA")


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("2065550142", "US", "+12065550142"),  # the tutorial's 10-digit national number
        ("(206) 555-0142", "US", "+12065550142"),
        ("206.555.0142", "US", "+12065550142"),
        ("+1 206 555 0142", None, "+12065550142"),
        ("1-206-555-0142", "US", "+12065550142"),
        ("001 206 555 0142", "GB", "+12065550142"),  # international prefix typed as 00
        ("613 555 0123", "CA", "+16135550123"),
        ("+16135550123", "US", "+16135550123"),  # E.164 ignores the form's country
    ],
)
def test_valid_numbers_become_e164(raw, country, e164):
    result = precheck(raw, country or "US", US_CA)
    assert result.ok and result.e164 == e164


@pytest.mark.parametrize(
    ("raw", "rejection"),
    [
        ("", Rejection.MISSING),
        ("   ", Rejection.MISSING),
        ("206-555-O142", Rejection.LETTERS),  # letter O for zero
        ("1-800-FLOWERS", Rejection.LETTERS),  # vanity numbers would be silently converted
        ("206#555#0142", Rejection.BAD_CHARACTERS),
        ("206555014", Rejection.TOO_SHORT),
        ("12", Rejection.TOO_SHORT),
        ("206555014222", Rejection.TOO_LONG),
        ("+999 1234 5678", Rejection.INVALID_COUNTRY_CODE),
        ("+1 555 555 0142", Rejection.INVALID),  # no such US area code
        ("+44 7400 123456", Rejection.COUNTRY_NOT_SERVED),
        ("+52 55 1234 5678", Rejection.COUNTRY_NOT_SERVED),
    ],
)
def test_input_mistakes_are_refused_offline(raw, rejection):
    result = precheck(raw, "US", US_CA)
    assert result.rejection == rejection
    assert result.rejection.is_input_error
    assert result.message


@pytest.mark.parametrize(
    ("raw", "rejection"),
    [
        ("+1 800 555 0100", Rejection.NOT_MOBILE),  # toll-free
        ("+1 900 555 0100", Rejection.NOT_MOBILE),  # premium rate: a favourite of SMS pumping
    ],
)
def test_numbers_that_cannot_be_mobiles_are_refused_without_a_paid_lookup(raw, rejection):
    result = precheck(raw, "US", US_CA)
    assert result.rejection == rejection and not result.rejection.is_input_error


def test_fixed_lines_are_known_offline_where_the_country_tells_them_apart():
    result = precheck("+44 20 7183 8750", "GB", ("GB",))
    assert result.rejection == Rejection.LANDLINE
    assert precheck("+44 7400 123456", "GB", ("GB",)).ok


@pytest.mark.parametrize(
    ("code", "allow_prepaid", "rejection"),
    [
        (0, False, None),
        (1, False, Rejection.LANDLINE),
        (2, False, Rejection.VOIP),
        (3, False, Rejection.INVALID_PER_LOOKUP),
        (4, False, Rejection.OTHER),
        (5, False, Rejection.PREPAID),
        (5, True, None),
    ],
)
def test_only_mobiles_pass_the_carrier_verdict(code, allow_prepaid, rejection):
    assert CarrierInfo("+12065550142", "US", code).rejection(allow_prepaid) == rejection


def test_mask_keeps_the_last_four_digits():
    assert mask("+12065550142") == "+1******0142"
    assert mask("call 2065550142 now") == "call ******0142 now"
    assert mask("id 123") == "id 123"
    assert "5550142" not in mask('{"to": "+442071838750"}')


def test_settings_come_from_the_environment():
    settings = Settings.from_env(
        {
            "ALLOWED_COUNTRIES": "us, ca,gb",
            "RESEND_COOLDOWN_SECONDS": "120",
            "ALLOW_PREPAID": "true",
            "OWN_NUMBERS": "+12065550100,+12065550101",
            "CONFIRM_KEYWORDS": "yes, si",
        }
    )
    assert settings.allowed_countries == ("US", "CA", "GB")
    assert settings.resend_cooldown_seconds == 120
    assert settings.allow_prepaid is True
    assert settings.our_numbers == {"+12065550100", "+12065550101"}
    assert settings.confirm_keywords == ("YES", "SI")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"RESEND_COOLDOWN_SECONDS": "ten"}, "RESEND_COOLDOWN_SECONDS"),
        ({"ALLOW_PREPAID": "maybe"}, "ALLOW_PREPAID"),
        ({"DEFAULT_COUNTRY": "USA"}, "DEFAULT_COUNTRY"),
        ({"OWN_NUMBERS": "2065550100"}, "OWN_NUMBERS"),
    ],
)
def test_bad_settings_name_the_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)
