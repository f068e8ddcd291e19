"""Deployment configuration: every ``cdk.json`` context key, parsed and validated once.

:meth:`Config.from_context` is the only place that reads context. A missing or malformed value fails
synthesis with a :class:`ConfigError` that names the context key to set. Values may come from
``cdk.json`` (typed JSON) or from ``cdk synth -c key=value`` (always strings), so every reader accepts
both forms: ``"true"``/``true``, ``"5"``/``5``, ``"US,CA"``/``["US", "CA"]``.

The functions' settings (brand, texts, limits) are validated by the functions' own parser,
:meth:`optin.settings.Settings.from_env`, so the stack and the handlers can never disagree on what a
valid value is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_logs as logs

from optin.settings import TEXT_NAMES, Settings, SettingsError
from stacks import PROJECT_ROOT

NUMBER_MODES = ("simulator", "new", "existing")
PINPOINT_END_OF_SUPPORT_DATE = "2026-10-30"
# Default retention of the contacts table's backups: 4 years (1461 days), the TCPA's statute of
# limitations, so consent evidence exists for as long as a claim can be brought.
BACKUP_RETENTION_DAYS = 1461
# SIMULATOR is requested through numberMode=simulator; these are the types of a real number.
NUMBER_TYPES = ("TOLL_FREE", "TEN_DLC", "LONG_CODE")
# WAF rate-based rules: at most this many requests per client IP per 5-minute window (WAF's maximum).
WAF_MAX_RATE_LIMIT = 2_000_000_000
# CloudWatch Logs retention periods (days) and their aws_logs.RetentionDays names.
LOG_RETENTION = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}

_PHONE_NUMBER_ID = re.compile(r"^phone-[0-9a-f]{32}$")
_PHONE_NUMBER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sms-voice:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"phone-number/(?P<id>phone-[0-9a-f]{32})$"
)
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_URL = re.compile(r"^https://[^\s\"'<>]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OWN_KEY = re.compile(r"^[a-z][A-Za-z0-9]*$")  # our keys are camelCase; CDK's have ':' '@' or '-'


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Context key -> (environment variable, kind, Settings field). These are always set: the function
# environment carries them, with the handlers' own defaults when the context leaves them out.
_SETTINGS_ALWAYS = {
    "brandName": ("BRAND_NAME", "text", "brand"),
    "messageFrequency": ("MESSAGE_FREQUENCY", "text", "message_frequency"),
    "helpUrl": ("HELP_URL", "text", "help_url"),
    "consentTextVersion": ("CONSENT_TEXT_VERSION", "text", "consent_text_version"),
    "defaultCountry": ("DEFAULT_COUNTRY", "text", "default_country"),
    "allowedCountries": ("ALLOWED_COUNTRIES", "list", "allowed_countries"),
    "allowPrepaid": ("ALLOW_PREPAID", "bool", "allow_prepaid"),
    "confirmWindowDays": ("CONFIRM_WINDOW_DAYS", "int", "confirm_window_days"),
    "resendCooldownSeconds": ("RESEND_COOLDOWN_SECONDS", "int", "resend_cooldown_seconds"),
    "maxConfirmationsPerDay": ("MAX_CONFIRMATIONS_PER_DAY", "int", "max_confirmations_per_day"),
    "lookupCacheDays": ("LOOKUP_CACHE_DAYS", "int", "lookup_cache_days"),
    # Abuse and cost protection (optin.abuse): the spend circuit breaker, number ranges, the per-IP
    # limit in code, and form friction. 0 turns a limit off.
    "spendTextsPerHour": ("SPEND_TEXTS_PER_HOUR", "int", "spend_texts_per_hour"),
    "spendTextsPerDay": ("SPEND_TEXTS_PER_DAY", "int", "spend_texts_per_day"),
    "spendLookupsPerHour": ("SPEND_LOOKUPS_PER_HOUR", "int", "spend_lookups_per_hour"),
    "spendLookupsPerDay": ("SPEND_LOOKUPS_PER_DAY", "int", "spend_lookups_per_day"),
    "rangeRegistrationsPerHour": ("RANGE_REGISTRATIONS_PER_HOUR", "int", "range_registrations_per_hour"),
    "rangeTrailingDigits": ("RANGE_TRAILING_DIGITS", "int", "range_trailing_digits"),
    "rangeBlockSeconds": ("RANGE_BLOCK_SECONDS", "int", "range_block_seconds"),
    "ipRegistrationsPerHour": ("IP_REGISTRATIONS_PER_HOUR", "int", "ip_registrations_per_hour"),
    "requireFormToken": ("REQUIRE_FORM_TOKEN", "bool", "require_form_token"),
    "formMinFillSeconds": ("FORM_MIN_FILL_SECONDS", "int", "form_min_fill_seconds"),
}
# Passed through only when set in context; the handlers' defaults apply otherwise.
_SETTINGS_OPTIONAL = {
    "signupUrl": ("SIGNUP_URL", "text", "signup_url"),
    "sendLeaseSeconds": ("SEND_LEASE_SECONDS", "int", "send_lease_seconds"),
    "sendSettleSeconds": ("SEND_SETTLE_SECONDS", "int", "send_settle_seconds"),
    "confirmationTemplate": ("CONFIRMATION_TEMPLATE", "text", "confirmation_template"),
    "welcomeTemplate": ("WELCOME_TEMPLATE", "text", "welcome_template"),
    "helpTemplate": ("HELP_TEMPLATE", "text", "help_template"),
    "optOutTemplate": ("OPT_OUT_TEMPLATE", "text", "opt_out_template"),
    "alreadyConfirmedTemplate": ("ALREADY_CONFIRMED_TEMPLATE", "text", "already_confirmed_template"),
    "signupTemplate": ("SIGNUP_TEMPLATE", "text", "signup_template"),
    "confirmKeywords": ("CONFIRM_KEYWORDS", "list", "confirm_keywords"),
    "optOutKeywords": ("OPT_OUT_KEYWORDS", "list", "opt_out_keywords"),
    "optInKeywords": ("OPT_IN_KEYWORDS", "list", "opt_in_keywords"),
    "helpKeywords": ("HELP_KEYWORDS", "list", "help_keywords"),
    "followUpSequence": ("FOLLOW_UP_SEQUENCE", "json", "follow_up_steps"),
    "whatsappTransport": ("WHATSAPP_TRANSPORT", "text", "whatsapp_transport"),
    "whatsappPhoneNumberId": ("WHATSAPP_PHONE_NUMBER_ID", "text", "whatsapp_phone_number_id"),
    "whatsappApiVersion": ("WHATSAPP_API_VERSION", "text", "whatsapp_api_version"),
    "whatsappRatePerSecond": ("WHATSAPP_RATE_PER_SECOND", "int", "whatsapp_rate_per_second"),
    "whatsappRequireConfirmed": ("WHATSAPP_REQUIRE_CONFIRMED", "bool", "whatsapp_require_confirmed"),
    "followUpSendWindow": ("FOLLOW_UP_SEND_WINDOW", "text", "follow_up_window"),
    # Keyword rules and languages (issue 11)
    "revocationWords": ("REVOCATION_WORDS", "list", "revocation_words"),
    "revocationPhrases": ("REVOCATION_PHRASES", "list", "revocation_phrases"),
    "keywordExceptions": ("KEYWORD_EXCEPTIONS", "list", "keyword_exceptions"),
    "revocationRules": ("REVOCATION_RULES", "list", "revocation_rules"),
    "defaultLanguage": ("DEFAULT_LANGUAGE", "text", "default_language"),
    "nudgeUnrecognized": ("NUDGE_UNRECOGNIZED", "bool", "nudge_unrecognized"),
    "nudgeTemplate": ("NUDGE_TEMPLATE", "text", "nudge_template"),
    **{
        f"{key}{language.title()}": (f"{variable}_{language.upper()}", "text", "translations")
        for language in ("es", "fr")
        for key, variable in (
            ("messageFrequency", "MESSAGE_FREQUENCY"),
            *((f"{_camel(name)}Template", f"{name.upper()}_TEMPLATE") for name in TEXT_NAMES),
        )
    },
}
_SETTINGS_KEYS = {**_SETTINGS_ALWAYS, **_SETTINGS_OPTIONAL}


class ConfigError(ValueError):
    """A context key is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class NumberConfig:
    """Where the origination number comes from (context ``numberMode`` and friends)."""

    mode: str  # simulator | new | existing
    country: str  # ISO alpha-2 of the number
    number_type: str | None  # SIMULATOR, TOLL_FREE, TEN_DLC, LONG_CODE; None = unknown (existing)
    existing: str | None = None  # existing mode: phone number id or ARN as given
    deletion_protection: bool = False
    channel_role: bool = False  # publish to the topic through an IAM role instead of the topic policy

    @property
    def creates_number(self) -> bool:
        return self.mode in ("simulator", "new")

    @property
    def us_toll_free(self) -> bool:
        return self.country == "US" and self.number_type == "TOLL_FREE"


@dataclass(frozen=True)
class Config:
    """Everything the stack needs from context. Build it with :meth:`from_context`."""

    stack_name: str
    number: NumberConfig
    pinpoint: bool
    configuration_set: str | None
    allowed_origins: tuple[str, ...]
    api_throttle_rate: int
    api_throttle_burst: int
    api_gateway_cloudwatch_role: bool
    waf: bool
    waf_rate_limit: int
    waf_register_rate_limit: int
    waf_validate_rate_limit: int
    waf_challenge: bool
    log_retention_days: int
    alarm_email: str | None
    inbound_max_concurrency: int
    dlq_max_receive_count: int
    protect_filter: bool
    backup: bool
    backup_retention_days: int
    web: bool
    whatsapp_secret_arn: str | None
    terms_url: str
    privacy_url: str
    settings: Settings = field(repr=False)
    settings_environment: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Config:
        """Parse the context: ``app.node.get_all_context()``, or a plain dict in tests."""
        read = _Reader(context)
        number = _check_number(
            NumberConfig(
                mode=read.choice("numberMode", "simulator", NUMBER_MODES),
                country=read.country("numberCountry", "US"),
                number_type=read.optional_choice("numberType", NUMBER_TYPES),
                existing=read.optional_text("existingPhoneNumber"),
                deletion_protection=read.boolean("numberDeletionProtection", False),
                channel_role=read.boolean("twoWayChannelRole", False),
            )
        )
        settings_environment = _settings_environment(read)
        config = cls(
            stack_name=read.pattern("stackName", "SmsOptin", _STACK_NAME, "a CloudFormation stack name"),
            number=number,
            pinpoint=read.boolean("pinpoint", False),
            configuration_set=read.optional_pattern(
                "configurationSet", _CONFIGURATION_SET, "a configuration set name"
            ),
            allowed_origins=read.strings("allowedOrigins", _ORIGIN, "origins such as https://example.com"),
            api_throttle_rate=read.integer("apiThrottleRate", 10, minimum=1, maximum=10_000),
            api_throttle_burst=read.integer("apiThrottleBurst", 20, minimum=1, maximum=5_000),
            api_gateway_cloudwatch_role=read.boolean("apiGatewayCloudWatchRole", True),
            waf=read.boolean("waf", True),
            waf_rate_limit=read.integer("wafRateLimit", 100, minimum=10, maximum=WAF_MAX_RATE_LIMIT),
            waf_register_rate_limit=read.integer(
                "wafRegisterRateLimit", 20, minimum=10, maximum=WAF_MAX_RATE_LIMIT
            ),
            waf_validate_rate_limit=read.integer(
                "wafValidateRateLimit", 60, minimum=10, maximum=WAF_MAX_RATE_LIMIT
            ),
            waf_challenge=read.boolean("wafChallenge", False),
            log_retention_days=read.choice("logRetentionDays", 30, tuple(LOG_RETENTION)),
            alarm_email=read.optional_pattern("alarmEmail", _EMAIL, "an email address"),
            inbound_max_concurrency=read.integer("inboundMaxConcurrency", 5, minimum=2, maximum=1000),
            dlq_max_receive_count=read.integer("dlqMaxReceiveCount", 5, minimum=1, maximum=1000),
            protect_filter=read.boolean("protectFilter", False),
            backup=read.boolean("backup", True),
            backup_retention_days=read.integer(
                "backupRetentionDays", BACKUP_RETENTION_DAYS, minimum=1, maximum=36_500
            ),
            web=read.boolean("web", True),
            whatsapp_secret_arn=read.optional_pattern(
                "whatsappSecretArn", _SECRET_ARN, "a Secrets Manager secret ARN (arn:...:secretsmanager:...)"
            ),
            terms_url=read.pattern("termsUrl", "https://example.com/terms", _URL, "an https:// URL"),
            privacy_url=read.pattern("privacyUrl", "https://example.com/privacy", _URL, "an https:// URL"),
            settings=_parse_settings(settings_environment),
            settings_environment=settings_environment,
        )
        read.reject_unknown()
        if config.waf_challenge and not config.waf:
            raise ConfigError(
                "context key 'wafChallenge' needs 'waf' on: the challenge is a rule of the API's WAF "
                "web ACL (set -c waf=true, or leave wafChallenge false)"
            )
        return config

    @property
    def warnings(self) -> tuple[str, ...]:
        """What synthesis should tell the person deploying: valid settings that are probably a mistake."""
        found = []
        if self.pinpoint:
            found.append(
                "context pinpoint=true: Amazon Pinpoint engagement features (projects, endpoints, "
                f"campaigns) reached end of support on {PINPOINT_END_OF_SUPPORT_DATE}; creating the "
                "Pinpoint project is expected to fail in accounts AWS no longer serves. Nothing in the "
                "opt-in flow needs it: set pinpoint=false unless this account still has Pinpoint."
            )
        if self.number.mode in ("new", "existing") and not self.alarm_email:
            found.append(
                f"numberMode={self.number.mode} sends to real phones, but no alarmEmail is set: the "
                "stack's alarms (dead-letter queues, function errors, API 5xx) will notify nobody. "
                "Set -c alarmEmail=you@example.com."
            )
        if self.number.mode in ("new", "existing") and not self.waf:
            found.append(
                f"numberMode={self.number.mode} with waf=false: the public form has no per-IP rate rules "
                "and no IP reputation list at the edge; only the stage throttle and the functions' "
                "limits (spend breaker, number ranges, per-IP registrations) stand in front of paid "
                "lookups and texts. Leave waf on unless another firewall fronts the API."
            )
        return tuple(found)

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[LOG_RETENTION[self.log_retention_days]]

    def render(self, template: str) -> str:
        """A message template of the functions, filled with this deployment's brand texts."""
        return template.format_map(self.settings.text_fields())


def load_cdk_json_context(path: str | None = None) -> dict[str, Any]:
    """The ``context`` block of ``cdk.json``: the defaults of a direct ``python app.py`` run."""
    cdk_json = PROJECT_ROOT / "cdk.json" if path is None else path
    with open(cdk_json, encoding="utf-8") as handle:
        return dict(json.load(handle).get("context", {}))


def _check_number(number: NumberConfig) -> NumberConfig:
    if number.mode == "simulator":
        # Simulator numbers exist only in the US; their messages never leave AWS.
        return NumberConfig(
            mode="simulator",
            country="US",
            number_type="SIMULATOR",
            deletion_protection=number.deletion_protection,
            channel_role=number.channel_role,
        )
    if number.mode == "new":
        if number.number_type is None:
            raise ConfigError(
                "numberMode 'new' needs context key 'numberType' (one of "
                f"{', '.join(NUMBER_TYPES)}); US SMS numbers are TOLL_FREE or TEN_DLC"
            )
        if number.number_type == "TEN_DLC":
            raise ConfigError(
                "numberMode 'new' with numberType 'TEN_DLC' cannot work: a 10DLC number can only be "
                "requested after its brand and campaign are registered, and CloudFormation cannot link "
                "a number to them. Register the brand and the campaign in the AWS End User Messaging "
                "console, request the 10DLC number there (associated with the campaign), then deploy "
                "with -c numberMode=existing -c existingPhoneNumber=phone-... (its id or ARN)"
            )
        if number.country == "US" and number.number_type == "LONG_CODE":
            raise ConfigError(
                "context key 'numberType': a US LONG_CODE is voice-only; use TOLL_FREE or TEN_DLC "
                "(and register it) for SMS"
            )
        return number
    if not number.existing:
        raise ConfigError(
            "numberMode 'existing' needs context key 'existingPhoneNumber': the phone number id "
            "(phone-...) or ARN of an AWS End User Messaging number in this account"
        )
    if not (_PHONE_NUMBER_ID.match(number.existing) or _PHONE_NUMBER_ARN.match(number.existing)):
        raise ConfigError(
            "context key 'existingPhoneNumber' must be a phone number id such as "
            "phone-0123456789abcdef0123456789abcdef or its ARN "
            f"(arn:aws:sms-voice:REGION:ACCOUNT:phone-number/phone-...), got {number.existing!r}"
        )
    return number


def parse_phone_number_arn(value: str) -> dict[str, str] | None:
    """The parts of a phone number ARN, or None when ``value`` is a bare id."""
    match = _PHONE_NUMBER_ARN.match(value)
    return match.groupdict() if match else None


def _settings_environment(read: _Reader) -> dict[str, str]:
    defaults = Settings()
    environment: dict[str, str] = {}
    for key, (variable, kind, attribute) in _SETTINGS_KEYS.items():
        value = read.raw(key)
        if value is None or value == "":
            if key not in _SETTINGS_ALWAYS:
                continue
            value = getattr(defaults, attribute)
        environment[variable] = _as_environment_value(key, value, kind)
    return environment


def _as_environment_value(key: str, value: Any, kind: str) -> str:
    if kind == "json":  # a JSON list in cdk.json, or its text with -c
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(f"context key '{key}' must be JSON, got {value!r}") from None
        return json.dumps(value, separators=(",", ":"))
    if kind == "list":
        items = _as_list(key, value)
        if not items:
            raise ConfigError(f"context key '{key}' must list at least one value")
        return ",".join(items)
    if kind == "bool":
        return "true" if _as_bool(key, value) else "false"
    if isinstance(value, (dict, list)):
        raise ConfigError(f"context key '{key}' must be a single value, got {value!r}")
    return str(value).strip()


def _parse_settings(environment: Mapping[str, str]) -> Settings:
    context_key = {variable: key for key, (variable, _, _) in _SETTINGS_KEYS.items()}
    try:
        settings = Settings.from_env(environment)
    except SettingsError as error:
        variable = str(error).split(" ", 1)[0]
        key = context_key.get(variable, variable)
        raise ConfigError(f"context key '{key}': {error}") from None
    for key, template in (
        ("confirmationTemplate", settings.confirmation_template),
        ("welcomeTemplate", settings.welcome_template),
        ("helpTemplate", settings.help_template),
        ("optOutTemplate", settings.opt_out_template),
        ("alreadyConfirmedTemplate", settings.already_confirmed_template),
        ("signupTemplate", settings.signup_template),
    ):
        try:
            template.format_map(settings.text_fields())
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigError(
                f"context key '{key}' has a bad placeholder ({error}); "
                f"use {{{'}, {'.join(settings.text_fields())}}}"
            ) from None
    return settings


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "on"}:
        return True
    if text in {"false", "0", "no", "off"}:
        return False
    raise ConfigError(f"context key '{key}' must be true or false, got {value!r}")


def _as_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ConfigError(f"context key '{key}' is not a valid JSON list: {value!r}") from None
        else:
            return tuple(part.strip() for part in text.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise ConfigError(f"context key '{key}' must be a list of strings, got {value!r}")


class _Reader:
    """Typed access to context values; remembers which keys it was asked for."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = context
        self._known: set[str] = set(_SETTINGS_KEYS)

    def raw(self, key: str) -> Any:
        self._known.add(key)
        return self._context.get(key)

    def _value(self, key: str) -> Any:
        value = self.raw(key)
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    def optional_text(self, key: str) -> str | None:
        value = self._value(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"context key '{key}' must be a string, got {value!r}")
        return value.strip()

    def pattern(self, key: str, default: str, regex: re.Pattern[str], what: str) -> str:
        value = self.optional_pattern(key, regex, what)
        return default if value is None else value

    def optional_pattern(self, key: str, regex: re.Pattern[str], what: str) -> str | None:
        value = self.optional_text(key)
        if value is not None and not regex.match(value):
            raise ConfigError(f"context key '{key}' must be {what}, got {value!r}")
        return value

    def country(self, key: str, default: str) -> str:
        value = (self.optional_text(key) or default).upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ConfigError(
                f"context key '{key}' must be an ISO 3166 alpha-2 code such as US, got {value!r}"
            )
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._value(key)
        return default if value is None else _as_bool(key, value)

    def integer(self, key: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self._value(key)
        if value is None:
            return default
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", text):
            raise ConfigError(f"context key '{key}' must be a whole number, got {value!r}")
        number = int(text)
        if not minimum <= number <= maximum:
            raise ConfigError(f"context key '{key}' must be between {minimum} and {maximum}, got {number}")
        return number

    def choice(self, key: str, default: Any, choices: tuple[Any, ...]) -> Any:
        value = self._value(key)
        if value is None:
            return default
        for choice in choices:
            if str(choice).lower() == str(value).strip().lower():
                return choice
        raise ConfigError(f"context key '{key}' must be one of {', '.join(map(str, choices))}, got {value!r}")

    def optional_choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        return self.choice(key, None, choices)

    def strings(self, key: str, regex: re.Pattern[str], what: str) -> tuple[str, ...]:
        value = self.raw(key)
        items = () if value is None else _as_list(key, value)
        bad = [item for item in items if not regex.match(item)]
        if bad:
            raise ConfigError(f"context key '{key}' must list {what}, got {', '.join(bad)}")
        return items

    def reject_unknown(self) -> None:
        """Fail on a camelCase key nobody reads: almost always a typo of one that is read."""
        for key in self._context:
            if _OWN_KEY.match(key) and key not in self._known:
                close = difflib.get_close_matches(key, sorted(self._known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"unknown context key '{key}'{hint}")
