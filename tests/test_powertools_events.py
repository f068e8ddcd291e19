"""Powertools' own sample events (tests/events/, see its README) through the handlers: each answer is a
4xx in the error shape, a 2xx for a valid body, or a failed batch item, never an exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from optin.handlers import broadcasts, custom_channel, follow_up, inbound_sms, phone_validation, registration
from tests.support import LambdaContext

EVENTS = Path(__file__).parent / "events"
API = {
    "/register": registration.handler,
    "/validate": phone_validation.handler,
    "/broadcasts": broadcasts.handler,
}
API_EVENTS = [
    "apiGatewayProxyEvent.json",
    "apiGatewayProxyEvent_noVersionAuth.json",
    "apiGatewayProxyEventPrincipalId.json",
]
SQS_EVENTS = ["sqsEvent.json", "snsSqsEvent.json"]
PHONE = "+12065550142"


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text("utf-8"))


def retarget(event: dict, path: str) -> dict:
    """The sample as a POST to one of our routes; everything else as Powertools wrote it."""
    event = copy.deepcopy(event)
    event["httpMethod"] = "POST"
    event["path"] = event["resource"] = path
    return event


def answer(handler, event):
    response = handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("name", API_EVENTS)
@pytest.mark.parametrize("path", API)
def test_the_samples_as_they_are_find_no_route(aws, name, path):
    status, body = answer(API[path], sample(name))
    assert status == 404 and body == {"message": "Not found."}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("apiGatewayProxyEvent.json", "invalid_json"),  # "Hello from Lambda!"
        ("apiGatewayProxyEvent_noVersionAuth.json", "invalid_base64"),  # the same text, marked base64
        ("apiGatewayProxyEventPrincipalId.json", "not_object"),  # no body at all
    ],
)
@pytest.mark.parametrize("path", API)
def test_the_samples_posted_to_our_routes_are_a_400_with_a_code(aws, name, code, path):
    status, body = answer(API[path], retarget(sample(name), path))
    assert status == 400
    assert body["codes"] == {"body": code} and body["errors"]["body"]


@pytest.mark.parametrize("name", ["apiGatewayProxyEvent.json", "apiGatewayProxyEventPrincipalId.json"])
def test_the_samples_with_a_real_body_register(aws, deps, name):
    """The second sample has no headers and no requestContext.identity: no IP, no user agent."""
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    event = retarget(sample(name), "/register")
    event["body"] = json.dumps({"destinationNumber": "2065550142", "firstName": "Ana", "lastName": "Lima"})
    status, _ = answer(registration.handler, event)
    assert status == 202
    contact = deps.contacts.get(PHONE)
    identity = event["requestContext"].get("identity") or {}
    assert contact.client_ip == identity.get("sourceIp")
    assert contact.user_agent == identity.get("userAgent")
    assert contact.source == ("https://aws.amazon.com" if "headers" in event else "api")


def failed_items(result: dict) -> set[str]:
    return {item["itemIdentifier"] for item in result["batchItemFailures"]}


@pytest.mark.parametrize("name", SQS_EVENTS)
@pytest.mark.parametrize("handler", [inbound_sms.handler, follow_up.handler, custom_channel.handler])
def test_the_sqs_samples_fail_their_records_alone(aws, name, handler):
    event = sample(name)
    result = handler(event, LambdaContext())
    assert failed_items(result) == {r["messageId"] for r in event["Records"]}


@pytest.mark.parametrize("name", SQS_EVENTS)
def test_the_sqs_samples_without_optional_attributes_fail_the_same_way(aws, name):
    event = sample(name)
    for record in event["Records"]:
        record["attributes"] = {}
    result = inbound_sms.handler(event, LambdaContext())
    assert failed_items(result) == {r["messageId"] for r in event["Records"]}


def test_the_sns_in_sqs_sample_carrying_a_two_way_sms_is_processed(aws, deps):
    """The sample's envelope as SNS wrote it, with a two-way SMS as its Message: a stranger's HELLO."""
    event = sample("snsSqsEvent.json")
    [record] = event["Records"]
    envelope = json.loads(record["body"])
    envelope["Message"] = json.dumps(
        {
            "originationNumber": PHONE,
            "destinationNumber": "+12065550100",
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": "HELLO",
            "inboundMessageId": "in-1",
        }
    )
    record["body"] = json.dumps(envelope)
    del record["attributes"]["SentTimestamp"]
    assert inbound_sms.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE) is None  # nothing to create for a stranger
