"""One text per reason under the faults production produces (issue 10, cases 1-4), through the real
handlers: moto DynamoDB, Stubber-validated SendTextMessage, and a local HTTP server standing in for End
User Messaging where the SDK's own retries are the question."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config

from local import events
from optin.adapters.aws import client_config
from optin.adapters.sms import EndUserMessagingSender
from optin.handlers import delivery_events, inbound_sms, registration
from optin.outbound import send_timing
from optin.ports import DependencyUnavailable, SendOutcomeUnknown
from optin.settings import Settings
from tests.support import OUR_NUMBER, LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"
# When a claim nothing recorded is over (lease + settle, the settings' defaults the handlers run with).
SETTLED = send_timing(Settings()).retry_after_seconds
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "consent": True}


def post():
    response = registration.handler(api_event("/register", BODY), LambdaContext())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], headers, json.loads(response["body"])


def register(aws):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE, kind="confirmation")
    assert post()[0] == 202


def text_event(event_type, sent, *, at, final=True):
    """The delivery event End User Messaging publishes for a send FakeAws recorded."""
    return events.text_event_record(
        event_type,
        message_id=sent["MessageId"],
        destination=sent["DestinationPhoneNumber"],
        origination=OUR_NUMBER,
        at=at,
        is_final=final,
        context=sent["Context"],
    )


def deliver_events(*records):
    batch = {"Records": [sqs_record(json.dumps(r)) for r in records]}
    assert delivery_events.handler(batch, LambdaContext()) == {"batchItemFailures": []}


def fail_writes(monkeypatch, target, name, *, after_write=False, times=None):
    """Make ``target.name`` raise DependencyUnavailable (after doing the write, when ``after_write``:
    the write committed, its answer was lost), ``times`` times or always."""
    original = getattr(target, name)
    calls = {"left": times}

    def failing(self, *args, **kwargs):
        if calls["left"] is not None:
            if calls["left"] == 0:
                return original(self, *args, **kwargs)
            calls["left"] -= 1
        if after_write:
            original(self, *args, **kwargs)
        raise DependencyUnavailable(f"{name}: ProvisionedThroughputExceededException")

    monkeypatch.setattr(target, name, failing)
    return original


# -- case 1: the same reply went out two or three times ----------------------------------------------------
def test_a_reply_whose_marker_could_not_be_completed_is_never_sent_again(aws, deps, clock, monkeypatch):
    register(aws)
    markers = type(deps.markers)
    original = fail_writes(monkeypatch, markers, "complete")
    aws.expect_sms(PHONE, kind="reply")
    record = sqs_record(two_way(PHONE, "YES", message_id="in-1"))
    # The welcome went out: the record is done (a failure would only bring it back for a second send).
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(aws.texts_to(PHONE)) == 2
    monkeypatch.setattr(markers, "complete", original)

    clock.advance(seconds=20)  # SNS delivers the same message again while the send is unrecorded
    assert inbound_sms.handler(sqs_event(record), LambdaContext())["batchItemFailures"]
    assert len(aws.texts_to(PHONE)) == 2  # held: its outcome has not settled, so it is tried later

    deliver_events(text_event("TEXT_SUCCESSFUL", aws.sent[-1], at=clock.now, final=False))
    clock.advance(seconds=180)  # SQS redelivers after the visibility timeout: the lease is long over
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(aws.texts_to(PHONE)) == 2
    assert deps.markers.get("inbound#in-1").done


def test_a_reply_whose_outcome_is_unknown_waits_for_its_events_then_goes_out_once(aws, deps, clock):
    register(aws)
    unknown_first_send(deps)
    record = sqs_record(two_way(PHONE, "YES", message_id="in-2"))
    assert inbound_sms.handler(sqs_event(record), LambdaContext())["batchItemFailures"]
    assert len(aws.texts_to(PHONE)) == 1 and deps.contacts.get(PHONE).status == "CONFIRMED"

    clock.advance(seconds=SETTLED // 2)  # redelivered before the claim settled: still nothing sent
    assert inbound_sms.handler(sqs_event(record), LambdaContext())["batchItemFailures"]
    clock.advance(seconds=SETTLED - SETTLED // 2)  # settled, and no event says it went out: send it now
    aws.expect_sms(PHONE, kind="reply")
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(aws.texts_to(PHONE)) == 2
    clock.advance(seconds=200)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(aws.texts_to(PHONE)) == 2


def unknown_first_send(deps):
    """The next send times out on the read (it never reached the stub: in truth it was not sent)."""
    deps.sms = _UnknownOnce(deps.sms)
    for built in ("inbound", "registration"):
        deps.__dict__.pop(built, None)


class _UnknownOnce:
    """The sender, except that its first send times out on the read: the outcome is unknown."""

    def __init__(self, sms):
        self._sms, self._first = sms, True

    def send(self, to, body, **kwargs):
        if self._first:
            self._first = False
            raise SendOutcomeUnknown("sending the SMS: ReadTimeoutError")
        return self._sms.send(to, body, **kwargs)


def test_a_reply_owed_before_a_stop_is_not_sent_after_it(aws, deps, clock):
    register(aws)
    aws.expect_sms_outage()
    yes = sqs_record(two_way(PHONE, "YES", message_id="in-yes"))
    assert inbound_sms.handler(sqs_event(yes), LambdaContext())["batchItemFailures"]  # welcome owed
    aws.expect_sms(PHONE, kind="reply")
    stop = sqs_record(two_way(PHONE, "STOP", message_id="in-stop"))
    assert inbound_sms.handler(sqs_event(stop), LambdaContext()) == {"batchItemFailures": []}
    clock.advance(seconds=180)
    assert inbound_sms.handler(sqs_event(yes), LambdaContext()) == {"batchItemFailures": []}
    texts = aws.texts_to(PHONE)
    assert len(texts) == 2 and "unsubscribed" in texts[-1]  # the confirmation, then the opt-out only


# -- case 2: a retry got 202 and no text ---------------------------------------------------------------------
def test_a_claim_whose_answer_was_lost_is_recognised_and_the_text_sent(aws, deps, clock, monkeypatch):
    store = type(deps.contacts)
    fail_writes(monkeypatch, store, "save", after_write=True, times=1)
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE, kind="confirmation")
    status, _, _ = post()  # the claim was written; deciding again with the same token finds it ours
    assert status == 202 and len(aws.texts_to(PHONE)) == 1
    assert deps.contacts.get(PHONE).confirmation_message_id is not None


def test_a_failed_send_whose_release_failed_too_is_sent_by_the_retry_retry_after_names(
    aws, deps, clock, monkeypatch
):
    aws.expect_lookup(PHONE)
    aws.expect_sms_outage()
    store = type(deps.contacts)
    original = store.save

    def no_release(self, contact, expected_version, events_, marker=None):
        if contact is not None and contact.send_lease_token is None and not events_:
            raise DependencyUnavailable("saving the contact: ProvisionedThroughputExceededException")
        return original(self, contact, expected_version, events_, marker)

    monkeypatch.setattr(store, "save", no_release)
    status, headers, body = post()
    assert status == 503
    wait = int(headers["Retry-After"])
    assert wait == body["retryAfterSeconds"]
    monkeypatch.setattr(store, "save", original)

    clock.advance(seconds=wait / 2)  # too early: told to wait again, never a quiet 202
    status, headers, _ = post()
    assert status == 503 and aws.texts_to(PHONE) == []
    clock.advance(seconds=wait / 2)  # as told: the claim has settled and nothing says it was sent
    aws.expect_sms(PHONE, kind="confirmation")
    assert post()[0] == 202 and len(aws.texts_to(PHONE)) == 1
    trail = [e.type for e in deps.contacts.events(PHONE)]
    assert "CONFIRMATION_PRESUMED_UNSENT" in trail and trail[-1] == "CONFIRMATION_SENT"


def test_a_retry_while_an_earlier_send_is_unsettled_gets_503_with_a_retry_after_it_can_trust(
    aws, deps, clock
):
    aws.expect_lookup(PHONE)
    unknown_first_send(deps)
    status, headers, _ = post()
    assert status == 503  # maybe sent, maybe not: not a 202 that may be a lie
    wait = int(headers["Retry-After"])
    clock.advance(seconds=wait)
    aws.expect_sms(PHONE, kind="confirmation")
    assert post()[0] == 202 and len(aws.texts_to(PHONE)) == 1


# -- case 3: a confirmation sent but not recorded --------------------------------------------------------------
def test_a_confirmation_not_recorded_still_blocks_a_resubmit_until_its_events_record_it(
    aws, deps, clock, monkeypatch
):
    store = type(deps.contacts)
    original = store.save

    def failing_record(self, contact, expected_version, events_, marker=None):
        if any(e.type == "CONFIRMATION_SENT" for e in events_):
            raise DependencyUnavailable("saving the contact: ProvisionedThroughputExceededException")
        return original(self, contact, expected_version, events_, marker)

    monkeypatch.setattr(store, "save", failing_record)
    register(aws)
    monkeypatch.setattr(store, "save", original)
    clock.advance(seconds=61)  # past the old 60 s lease: it used to send a second text here
    status, _, _ = post()
    assert status == 503 and len(aws.texts_to(PHONE)) == 1
    deliver_events(text_event("TEXT_DELIVERED", aws.sent[-1], at=clock.now - timedelta(seconds=58)))
    status, _, _ = post()
    assert status == 202 and len(aws.texts_to(PHONE)) == 1  # recorded, so the cooldown holds
    contact = deps.contacts.get(PHONE)
    assert contact.confirmation_message_id == aws.sent[-1]["MessageId"]
    assert contact.confirmation_delivery.status == "DELIVERED"


# -- case 4: the SDK sent twice ----------------------------------------------------------------------------------
class _SlowMessagingService(ThreadingHTTPServer):
    """A local HTTP server answering SendTextMessage, too slowly the first time (the read times out)."""

    def __init__(self, delay: float) -> None:
        self.requests: list[dict] = []
        self.delay = delay
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        server.requests.append(body)
        if len(server.requests) == 1:
            time.sleep(server.delay)  # accepted, but the answer comes too late
        payload = json.dumps({"MessageId": f"m-{len(server.requests)}"}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_service():
    server = _SlowMessagingService(delay=1.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_read_timeout_is_an_unknown_outcome_and_never_a_second_request(slow_service):
    config = client_config("pinpoint-sms-voice-v2").merge(Config(read_timeout=0.5, connect_timeout=0.5))
    client = boto3.client(
        "pinpoint-sms-voice-v2",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{slow_service.server_port}",
        config=config,
    )
    sender = EndUserMessagingSender(client, "phone-0123456789abcdef0123456789abcdef")
    with pytest.raises(SendOutcomeUnknown):
        sender.send(PHONE, "hello", context={"kind": "confirmation", "sendId": "s-1"})
    time.sleep(slow_service.delay)  # anything the SDK would have repeated has arrived by now
    assert len(slow_service.requests) == 1
    assert slow_service.requests[0]["Context"] == {"kind": "confirmation", "sendId": "s-1"}


def test_what_certainly_did_not_reach_the_service_is_retried(aws):
    aws.expect_sms_error("ThrottlingException", 400)
    aws.expect_sms_error("InternalServerException", 500)
    aws.expect_sms(PHONE)
    sender = EndUserMessagingSender(aws.sms, "phone-0123456789abcdef0123456789abcdef")
    assert sender.send(PHONE, "hello", context={"kind": "reply", "sendId": "s-1"}).message_id
    assert len(aws.texts_to(PHONE)) == 1
