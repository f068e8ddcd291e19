"""REST API: routes, request models, CORS, throttling, access logging, WAF."""

from __future__ import annotations

import pytest
from infra_helpers import ORIGIN, ORIGINS, function, get_att, only, props, ref, resources, text


def stage(template: dict) -> dict:
    return props(only(template, "AWS::ApiGateway::Stage")[1])


def method(template: dict, http_method: str, path: str) -> dict:
    resource_id = next(
        lid
        for lid, r in resources(template, "AWS::ApiGateway::Resource").items()
        if props(r)["PathPart"] == path
    )
    (found,) = [
        props(m)
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if props(m)["HttpMethod"] == http_method and props(m)["ResourceId"] == ref(resource_id)
    ]
    return found


def test_regional_api_with_stage_v1_and_access_logs(default: dict) -> None:
    _, api = only(default, "AWS::ApiGateway::RestApi")
    assert props(api)["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    s = stage(default)
    assert s["StageName"] == "v1"
    assert s["TracingEnabled"] is True
    (log_group,) = [
        lid
        for lid in resources(default, "AWS::Logs::LogGroup")
        if lid in text(s["AccessLogSetting"]["DestinationArn"])
    ]
    assert props(default["Resources"][log_group])["RetentionInDays"] == 30
    assert '"ip"' in s["AccessLogSetting"]["Format"]


@pytest.mark.parametrize(("variant", "rate", "burst"), [("default", 10, 20), ("new", 7, 13)])
def test_throttling_from_context(templates: dict, variant: str, rate: int, burst: int) -> None:
    (settings,) = stage(templates[variant])["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert settings["ThrottlingRateLimit"] == rate
    assert settings["ThrottlingBurstLimit"] == burst
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False  # bodies carry phone numbers


@pytest.mark.parametrize(
    ("path", "name", "fields"),
    [
        (
            "register",
            "Registration",
            {"destinationNumber", "firstName", "lastName", "source", "country", "consent"},
        ),
        ("validate", "PhoneValidation", {"phoneNumber", "country"}),
    ],
)
def test_routes_validate_bodies_against_json_schema_models(
    default: dict, path: str, name: str, fields: set
) -> None:
    m = method(default, "POST", path)
    assert m["AuthorizationType"] == "NONE"
    function_id, _ = function(default, name)
    assert m["Integration"]["Type"] == "AWS_PROXY"
    assert f'"{function_id}", "Arn"' in text(m["Integration"]["Uri"])
    validator = default["Resources"][m["RequestValidatorId"]["Ref"]]
    assert props(validator)["ValidateRequestBody"] is True
    model = props(default["Resources"][m["RequestModels"]["application/json"]["Ref"]])
    assert model["ContentType"] == "application/json"
    schema = model["Schema"]
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["type"] == "object"
    assert set(schema["properties"]) == fields
    assert all(
        p["type"] == "string" and p["maxLength"] > 0
        for k, p in schema["properties"].items()
        if k != "consent"
    )
    assert "maxProperties" in schema


def test_cors_single_origin(new: dict) -> None:
    for path in ("register", "validate"):
        options = method(new, "OPTIONS", path)
        headers = options["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
        assert "POST" in headers["method.response.header.Access-Control-Allow-Methods"]
    for response in resources(new, "AWS::ApiGateway::GatewayResponse").values():
        assert (
            props(response)["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            == f"'{ORIGIN}'"
        )
    assert "'*'" not in text(new)


def test_cors_several_origins_are_matched_not_wildcarded(existing: dict) -> None:
    options = text(method(existing, "OPTIONS", "register"))
    for origin in ORIGINS:
        assert origin in options
    assert "$origin" in options  # the VTL echoes the request's Origin only when it is in the list
    assert "'*'" not in text(existing)


def test_waf_rate_rule_only_when_enabled(default: dict, new: dict) -> None:
    assert not resources(default, "AWS::WAFv2::WebACL")
    acl_id, acl = only(new, "AWS::WAFv2::WebACL")
    p = props(acl)
    assert p["Scope"] == "REGIONAL"
    assert p["DefaultAction"] == {"Allow": {}}
    (rule,) = p["Rules"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert rule["Statement"]["RateBasedStatement"]["Limit"] == 300
    _, association = only(new, "AWS::WAFv2::WebACLAssociation")
    assert props(association)["WebACLArn"] == get_att(acl_id, "Arn")
    stage_id, _ = only(new, "AWS::ApiGateway::Stage")
    assert ref(stage_id) in props(association)["ResourceArn"]["Fn::Join"][1]


def test_a_body_refused_by_the_schema_still_answers_in_the_handlers_error_shape(templates: dict) -> None:
    for template in templates.values():
        responses = [
            props(r)
            for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
            if props(r)["ResponseType"] == "BAD_REQUEST_BODY"
        ]
        assert len(responses) == 1 and responses[0]["StatusCode"] == "400"
        body = responses[0]["ResponseTemplates"]["application/json"]
        assert '"errors"' in body and "validationErrorString" in body
