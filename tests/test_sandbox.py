"""The local sandbox over real HTTP: `python -m local` in a child process on a free port of 127.0.0.1.

The /sandbox JSON API is a contract (see docs/sandbox.md): these tests pin its shapes.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.carrier import LANDLINE, MOBILE, PREPAID, VOIP, OfflineCarrierLookup
from local.environment import prepare_environment
from local.run import port_from
from local.server import parse_query
from local.testing import SandboxProcess
from optin.ports import DependencyUnavailable

MESSAGE_KEYS = {"to", "from", "body", "sentAt", "messageId"}
OUR_NUMBER = "+12065550100"
# Numbers used here and nowhere else, so the log check below knows what to look for.
SIGNUP = "+12065550161"
SIGNUP_2 = "+12065550162"
SIGNUP_3 = "+12065550163"
STRANGER = "+12065550164"


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
    with SandboxProcess() as process:
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
    try_this = output.split("Try this:")[1].strip().splitlines()[:3]
    assert [line.strip()[:3] for line in try_this] == ["1. ", "2. ", "3. "]
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
    assert [e["type"] for e in contact["events"]] == ["SUBMITTED", "CONFIRMATION_SENT"]

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


# -- logs and stopping (last: they read everything the module's sandbox printed) --------------------------
def test_logs_show_no_full_phone_number(sandbox):
    output = sandbox.output()
    assert "SMS to +1******0161" in output  # the texts are on the terminal, masked
    for phone in (SIGNUP, SIGNUP_2, SIGNUP_3, STRANGER, "+12065550111", "+12065550150"):
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
