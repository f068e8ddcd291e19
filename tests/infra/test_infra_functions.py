"""Functions: shared defaults, one environment, least-privilege roles."""

from __future__ import annotations

import pytest
from infra_helpers import (
    EXISTING_ARN,
    ORIGIN,
    ORIGINS,
    actions,
    as_list,
    function,
    function_statements,
    get_att,
    only,
    props,
    ref,
    resources,
    statements_for,
    text,
)

from optin.settings import Settings

NAMES = ("Registration", "PhoneValidation", "InboundSms")
HANDLERS = {
    "Registration": "optin.handlers.registration.handler",
    "PhoneValidation": "optin.handlers.phone_validation.handler",
    "InboundSms": "optin.handlers.inbound_sms.handler",
}
SHARED_ENV = {
    "CONTACTS_TABLE",
    "LOOKUP_CACHE_TABLE",
    "IDEMPOTENCY_TABLE",
    "ORIGINATION_IDENTITY",
    "OWN_NUMBERS",
    "SELF_MANAGED_OPT_OUTS",
    "BRAND_NAME",
    "MESSAGE_FREQUENCY",
    "HELP_URL",
    "CONSENT_TEXT_VERSION",
    "DEFAULT_COUNTRY",
    "ALLOWED_COUNTRIES",
    "ALLOW_PREPAID",
    "CONFIRM_WINDOW_DAYS",
    "RESEND_COOLDOWN_SECONDS",
    "MAX_CONFIRMATIONS_PER_DAY",
    "LOOKUP_CACHE_DAYS",
    "SPEND_TEXTS_PER_HOUR",
    "SPEND_TEXTS_PER_DAY",
    "SPEND_LOOKUPS_PER_HOUR",
    "SPEND_LOOKUPS_PER_DAY",
    "RANGE_REGISTRATIONS_PER_HOUR",
    "RANGE_TRAILING_DIGITS",
    "RANGE_BLOCK_SECONDS",
    "IP_REGISTRATIONS_PER_HOUR",
    "REQUIRE_FORM_TOKEN",
    "FORM_MIN_FILL_SECONDS",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}


def env(template: dict, name: str) -> dict:
    return props(function(template, name)[1])["Environment"]["Variables"]


@pytest.mark.parametrize("name", NAMES)
def test_function_defaults(default: dict, name: str) -> None:
    lid, fn = function(default, name)
    p = props(fn)
    assert name in lid
    assert p["Handler"] == HANDLERS[name]
    assert p["Runtime"] == "python3.13"
    assert p["Architectures"] == ["arm64"]
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = p["LoggingConfig"]["LogGroup"]["Ref"]
    assert default["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert props(default["Resources"][log_group])["RetentionInDays"] == 30
    assert env(default, name)["POWERTOOLS_SERVICE_NAME"]


def test_log_retention_from_context(new: dict) -> None:
    for name in NAMES:
        log_group = props(function(new, name)[1])["LoggingConfig"]["LogGroup"]["Ref"]
        assert props(new["Resources"][log_group])["RetentionInDays"] == 90


def test_one_code_asset_and_one_role_each(default: dict) -> None:
    functions = [props(function(default, name)[1]) for name in NAMES]
    assert len({text(p["Code"]) for p in functions}) == 1
    roles = {p["Role"]["Fn::GetAtt"][0] for p in functions}
    assert len(roles) == 3
    for role in roles:
        role_props = props(default["Resources"][role])
        assert role_props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
        assert "ManagedPolicyArns" not in role_props  # no AWSLambdaBasicExecutionRole (logs on '*')


def test_same_environment_for_every_function(templates: dict) -> None:
    for template in templates.values():
        environments = [env(template, name) for name in NAMES]
        services = {e.pop("POWERTOOLS_SERVICE_NAME") for e in environments}
        assert services == {"registration", "phone-validation", "inbound-sms"}
        # The form-token key is the registration function's alone (NAMES starts with it).
        assert environments[0].pop("FORM_TOKEN_SECRET_ID")
        assert all(e == environments[0] for e in environments)
        assert set(environments[0]) >= SHARED_ENV
        assert environments[0]["POWERTOOLS_METRICS_NAMESPACE"] == "SmsOptin"
        assert environments[0]["SELF_MANAGED_OPT_OUTS"] == "true"


def test_environment_values_parse_with_the_functions_settings(default: dict) -> None:
    variables = {k: v for k, v in env(default, "Registration").items() if isinstance(v, str)}
    settings = Settings.from_env(variables)
    assert settings.brand == "ExampleCorp"
    assert settings.allowed_countries == ("US", "CA")
    assert settings.self_managed_opt_outs is True


def test_environment_points_at_the_stacks_resources(default: dict, new: dict, existing: dict) -> None:
    e = env(default, "InboundSms")
    number, _ = only(default, "AWS::SMSVOICE::PhoneNumber")
    assert e["ORIGINATION_IDENTITY"] == get_att(number, "Arn")
    assert e["OWN_NUMBERS"] == get_att(number, "PhoneNumber")
    tables = {lid for lid in resources(default, "AWS::DynamoDB::Table")}
    assert {
        e["CONTACTS_TABLE"]["Ref"],
        e["LOOKUP_CACHE_TABLE"]["Ref"],
        e["IDEMPOTENCY_TABLE"]["Ref"],
    } == tables
    assert "PINPOINT_PROJECT_ID" not in e  # Pinpoint is off by default
    configuration_set, _ = only(default, "AWS::SMSVOICE::ConfigurationSet")
    assert e["CONFIGURATION_SET"] == ref(configuration_set)  # Ref is its name, and waits for it
    distribution, _ = only(default, "AWS::CloudFront::Distribution")
    assert e["ALLOWED_ORIGINS"] == {"Fn::Join": ["", ["https://", get_att(distribution, "DomainName")]]}

    e = env(new, "InboundSms")
    assert "PINPOINT_PROJECT_ID" not in e
    assert e["CONFIGURATION_SET"] == "optin-events"
    assert e["ALLOWED_ORIGINS"] == ORIGIN

    e = env(existing, "InboundSms")
    app, _ = only(existing, "AWS::Pinpoint::App")
    assert e["PINPOINT_PROJECT_ID"] == ref(app)
    setup, _ = only(existing, "Custom::SmsTwoWay")
    assert e["ORIGINATION_IDENTITY"] == EXISTING_ARN
    assert e["OWN_NUMBERS"] == get_att(setup, "PhoneNumber")
    distribution, _ = only(existing, "AWS::CloudFront::Distribution")
    assert e["ALLOWED_ORIGINS"] == {
        "Fn::Join": ["", ["https://", get_att(distribution, "DomainName"), "," + ",".join(ORIGINS)]]
    }


@pytest.mark.parametrize("variant", ["default", "new", "existing"])
def test_no_wildcard_resource_except_xray(templates: dict, variant: str) -> None:
    for name in NAMES:
        for statement in function_statements(templates[variant], name):
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= {
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                }
            assert not any(a.endswith(":*") or a == "*" for a in as_list(statement["Action"]))


def test_phone_number_validate_only_on_its_resource(default: dict) -> None:
    for name in NAMES:
        found = statements_for(function_statements(default, name), "mobiletargeting:PhoneNumberValidate")
        if name == "InboundSms":
            assert not found
            continue
        (statement,) = found
        assert text(statement["Resource"]).endswith(':phone/number/validate"]]}')
        assert as_list(statement["Action"]) == ["mobiletargeting:PhoneNumberValidate"]


def test_send_sms_only_from_our_number_through_the_configuration_set(
    default: dict, new: dict, existing: dict
) -> None:
    number, _ = only(default, "AWS::SMSVOICE::PhoneNumber")
    assert not statements_for(function_statements(default, "PhoneValidation"), "sms-voice:SendTextMessage")
    for name in ("Registration", "InboundSms", "FollowUp"):
        for template, origination, configuration_set in (
            (default, get_att(number, "Arn"), "configuration-set/Test-default-delivery"),
            (existing, EXISTING_ARN, "configuration-set/Test-existing-delivery"),
            (new, None, "configuration-set/optin-events"),
        ):
            (statement,) = statements_for(function_statements(template, name), "sms-voice:SendTextMessage")
            granted = as_list(statement["Resource"])
            assert len(granted) == 2, (name, granted)
            if origination is not None:
                assert granted[0] == origination
            assert text(granted[1]).endswith(f':{configuration_set}"]]}}'), granted[1]
            assert as_list(statement["Action"]) == ["sms-voice:SendTextMessage"]


def test_endpoint_sync_only_with_pinpoint_and_only_its_endpoints(default: dict, existing: dict) -> None:
    app, _ = only(existing, "AWS::Pinpoint::App")
    for name in ("Registration", "InboundSms"):
        statements = function_statements(existing, name)
        (statement,) = statements_for(statements, "mobiletargeting:UpdateEndpoint")
        assert set(as_list(statement["Action"])) == {
            "mobiletargeting:GetEndpoint",
            "mobiletargeting:UpdateEndpoint",
        }
        assert ref(app) in statement["Resource"]["Fn::Join"][1]
        assert text(statement["Resource"]).endswith('"/endpoints/*"]]}')
        assert not {
            a for a in actions(function_statements(default, name)) if a.startswith("mobiletargeting:")
        } - {"mobiletargeting:PhoneNumberValidate"}
    assert not statements_for(
        function_statements(existing, "PhoneValidation"), "mobiletargeting:UpdateEndpoint"
    )


def test_table_grants_per_function(default: dict) -> None:
    tables = {lid.removeprefix("Data")[:5]: lid for lid in resources(default, "AWS::DynamoDB::Table")}
    contacts, cache, idempotency = tables["Conta"], tables["Looku"], tables["Idemp"]
    expected = {
        # Both pay for lookups (and Registration for texts): the abuse counters are in Idempotency.
        "Registration": {contacts, cache, idempotency},
        "PhoneValidation": {cache, idempotency},
        "InboundSms": {contacts, idempotency},
    }
    for name, wanted in expected.items():
        statements = statements_for(function_statements(default, name), "dynamodb:PutItem")
        granted = {
            r["Fn::GetAtt"][0] for s in statements for r in as_list(s["Resource"]) if "Fn::GetAtt" in r
        }
        assert granted == wanted, name


def test_logs_only_to_own_log_group(default: dict) -> None:
    for name in NAMES:
        _, fn = function(default, name)
        log_group = props(fn)["LoggingConfig"]["LogGroup"]["Ref"]
        (statement,) = statements_for(function_statements(default, name), "logs:PutLogEvents")
        assert statement["Resource"] == get_att(log_group, "Arn")
