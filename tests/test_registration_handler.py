"""POST /register through the real Lambda handler: moto DynamoDB, Stubber-validated AWS calls."""

import json

import pytest

from optin.handlers import registration
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event

PHONE = "+12065550142"
BODY = {
    "destinationNumber": "2065550142",
    "firstName": "Carlos",
    "lastName": "Salazar",
    "source": "Registration form test",
}


def post(body, **kwargs):
    response = registration.handler(api_event("/register", body, **kwargs), LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response


def test_new_number_is_pending_with_evidence_and_gets_exactly_one_confirmation(aws, deps, clock):
    aws.expect_lookup(PHONE)
    message_id = aws.expect_sms(PHONE)
    status, body, _ = post(BODY, ip="198.51.100.9", user_agent="Mozilla/5.0 test")
    assert status == 202 and "YES" in body["message"]
    contact = deps.contacts.get(PHONE)
    assert contact.status == "PENDING"
    assert (contact.first_name, contact.last_name, contact.source) == (
        "Carlos",
        "Salazar",
        "Registration form test",
    )
    assert (contact.client_ip, contact.user_agent) == ("198.51.100.9", "Mozilla/5.0 test")
    assert contact.consent_text_version == "v1:en" and contact.submitted_at == clock.now
    assert contact.language == "en"  # no language in the body: the default
    assert contact.confirmation_message_id == message_id and contact.confirmation_sent_at is not None
    texts = aws.texts_to(PHONE)
    assert len(texts) == 1
    for phrase in (
        "ExampleCorp",
        "Msg & data rates may apply",
        "Reply YES to confirm, HELP for help, STOP to cancel",
    ):
        assert phrase in texts[0]
    assert [e.type for e in deps.contacts.events(PHONE)] == ["SUBMITTED", "CONFIRMATION_SENT"]


def test_answers_are_identical_for_new_pending_and_confirmed_numbers(aws, deps, clock):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    new = post(BODY)
    clock.advance(minutes=1)
    pending = post(BODY)  # inside the cooldown: cached lookup, no SMS
    contact = deps.contacts.get(PHONE)
    deps.contacts.save(contact.__class__(**{**contact.__dict__, "status": "CONFIRMED"}), contact.version, [])
    clock.advance(hours=1)
    confirmed = post(BODY)
    assert new[0] == pending[0] == confirmed[0] == 202
    assert new[2]["body"] == pending[2]["body"] == confirmed[2]["body"]
    assert len(aws.texts_to(PHONE)) == 1


def test_resends_respect_the_cooldown_and_the_daily_cap(aws, deps, clock):
    aws.expect_lookup(PHONE)  # paid once: later submissions use the cache
    for _ in range(3):
        aws.expect_sms(PHONE)
    for minutes in (0, 5, 11, 15, 22, 40, 60):
        clock.advance(minutes=minutes)
        assert post(BODY)[0] == 202
    assert len(aws.texts_to(PHONE)) == 3
    clock.advance(days=1)
    aws.expect_sms(PHONE)
    post(BODY)
    assert len(aws.texts_to(PHONE)) == 4


def test_tutorial_body_with_country_and_consent(aws, deps):
    aws.expect_lookup("+16135550123", country="CA")
    aws.expect_sms("+16135550123")
    status, _, _ = post({**BODY, "destinationNumber": "613-555-0123", "country": "ca", "consent": True})
    assert status == 202
    assert deps.contacts.get("+16135550123").country == "CA"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"destinationNumber": "206-555-O142"}, "destinationNumber", "letters"),
        ({"destinationNumber": "20655501"}, "destinationNumber", "too few digits"),
        ({"destinationNumber": "206555014222"}, "destinationNumber", "too many digits"),
        ({"destinationNumber": "+44 7400 123456"}, "destinationNumber", "country"),
        ({"country": "FR"}, "country", "country"),
        ({"country": "USA"}, "country", "two-letter"),
        ({"firstName": ""}, "firstName", "required"),
        ({"firstName": None}, "firstName", "text"),
        ({"consent": False}, "consent", "Consent"),
    ],
)
def test_client_mistakes_get_400_naming_the_field(aws, deps, change, field, words):
    status, body, _ = post({**BODY, **change})
    assert status == 400
    assert words.lower() in body["errors"][field].lower()
    assert deps.contacts.get(PHONE) is None and aws.sent == []


def test_every_bad_field_is_named_at_once(aws):
    status, body, _ = post({"destinationNumber": "call me", "source": "x"})
    assert status == 400
    assert set(body["errors"]) == {"destinationNumber", "firstName", "lastName"}


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "", "null"])
def test_unusable_bodies_are_400(aws, raw):
    status, body, _ = post(raw)
    assert status == 400 and "body" in body["errors"]


@pytest.mark.parametrize(
    ("phone_type", "reason"),
    [("LANDLINE", "landline"), ("VOIP", "voip"), ("INVALID", "invalid_per_lookup"), ("PREPAID", "prepaid")],
)
def test_numbers_that_cannot_receive_sms_get_422(aws, deps, phone_type, reason):
    aws.expect_lookup(PHONE, phone_type)
    status, body, _ = post(BODY)
    assert status == 422 and body["reason"] == reason and body["errors"]["destinationNumber"]
    assert deps.contacts.get(PHONE) is None and aws.sent == []


def test_toll_free_numbers_are_refused_without_a_paid_lookup(aws):
    status, body, _ = post({**BODY, "destinationNumber": "800-555-0100"})
    assert status == 422 and body["reason"] == "not_mobile"


def test_prepaid_is_accepted_when_configured(aws, settings, clock):
    from dataclasses import replace

    install(Dependencies(replace(settings, allow_prepaid=True), clients=aws.client, clock=clock))
    aws.expect_lookup(PHONE, "PREPAID")
    aws.expect_sms(PHONE)
    assert post(BODY)[0] == 202


def test_lookup_outage_is_503_with_a_retry_hint_and_writes_nothing(aws, deps):
    aws.expect_lookup_error()
    status, body, response = post(BODY)
    assert status == 503 and body["retryAfterSeconds"] > 0
    assert response["multiValueHeaders"]["Retry-After"] == [str(body["retryAfterSeconds"])]
    assert deps.contacts.get(PHONE) is None


def test_sms_outage_is_503_and_the_retry_sends_immediately(aws, deps, clock):
    aws.expect_lookup(PHONE)
    aws.expect_sms_outage()
    assert post(BODY)[0] == 503
    contact = deps.contacts.get(PHONE)
    assert contact.send_lease_token is None and contact.confirmation_sent_at is None
    clock.advance(seconds=2)
    aws.expect_sms(PHONE)
    assert post(BODY)[0] == 202
    assert len(aws.texts_to(PHONE)) == 1


def test_a_number_opted_out_at_the_messaging_service_gets_the_neutral_answer(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms_error(
        "ConflictException", 400, Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT", Message="opted out"
    )
    status, _, _ = post(BODY)
    assert status == 202 and aws.sent == []


def test_endpoint_is_mirrored_opted_out_when_a_pinpoint_project_is_configured(aws, settings, clock):
    from dataclasses import replace

    install(Dependencies(replace(settings, pinpoint_project_id="proj123"), clients=aws.client, clock=clock))
    aws.expect_lookup(PHONE)
    aws.expect_endpoint_update("12065550142", "ALL")
    aws.expect_sms(PHONE)
    assert post(BODY)[0] == 202


def test_repeat_submissions_do_not_update_the_endpoint_again(aws, settings, clock):
    from dataclasses import replace

    install(Dependencies(replace(settings, pinpoint_project_id="proj123"), clients=aws.client, clock=clock))
    aws.expect_lookup(PHONE)
    aws.expect_endpoint_update("12065550142", "ALL")
    aws.expect_sms(PHONE)
    post(BODY)
    clock.advance(minutes=2)
    assert post(BODY)[0] == 202  # the Stubber fails the test on an unexpected UpdateEndpoint


def test_a_pinpoint_failure_does_not_fail_the_registration(aws, settings, clock):
    from dataclasses import replace

    deps = Dependencies(replace(settings, pinpoint_project_id="proj123"), clients=aws.client, clock=clock)
    install(deps)
    aws.expect_lookup(PHONE)
    aws.pinpoint_stub.add_client_error("update_endpoint", "NotFoundException", http_status_code=404)
    aws.expect_sms(PHONE)
    assert post(BODY)[0] == 202
    assert deps.contacts.get(PHONE).confirmation_message_id


def test_source_defaults_to_the_referring_page(aws, deps):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    body = {k: v for k, v in BODY.items() if k != "source"}
    post(body, headers={"Referer": "https://shop.example.com/join"})
    assert deps.contacts.get(PHONE).source == "https://shop.example.com/join"


def test_unknown_route_is_404(aws):
    response = registration.handler(api_event("/nope", BODY), LambdaContext())
    assert response["statusCode"] == 404


def test_the_mirrored_endpoint_has_the_tutorials_shape(aws, settings, clock):
    from dataclasses import replace

    from optin.adapters.endpoint_mirror import endpoint_request

    deps = Dependencies(replace(settings, pinpoint_project_id="proj123"), clients=aws.client, clock=clock)
    install(deps)
    aws.expect_lookup(PHONE, City="Seattle", ZipCode="98101", Timezone="America/Los_Angeles")
    aws.expect_endpoint_update("12065550142", "ALL")
    aws.expect_sms(PHONE)
    post(BODY)
    request = endpoint_request(deps.contacts.get(PHONE))
    assert request["ChannelType"] == "SMS" and request["Address"] == PHONE and request["OptOut"] == "ALL"
    assert request["Location"] == {"Country": "US", "City": "Seattle", "PostalCode": "98101"}
    assert request["Demographic"] == {"Timezone": "America/Los_Angeles"}
    assert request["Attributes"] == {"Source": ["Registration form test"]}
    assert request["User"] == {"UserAttributes": {"FirstName": ["Carlos"], "LastName": ["Salazar"]}}
