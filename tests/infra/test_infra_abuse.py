"""Abuse and cost protection in the template: the web ACL's rules and logging, the optional challenge
and the form's WAF integration, the form-token key, GET /form-token, the abuse settings in the
functions' environment, and the alarms on the spend breaker and on blocked number ranges."""

from __future__ import annotations

import json

import pytest
from infra_helpers import (
    CHALLENGE,
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
from stacks.waf import IP_REPUTATION, KNOWN_BAD_INPUTS, LOG_GROUP_PREFIX


def web_acl(template: dict) -> tuple[str, dict]:
    acl_id, acl = only(template, "AWS::WAFv2::WebACL")
    return acl_id, props(acl)


def rules(template: dict) -> dict[str, dict]:
    return {r["Name"]: r for r in web_acl(template)[1]["Rules"]}


def byte_match(statement: dict) -> tuple[str, str, str, list[str]]:
    """(field, constraint, search string, transformations) of a byte match statement."""
    match = statement["ByteMatchStatement"]
    (field,) = match["FieldToMatch"]
    transforms = [t["Type"] for t in sorted(match["TextTransformations"], key=lambda t: t["Priority"])]
    return field, match["PositionalConstraint"], match["SearchString"], transforms


# -- the web ACL -------------------------------------------------------------------------------------------


def test_the_managed_rule_groups_block_with_their_own_actions(default: dict) -> None:
    found = rules(default)
    for name, group in (("IpReputation", IP_REPUTATION), ("KnownBadInputs", KNOWN_BAD_INPUTS)):
        rule = found[name]
        statement = rule["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        # None: the group's rules block. Count would only observe; an Action is invalid on a group.
        assert rule["OverrideAction"] == {"None": {}}
        assert "Action" not in rule
        assert "RuleActionOverrides" not in statement and "ExcludedRules" not in statement
    assert {IP_REPUTATION, KNOWN_BAD_INPUTS} == {
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
    }


def test_reputation_and_bad_inputs_come_first_and_the_challenge_last(default: dict, templates: dict) -> None:
    order = [r["Name"] for r in sorted(web_acl(default)[1]["Rules"], key=lambda r: r["Priority"])]
    assert order[:2] == ["IpReputation", "KnownBadInputs"]
    priorities = [r["Priority"] for r in web_acl(default)[1]["Rules"]]
    assert len(set(priorities)) == len(priorities)
    challenged = sorted(web_acl(templates["challenge"])[1]["Rules"], key=lambda r: r["Priority"])
    assert challenged[-1]["Name"] == "RegisterChallenge"  # rate-limited clients are blocked, not challenged


@pytest.mark.parametrize(
    ("variant", "register", "validate"),
    [("default", 20, 60), ("new", 15, 45)],  # cdk.json's defaults; the new variant's own (one a -c string)
)
def test_per_ip_rate_rules_count_only_their_route(
    templates: dict, variant: str, register: int, validate: int
) -> None:
    found = rules(templates[variant])
    for name, path, limit in (
        ("RegisterRatePerIp", "/register", register),
        ("ValidateRatePerIp", "/validate", validate),
    ):
        rate = found[name]["Statement"]["RateBasedStatement"]
        assert (rate["AggregateKeyType"], rate["Limit"], rate["EvaluationWindowSec"]) == ("IP", limit, 300)
        field, constraint, search, transforms = byte_match(rate["ScopeDownStatement"])
        assert (field, constraint, search) == ("UriPath", "CONTAINS", path)
        assert transforms == ["URL_DECODE", "LOWERCASE"]  # /v1/%72egister and /v1/REGISTER count too
    assert "/form-token" not in text(found["RegisterRatePerIp"])


def test_a_rate_block_answers_429_in_the_functions_shape(default: dict) -> None:
    p = web_acl(default)[1]
    for name in ("RatePerIp", "RegisterRatePerIp", "ValidateRatePerIp"):
        response = rules(default)[name]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        assert headers["Retry-After"] == "300"
        body = p["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON"
        answer = json.loads(body["Content"])
        assert answer["reason"] == "rate_limited" and answer["retryAfterSeconds"] == 300 and answer["message"]


# -- logging ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "days"), [("default", 30), ("new", 90)])
def test_waf_logs_to_its_own_log_group_with_retention(templates: dict, variant: str, days: int) -> None:
    template = templates[variant]
    acl_id, _ = web_acl(template)
    _, logging = only(template, "AWS::WAFv2::LoggingConfiguration")
    p = props(logging)
    assert p["ResourceArn"] == get_att(acl_id, "Arn")
    (destination,) = p["LogDestinationConfigs"]
    group_id, group = only(template, "AWS::Logs::LogGroup", "Firewall")
    name = props(group)["LogGroupName"]
    assert name.startswith(LOG_GROUP_PREFIX) and LOG_GROUP_PREFIX == "aws-waf-logs-"
    assert props(group)["RetentionInDays"] == days
    # The destination is the group's ARN without CloudFormation's trailing ':*', which WAF refuses.
    assert text(destination).endswith(f':log-group:{name}"]]}}')
    assert group_id in logging.get("DependsOn", [])


def test_the_log_group_admits_only_log_delivery_from_this_account(default: dict) -> None:
    group_id, _ = only(default, "AWS::Logs::LogGroup", "Firewall")
    policy_id, policy = only(default, "AWS::Logs::ResourcePolicy", "Firewall")
    document = props(policy)["PolicyDocument"]["Fn::Join"][1]
    flat = "".join(part if isinstance(part, str) else json.dumps(part) for part in document)
    assert '"Principal":{"Service":"delivery.logs.amazonaws.com"}' in flat
    assert '"Action":["logs:CreateLogStream","logs:PutLogEvents"]' in flat
    assert '"aws:SourceAccount"' in flat and '"aws:SourceArn"' in flat
    assert json.dumps(get_att(group_id, "Arn")) in flat  # this group, not every group of the account
    _, logging = only(default, "AWS::WAFv2::LoggingConfiguration")
    assert policy_id in logging["DependsOn"]  # the policy exists before WAF starts delivering


def test_nothing_that_can_carry_a_phone_number_is_logged(default: dict) -> None:
    _, logging = only(default, "AWS::WAFv2::LoggingConfiguration")
    # Logging redaction covers URI, query string, single headers and method only; WAF logs hold no body.
    assert props(logging)["RedactedFields"] == [{"QueryString": {}}, {"SingleHeader": {"Name": "referer"}}]
    # Body content reaches logs and sampled requests only as a rule's matched data: substituted.
    protections = web_acl(default)[1]["DataProtectionConfig"]["DataProtections"]
    assert protections == [{"Field": {"FieldType": "BODY"}, "Action": "SUBSTITUTION"}]


# -- the challenge ---------------------------------------------------------------------------------------


def test_the_challenge_is_off_by_default(default: dict, new: dict) -> None:
    for template in (default, new):
        assert "RegisterChallenge" not in rules(template)
        assert not resources(template, "Custom::WafIntegrationUrl")
        assert "WafIntegrationUrl" not in template["Outputs"]
    assert "X-Aws-Waf-Token" not in text(default)


def test_the_challenge_guards_post_register_only(templates: dict) -> None:
    rule = rules(templates["challenge"])["RegisterChallenge"]
    assert rule["Action"] == {"Challenge": {}}
    method, path = rule["Statement"]["AndStatement"]["Statements"]
    assert byte_match(method)[:3] == ("Method", "EXACTLY", "POST")  # preflights and GET /form-token pass
    assert byte_match(path)[:3] == ("UriPath", "CONTAINS", "/register")


def integration_url(template: dict) -> dict:
    lookup_id, lookup = only(template, "Custom::WafIntegrationUrl")
    acl_id, _ = web_acl(template)
    create = props(lookup)["Create"]["Fn::Join"][1]
    assert '"action":"GetWebACL","service":"WAFV2"' in create[0]
    assert '"outputPaths":["ApplicationIntegrationURL"]' in create[0]
    assert get_att(acl_id, "Id") in create
    return get_att(lookup_id, "ApplicationIntegrationURL")


def test_the_integration_url_is_read_from_the_web_acl_with_least_privilege(templates: dict) -> None:
    template = templates["challenge"]
    integration_url(template)
    acl_id, _ = web_acl(template)
    (policy,) = [
        props(p) for lid, p in resources(template, "AWS::IAM::Policy").items() if "IntegrationUrl" in lid
    ]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "wafv2:GetWebACL", "Effect": "Allow", "Resource": get_att(acl_id, "Arn")}
    ]


def csp_directives(template: dict, named: dict[str, dict]) -> dict[str, list[str]]:
    """The form's CSP, directive by directive; intrinsic parts show as ``{name}`` where they are one of
    ``named``, ``{?}`` otherwise."""
    _, policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    csp = props(policy)["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    value = csp["ContentSecurityPolicy"]
    parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
    names = {json.dumps(v, sort_keys=True): k for k, v in named.items()}
    flat = "".join(
        part if isinstance(part, str) else "{" + names.get(json.dumps(part, sort_keys=True), "?") + "}"
        for part in parts
    )
    return {d.split()[0]: d.split()[1:] for d in flat.split("; ")}


def site_config(synthesized: object, template: dict) -> dict:
    """The config.json the stack deploys with the form (markers stand for deploy-time values)."""
    _, deployment = only(template, "Custom::CDKBucketDeployment")
    for key in props(deployment)["SourceObjectKeys"]:
        path = synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json"  # type: ignore[attr-defined]
        if path.exists():
            raw = path.read_text()
            markers = props(deployment)["SourceMarkers"]
            values = {marker: value for entry in markers for marker, value in entry.items()}
            for marker in values:
                raw = raw.replace(marker, json.dumps(marker))
            return {k: values.get(v, v) if isinstance(v, str) else v for k, v in json.loads(raw).items()}
    raise AssertionError("no config.json in the deployment's sources")


def test_the_form_gets_the_integration_url_and_its_csp_allows_exactly_that_origin(
    synthesized: object, templates: dict
) -> None:
    template = templates["challenge"]
    url = integration_url(template)
    origin = {"Fn::Select": [2, {"Fn::Split": ["/", url]}]}  # https://<host>/<path>/: the host
    directives = csp_directives(template, {"waf": origin})
    assert directives["script-src"] == ["'self'", "https://{waf}"]
    assert "https://{waf}" in directives["connect-src"] and "'self'" in directives["connect-src"]
    for name, allowed in directives.items():
        assert not [a for a in allowed if "*" in a], name
        if name not in ("script-src", "connect-src"):
            assert "https://{waf}" not in allowed, name
    config = site_config(synthesized, template)
    assert config["wafIntegrationUrl"] == {"Fn::Join": ["", ['"', url, '"']]}  # a JSON string at deploy
    assert template["Outputs"]["WafIntegrationUrl"]["Value"] == url


def test_without_the_challenge_the_form_loads_nothing_from_aws_waf(
    synthesized: object, default: dict
) -> None:
    directives = csp_directives(default, {})
    assert directives["script-src"] == ["'self'"]
    api = "https://{?}.execute-api.{?}.{?}"  # the API's origin, resolved at deployment
    assert directives["connect-src"] == ["'self'", api]
    config = site_config(synthesized, default)
    assert "wafIntegrationUrl" not in config and config["brandName"] == "ExampleCorp"


def test_browsers_may_send_the_waf_token_header_with_the_challenge(templates: dict) -> None:
    template = templates["challenge"]
    options = [
        props(m)
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if props(m)["HttpMethod"] == "OPTIONS"
    ]
    assert options
    for method in options:
        headers = method["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert (
            headers["method.response.header.Access-Control-Allow-Headers"] == "'Content-Type,X-Aws-Waf-Token'"
        )


def test_the_challenge_needs_waf() -> None:
    from stacks.config import Config, ConfigError

    with pytest.raises(ConfigError, match="'wafChallenge'"):
        Config.from_context({"waf": False, "wafChallenge": True})


# -- the form-token key ----------------------------------------------------------------------------------


def test_the_form_token_key_is_generated_by_secrets_manager(default: dict) -> None:
    _, secret = only(default, "AWS::SecretsManager::Secret", "FormToken")
    p = props(secret)
    generated = p["GenerateSecretString"]
    assert "SecretString" not in p  # the key is never in the template
    assert generated["PasswordLength"] >= 43  # >= 32 bytes of entropy at log2(62) bits a character
    assert generated["ExcludePunctuation"] is True
    assert "SecretStringTemplate" not in generated  # the secret string is the key itself
    assert secret.get("DeletionPolicy") == "Delete"


def test_only_the_registration_function_reads_the_key(default: dict) -> None:
    secret_id, _ = only(default, "AWS::SecretsManager::Secret", "FormToken")
    readers = {
        name
        for name in (
            "Registration",
            "PhoneValidation",
            "InboundSms",
            "FollowUp",
            "CustomChannel",
            "Broadcasts",
            "DeliveryEvents",
        )
        if any(
            ref(secret_id) in as_list(s["Resource"])
            for s in statements_for(function_statements(default, name), "secretsmanager:GetSecretValue")
        )
    }
    assert readers == {"Registration"}
    _, registration = function(default, "Registration")
    assert props(registration)["Environment"]["Variables"]["FORM_TOKEN_SECRET_ID"] == ref(secret_id)
    for name in ("PhoneValidation", "InboundSms"):
        assert "FORM_TOKEN_SECRET_ID" not in props(function(default, name)[1])["Environment"]["Variables"]


# -- GET /form-token -------------------------------------------------------------------------------------


def test_get_form_token_is_served_by_the_registration_function(default: dict) -> None:
    (resource_id,) = [
        lid
        for lid, r in resources(default, "AWS::ApiGateway::Resource").items()
        if props(r)["PathPart"] == "form-token"
    ]
    methods = {
        props(m)["HttpMethod"]: props(m)
        for m in resources(default, "AWS::ApiGateway::Method").values()
        if props(m)["ResourceId"] == ref(resource_id)
    }
    get = methods["GET"]
    assert set(methods) <= {"GET", "OPTIONS"} and "POST" not in methods
    assert get["AuthorizationType"] == "NONE"
    assert "RequestModels" not in get and "RequestValidatorId" not in get  # no body to check
    registration_id, _ = function(default, "Registration")
    assert get["Integration"]["Type"] == "AWS_PROXY"
    assert f'"{registration_id}", "Arn"' in text(get["Integration"]["Uri"])
    permissions = [
        props(p)
        for p in resources(default, "AWS::Lambda::Permission").values()
        if props(p)["FunctionName"] == get_att(registration_id, "Arn")
        and "form-token" in text(props(p)["SourceArn"])
    ]
    assert permissions and all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)


def test_form_token_preflight_allows_get_from_the_site(default: dict) -> None:
    distribution_id, _ = only(default, "AWS::CloudFront::Distribution")
    for method in resources(default, "AWS::ApiGateway::Method").values():
        if props(method)["HttpMethod"] != "OPTIONS":
            continue
        headers = props(method)["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,GET,POST'"
        assert distribution_id in text(headers["method.response.header.Access-Control-Allow-Origin"])


# -- the functions' abuse settings -----------------------------------------------------------------------

ABUSE_VARIABLES = {
    "spendTextsPerHour": ("SPEND_TEXTS_PER_HOUR", "spend_texts_per_hour"),
    "spendTextsPerDay": ("SPEND_TEXTS_PER_DAY", "spend_texts_per_day"),
    "spendLookupsPerHour": ("SPEND_LOOKUPS_PER_HOUR", "spend_lookups_per_hour"),
    "spendLookupsPerDay": ("SPEND_LOOKUPS_PER_DAY", "spend_lookups_per_day"),
    "rangeRegistrationsPerHour": ("RANGE_REGISTRATIONS_PER_HOUR", "range_registrations_per_hour"),
    "rangeTrailingDigits": ("RANGE_TRAILING_DIGITS", "range_trailing_digits"),
    "rangeBlockSeconds": ("RANGE_BLOCK_SECONDS", "range_block_seconds"),
    "ipRegistrationsPerHour": ("IP_REGISTRATIONS_PER_HOUR", "ip_registrations_per_hour"),
    "requireFormToken": ("REQUIRE_FORM_TOKEN", "require_form_token"),
    "formMinFillSeconds": ("FORM_MIN_FILL_SECONDS", "form_min_fill_seconds"),
}


def test_the_abuse_defaults_reach_the_functions_as_the_handlers_defaults(default: dict) -> None:
    defaults = Settings()
    for name in ("Registration", "PhoneValidation"):
        variables = props(function(default, name)[1])["Environment"]["Variables"]
        parsed = Settings.from_env({k: v for k, v in variables.items() if isinstance(v, str)})
        for key, (variable, field) in ABUSE_VARIABLES.items():
            assert variable in variables, key
            assert getattr(parsed, field) == getattr(defaults, field), key
    variables = props(function(default, "Registration")[1])["Environment"]["Variables"]
    assert (variables["SPEND_TEXTS_PER_HOUR"], variables["SPEND_LOOKUPS_PER_DAY"]) == ("200", "4000")
    assert variables["REQUIRE_FORM_TOKEN"] == "false"


def test_abuse_settings_from_context(templates: dict) -> None:
    variables = props(function(templates["challenge"], "Registration")[1])["Environment"]["Variables"]
    parsed = Settings.from_env({k: v for k, v in variables.items() if isinstance(v, str)})
    for key, (_, field) in ABUSE_VARIABLES.items():
        expected = CHALLENGE[key]
        assert getattr(parsed, field) == (expected if isinstance(expected, bool) else int(expected)), key
    assert parsed.require_form_token is True and parsed.ip_registrations_per_hour == 0


@pytest.mark.parametrize(
    "context",
    [{"spendTextsPerHour": -1}, {"rangeBlockSeconds": "a day"}, {"requireFormToken": "maybe"}],
)
def test_a_bad_abuse_setting_fails_synthesis_naming_its_key(context: dict) -> None:
    from stacks.config import Config, ConfigError

    (key,) = context
    with pytest.raises(ConfigError, match=f"'{key}'"):
        Config.from_context(context)


# -- alarms ----------------------------------------------------------------------------------------------


def alarm(template: dict, name: str) -> dict:
    return props(only(template, "AWS::CloudWatch::Alarm", name)[1])


def test_one_alarm_on_the_spend_breaker_of_both_paying_functions(default: dict) -> None:
    p = alarm(default, "SpendLimit")
    metrics = [m for m in p["Metrics"] if "MetricStat" in m]
    seen = set()
    for m in metrics:
        stat = m["MetricStat"]
        assert stat["Metric"]["Namespace"] == "SmsOptin"
        assert stat["Metric"]["MetricName"] == "SpendLimitReached"
        (dimension,) = stat["Metric"]["Dimensions"]  # Powertools' service dimension, nothing else
        assert dimension["Name"] == "service"
        seen.add(dimension["Value"])
        assert stat["Stat"] == "Sum" and m["ReturnData"] is False
    assert seen == {"registration", "phone-validation"}  # the FunctionSpec services
    for spec in ("Registration", "PhoneValidation"):
        service = props(function(default, spec)[1])["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert service in seen
    (expression,) = [m for m in p["Metrics"] if "Expression" in m]
    assert all(m["Id"] in expression["Expression"] for m in metrics) and "+" in expression["Expression"]
    assert p["Threshold"] == 1 and p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert p["TreatMissingData"] == "notBreaching"


def test_an_alarm_on_blocked_number_ranges(default: dict) -> None:
    p = alarm(default, "RangeBlocked")
    assert (p["Namespace"], p["MetricName"], p["Statistic"]) == ("SmsOptin", "RangeBlocked", "Sum")
    assert p["Dimensions"] == [{"Name": "service", "Value": "registration"}]
    assert p["Threshold"] == 1


def test_the_abuse_alarms_notify_the_alarm_topic(templates: dict) -> None:
    template = templates["challenge"]  # alarmEmail set
    topic_id, _ = only(template, "AWS::SNS::Topic", "Alarm")
    for name in ("SpendLimit", "RangeBlocked"):
        assert alarm(template, name)["AlarmActions"] == [ref(topic_id)]
    assert "AlarmActions" not in alarm(templates["default"], "SpendLimit")  # no email: no topic
