"""POST /validate through the real Lambda handler, and the lookup cache it shares with /register."""

import json

import pytest

from optin.handlers import phone_validation, registration
from tests.support import LambdaContext, api_event


def check(body):
    response = phone_validation.handler(api_event("/validate", body), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_a_mobile_number(aws):
    aws.expect_lookup("+12065550142")
    status, body = check({"phoneNumber": "(206) 555-0142", "country": "US"})
    assert status == 200
    assert body == {
        "valid": True,
        "e164": "+12065550142",
        "country": "US",
        "type": "MOBILE",
        "canReceiveSms": True,
        "reason": None,
        "message": None,
    }


@pytest.mark.parametrize(("phone_type", "reason"), [("LANDLINE", "landline"), ("VOIP", "voip")])
def test_numbers_that_cannot_receive_sms(aws, phone_type, reason):
    aws.expect_lookup("+12065550142", phone_type)
    status, body = check({"phoneNumber": "2065550142"})
    assert status == 200 and body["valid"] is True and body["canReceiveSms"] is False
    assert body["reason"] == reason and body["type"] == phone_type and body["message"]


@pytest.mark.parametrize(
    ("number", "reason"),
    [("206-555-01AB", "letters"), ("20655501", "too_short"), ("+44 7400 123456", "country_not_served")],
)
def test_malformed_numbers_are_answered_without_a_paid_lookup(aws, number, reason):
    status, body = check({"phoneNumber": number})
    assert status == 200 and body["valid"] is False and body["canReceiveSms"] is False
    assert body["reason"] == reason  # the Stubber fails the test if a lookup was made


def test_each_number_is_paid_for_once_across_validate_and_register(aws, clock):
    aws.expect_lookup("+12065550142")
    check({"phoneNumber": "2065550142"})
    clock.advance(days=2)
    check({"phoneNumber": "+1 206 555 0142"})
    aws.expect_sms("+12065550142")
    body = {"destinationNumber": "206-555-0142", "firstName": "Ana", "lastName": "Lima", "source": "form"}
    assert registration.handler(api_event("/register", body), LambdaContext())["statusCode"] == 202


def test_the_cache_expires(aws, clock):
    aws.expect_lookup("+12065550142")
    check({"phoneNumber": "2065550142"})
    clock.advance(days=31)
    aws.expect_lookup("+12065550142")
    check({"phoneNumber": "2065550142"})


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "phoneNumber"), ({"phoneNumber": "2065550142", "country": "U"}, "country"), ("nope", "body")],
)
def test_bad_bodies_are_400(aws, body, field):
    status, answer = check(body)
    assert status == 400 and field in answer["errors"]


def test_lookup_outage_is_503(aws):
    aws.expect_lookup_error("TooManyRequestsException", 429)
    status, body = check({"phoneNumber": "2065550142"})
    assert status == 503 and body["retryAfterSeconds"] > 0
