"""The custom-channel delivery function against a fake WhatsApp Cloud API on 127.0.0.1 (local.fake_whatsapp),
with contacts in moto DynamoDB and the token in moto Secrets Manager."""

import json
import time

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from local.fake_whatsapp import FakeWhatsApp
from optin.adapters.whatsapp_graph import GraphApiTransport, StaticToken
from optin.adapters.whatsapp_social import SocialMessagingTransport
from optin.consent import Status
from optin.handlers import custom_channel
from optin.settings import Settings, SettingsError
from optin.whatsapp.delivery import UnsupportedEvent
from optin.whatsapp.pacing import Backoff, Deadline, TokenBucket
from optin.whatsapp.templates import InvalidTemplate, TransientSendError, parse_template
from optin.wiring import install
from tests.whatsapp_support import (
    DATA,
    SECRET_NAME,
    TOKEN,
    Context,
    build_world,
    endpoint,
    phone,
    pinpoint_event,
    reasons,
    statuses,
)


@pytest.fixture
def world(settings):
    with FakeWhatsApp() as fake, mock_aws():
        yield build_world(fake, settings)
    install(None)


def deliver(event, remaining_ms=30_000):
    return custom_channel.handler(event, Context(remaining_ms))


def confirmed_batch(world, count, start=0):
    contacts = world.seed_many(count, start=start)
    return {c.phone.lstrip("+"): endpoint(c.phone) for c in contacts}


# -- the request ------------------------------------------------------------------------------------
def test_the_request_is_exactly_the_json_the_cloud_api_expects(world):
    world.seed("+12065550142")
    response = deliver(pinpoint_event({"ep-1": endpoint("+12065550142")}))

    assert statuses(response) == {"ep-1": "sent"}
    [request] = world.fake.requests
    assert request.method == "POST"
    assert request.path == f"/v23.0/{world.fake.phone_number_id}/messages"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.raw) == request.body  # a JSON body, not a form-encoded one
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "12065550142",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Carlos"}]}],
        },
    }
    assert response["ep-1"]["EventAttributes"] == {"status": "sent", "messageId": request.message_id}


def test_the_seed_s_data_shape_and_a_default_language_are_accepted(world):
    world.seed("+12065550142")
    seed_data = {"templateName": "ordertimeoutnotification", "params": DATA["components"]}
    deliver(pinpoint_event({"ep-1": endpoint("12065550142")}, seed_data))  # the seed's Address: no '+'
    template = world.fake.requests[0].body["template"]
    assert template["name"] == "ordertimeoutnotification"
    assert template["language"] == {"code": "en_US"}
    assert template["components"] == DATA["components"]


def test_body_parameters_shorthand_becomes_a_body_component():
    message = parse_template({"templateName": "hello", "language": "pt_BR", "parameters": ["Ana", 3]})
    assert message.body("351912345678")["template"] == {
        "name": "hello",
        "language": {"code": "pt_BR"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "3"}]}
        ],
    }


# -- every endpoint gets a result -------------------------------------------------------------------
def test_every_endpoint_gets_a_result_with_a_reason_or_a_message_id(world):
    world.seed("+12065550001")
    world.seed("+12065550002")
    world.seed("+12065550003", Status.PENDING)
    world.seed("+12065550004", Status.OPTED_OUT)
    world.seed("+12065550005")
    world.fake.fail_for("12065550005", status=400, code=131026)  # undeliverable: not retried
    event = pinpoint_event(
        {
            "sent": endpoint("+12065550001"),
            "opted-out-in-pinpoint": endpoint("+12065550002", OptOut="ALL"),
            "pending": endpoint("+12065550003"),
            "opted-out-here": endpoint("+12065550004"),
            "undeliverable": endpoint("+12065550005"),
            "inactive": endpoint("+12065550006", EndpointStatus="INACTIVE"),
            "unknown": endpoint("+12065550007"),
            "not-a-number": endpoint("someone@example.com"),
            "same-number-again": endpoint("+1 (206) 555-0001"),
        }
    )

    response = deliver(event)

    assert list(response) == list(event["Endpoints"])  # every endpoint, in order
    assert statuses(response) == {
        "sent": "sent",
        "opted-out-in-pinpoint": "skipped",
        "pending": "skipped",
        "opted-out-here": "skipped",
        "undeliverable": "failed",
        "inactive": "skipped",
        "unknown": "skipped",
        "not-a-number": "skipped",
        "same-number-again": "skipped",
    }
    assert reasons(response) == {
        "sent": None,
        "opted-out-in-pinpoint": "opted_out",
        "pending": "not_confirmed",
        "opted-out-here": "opted_out",
        "undeliverable": "graph_131026",
        "inactive": "inactive",
        "unknown": "unknown_contact",
        "not-a-number": "invalid_address",
        "same-number-again": "duplicate_address",
    }
    assert world.fake.delivered_to() == ["12065550001"]
    assert len(world.fake.requests) == 2  # the undeliverable one was tried once


def test_unconfirmed_numbers_are_sent_when_the_check_is_off(world):
    world.reconfigure(whatsapp_require_confirmed=False)
    response = deliver(
        pinpoint_event({"a": endpoint("+12065550007"), "b": endpoint("+12065550008", OptOut="ALL")})
    )
    assert statuses(response) == {"a": "sent", "b": "skipped"}  # Pinpoint's own opt-out still counts


def test_unparseable_data_fails_every_endpoint_with_a_reason(world, logs):
    world.seed("+12065550001")
    for data in ("{not json", json.dumps({"components": []}), json.dumps({"templateName": "Bad Name!"})):
        response = deliver(
            pinpoint_event({"a": endpoint("+12065550001"), "b": endpoint("+12065550002")}, data)
        )
        assert response == {
            "a": {"EventAttributes": {"status": "failed", "reason": "invalid_data"}},
            "b": {"EventAttributes": {"status": "failed", "reason": "invalid_data"}},
        }
    assert world.fake.requests == []
    assert "not a template message" in logs.text


def test_an_event_without_endpoints_is_rejected_with_a_clear_error(world):
    with pytest.raises(UnsupportedEvent, match=r"no 'Endpoints'.*custom-channel"):
        deliver({"Data": json.dumps(DATA), "ApplicationId": "x"})
    with pytest.raises(UnsupportedEvent):
        deliver({"Endpoints": ["+12065550001"]})


def test_template_validation_names_each_bad_field():
    with pytest.raises(InvalidTemplate) as caught:
        parse_template(
            {"template": "Hello World", "language": "english", "components": [{}], "parameters": []}
        )
    assert set(caught.value.errors) == {"template", "language", "parameters"}


# -- retries and the time budget --------------------------------------------------------------------
def test_server_errors_are_retried_until_the_message_goes_through(world):
    world.seed("+12065550001")
    world.fake.fail_next(2, status=503)
    response = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    assert statuses(response) == {"a": "sent"}
    assert [r.status for r in world.fake.requests] == [503, 503, 200]


def test_429_retry_after_is_honoured(world):
    world.seed("+12065550001")
    world.fake.fail_next(1, status=429, retry_after=0.4)
    response = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    assert statuses(response) == {"a": "sent"}
    first, second = world.fake.requests
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.38  # waited as asked, although the backoff alone is ~10 ms


def test_timeouts_and_network_errors_are_retried(world):
    world.reconfigure(whatsapp_request_timeout_ms=200)
    world.seed("+12065550001")
    world.fake.hang_next(1, seconds=1.0)
    response = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    assert statuses(response) == {"a": "sent"}
    assert len(world.fake.requests) == 2

    closed = FakeWhatsApp().start()
    closed.stop()  # nothing listens on that port any more: connection refused
    transport = GraphApiTransport(closed.url, "v23.0", "1", StaticToken("t"))
    with pytest.raises(TransientSendError, match="network_error"):
        transport.send({"to": "1"}, timeout=0.5)


def test_retries_stop_within_the_budget_and_the_failure_is_reported(world):
    world.reconfigure(
        whatsapp_max_attempts=20,
        whatsapp_backoff_base_ms=100,
        whatsapp_backoff_max_ms=2000,
        whatsapp_safety_margin_ms=500,
    )
    world.seed_many(3)
    world.fake.fail_rate(1.0, status=500)
    started = time.monotonic()
    response = deliver(pinpoint_event({f"e{i}": endpoint(phone(i)) for i in range(3)}), remaining_ms=1500)
    elapsed = time.monotonic() - started

    assert elapsed < 1.5 - 0.3  # answered before the function would time out, margin kept
    assert statuses(response) == {"e0": "failed", "e1": "failed", "e2": "failed"}
    assert set(reasons(response).values()) == {"http_500"}
    assert 3 * 2 <= len(world.fake.requests) < 3 * 20  # retried, but not all 20 attempts


def test_a_retry_after_beyond_the_budget_fails_fast(world):
    world.seed("+12065550001")
    world.fake.fail_next(1, status=429, retry_after=30)
    started = time.monotonic()
    response = deliver(pinpoint_event({"a": endpoint("+12065550001")}), remaining_ms=3000)
    assert time.monotonic() - started < 1.0
    assert reasons(response) == {"a": "http_429"}


def test_rate_limit_codes_sent_with_400_are_retried(world):
    world.seed("+12065550001")
    world.fake.fail_next(1, status=400, code=130429)
    assert statuses(deliver(pinpoint_event({"a": endpoint("+12065550001")}))) == {"a": "sent"}


# -- the token --------------------------------------------------------------------------------------
def test_the_token_is_read_again_after_a_401(world):
    world.seed_many(3)
    event = pinpoint_event({f"e{i}": endpoint(phone(i)) for i in range(3)})
    assert set(statuses(deliver(event)).values()) == {"sent"}

    # The token is rotated: Meta now refuses the cached one, the secret holds the new one.
    world.fake.rotate_token("EAAG-rotated")
    world.secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps({"token": "EAAG-rotated"}))
    world.fake.reset()
    assert set(statuses(deliver(event)).values()) == {"sent"}
    sent_with = [(r.token, r.status) for r in world.fake.requests]
    assert ("EAAG-rotated", 200) in sent_with
    assert all(token == "EAAG-rotated" for token, status in sent_with if status == 200)
    assert sum(1 for _, status in sent_with if status == 401) <= 3  # each at most once


def test_a_token_still_refused_after_re_reading_fails_without_looping(world):
    world.seed("+12065550001")
    world.fake.rotate_token("a-token-we-do-not-have")
    response = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    assert reasons(response) == {"a": "unauthorized"}
    assert [r.status for r in world.fake.requests] == [401]  # re-read the secret, same token: stop


def test_a_plain_text_secret_works_too(world):
    world.secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=TOKEN)
    world.reconfigure()
    world.seed("+12065550001")
    assert statuses(deliver(pinpoint_event({"a": endpoint("+12065550001")}))) == {"a": "sent"}


def test_the_token_and_full_numbers_never_reach_the_logs(world, logs):
    world.seed("+12065550001")
    world.fake.fail_for("12065550001", status=400, code=131026)
    world.fake.fail_next(1, status=401)
    deliver(pinpoint_event({"12065550001": endpoint("+12065550001")}))
    assert logs.text  # something was logged ...
    assert TOKEN not in logs.text and "Bearer" not in logs.text
    assert "2065550001" not in logs.text  # ... with numbers masked
    assert "0001" in logs.text


# -- the 50-endpoint batch --------------------------------------------------------------------------
def test_a_50_endpoint_batch_is_sent_concurrently_and_bounded(world):
    world.reconfigure(whatsapp_concurrency=16)
    world.fake.latency = 0.05
    event = pinpoint_event(confirmed_batch(world, 50))
    started = time.monotonic()
    response = deliver(event)
    elapsed = time.monotonic() - started

    assert set(statuses(response).values()) == {"sent"} and len(response) == 50
    assert sorted(world.fake.delivered_to()) == sorted(
        e["Address"].lstrip("+") for e in event["Endpoints"].values()
    )
    assert len({r["EventAttributes"]["messageId"] for r in response.values()}) == 50
    assert 1 < world.fake.max_in_flight <= 16
    assert elapsed < 50 * 0.05 / 3  # one after another would take 2.5 s


def test_nothing_is_silently_dropped_when_a_third_of_requests_fail(world, logs):
    world.reconfigure(whatsapp_max_attempts=10)  # 0.3 ** 10: a message failing every time is not a flake
    world.fake.fail_rate(0.3, status=503, seed=7)
    event = pinpoint_event(confirmed_batch(world, 50))
    response = deliver(event)
    assert len(response) == 50
    delivered = world.fake.delivered_to()
    sent = [eid for eid, s in statuses(response).items() if s == "sent"]
    assert sorted(delivered) == sorted(sent)  # each "sent" was accepted once, nothing else was
    failed = [eid for eid, s in statuses(response).items() if s == "failed"]
    assert len(sent) + len(failed) == 50
    assert logs.text.count("WhatsApp message not sent") == len(failed)
    assert len(sent) == 50  # and with retries, all of them got through


def test_the_token_bucket_paces_sends(world):
    world.reconfigure(whatsapp_rate_per_second=20)  # burst 20, then one every 50 ms
    event = pinpoint_event(confirmed_batch(world, 30))
    started = time.monotonic()
    assert set(statuses(deliver(event)).values()) == {"sent"}
    assert time.monotonic() - started >= (30 - 20) / 20 * 0.9


def test_token_bucket_rules():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, burst=2, clock=lambda: now[0], sleep=sleep)
    assert bucket.acquire() and bucket.acquire()  # the burst
    assert bucket.acquire() and waits == [pytest.approx(0.1)]
    bucket.hold(5)
    deadline = Deadline(now[0] + 1, clock=lambda: now[0])
    assert bucket.acquire(deadline) is False  # the hold outlasts the deadline: no token, no wait
    assert len(waits) == 1


def test_backoff_is_full_jitter_capped_and_honours_retry_after():
    highest = Backoff(0.1, 1.0, rng=lambda low, high: high)
    lowest = Backoff(0.1, 1.0, rng=lambda low, high: low)
    assert [highest.delay(n) for n in (1, 2, 3, 4, 5, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert lowest.delay(3) == 0.0
    assert lowest.delay(1, retry_after=2.5) == 2.5


# -- End User Messaging Social ----------------------------------------------------------------------
def test_end_user_messaging_social_gets_the_same_body_as_a_blob(world):
    client = boto3.client("socialmessaging", region_name="us-east-1")
    stub = Stubber(client)
    origination = "phone-number-id-0123456789abcdef0123456789abcdef"
    world.reconfigure(whatsapp_transport="social", whatsapp_phone_number_id=origination)
    world.deps.whatsapp = SocialMessagingTransport(client, origination, "v23.0")
    world.seed("+12065550001")
    expected = parse_template(DATA).body("12065550001")
    stub.add_client_error("send_whatsapp_message", "ThrottledRequestException", http_status_code=429)
    stub.add_response(
        "send_whatsapp_message",
        {"messageId": "aws-msg-1"},
        {
            "originationPhoneNumberId": origination,
            "message": json.dumps(expected, separators=(",", ":")).encode(),
            "metaApiVersion": "v23.0",
        },
    )
    stub.add_client_error("send_whatsapp_message", "ValidationException", http_status_code=400)
    with stub:
        first = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
        second = deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    stub.assert_no_pending_responses()
    assert first == {"a": {"EventAttributes": {"status": "sent", "messageId": "aws-msg-1"}}}
    assert reasons(second) == {"a": "aws_ValidationException"}  # not retried
    assert world.fake.requests == []


# -- settings ---------------------------------------------------------------------------------------
def test_custom_channel_settings_are_checked():
    settings = Settings.from_env({"WHATSAPP_TRANSPORT": "Social", "WHATSAPP_CONCURRENCY": "8"})
    assert (settings.whatsapp_transport, settings.whatsapp_concurrency) == ("social", 8)
    assert Settings.from_env({"WHATSAPP_BASE_URL": "http://127.0.0.1:8081/"}).whatsapp_base_url == (
        "http://127.0.0.1:8081"
    )
    for bad in (
        {"WHATSAPP_TRANSPORT": "sms"},
        {"WHATSAPP_BASE_URL": "http://graph.example.com"},
        {"WHATSAPP_API_VERSION": "23"},
        {"BROADCAST_BATCH_SIZE": "51"},
        {"WHATSAPP_CONCURRENCY": "0"},
    ):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            Settings.from_env(bad)


def test_missing_configuration_fails_loudly(world):
    world.reconfigure(whatsapp_phone_number_id="")
    with pytest.raises(SettingsError, match="WHATSAPP_PHONE_NUMBER_ID"):
        deliver(pinpoint_event({"a": endpoint("+12065550001")}))
    world.reconfigure(whatsapp_phone_number_id="123", whatsapp_secret_id="")
    with pytest.raises(SettingsError, match="WHATSAPP_SECRET_ID"):
        deliver(pinpoint_event({"a": endpoint("+12065550001")}))


def test_a_missing_secret_fails_each_endpoint_as_retryable(world):
    world.reconfigure(whatsapp_secret_id="no-such-secret", whatsapp_max_attempts=2)
    world.seed("+12065550001")
    assert reasons(deliver(pinpoint_event({"a": endpoint("+12065550001")}))) == {"a": "token_unavailable"}
