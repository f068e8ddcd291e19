"""The local sandbox over real HTTP: `python -m local` in a child process on a free port of 127.0.0.1.

The /sandbox JSON API is a contract (docs/sandbox.md, "The sandbox JSON API"): these tests pin its shapes.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from local.carrier import LANDLINE, MOBILE, PREPAID, VOIP, OfflineCarrierLookup
from local.environment import DEMO_FOLLOW_UP_SEQUENCE, prepare_environment
from local.run import port_from
from local.server import parse_query
from local.testing import SandboxProcess
from optin.clock import parse_iso
from optin.ports import DependencyUnavailable

MESSAGE_KEYS = {"to", "from", "body", "sentAt", "messageId", "delivery"}
SCHEDULE_KEYS = {"name", "phone", "step", "at", "episode", "deferrals", "timezone", "localAt"}
WHATSAPP_KEYS = {"to", "template", "language", "components", "receivedAt", "status", "messageId"}
DEMO_STEPS = [("tips", 1), ("week-1", 7), ("offer", 30)]  # local/environment.py: id, days after the YES
OUR_NUMBER = "+12065550100"
# Numbers used here and nowhere else, so the log check below knows what to look for.
SIGNUP = "+12065550161"
SIGNUP_2 = "+12065550162"
SIGNUP_3 = "+12065550163"
STRANGER = "+12065550164"
FOLLOW = "+12065550165"
FOLLOW_STOP = "+12065550166"
WA_1 = "+12065550167"
WA_2 = "+12065550168"
WA_PENDING = "+12065550169"
WA_OPTED_OUT = "+12065550170"
WA_ANY = "+12065550171"
RESET = "+12065550172"
HOSTILE = "+12065550173"


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=data, method=method, headers=headers or {}
        )
        if data is not None and not (headers and "Content-Type" in headers):
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
                status, raw, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers)
        kind = got.get("Content-Type", "")
        return status, got, json.loads(raw) if "json" in kind and raw else raw.decode("utf-8", "replace")

    def get(self, path: str) -> tuple[int, Any]:
        status, _, body = self.request("GET", path)
        return status, body

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, _, got = self.request("POST", path, body)
        return status, got

    def text(self, phone: str, body: str) -> None:
        status, _ = self.post("/sandbox/inbound", {"originationNumber": phone, "messageBody": body})
        assert status == 202

    def confirm(self, phone: str, **extra: Any) -> None:
        """Sign up and reply YES, as a person would."""
        assert self.register(phone, **extra)[0] == 202
        self.text(phone, "YES")

    def whatsapp(self) -> list[dict[str, Any]]:
        status, messages = self.get("/sandbox/whatsapp/messages")
        assert status == 200
        return messages

    def register(self, phone: str, **extra: Any) -> tuple[int, Any]:
        body = {
            "firstName": "Mary",
            "lastName": "Major",
            "destinationNumber": phone,
            "consent": True,
            **extra,
        }
        return self.post("/register", body)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    # These tests sign up dozens of the sandbox's test numbers, all in one range (555-01xx), within a
    # minute: the range limit (tested on its own) would block them.
    with SandboxProcess(env={"RANGE_REGISTRATIONS_PER_HOUR": "0"}) as process:
        yield process


@pytest.fixture(scope="module")
def client(sandbox: SandboxProcess) -> Client:
    return Client(sandbox.url)


# -- start-up and pages -------------------------------------------------------------------------------
def test_starts_on_loopback_and_prints_the_url_and_what_to_try(sandbox):
    assert sandbox.url.startswith("http://127.0.0.1:")
    output = sandbox.output()
    assert f"Sign-up form     {sandbox.url}/" in output
    assert f"Phone simulator  {sandbox.url}/sandbox" in output
    try_this = output.split("Try this:")[1].strip().splitlines()[:4]
    assert [line.strip()[:3] for line in try_this] == ["1. ", "2. ", "3. ", "4. "]
    assert "Send due steps now" in try_this[3]
    assert "Ctrl-C" in output


def test_serves_the_form_its_config_and_the_simulator(client):
    status, headers, page = client.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'id="signup"' in page and "app.js" in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, config = client.get("/config.json")
    assert status == 200
    assert config["apiBaseUrl"] == ""
    assert config["brandName"] == "ExampleCorp"
    assert config["countries"] == ["US", "CA"] and config["defaultCountry"] == "US"
    assert config["termsUrl"] and config["privacyUrl"] and config["messageFrequency"]
    for path in ("/app.js", "/styles.css", "/favicon.svg", "/sandbox/assets/sandbox.js"):
        assert client.get(path)[0] == 200, path
    status, simulator = client.get("/sandbox")
    assert status == 200 and "Phone simulator" in simulator


@pytest.mark.parametrize(
    "path", ["/../pyproject.toml", "/%2e%2e/pyproject.toml", "/.gitignore", "/nope.html"]
)
def test_serves_nothing_outside_web(client, path):
    assert client.get(path)[0] == 404


# -- the API, through the real handlers ---------------------------------------------------------------
def test_validate_answers_from_the_offline_lookup(client):
    status, body = client.post("/validate", {"phoneNumber": "(206) 555-0150", "country": "US"})
    assert status == 200
    assert body == {
        "valid": True,
        "e164": "+12065550150",
        "country": "US",
        "type": "MOBILE",
        "canReceiveSms": True,
        "reason": None,
        "message": None,
    }
    status, body = client.post("/validate", {"phoneNumber": "206 555 0111"})
    assert (status, body["type"], body["canReceiveSms"], body["reason"]) == (
        200,
        "LANDLINE",
        False,
        "landline",
    )
    status, body = client.post("/validate", {"phoneNumber": "+1 206 555 0122"})
    assert (body["type"], body["reason"]) == ("VOIP", "voip")
    status, body = client.post("/validate", {"country": "US"})
    assert status == 400 and "phoneNumber" in body["errors"]


def test_register_answers_400_422_and_503_as_the_api_does(client):
    status, body = client.register("206-555-CALL")
    assert status == 400
    assert body["errors"] == {"destinationNumber": "A phone number cannot contain letters."}
    status, body = client.register("(206) 555-0111")
    assert status == 422
    assert body["reason"] == "landline" and "landline" in body["errors"]["destinationNumber"]
    status, headers, body = client.request(
        "POST",
        "/register",
        {"firstName": "A", "lastName": "B", "destinationNumber": "2065550199", "consent": True},
    )
    assert status == 503 and body["retryAfterSeconds"] > 0 and headers["Retry-After"]
    assert client.get("/sandbox/contacts/+12065550111")[0] == 404


# -- the sandbox contract -----------------------------------------------------------------------------
def test_confirmation_text_arrives_and_yes_confirms(client):
    status, body = client.register("(206) 555-0161", source="contract test")
    assert status == 202 and "YES" in body["message"]

    status, messages = client.get(f"/sandbox/messages?phone={SIGNUP}")
    assert status == 200 and len(messages) == 1
    (text,) = messages
    assert set(text) == MESSAGE_KEYS
    assert text["to"] == SIGNUP and text["from"] == OUR_NUMBER
    assert "Reply YES to confirm" in text["body"] and "STOP" in text["body"]
    assert text["sentAt"].endswith("Z") and text["messageId"]
    assert text["delivery"] == "DELIVERED"  # its delivery events went through the DeliveryEvents handler

    status, contact = client.get(f"/sandbox/contacts/{SIGNUP}")
    assert status == 200
    assert contact["phone"] == SIGNUP and contact["status"] == "PENDING"
    assert (contact["firstName"], contact["lastName"], contact["source"]) == (
        "Mary",
        "Major",
        "contract test",
    )
    assert contact["consentTextVersion"] and contact["submittedAt"] and contact["clientIp"] == "127.0.0.1"
    assert contact["confirmationMessageId"] == text["messageId"]
    delivery = contact["confirmationDelivery"]
    assert delivery["status"] == "DELIVERED" and delivery["eventType"] == "TEXT_DELIVERED"
    assert delivery["at"].endswith("Z") and delivery["carrier"] and delivery["priceUsd"] > 0
    assert [e["type"] for e in contact["events"]] == [
        "SUBMITTED",
        "CONFIRMATION_SENT",
        "CONFIRMATION_DELIVERY",  # SENT: accepted by the carrier
        "CONFIRMATION_DELIVERY",  # DELIVERED
    ]

    status, answer = client.post("/sandbox/inbound", {"originationNumber": SIGNUP, "messageBody": "Yes"})
    assert status == 202
    assert answer["twoWayMessage"]["destinationNumber"] == OUR_NUMBER
    assert answer["twoWayMessage"]["previousPublishedMessageId"] == text["messageId"]
    assert [r["body"] for r in answer["replies"]] == [
        m["body"] for m in client.get(f"/sandbox/messages?phone={SIGNUP}")[1][1:]
    ]

    contact = client.get(f"/sandbox/contacts/{SIGNUP}")[1]
    assert contact["status"] == "CONFIRMED"
    assert contact["confirmedKeyword"] == "YES" and contact["confirmedBody"] == "Yes"
    assert contact["confirmedMessageId"] == answer["inboundMessageId"]
    messages = client.get(f"/sandbox/messages?phone={SIGNUP}")[1]
    assert [set(m) for m in messages] == [MESSAGE_KEYS, MESSAGE_KEYS]
    assert messages[0]["messageId"] == text["messageId"]  # oldest first
    assert "subscribed" in messages[1]["body"]


def test_inbound_takes_every_optional_field_and_is_idempotent(client):
    assert client.register(SIGNUP_2)[0] == 202
    message_id = str(uuid.uuid4())
    payload = {
        "originationNumber": SIGNUP_2,
        "destinationNumber": OUR_NUMBER,
        "messageBody": "STOP",
        "inboundMessageId": message_id,
        "messageKeyword": "KEYWORD_000000000000",
        "previousPublishedMessageId": "earlier-id",
    }
    status, answer = client.post("/sandbox/inbound", payload)
    assert status == 202 and answer["inboundMessageId"] == message_id
    assert answer["twoWayMessage"] == payload
    assert client.get(f"/sandbox/contacts/{SIGNUP_2}")[1]["status"] == "OPTED_OUT"
    count = len(client.get(f"/sandbox/messages?phone={SIGNUP_2}")[1])

    status, again = client.post("/sandbox/inbound", payload)  # a redelivery of the same message
    assert status == 202 and again["replies"] == []
    assert len(client.get(f"/sandbox/messages?phone={SIGNUP_2}")[1]) == count


def test_inbound_refuses_a_payload_without_its_required_fields(client):
    status, body = client.post("/sandbox/inbound", {"messageBody": 5})
    assert status == 400
    assert set(body["errors"]) == {"originationNumber", "messageBody"}
    status, body = client.post("/sandbox/inbound", {"originationNumber": "2065550164", "messageBody": "YES"})
    assert status == 400 and "originationNumber" in body["errors"]
    status, _, body = client.request("POST", "/sandbox/inbound", b"{not json")
    assert status == 400
    assert client.get("/sandbox/inbound")[0] == 405


def test_a_stranger_texting_yes_gets_no_contact(client):
    status, _ = client.post("/sandbox/inbound", {"originationNumber": STRANGER, "messageBody": "YES"})
    assert status == 202
    status, body = client.get(f"/sandbox/contacts/{STRANGER}")
    assert status == 404 and body["message"]


def test_phone_numbers_may_be_percent_encoded_or_literal(client):
    assert client.register(SIGNUP_3)[0] == 202
    literal = client.get(f"/sandbox/messages?phone={SIGNUP_3}")[1]
    encoded = client.get(f"/sandbox/messages?phone={SIGNUP_3.replace('+', '%2B')}")[1]
    assert literal == encoded and len(literal) == 1
    assert client.get(f"/sandbox/contacts/{SIGNUP_3.replace('+', '%2B')}")[1]["phone"] == SIGNUP_3
    assert client.get("/sandbox/messages?phone=2065550163")[0] == 400
    assert client.get("/sandbox/contacts/nonsense")[0] == 400


# -- follow-up sequences (issue 6): the in-memory scheduler and the real follow-up function -----------------
def test_a_yes_schedules_the_follow_ups_and_send_due_sends_them(client):
    client.confirm(FOLLOW)
    confirmed_at = parse_iso(client.get(f"/sandbox/contacts/{FOLLOW}")[1]["confirmedAt"])

    status, data = client.get(f"/sandbox/schedules?phone={FOLLOW}")
    assert status == 200
    assert data["sequence"] == [
        {"id": step, "after": f"{days}d", "messageType": "PROMOTIONAL"} for step, days in DEMO_STEPS
    ]
    assert data["sendWindow"] == "09:00-20:00"
    schedules = data["schedules"]
    assert [s["step"] for s in schedules] == [step for step, _ in DEMO_STEPS]  # earliest first
    for schedule, (_, days) in zip(schedules, DEMO_STEPS, strict=True):
        assert set(schedule) == SCHEDULE_KEYS
        assert schedule["phone"] == FOLLOW and schedule["deferrals"] == 0
        assert schedule["episode"] == client.get(f"/sandbox/contacts/{FOLLOW}")[1]["confirmedAt"]
        assert schedule["timezone"] == "America/Los_Angeles"  # 206 is Seattle
        local = datetime.fromisoformat(schedule["localAt"])
        assert local == parse_iso(schedule["at"])  # the same moment, in the recipient's zone
        assert 9 <= local.hour < 20  # moved into the sending window if it fell outside
        assert timedelta(days=days) <= local - confirmed_at < timedelta(days=days, hours=24)
    everyone = client.get("/sandbox/schedules")[1]["schedules"]
    assert {s["name"] for s in schedules} <= {s["name"] for s in everyone}

    earlier = client.get(f"/sandbox/messages?phone={FOLLOW}")[1]
    status, fired = client.post("/sandbox/schedules/send-due", {"phone": FOLLOW})
    assert status == 200
    assert [(r["phone"], r["step"], r["outcome"]) for r in fired["results"]] == [
        (FOLLOW, step, "sent") for step, _ in DEMO_STEPS
    ]
    assert [r["at"] for r in fired["results"]] == [s["at"] for s in schedules]
    messages = client.get(f"/sandbox/messages?phone={FOLLOW}")[1]
    assert messages[: len(earlier)] == earlier
    assert messages[len(earlier) :] == fired["messages"]
    assert [m["body"] for m in fired["messages"]] == [
        "ExampleCorp: Hi Mary, 3 tips to get started: example.com/tips. Reply STOP to cancel.",
        "ExampleCorp: How is it going, Mary? Reply HELP for help, STOP to cancel.",
        "ExampleCorp: 20% off this week with code THANKS. Reply STOP to cancel.",
    ]
    assert all(set(m) == MESSAGE_KEYS and m["from"] == OUR_NUMBER for m in messages)
    events = client.get(f"/sandbox/contacts/{FOLLOW}")[1]["events"]
    assert [e["detail"].get("step") for e in events if e["type"] == "FOLLOW_UP_SENT"] == [
        step for step, _ in DEMO_STEPS
    ]

    # Each schedule is deleted once it ran (ActionAfterCompletion DELETE): nothing is sent twice.
    assert client.get(f"/sandbox/schedules?phone={FOLLOW}")[1]["schedules"] == []
    assert client.post("/sandbox/schedules/send-due", {"phone": FOLLOW}) == (
        200,
        {"results": [], "messages": []},
    )


def test_stop_deletes_the_follow_ups(client):
    client.confirm(FOLLOW_STOP)
    assert len(client.get(f"/sandbox/schedules?phone={FOLLOW_STOP}")[1]["schedules"]) == len(DEMO_STEPS)
    client.text(FOLLOW_STOP, "STOP")
    assert client.get(f"/sandbox/schedules?phone={FOLLOW_STOP}")[1]["schedules"] == []
    count = len(client.get(f"/sandbox/messages?phone={FOLLOW_STOP}")[1])
    status, _, fired = client.request("POST", f"/sandbox/schedules/send-due?phone={FOLLOW_STOP}")
    assert (status, fired) == (200, {"results": [], "messages": []})  # the phone may be in the query too
    assert len(client.get(f"/sandbox/messages?phone={FOLLOW_STOP}")[1]) == count


def test_send_due_refuses_a_malformed_number(client):
    status, body = client.post("/sandbox/schedules/send-due", {"phone": "2065550166"})
    assert status == 400 and "phone" in body["errors"]
    assert client.post("/sandbox/schedules/send-due", {"phone": 5})[0] == 400
    assert client.request("POST", "/sandbox/schedules/send-due", b"[]")[0] == 400
    assert client.request("POST", "/sandbox/schedules/send-due", b"{oops")[0] == 400
    assert client.get("/sandbox/schedules?phone=2065550166")[0] == 400
    assert client.get("/sandbox/schedules/send-due")[0] == 405


# -- WhatsApp broadcasts (issue 5): POST /broadcasts -> moto SQS -> custom channel -> fake WhatsApp ----------
def test_a_broadcast_reaches_exactly_the_confirmed_contacts_of_a_source(client):
    source = "whatsapp broadcast test"
    client.confirm(WA_1, source=source)
    client.confirm(WA_2, source=source)
    assert client.register(WA_PENDING, source=source)[0] == 202
    client.confirm(WA_OPTED_OUT, source=source)
    client.text(WA_OPTED_OUT, "STOP")
    before = len(client.whatsapp())

    body = {"template": "spring_sale", "language": "en_US", "parameters": ["20%"], "source": source}
    status, answer = client.post("/broadcasts", body)

    assert status == 202
    assert set(answer) == {"broadcastId", "queuedContacts", "queuedBatches", "complete"}
    assert (answer["queuedContacts"], answer["queuedBatches"], answer["complete"]) == (2, 1, True)
    received = client.whatsapp()[before:]  # delivered before the answer came back
    assert sorted(m["to"] for m in received) == [WA_1, WA_2]  # not the pending or opted-out ones
    for message in received:
        assert set(message) == WHATSAPP_KEYS
        assert (message["template"], message["language"], message["status"]) == ("spring_sale", "en_US", 200)
        assert message["components"] == [{"type": "body", "parameters": [{"type": "text", "text": "20%"}]}]
        assert message["messageId"].startswith("wamid.") and message["receivedAt"].endswith("Z")

    status, broadcasts = client.get("/sandbox/broadcasts")
    assert status == 200 and broadcasts[0]["broadcastId"] == answer["broadcastId"]  # newest first
    summary = broadcasts[0]
    assert (summary["template"], summary["language"], summary["source"]) == ("spring_sale", "en_US", source)
    assert (summary["queuedContacts"], summary["queuedBatches"], summary["batchesNotDelivered"]) == (2, 1, 0)
    assert summary["results"] == {"sent": 2, "failed": 0, "skipped": 0}
    assert sorted((e["endpointId"], e["to"], e["status"]) for e in summary["endpoints"]) == [
        (WA_1[1:], WA_1, "sent"),
        (WA_2[1:], WA_2, "sent"),
    ]
    assert {e["messageId"] for e in summary["endpoints"]} == {m["messageId"] for m in received}


def test_a_broadcast_without_a_source_reaches_every_confirmed_contact(client):
    client.confirm(WA_ANY)
    phones = client.get("/sandbox/phones")[1]["phones"]
    confirmed = sorted(
        p for p in phones if client.get(f"/sandbox/contacts/{p}")[1].get("status") == "CONFIRMED"
    )
    assert WA_ANY in confirmed and WA_PENDING not in confirmed and WA_OPTED_OUT not in confirmed
    before = len(client.whatsapp())

    status, answer = client.post("/broadcasts", {"template": "hello_world"})

    assert status == 202 and answer["queuedContacts"] == len(confirmed)
    received = client.whatsapp()[before:]
    assert sorted(m["to"] for m in received) == confirmed
    assert {(m["template"], m["language"], m["status"]) for m in received} == {("hello_world", "en_US", 200)}


def test_a_broadcast_the_api_refuses_sends_nothing(client):
    before = len(client.whatsapp())
    status, body = client.post("/broadcasts", {"template": "Spring Sale!", "language": "english"})
    assert status == 400 and set(body["errors"]) == {"template", "language"}
    assert len(client.whatsapp()) == before


def test_cors_follows_allowed_origins():
    origin = "http://127.0.0.1:9"
    with SandboxProcess(env={"ALLOWED_ORIGINS": origin}) as process:
        client = Client(process.url)
        status, headers, _ = client.request(
            "OPTIONS",
            "/register",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert status in (200, 204)
        assert headers["Access-Control-Allow-Origin"] == origin
        status, headers, _ = client.request(
            "POST",
            "/validate",
            {"phoneNumber": "2065550150"},
            headers={"Origin": origin, "Content-Type": "application/json"},
        )
        assert status == 200 and headers["Access-Control-Allow-Origin"] == origin


def test_reset_forgets_schedules_and_broadcasts_too(client):
    client.confirm(RESET)
    assert client.post("/broadcasts", {"template": "hello_world"})[0] == 202
    assert client.get("/sandbox/schedules")[1]["schedules"] and client.whatsapp()
    assert client.post("/sandbox/reset", {})[0] == 200
    assert client.get("/sandbox/schedules")[1]["schedules"] == []
    assert client.whatsapp() == [] and client.get("/sandbox/broadcasts")[1] == []
    assert client.get(f"/sandbox/contacts/{RESET}")[0] == 404


# -- hostile input (issue 10, cases 5 to 7): a 400 or 415 with a code, never a 500 -------------------------
def raw_post(client: Client, path: str, data: bytes, content_type: str | None = "application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, body = client.request("POST", path, data, headers)
    return status, body


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (
            b'{"originationNumber": "+12065550173", "messageBody": "YES \\ud800"}',
            "messageBody",
            "invalid_unicode",
        ),
        (b"[" * 1000 + b"]" * 1000, "body", "too_deep"),
        (b'{"originationNumber": "+12065550173", "messageBody": "\xff\xfe"}', "body", "invalid_encoding"),
        (b"[1, 2]", "body", "not_object"),
        (
            b'{"originationNumber": "+12065550173", "messageBody": "' + b"Y" * 2000 + b'"}',
            "messageBody",
            "too_long",
        ),
        (
            b'{"originationNumber": "+\\u0661\\u0662\\u0660\\u0666\\u0665\\u0665\\u0665\\u0660", "messageBody": "YES"}',
            "originationNumber",
            "not_e164",
        ),
    ],
)
def test_sandbox_inbound_answers_hostile_bodies_with_a_400_and_a_code(client, data, field, code):
    status, body = raw_post(client, "/sandbox/inbound", data)
    assert status == 400, body
    assert body["codes"][field] == code and body["errors"][field] and body["message"]
    assert set(body["codes"]) == set(body["errors"])


def test_sandbox_routes_take_json_only(client):
    payload = json.dumps({"originationNumber": HOSTILE, "messageBody": "YES"}).encode()
    status, body = raw_post(client, "/sandbox/inbound", payload, "text/plain")
    assert status == 415 and body["codes"] == {"Content-Type": "unsupported_media_type"}
    status, body = raw_post(client, "/sandbox/schedules/send-due", b'{"phone": "+12065550173"}', "text/plain")
    assert status == 415
    assert raw_post(client, "/sandbox/inbound", payload, None)[0] == 202  # no Content-Type: JSON
    assert raw_post(client, "/sandbox/schedules/send-due", b"", "text/plain")[0] == 200  # no body at all


@pytest.mark.parametrize("path", ["/register", "/validate"])
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"firstName": "\\udfff", "phoneNumber": "2065550173"}', "invalid_unicode"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "too_deep"),
        (b"\xc3\x28", "invalid_encoding"),
        (b"x" * 20000, "body_too_large"),
    ],
)
def test_the_api_through_the_sandbox_never_answers_a_500(client, path, data, code):
    status, body = raw_post(client, path, data)
    assert status == 400, body
    assert code in body["codes"].values()


@pytest.mark.parametrize("path", ["/%00", "/sandbox/assets/x%00.js", "/" + "a" * 5000 + ".js"])
def test_file_names_the_file_system_cannot_look_up_are_not_found(client, path):
    assert client.request("GET", path)[0] == 404


def test_a_non_json_content_type_is_a_415_through_the_sandbox(client):
    status, body = raw_post(client, "/register", b"firstName=Carlos", "application/x-www-form-urlencoded")
    assert status == 415 and body["codes"] == {"Content-Type": "unsupported_media_type"}


def test_the_terminal_escapes_what_a_handset_sends(client, sandbox):
    status, _ = client.post(
        "/sandbox/inbound", {"originationNumber": HOSTILE, "messageBody": "hi\x1b[2J\nthere\u202e"}
    )
    assert status == 202
    output = sandbox.output()
    assert "\x1b" not in output and "\u202e" not in output
    assert 'SMS from +1******0173: "hi\\x1b[2J\\nthere\\u202e"' in output


# -- logs and stopping (last: they read everything the module's sandbox printed) --------------------------
def test_logs_show_no_full_phone_number(sandbox):
    output = sandbox.output()
    assert "SMS to +1******0161" in output  # the texts are on the terminal, masked
    assert "WhatsApp to +1******0167: template spring_sale (en_US), answered 200" in output
    assert "Follow-up tips to +1******0165 fired early: sent" in output
    numbers = (SIGNUP, SIGNUP_2, SIGNUP_3, STRANGER, FOLLOW, FOLLOW_STOP, WA_1, WA_2, WA_PENDING)
    for phone in (*numbers, WA_OPTED_OUT, WA_ANY, RESET, HOSTILE, "+12065550111", "+12065550150"):
        assert phone[1:] not in output, phone
        assert phone[2:] not in output, phone


def test_ctrl_c_stops_cleanly(sandbox):
    assert sandbox.stop(signal.SIGINT) == 0
    output = sandbox.output()
    assert output.rstrip().endswith("Sandbox stopped.")
    assert "Traceback" not in output


# -- the pieces, in-process ---------------------------------------------------------------------------
def test_offline_lookup_knows_the_test_numbers():
    lookup = OfflineCarrierLookup()
    assert lookup.lookup("+12065550150", "US").phone_type_code == MOBILE
    assert lookup.lookup("+12065550111", "US").phone_type_code == LANDLINE
    assert lookup.lookup("+12065550122", "US").phone_type_code == VOIP
    assert lookup.lookup("+12065550133", "US").phone_type_code == PREPAID
    assert lookup.lookup("+12065550144", "US").phone_type == "INVALID"
    info = lookup.lookup("+16135550123", "CA")
    assert (info.country, info.phone_type, info.timezone) == ("CA", "MOBILE", "America/Toronto")
    with pytest.raises(DependencyUnavailable):
        lookup.lookup("+12065550199", "US")


def test_query_keeps_a_literal_plus():
    assert parse_query("phone=+12065550142") == {"phone": "+12065550142"}
    assert parse_query("phone=%2B12065550142&x=") == {"phone": "+12065550142", "x": ""}


def test_port_comes_from_the_environment():
    assert port_from(None) == 8000
    assert port_from("") == 8000
    assert port_from("8123") == 8123
    assert port_from("0") == 0
    with pytest.raises(SystemExit):
        port_from("eighty")


def test_environment_is_sandboxed():
    env = {
        "AWS_PROFILE": "prod",
        "PINPOINT_PROJECT_ID": "p-1",
        "BRAND_NAME": "Acme",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
    assert prepare_environment(env) == OUR_NUMBER
    assert "AWS_PROFILE" not in env and "PINPOINT_PROJECT_ID" not in env
    assert env["ORIGINATION_IDENTITY"] == env["OWN_NUMBERS"] == OUR_NUMBER
    assert env["AWS_ACCESS_KEY_ID"] == "sandbox"
    assert env["BRAND_NAME"] == "Acme" and env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"  # the developer's own
    assert env["FOLLOW_UP_SEQUENCE"] == DEMO_FOLLOW_UP_SEQUENCE  # a sequence to try
    assert [step["after"] for step in json.loads(DEMO_FOLLOW_UP_SEQUENCE)] == ["1d", "7d", "30d"]
    off = {"FOLLOW_UP_SEQUENCE": ""}
    prepare_environment(off)
    assert off["FOLLOW_UP_SEQUENCE"] == ""  # FOLLOW_UP_SEQUENCE='' make run: no follow-ups
