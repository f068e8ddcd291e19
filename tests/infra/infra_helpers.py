"""Small readers for synthesized CloudFormation templates (plain dicts)."""

from __future__ import annotations

import json
from typing import Any

Template = dict[str, Any]

# The synthesized variants (see conftest.py): context overrides on top of cdk.json.
EXISTING_ARN = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef"
ORIGIN = "https://optin.example.com"
ORIGINS = ("https://www.example.com", "http://localhost:8000")

# Form friction and the abuse limits away from their defaults, with the WAF challenge on the hosted form.
CHALLENGE: dict[str, Any] = {
    "wafChallenge": True,
    "requireFormToken": True,
    "formMinFillSeconds": 5,
    "spendTextsPerHour": 50,
    "spendTextsPerDay": "500",
    "spendLookupsPerHour": 100,
    "spendLookupsPerDay": 1000,
    "rangeRegistrationsPerHour": 6,
    "rangeTrailingDigits": 3,
    "rangeBlockSeconds": 3600,
    "ipRegistrationsPerHour": 0,  # 0 turns the per-IP limit in code off
    "alarmEmail": "ops@example.com",
}

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "new": {
        "numberMode": "new",
        "numberCountry": "US",
        "numberType": "TOLL_FREE",
        "waf": True,
        "wafRateLimit": 300,
        "wafRegisterRateLimit": 15,
        "wafValidateRateLimit": "45",  # the -c form: a string
        "allowedOrigins": [ORIGIN],
        "configurationSet": "optin-events",  # an existing set: ours is not created
        "protectFilter": True,
        "backup": False,
        "twoWayChannelRole": True,
        "alarmEmail": "ops@example.com",
        "apiThrottleRate": 7,
        "apiThrottleBurst": 13,
        "logRetentionDays": 90,
        "web": False,  # no hosted form: the one CORS origin is the configured one
    },
    "existing": {
        "numberMode": "existing",
        "existingPhoneNumber": EXISTING_ARN,
        "pinpoint": True,  # the design card's Pinpoint project, for accounts AWS still serves
        "backupRetentionDays": "400",  # the -c form: a string
        "twoWayChannelRole": True,
        "allowedOrigins": ",".join(ORIGINS),  # the -c form: a comma-separated string
        "dlqMaxReceiveCount": "3",
        "waf": False,  # another firewall fronts the API
    },
    "regional": {},  # synthesized with a concrete environment (conftest.ENVIRONMENTS)
    "challenge": CHALLENGE,
}


def resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_}


def only(template: Template, type_: str, contains: str = "") -> tuple[str, dict[str, Any]]:
    found = {lid: r for lid, r in resources(template, type_).items() if contains in lid}
    assert len(found) == 1, f"expected one {type_} containing {contains!r}, found {sorted(found)}"
    return next(iter(found.items()))


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties", {})


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def text(value: Any) -> str:
    """A value (intrinsics included) flattened to one searchable string."""
    return json.dumps(value, sort_keys=True)


def function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", f"Functions{name}")


def role_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every IAM::Policy attached to the role, plus its inline policies."""
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if ref(role_logical_id) in props(policy).get("Roles", []):
            statements += props(policy)["PolicyDocument"]["Statement"]
    for inline in props(template["Resources"][role_logical_id]).get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return statements


def function_statements(template: Template, name: str) -> list[dict[str, Any]]:
    _, fn = function(template, name)
    role = props(fn)["Role"]["Fn::GetAtt"][0]
    return role_statements(template, role)


def statements_for(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in as_list(s["Action"])]


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in as_list(s["Action"])}
