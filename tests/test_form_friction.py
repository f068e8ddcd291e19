"""Form friction (issue 12): the honeypot field and the signed minimum fill time, through the real
registration handler. A bot gets the usual 202 and nothing is stored or sent (the Stubbers have no
call queued for it, so any paid call would fail the test)."""

import json
from dataclasses import replace

import pytest

from local.events import api_gateway_event
from optin.handlers import registration
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event

PHONE = "+12065550142"
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "consent": True}


@pytest.fixture
def friction(aws, settings, clock):
    def apply(**fields):
        deps = Dependencies(
            replace(settings, form_token_secret="s3cret-for-tests", **fields), aws.client, clock
        )
        aws.deps = deps
        install(deps)
        return deps

    return apply


def post(body):
    response = registration.handler(api_event("/register", body), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def form_token():
    event = api_gateway_event("GET", "/form-token", None)
    response = registration.handler(event, LambdaContext())
    assert response["statusCode"] == 200
    return json.loads(response["body"])


def test_a_filled_honeypot_gets_the_usual_answer_and_nothing_happens(aws, friction):
    deps = friction()
    status, body = post({**BODY, "website": "http://spam.example"})
    assert status == 202 and body["message"] == registration.ACCEPTED  # what a person gets
    assert deps.contacts.get(PHONE) is None and aws.sent == []  # nothing stored, nothing sent


def test_a_form_sent_faster_than_a_person_types_is_a_bot(aws, friction, clock):
    deps = friction()
    token = form_token()
    assert token["minFillSeconds"] == 3
    clock.advance(seconds=1)
    assert post({**BODY, "formToken": token["formToken"]})[0] == 202
    assert deps.contacts.get(PHONE) is None and aws.sent == []

    clock.advance(seconds=4)  # a person's pace: the registration goes through
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE, kind="confirmation")
    assert post({**BODY, "formToken": token["formToken"]})[0] == 202
    assert deps.contacts.get(PHONE).status == "PENDING" and len(aws.sent) == 1


def test_a_forged_token_counts_as_a_bot(aws, friction, clock):
    deps = friction()
    issued = form_token()["formToken"]
    clock.advance(seconds=30)
    version, millis, _ = issued.split(".")
    for forged in (f"{version}.{int(millis) - 60_000}.AAAA", "v1.1.2", "nonsense", 42):
        assert post({**BODY, "formToken": forged})[0] == 202
    assert deps.contacts.get(PHONE) is None and aws.sent == []


def test_the_tutorial_body_without_a_token_still_works(aws, friction):
    friction()
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE, kind="confirmation")
    assert post(BODY)[0] == 202 and len(aws.sent) == 1


def test_a_deployment_that_requires_the_token_refuses_bodies_without_one(aws, friction, clock):
    friction(require_form_token=True, form_token_max_age_seconds=3600)
    status, body = post(BODY)
    assert status == 400 and body["codes"] == {"formToken": "form_token_required"}
    stale = form_token()["formToken"]
    clock.advance(hours=2)  # a page left open too long
    assert post({**BODY, "formToken": stale})[1]["codes"] == {"formToken": "form_token_required"}
    fresh = form_token()["formToken"]
    clock.advance(seconds=10)
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE, kind="confirmation")
    assert post({**BODY, "formToken": fresh})[0] == 202


def test_no_tokens_without_a_secret(aws, deps):
    event = api_gateway_event("GET", "/form-token", None)
    assert registration.handler(event, LambdaContext())["statusCode"] == 404
