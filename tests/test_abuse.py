"""Abuse and cost protection in the handlers (issue 12): the spend circuit breaker, number ranges under
pumping, and the per-IP limit. Real handlers, moto DynamoDB; every paid call goes through a Stubber, so
a paid call that should not happen fails the test."""

import json
from dataclasses import replace

import pytest

from optin.handlers import phone_validation, registration
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event


@pytest.fixture
def limits(aws, settings, clock):
    """Install settings with small limits: ``limits(**fields)``."""

    def apply(**fields):
        deps = Dependencies(replace(settings, **fields), clients=aws.client, clock=clock)
        aws.deps = deps
        install(deps)
        return deps

    return apply


def register(number, ip="203.0.113.7"):
    body = {"destinationNumber": number, "firstName": "Ana", "lastName": "Silva", "consent": True}
    response = registration.handler(api_event("/register", body, ip=ip), LambdaContext())
    return response["statusCode"], _headers(response), json.loads(response["body"])


def validate(number):
    response = phone_validation.handler(api_event("/validate", {"phoneNumber": number}), LambdaContext())
    return response["statusCode"], _headers(response), json.loads(response["body"])


def _headers(response):
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return headers


def new_number(aws, e164):
    aws.expect_lookup(e164)
    aws.expect_sms(e164, kind="confirmation")


# -- the spend circuit breaker ---------------------------------------------------------------------------------
def test_texts_stop_at_the_hourly_limit_with_the_same_answer_for_every_number(aws, limits, clock):
    limits(spend_texts_per_hour=2)
    clock.now = clock.now.replace(minute=40, second=0)
    for e164 in ("+12065550101", "+13125550102"):
        new_number(aws, e164)
        assert register(e164)[0] == 202
    answers = []
    for e164 in ("+14155550103", "+16175550104"):  # no lookup, no text: the Stubber has none queued
        status, headers, body = register(e164)
        answers.append((status, body))
        assert status == 503 and headers["Retry-After"] == str(20 * 60)  # up to the next hour
    assert answers[0] == answers[1]  # nothing tells one number from another
    assert answers[0][1]["reason"] == "capacity"
    assert len(aws.sent) == 2

    clock.advance(minutes=20)  # the window rolls over
    new_number(aws, "+14155550103")
    assert register("+14155550103")[0] == 202


def test_lookups_stop_at_their_limit_but_cached_and_confirmed_numbers_go_on(aws, deps, limits, clock):
    limits(spend_lookups_per_hour=1)
    clock.now = clock.now.replace(minute=0, second=5)
    new_number(aws, "+12065550101")
    assert register("+12065550101")[0] == 202
    status, _, body = validate("+13125550102")  # a new number would need a paid lookup
    assert status == 503 and body["reason"] == "capacity"
    assert validate("+12065550101")[0] == 200  # cached: costs nothing, not blocked

    contact = deps.contacts.get("+12065550101")
    deps.contacts.save(replace(contact, status="CONFIRMED"), contact.version, [])
    clock.advance(days=40)  # the cached lookup has expired; the contact is confirmed
    limits(spend_lookups_per_hour=1, spend_lookups_per_day=1)
    new_number(aws, "+13125550102")
    assert register("+13125550102")[0] == 202  # uses the day's only lookup
    assert register("+12065550101")[0] == 202  # confirmed: no lookup needed, never blocked


def test_the_daily_limit_holds_across_hours(aws, limits, clock):
    limits(spend_texts_per_hour=0, spend_texts_per_day=1)
    new_number(aws, "+12065550101")
    assert register("+12065550101")[0] == 202
    clock.advance(hours=2)
    status, headers, body = register("+13125550102")
    assert status == 503 and body["reason"] == "capacity"
    midnight = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert int(headers["Retry-After"]) == int((midnight - clock.now).total_seconds()) + 86_400


# -- number ranges and client IPs ---------------------------------------------------------------------------------
def test_a_range_under_pumping_is_blocked_without_a_paid_call(aws, limits, clock, capfd):
    limits(range_registrations_per_hour=3, range_block_seconds=3600)
    for last in range(3):
        new_number(aws, f"+1206555017{last}")
        assert register(f"+1206555017{last}")[0] == 202
    capfd.readouterr()
    for last in range(3, 6):  # same range (+1206555 01..): the same 202, no lookup, no text
        status, _, body = register(f"+1206555017{last}")
        assert status == 202 and "YES" in body["message"]
    assert len(aws.sent) == 3
    assert '"RangeBlocked"' in capfd.readouterr().out
    new_number(aws, "+12065550299")  # another range goes on
    assert register("+12065550299")[0] == 202

    clock.advance(hours=1, seconds=1)  # the block has run out
    new_number(aws, "+12065550179")
    assert register("+12065550179")[0] == 202


def test_registrations_from_one_ip_beyond_the_hourly_limit_are_refused(aws, limits, clock):
    limits(ip_registrations_per_hour=2)
    clock.now = clock.now.replace(minute=30, second=0)
    for e164 in ("+12065550101", "+13125550102"):
        new_number(aws, e164)
        assert register(e164, ip="198.51.100.9")[0] == 202
    status, headers, body = register("+14155550103", ip="198.51.100.9")
    assert status == 429 and body["reason"] == "rate_limited" and headers["Retry-After"] == str(30 * 60)
    new_number(aws, "+14155550103")
    assert register("+14155550103", ip="198.51.100.10")[0] == 202  # someone else is not affected


def test_an_address_that_filled_the_honeypot_gets_nothing_more_this_hour(aws, limits, clock):
    limits(bot_ip_block_seconds=3600)
    bot = "192.0.2.66"
    body = {"destinationNumber": "2065550188", "firstName": "A", "lastName": "B", "website": "x"}
    response = registration.handler(api_event("/register", body, ip=bot), LambdaContext())
    assert response["statusCode"] == 202
    status, _, body = register("+12065550101", ip=bot)  # looks like a person, from the same address
    assert status == 202 and "YES" in body["message"] and aws.sent == []  # the usual answer, nothing paid
    new_number(aws, "+13125550102")
    assert register("+13125550102", ip="198.51.100.10")[0] == 202  # others are not affected
    clock.advance(hours=1, seconds=1)
    new_number(aws, "+12065550101")
    assert register("+12065550101", ip=bot)[0] == 202 and len(aws.sent) == 2
