"""REST API: routes, request models, CORS, throttling, access logging, WAF body size limits (the rest of
the web ACL is in test_infra_abuse.py)."""

from __future__ import annotations

import json

import pytest
from infra_helpers import ORIGIN, ORIGINS, function, get_att, only, props, ref, resources, text

from optin import limits
from stacks.api import field_shape, load_document


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


def model_schema(template: dict, path: str) -> dict:
    m = method(template, "POST", path)
    return props(template["Resources"][m["RequestModels"]["application/json"]["Ref"]])["Schema"]


@pytest.mark.parametrize(
    ("path", "name", "fields"),
    [
        (
            "register",
            "Registration",
            {"destinationNumber", "firstName", "lastName", "source", "country", "consent", "language"},
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


@pytest.mark.parametrize("path", ["register", "validate", "broadcasts"])
def test_every_string_of_every_model_is_bounded(default: dict, path: str) -> None:
    schema = model_schema(default, path)
    assert 0 < schema["maxProperties"] <= 20
    for field, spec in schema["properties"].items():
        kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        if "string" in kinds:
            assert 0 < spec["maxLength"] <= limits.MAX_CURSOR_LENGTH, field
        else:
            assert kinds in (["boolean", "null"], ["array", "null"]), field


def test_the_models_limits_are_the_handlers_limits(default: dict) -> None:
    register, validate = model_schema(default, "register"), model_schema(default, "validate")
    lengths = {k: v.get("maxLength") for k, v in register["properties"].items()}
    assert lengths == {
        "destinationNumber": limits.MAX_NUMBER_LENGTH,
        "firstName": limits.MAX_NAME_LENGTH,
        "lastName": limits.MAX_NAME_LENGTH,
        "source": limits.MAX_SOURCE_LENGTH,
        "country": limits.MAX_COUNTRY_INPUT,
        "language": limits.MAX_LANGUAGE_LENGTH,
        "consent": None,
    }
    assert register["maxProperties"] == limits.MAX_REGISTER_FIELDS
    assert validate["properties"]["phoneNumber"]["maxLength"] == limits.MAX_NUMBER_LENGTH
    assert validate["maxProperties"] == limits.MAX_VALIDATE_FIELDS
    assert model_schema(default, "broadcasts")["maxProperties"] == limits.MAX_BROADCAST_FIELDS


@pytest.mark.parametrize(
    ("path", "name"),
    [("register", "RegisterRequest"), ("validate", "ValidateRequest"), ("broadcasts", "BroadcastRequest")],
)
def test_the_models_are_the_published_contract(default: dict, path: str, name: str) -> None:
    """The stage checks what docs/openapi.json promises: every field of the contract's request schema,
    its JSON types (null where the handlers take null for absent) and its length; nothing the
    handlers would accept is refused."""
    contract = load_document()["components"]["schemas"][name]
    model = model_schema(default, path)
    assert set(model["properties"]) == set(contract["properties"])
    assert model["maxProperties"] == contract["maxProperties"]
    for field, spec in contract["properties"].items():
        types, max_length = field_shape(spec)
        declared = model["properties"][field]
        assert (declared["type"] if isinstance(declared["type"], list) else [declared["type"]]) == types
        assert declared.get("maxLength") == max_length, field


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


def test_waf_is_on_by_default_and_off_only_when_asked(default: dict, new: dict, existing: dict) -> None:
    assert not resources(existing, "AWS::WAFv2::WebACL")  # waf=false
    for template, blanket in ((default, 100), (new, 300)):
        acl_id, acl = only(template, "AWS::WAFv2::WebACL")
        p = props(acl)
        assert p["Scope"] == "REGIONAL"
        assert p["DefaultAction"] == {"Allow": {}}
        (rate,) = [r for r in p["Rules"] if r["Name"] == "RatePerIp"]  # every route: wafRateLimit
        assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
        assert rate["Statement"]["RateBasedStatement"]["Limit"] == blanket
        assert "ScopeDownStatement" not in rate["Statement"]["RateBasedStatement"]
        assert {"BodySize", "IpReputation", "KnownBadInputs"} <= {r["Name"] for r in p["Rules"]}
        _, association = only(template, "AWS::WAFv2::WebACLAssociation")
        assert props(association)["WebACLArn"] == get_att(acl_id, "Arn")
        stage_id, _ = only(template, "AWS::ApiGateway::Stage")
        assert ref(stage_id) in props(association)["ResourceArn"]["Fn::Join"][1]


def size_limits(statement: dict) -> list[int]:
    """Every body size constraint in a statement tree, checking each treats an oversize body as a match."""
    found = []
    if "SizeConstraintStatement" in statement:
        constraint = statement["SizeConstraintStatement"]
        assert constraint["ComparisonOperator"] == "GT"
        assert constraint["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
        found.append(constraint["Size"])
    for nested in statement.get("OrStatement", statement.get("AndStatement", {})).get("Statements", []):
        found += size_limits(nested)
    if "NotStatement" in statement:
        found += size_limits(statement["NotStatement"]["Statement"])
    return found


def test_waf_blocks_bodies_over_the_handlers_limits_with_a_400_in_the_error_shape(new: dict) -> None:
    _, acl = only(new, "AWS::WAFv2::WebACL")
    p = props(acl)
    (size,) = [r for r in p["Rules"] if r["Name"] == "BodySize"]
    assert sorted(size_limits(size["Statement"])) == [
        limits.MAX_FORM_BODY_BYTES,
        limits.MAX_BROADCAST_BODY_BYTES,
    ]
    assert limits.MAX_BROADCAST_BODY_BYTES <= 16 * 1024  # WAF's default body inspection size for API Gateway
    form_rule = size["Statement"]["OrStatement"]["Statements"][1]["AndStatement"]["Statements"][1]
    match = form_rule["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert (match["FieldToMatch"], match["SearchString"]) == ({"UriPath": {}}, "/broadcasts")
    response = size["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 400
    body = p["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    answer = json.loads(body["Content"])
    assert (
        answer["codes"] == {"body": "body_too_large"}
        and str(limits.MAX_FORM_BODY_BYTES) in answer["errors"]["body"]
    )


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
        assert '"codes": {"body": "invalid_body"}' in body


def test_api_gateway_refusals_of_size_and_media_type_answer_in_the_error_shape(default: dict) -> None:
    by_type = {
        props(r)["ResponseType"]: props(r)
        for r in resources(default, "AWS::ApiGateway::GatewayResponse").values()
    }
    too_large, media = by_type["REQUEST_TOO_LARGE"], by_type["UNSUPPORTED_MEDIA_TYPE"]
    assert too_large["StatusCode"] == "400" and media["StatusCode"] == "415"
    assert json.loads(too_large["ResponseTemplates"]["application/json"])["codes"] == {
        "body": "body_too_large"
    }
    answer = json.loads(media["ResponseTemplates"]["application/json"])
    assert answer["codes"] == {"Content-Type": "unsupported_media_type"} and answer["message"]
