"""Issue 10, cases 5 and 7, through the real API handlers: hostile bodies are a 400 (or 415) with a
reason and a code, never a 5xx or an exception; types are strict; optional event fields may be absent."""

from __future__ import annotations

import base64
import json

import pytest

from optin.handlers import broadcasts, inbound_sms, phone_validation, registration
from optin.limits import MAX_FORM_BODY_BYTES, MAX_NAME_LENGTH, MAX_SOURCE_LENGTH
from tests.support import LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "source": "form"}
INJECTION = "Carlos\nURGENT: your account is locked, call 1-900-555-0199"
HANDLERS = {"/register": registration.handler, "/validate": phone_validation.handler}
ROUTES = [*HANDLERS, "/broadcasts"]


def call(path, event):
    handler = {**HANDLERS, "/broadcasts": broadcasts.handler}[path]
    response = handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def raw_event(path, body, *, base64_encoded=False, content_type="application/json"):
    """An API Gateway event whose body is exactly ``body`` (text), optionally flagged base64."""
    event = api_event(path, "{}", headers={"Content-Type": content_type} if content_type else {})
    if content_type is None:
        event["headers"].pop("Content-Type", None)
        event["multiValueHeaders"].pop("Content-Type", None)
    event["body"] = body
    event["isBase64Encoded"] = base64_encoded
    return event


def assert_error_shape(status, body, field, code):
    assert status in (400, 415), (status, body)
    assert set(body) == {"message", "errors", "codes"}
    assert set(body["errors"]) == set(body["codes"]), body
    assert all(isinstance(v, str) and v for v in body["errors"].values())
    assert body["codes"][field] == code, body


# -- case 5: hostile bodies -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ROUTES)
def test_json_nested_1000_deep_is_a_400(aws, path):
    deep = "[" * 1000 + "]" * 1000
    assert_error_shape(*call(path, raw_event(path, deep)), "body", "too_deep")
    nested_object = '{"a":' * 1000 + "1" + "}" * 1000
    assert_error_shape(*call(path, raw_event(path, nested_object)), "body", "too_deep")


@pytest.mark.parametrize("path", ROUTES)
def test_bytes_that_are_not_utf8_are_a_400(aws, path):
    raw = b'{"firstName": "Jos\xe9", "phoneNumber": "\xff\xfe"}'
    event = raw_event(path, base64.b64encode(raw).decode(), base64_encoded=True)
    assert_error_shape(*call(path, event), "body", "invalid_encoding")


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("body", ["not base64!", "e30", "====", "ey J9"])
def test_a_body_marked_base64_that_is_not_base64_is_a_400(aws, path, body):
    assert_error_shape(*call(path, raw_event(path, body, base64_encoded=True)), "body", "invalid_base64")


def test_a_valid_base64_body_is_read(aws):
    aws.expect_lookup(PHONE)
    event = raw_event(
        "/validate", base64.b64encode(b'{"phoneNumber": "2065550142"}').decode(), base64_encoded=True
    )
    status, body = call("/validate", event)
    assert status == 200 and body["e164"] == PHONE


@pytest.mark.parametrize(
    ("path", "text", "field"),
    [
        (
            "/register",
            '{"destinationNumber": "2065550142", "firstName": "\\ud800", "lastName": "S"}',
            "firstName",
        ),
        (
            "/register",
            '{"destinationNumber": "2065550142", "firstName": "A", "lastName": "B\\udfff"}',
            "lastName",
        ),
        ("/register", '{"\\ud800": 1, "destinationNumber": "2065550142"}', "body"),
        ("/validate", '{"phoneNumber": "206555\\udc000142"}', "phoneNumber"),
        ("/broadcasts", '{"template": "hello_world", "parameters": ["\\ud83d"]}', "parameters"),
    ],
)
def test_a_lone_surrogate_is_a_400_naming_its_field(aws, deps, path, text, field):
    assert_error_shape(*call(path, raw_event(path, text)), field, "invalid_unicode")
    assert deps.contacts.get(PHONE) is None


def test_a_surrogate_pair_is_an_ordinary_character(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    text = json.dumps({**BODY, "lastName": "Salazar \U0001f600"})  # ensure_ascii: "\ud83d\ude00"
    assert "\\ud83d\\ude00" in text
    assert call("/register", raw_event("/register", text))[0] == 202
    assert deps.contacts.get(PHONE).last_name == "Salazar \U0001f600"


@pytest.mark.parametrize("path", ROUTES)
def test_huge_bodies_are_a_400_before_anything_is_parsed(aws, path):
    for size in (MAX_FORM_BODY_BYTES * 2, 7 * 1024 * 1024):
        body = json.dumps({"firstName": "A" * size})
        assert_error_shape(*call(path, raw_event(path, body)), "body", "body_too_large")
        encoded = base64.b64encode(body.encode()).decode()
        assert_error_shape(
            *call(path, raw_event(path, encoded, base64_encoded=True)), "body", "body_too_large"
        )


def test_a_huge_string_field_is_a_400_saying_the_cap(aws, deps):
    status, body = call(
        "/register", api_event("/register", {**BODY, "firstName": "A" * (MAX_NAME_LENGTH + 1)})
    )
    assert_error_shape(status, body, "firstName", "too_long")
    assert str(MAX_NAME_LENGTH) in body["errors"]["firstName"]
    status, body = call("/validate", api_event("/validate", {"phoneNumber": "2" * 41}))
    assert_error_shape(status, body, "phoneNumber", "too_long")


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "42", "true", "null", "", "   "])
def test_json_that_is_not_an_object_is_a_400(aws, path, text):
    assert_error_shape(*call(path, raw_event(path, text)), "body", "not_object")


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "text", ["{", '{"a": NaN}', '{"a": Infinity}', "{'a': 1}", "\ufeff{}", '{"a": 1' + "0" * 5000 + "}"]
)
def test_text_that_is_not_json_is_a_400(aws, path, text):
    assert_error_shape(*call(path, raw_event(path, text)), "body", "invalid_json")


def test_too_many_fields_is_a_400(aws):
    body = {**BODY, **{f"extra{i}": 1 for i in range(30)}}
    assert_error_shape(*call("/register", api_event("/register", body)), "body", "too_many_fields")


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "json",
    ],
)
def test_a_body_not_declared_as_json_is_a_415(aws, path, content_type):
    status, body = call(path, raw_event(path, json.dumps(BODY), content_type=content_type))
    assert status == 415
    assert_error_shape(status, body, "Content-Type", "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json; charset=utf-8", "Application/JSON", 'application/json;charset="UTF-8"'],
)
def test_json_and_a_missing_content_type_are_read_as_json(aws, content_type):
    aws.expect_lookup(PHONE)
    status, body = call(
        "/validate", raw_event("/validate", '{"phoneNumber": "2065550142"}', content_type=content_type)
    )
    assert status == 200 and body["valid"] is True


def test_every_400_names_a_code_per_field(aws):
    status, body = call(
        "/register",
        api_event(
            "/register",
            {"destinationNumber": "206-555-CALL", "firstName": "", "country": "USA", "consent": "yes"},
        ),
    )
    assert status == 400
    assert body["codes"] == {
        "destinationNumber": "letters_in_number",
        "firstName": "required",
        "lastName": "required",
        "country": "invalid_format",
        "consent": "must_be_true",
    }


# -- case 6: names and source, refused with a reason or stored normalized -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("firstName", "Car\x00los", "control_characters"),
        ("firstName", "\x1b[2J\x1b[HCarlos", "control_characters"),
        ("firstName", INJECTION, "control_characters"),
        ("firstName", "Car\u0085los", "control_characters"),
        ("lastName", "\u202eralazaS", "format_characters"),
        ("lastName", "\u200b\u200b", "no_visible_characters"),
        ("lastName", "Salazar call 19005550199", "digits"),
        ("lastName", "Salazar bit.ly/x", "url"),
        ("source", "form\r\nX-Injected: 1", "control_characters"),
        ("source", "x" * (MAX_SOURCE_LENGTH + 1), "too_long"),
    ],
)
def test_a_registration_with_such_a_name_is_a_400_and_stores_nothing(aws, deps, field, value, code):
    status, body = call("/register", api_event("/register", {**BODY, field: value}))
    assert status == 400
    assert body["codes"][field] == code and body["errors"][field]
    assert deps.contacts.get(PHONE) is None and aws.sent == []


def test_a_registered_name_is_stored_normalized(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    assert (
        call(
            "/register",
            api_event("/register", {**BODY, "firstName": " Jose\u0301 ", "lastName": "de la\u00a0Cruz"}),
        )[0]
        == 202
    )
    contact = deps.contacts.get(PHONE)
    assert (contact.first_name, contact.last_name) == ("José", "de la Cruz")


# -- case 7: loose types ---------------------------------------------------------------------------------
@pytest.mark.parametrize("consent", ["yes", 1, "true", "on", 1.0, [True], {"value": True}])
def test_consent_must_be_json_true(aws, deps, consent):
    status, body = call("/register", api_event("/register", {**BODY, "consent": consent}))
    assert_error_shape(status, body, "consent", "must_be_true")
    assert deps.contacts.get(PHONE) is None and aws.sent == []


def test_consent_false_is_refused_as_not_given(aws):
    status, body = call("/register", api_event("/register", {**BODY, "consent": False}))
    assert_error_shape(status, body, "consent", "must_be_true")
    assert "consent is required" in body["errors"]["consent"].lower()


@pytest.mark.parametrize("consent", [True, None, "absent"])
def test_consent_true_or_absent_is_accepted(aws, consent):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    body = dict(BODY) if consent == "absent" else {**BODY, "consent": consent}
    assert call("/register", api_event("/register", body))[0] == 202


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/register", {**BODY, "destinationNumber": 2065550142}, "destinationNumber"),
        ("/register", {**BODY, "destinationNumber": 2065550142.0}, "destinationNumber"),
        ("/register", {**BODY, "firstName": 7}, "firstName"),
        ("/register", {**BODY, "lastName": ["Salazar"]}, "lastName"),
        ("/register", {**BODY, "source": 12}, "source"),
        ("/register", {**BODY, "country": 1}, "country"),
        ("/validate", {"phoneNumber": 2065550142}, "phoneNumber"),
        ("/validate", {"phoneNumber": "2065550142", "country": True}, "country"),
    ],
)
def test_text_fields_must_be_json_strings(aws, deps, path, body, field):
    assert_error_shape(*call(path, api_event(path, body)), field, "not_text")
    assert deps.contacts.get(PHONE) is None


def test_an_sqs_record_without_sent_timestamp_is_processed(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    assert call("/register", api_event("/register", BODY))[0] == 202
    record = sqs_record(two_way(PHONE, "YES"))
    del record["attributes"]["SentTimestamp"]
    aws.expect_sms(PHONE)
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


@pytest.mark.parametrize("attributes", [{}, {"SentTimestamp": "soon"}, {"SentTimestamp": "9" * 30}, None])
def test_an_unreadable_sent_timestamp_is_ignored(aws, deps, attributes):
    record = sqs_record(two_way(PHONE, "HELLO"), raw=True)  # a stranger's message: no reply
    record["attributes"] = attributes
    assert inbound_sms.handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}


@pytest.mark.parametrize("context_change", ["no identity", "identity null", "no request context"])
def test_an_api_event_without_request_context_identity_registers(aws, deps, context_change):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    event = api_event("/register", BODY)
    if context_change == "no identity":
        del event["requestContext"]["identity"]
    elif context_change == "identity null":
        event["requestContext"]["identity"] = None
    else:
        del event["requestContext"]
    assert call("/register", event)[0] == 202
    contact = deps.contacts.get(PHONE)
    assert contact.client_ip is None and contact.user_agent == "pytest-browser/1.0"  # from the header


def test_header_evidence_is_cleaned_and_capped(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    body = {k: v for k, v in BODY.items() if k != "source"}
    event = api_event(
        "/register",
        body,
        user_agent="Evil\x1b[2J\r\nAgent" + "x" * 2000,
        headers={"Referer": "https://a.example/\u202ejoin\n"},
    )
    assert call("/register", event)[0] == 202
    contact = deps.contacts.get(PHONE)
    assert contact.source == "https://a.example/join"
    assert contact.user_agent.startswith("Evil[2JAgent") and len(contact.user_agent) == 512


def test_the_docs_document_every_code():
    from pathlib import Path

    from optin import models, person_names, request_body

    docs = Path(__file__).resolve().parents[1] / "docs"
    readme = (docs / "how-it-works.md").read_text("utf-8") + (docs / "sandbox.md").read_text("utf-8")
    codes = {code for code, _ in models._BUILT_IN.values()} | set(models.NUMBER_CODES.values())
    codes |= person_names.CODES | request_body.CODES
    codes |= {"country_not_served", "invalid_value", "invalid_cursor", "invalid_body", "not_e164"}
    missing = sorted(code for code in codes if f"`{code}`" not in readme and f'"{code}"' not in readme)
    assert missing == []
