"""Context parsing: every key validated, errors name the key to set. No synthesis here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stacks.config import Config, ConfigError, load_cdk_json_context

ROOT = Path(__file__).resolve().parents[2]
ARN = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef"


def test_cdk_json_defaults_parse() -> None:
    config = Config.from_context(load_cdk_json_context())
    assert config.number.mode == "simulator"
    assert config.number.number_type == "SIMULATOR"
    assert config.number.country == "US"
    assert config.pinpoint is False  # Pinpoint's engagement features ended on 2026-10-30
    assert (config.backup, config.backup_retention_days) == (True, 1461)  # 4 years: the TCPA's limit
    assert config.protect_filter is False
    assert config.allowed_origins == ()
    assert config.settings_environment["ALLOWED_COUNTRIES"] == "US,CA"


def test_empty_context_is_a_simulator_deployment() -> None:
    config = Config.from_context({})
    assert (config.number.mode, config.number.number_type) == ("simulator", "SIMULATOR")
    assert config.settings_environment["BRAND_NAME"] == "ExampleCorp"


def test_every_cdk_json_key_is_read() -> None:
    context = load_cdk_json_context()
    ours = [k for k in context if re.fullmatch(r"[a-z][A-Za-z0-9]*", k)]
    assert len(ours) >= 25
    for key in ours:  # a stray value of a known key type must not be silently ignored
        Config.from_context({key: context[key]})


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"numberMode": "new"}, "numberType"),
        ({"numberMode": "new", "numberType": "LONG_CODE"}, "numberType"),
        ({"numberMode": "new", "numberType": "SHORT"}, "numberType"),
        ({"numberMode": "existing"}, "existingPhoneNumber"),
        ({"numberMode": "existing", "existingPhoneNumber": "+12065550100"}, "existingPhoneNumber"),
        ({"numberMode": "existing", "existingPhoneNumber": "phone-123"}, "existingPhoneNumber"),
        ({"numberMode": "sandbox"}, "numberMode"),
        ({"numberCountry": "USA"}, "numberCountry"),
        ({"pinpoint": "maybe"}, "pinpoint"),
        ({"backup": "perhaps"}, "backup"),
        ({"backupRetentionDays": 0}, "backupRetentionDays"),
        ({"backupRetentionDays": "four years"}, "backupRetentionDays"),
        ({"protectFilter": "sometimes"}, "protectFilter"),
        ({"apiThrottleRate": "fast"}, "apiThrottleRate"),
        ({"apiThrottleBurst": 0}, "apiThrottleBurst"),
        ({"wafRateLimit": 5}, "wafRateLimit"),
        ({"wafRegisterRateLimit": 9}, "wafRegisterRateLimit"),  # WAF's minimum is 10
        ({"wafValidateRateLimit": "sixty"}, "wafValidateRateLimit"),
        ({"wafChallenge": "sometimes"}, "wafChallenge"),
        ({"spendLookupsPerDay": "-5"}, "spendLookupsPerDay"),
        ({"formMinFillSeconds": "3s"}, "formMinFillSeconds"),
        ({"logRetentionDays": 31}, "logRetentionDays"),
        ({"allowedOrigins": ["https://ok.example.com", "ftp://x"]}, "allowedOrigins"),
        ({"allowedOrigins": ["https://example.com/path"]}, "allowedOrigins"),
        ({"configurationSet": "bad name"}, "configurationSet"),
        ({"alarmEmail": "not-an-email"}, "alarmEmail"),
        ({"stackName": "1bad"}, "stackName"),
        ({"confirmWindowDays": -1}, "confirmWindowDays"),
        ({"allowedCountries": "USA,CA"}, "allowedCountries"),
        ({"allowedCountries": []}, "allowedCountries"),
        ({"defaultCountry": "United States"}, "defaultCountry"),
        ({"allowPrepaid": "perhaps"}, "allowPrepaid"),
        ({"helpTemplate": "{brand} {unknown}"}, "helpTemplate"),
        ({"numbermode": "new"}, "numberMode"),  # typo: the message suggests the real key
    ],
)
def test_bad_values_fail_naming_the_key(context: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=f"'{key}'"):
        Config.from_context(context)


def test_existing_number_by_id_or_arn() -> None:
    by_id = Config.from_context({"numberMode": "existing", "existingPhoneNumber": ARN.rsplit("/", 1)[1]})
    by_arn = Config.from_context({"numberMode": "existing", "existingPhoneNumber": ARN})
    assert by_id.number.existing == ARN.rsplit("/", 1)[1]
    assert by_arn.number.existing == ARN
    assert by_arn.number.number_type is None  # unknown unless numberType is given as a hint


def test_cli_strings_are_accepted() -> None:
    """``cdk synth -c key=value`` passes every value as a string."""
    config = Config.from_context(
        {
            "pinpoint": "false",
            "waf": "true",
            "apiThrottleRate": "25",
            "allowedOrigins": '["https://a.example.com"]',
            "allowedCountries": "US, CA, MX",
            "logRetentionDays": "365",
            "numberMode": "NEW",
            "numberType": "toll_free",
            "backupRetentionDays": "731",
            "protectFilter": "true",
        }
    )
    assert config.pinpoint is False
    assert config.waf is True
    assert config.api_throttle_rate == 25
    assert config.allowed_origins == ("https://a.example.com",)
    assert config.settings_environment["ALLOWED_COUNTRIES"] == "US,CA,MX"
    assert config.log_retention_days == 365
    assert (config.number.mode, config.number.number_type) == ("new", "TOLL_FREE")
    assert config.backup_retention_days == 731
    assert config.protect_filter is True


def test_a_new_10dlc_number_is_refused_with_the_order_of_steps() -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_context({"numberMode": "new", "numberCountry": "US", "numberType": "TEN_DLC"})
    message = str(refused.value)
    steps = [
        message.index(step) for step in ("brand and the campaign", "request the 10DLC number", "existing")
    ]
    assert steps == sorted(steps), message  # register, then request, then deploy with existing
    assert "numberMode=existing" in message
    # The number, once requested in the console, is welcome as an existing one.
    Config.from_context({"numberMode": "existing", "existingPhoneNumber": ARN, "numberType": "TEN_DLC"})


def test_no_warnings_for_the_shipped_defaults() -> None:
    assert Config.from_context(load_cdk_json_context()).warnings == ()


def test_waf_and_the_abuse_limits_are_on_by_default() -> None:
    for config in (Config.from_context({}), Config.from_context(load_cdk_json_context())):
        assert config.waf is True and config.waf_challenge is False
        assert (config.waf_rate_limit, config.waf_register_rate_limit, config.waf_validate_rate_limit) == (
            100,
            20,
            60,
        )
        assert config.settings.spend_texts_per_hour == 200 and config.settings.require_form_token is False
        assert config.settings_environment["IP_REGISTRATIONS_PER_HOUR"] == "20"


def test_turning_waf_off_with_a_real_number_warns() -> None:
    real = {"numberMode": "new", "numberType": "TOLL_FREE", "alarmEmail": "ops@example.com"}
    assert Config.from_context(real).warnings == ()
    (warning,) = Config.from_context({**real, "waf": "false"}).warnings
    assert "waf=false" in warning and "spend breaker" in warning
    assert Config.from_context({"waf": False}).warnings == ()  # the simulator texts no real phone


def test_pinpoint_on_gives_exactly_one_warning_naming_its_end_of_support() -> None:
    (warning,) = Config.from_context({**load_cdk_json_context(), "pinpoint": True}).warnings
    assert "2026-10-30" in warning and "end of support" in warning


@pytest.mark.parametrize(
    "context",
    [
        {"numberMode": "new", "numberType": "TOLL_FREE"},
        {"numberMode": "existing", "existingPhoneNumber": ARN},
    ],
)
def test_real_numbers_without_an_alarm_email_warn(context: dict) -> None:
    (warning,) = Config.from_context(context).warnings
    assert "alarmEmail" in warning and "notify nobody" in warning
    assert Config.from_context({**context, "alarmEmail": "ops@example.com"}).warnings == ()
    assert Config.from_context({"alarmEmail": ""}).warnings == ()  # the simulator texts no real phone


def test_optional_texts_pass_through_only_when_set() -> None:
    assert "CONFIRM_KEYWORDS" not in Config.from_context({}).settings_environment
    config = Config.from_context({"confirmKeywords": ["SI", "YES"], "signupUrl": "example.com/join"})
    assert config.settings_environment["CONFIRM_KEYWORDS"] == "SI,YES"
    assert config.settings_environment["SIGNUP_URL"] == "example.com/join"
    assert config.settings.confirm_keywords == ("SI", "YES")


def test_package_json_pins_the_cdk_cli() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    version = package["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin an exact version"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version
    assert json.loads((ROOT / "cdk.json").read_text())["app"].endswith("app.py")


def test_every_cdk_json_key_is_documented_in_the_deploy_guide() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    ours = [k for k in load_cdk_json_context() if re.fullmatch(r"[a-z][A-Za-z0-9]*", k)]
    undocumented = [k for k in ours if f"`{k}`" not in guide]
    assert not undocumented, undocumented
