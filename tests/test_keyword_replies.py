"""Issue 11 through the real handlers (moto DynamoDB, Stubber SMS): a representative subset of the
classification table, the nudge, languages on the form's contact and on every reply, and the rule in
the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from optin.handlers import inbound_sms, registration
from optin.wiring import Dependencies, install
from tests.support import LambdaContext, api_event, sqs_event, sqs_record, two_way

PHONE = "+12065550142"
STRANGER = "+14255550182"
BODY = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "source": "form"}
AT = datetime(2026, 11, 22, 15, 5, tzinfo=UTC)


def register(aws, language=None, national="2065550142", phone=PHONE):
    aws.expect_lookup(phone)
    aws.expect_sms(phone, kind="confirmation")
    body = {**BODY, "destinationNumber": national} | ({"language": language} if language else {})
    response = registration.handler(api_event("/register", body), LambdaContext())
    assert response["statusCode"] == 202, response


def deliver(*records):
    result = inbound_sms.handler(sqs_event(*records), LambdaContext())
    assert result == {"batchItemFailures": []}


def reply(body, phone=PHONE, *, at=None, message_id=None):
    return sqs_record(two_way(phone, body, message_id=message_id), at=at or AT)


def inbound_details(deps, phone=PHONE):
    return [e.detail for e in deps.contacts.events(phone) if e.type == "INBOUND"]


# A representative subset of tests/test_keyword_rules.py, from a pending and from a confirmed contact.
OPT_OUTS = [
    ("Please STOP", "revocation_word"),
    ("Who is this? Stop texting me", "revocation_word"),
    ("I revoke my consent", "revocation_word"),
    ("<b>STOP</b>", "revocation_word"),
    ("HELP STOP", "revocation_word"),
    ("YES STOP", "revocation_word"),
    ("yes, stop texting me", "revocation_word"),
    ("Take me off your list", "phrase"),
    ("Don't text me again", "phrase"),
    ("wrong number", "phrase"),
    ("No", "phrase"),
    ("S T O P", "obfuscation"),
    ("ЅТОР", "obfuscation"),  # Cyrillic
    ("ＳＴＯＰ", "obfuscation"),  # full-width
    ("🛑", "obfuscation"),
    ("STOP\nThanks", "leading_keyword"),
    ("ARRET", "leading_keyword"),
    ("TD", "leading_keyword"),
    ("STOP ALL", "leading_keyword"),
    ("Quiero darme de baja", "revocation_word"),
    ("Arrêtez de m'envoyer des messages", "leading_keyword"),
    ("I love these but stop. " + "x" * 1570, "revocation_word"),  # 1,600 characters
]


@pytest.mark.parametrize(("body", "rule"), OPT_OUTS, ids=[repr(b[:30]) for b, _ in OPT_OUTS])
def test_a_pending_contact_opts_out_and_never_confirms(aws, deps, body, rule):
    register(aws)
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply(body, message_id="in-1"))
    contact = deps.contacts.get(PHONE)
    assert contact.status == "OPTED_OUT" and contact.confirmed_at is None
    assert contact.opted_out_message_id == "in-1"
    assert "unsubscribed" in aws.texts_to(PHONE)[-1]
    (detail,) = inbound_details(deps)
    assert (detail["intent"], detail["rule"], detail["body"]) == ("OPT_OUT", rule, body)
    opted_out = [e for e in deps.contacts.events(PHONE) if e.type == "OPTED_OUT"]
    assert opted_out[0].detail["rule"] == rule and opted_out[0].detail["keyword"] == contact.opted_out_keyword


@pytest.mark.parametrize(("body", "rule"), OPT_OUTS[::3], ids=[repr(b[:30]) for b, _ in OPT_OUTS[::3]])
def test_a_confirmed_contact_opts_out(aws, deps, body, rule):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("YES", message_id="in-yes"))
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply(body, message_id="in-out", at=AT + timedelta(days=3)))
    assert deps.contacts.get(PHONE).status == "OPTED_OUT"
    assert inbound_details(deps)[-1]["rule"] == rule


@pytest.mark.parametrize(
    "body", ["Don't stop", "Can't stop reading these!", "I'll stop by tomorrow", "Vivo en Baja California"]
)
def test_an_exception_is_not_an_opt_out_from_a_confirmed_contact(aws, deps, body):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("YES"))
    deliver(reply(body, at=AT + timedelta(hours=1)))  # a confirmed contact gets no nudge
    assert deps.contacts.get(PHONE).status == "CONFIRMED"
    assert len(aws.texts_to(PHONE)) == 2
    assert inbound_details(deps)[-1]["rule"] == "none"


@pytest.mark.parametrize(
    ("body", "keyword", "language"),
    [
        ("YES\n\nSent from my iPhone", "YES", "en"),
        ("Sí", "SI", "es"),
        ("oui", "OUI", "fr"),
        ("ＹＥＳ", "YES", "en"),
    ],
)
def test_confirmations_in_every_language(aws, deps, body, keyword, language):
    register(aws)
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply(body))
    contact = deps.contacts.get(PHONE)
    assert contact.status == "CONFIRMED" and contact.confirmed_keyword == keyword
    assert inbound_details(deps)[0]["language"] == language
    assert (
        "You're subscribed" in aws.texts_to(PHONE)[-1]
    )  # the contact's language (English), not the keyword's


# -- the nudge ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["OK", "Yeah", "sure", "👍", "yess", "hello?"])
def test_an_unrecognized_reply_from_a_pending_contact_gets_one_nudge(aws, deps, clock, body):
    register(aws)
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply(body))
    texts = aws.texts_to(PHONE)
    assert len(texts) == 2 and texts[1].startswith("ExampleCorp: Sorry, we didn't understand")
    assert "Reply YES to confirm" in texts[1] and "STOP to cancel" in texts[1]
    contact = deps.contacts.get(PHONE)
    assert contact.status == "PENDING" and contact.nudged_at == AT
    clock.advance(hours=2)  # long after the cooldown: still nothing, one nudge per episode
    deliver(reply("ok?", at=AT + timedelta(hours=2)), reply("hmm", at=AT + timedelta(hours=2)))
    assert len(aws.texts_to(PHONE)) == 2
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply("yes", at=AT + timedelta(hours=3)))
    assert deps.contacts.get(PHONE).status == "CONFIRMED"


def test_a_new_episode_gets_a_new_nudge_but_the_cooldown_applies(aws, deps, clock):
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("ok"))  # nudged
    aws.expect_sms(PHONE)
    deliver(reply("STOP"))
    # Signing up again at once: a new episode (its confirmation waits out the resend cooldown; the
    # number's lookup is cached).
    assert registration.handler(api_event("/register", BODY), LambdaContext())["statusCode"] == 202
    contact = deps.contacts.get(PHONE)
    assert contact.status == "PENDING" and contact.nudged_at is None  # the episode was reset
    deliver(reply("ok", message_id="in-ok-2"))  # owed, but within the nudge's cooldown: not sent
    assert deps.contacts.get(PHONE).nudged_at is not None
    assert len(aws.texts_to(PHONE)) == 3  # confirmation, nudge, opt-out

    clock.advance(minutes=11)
    aws.expect_sms(PHONE)
    deliver(reply("STOP", at=clock.now))
    aws.expect_sms(PHONE, kind="confirmation")
    assert registration.handler(api_event("/register", BODY), LambdaContext())["statusCode"] == 202
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply("ok", message_id="in-ok-3", at=clock.now))  # a new episode, past the cooldown
    assert "we didn't understand" in aws.texts_to(PHONE)[-1]


def test_strangers_and_confirmed_contacts_get_no_nudge(aws, deps):
    deliver(reply("ok", STRANGER))
    assert aws.sent == [] and deps.contacts.get(STRANGER) is None
    register(aws)
    aws.expect_sms(PHONE)
    deliver(reply("YES"))
    deliver(reply("ok thanks", at=AT + timedelta(minutes=1)))
    assert len(aws.texts_to(PHONE)) == 2


def test_the_nudge_can_be_turned_off(aws, settings, clock):
    deps = Dependencies(replace(settings, nudge_unrecognized=False), clients=aws.client, clock=clock)
    install(deps)
    register(aws)
    deliver(reply("ok"))
    assert len(aws.texts_to(PHONE)) == 1 and deps.contacts.get(PHONE).nudged_at is None


def test_a_redelivered_nudge_is_not_sent_once_the_contact_confirmed(aws, deps):
    register(aws)
    aws.expect_sms_outage()  # the nudge's send fails: the record is retried
    record = reply("ok", message_id="in-ok")
    result = inbound_sms.handler(sqs_event(record), LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    aws.expect_sms(PHONE)
    deliver(reply("YES", message_id="in-yes", at=AT + timedelta(minutes=1)))
    deliver(record)  # the queue redelivers "ok": the nudge is no longer wanted
    texts = aws.texts_to(PHONE)
    assert len(texts) == 2 and "You're subscribed" in texts[-1]


# -- languages ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "confirmation", "nudge", "welcome"),
    [
        ("es", "Responde SI para confirmar", "No entendimos tu respuesta", "Te suscribiste"),
        ("fr", "Répondez OUI pour confirmer", "Nous n'avons pas compris", "Inscription confirmée"),
        ("en", "Reply YES to confirm", "we didn't understand", "You're subscribed"),
    ],
)
def test_the_form_language_is_kept_and_every_text_is_in_it(aws, deps, language, confirmation, nudge, welcome):
    register(aws, language=language.upper() if language == "fr" else language)
    contact = deps.contacts.get(PHONE)
    assert contact.language == language and contact.consent_text_version == f"v1:{language}"
    submitted = next(e for e in deps.contacts.events(PHONE) if e.type == "SUBMITTED")
    assert submitted.detail["language"] == language
    assert submitted.detail["consentTextVersion"] == f"v1:{language}"
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply("vale"))
    aws.expect_sms(PHONE, kind="reply")
    deliver(
        reply("YES", at=AT + timedelta(minutes=1))
    )  # an English keyword: the reply stays in their language
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply("AIDE", at=AT + timedelta(minutes=2)))
    aws.expect_sms(PHONE, kind="reply")
    deliver(reply("stop", at=AT + timedelta(minutes=3)))
    first, nudged, welcomed, helped, stopped = aws.texts_to(PHONE)
    assert confirmation in first and nudge in nudged and welcome in welcomed
    assert "example.com/help" in helped
    assert stopped.endswith(
        {"en": "START to rejoin.", "es": "START para volver a suscribirte.", "fr": "START pour revenir."}[
            language
        ]
    )


@pytest.mark.parametrize(
    ("body", "language", "words"),
    [
        ("AYUDA", "es", "Ayuda en example.com/help"),
        ("AIDE", "fr", "Aide sur example.com/help"),
        ("HELP", "en", "Help at example.com/help"),
        ("BAJA", "es", "Te diste de baja"),
        ("ARRET", "fr", "Désinscription confirmée"),
        ("Arrêtez svp", "fr", "Désinscription confirmée"),
        ("STOP", "en", "You're unsubscribed"),
        ("🛑", "en", "You're unsubscribed"),  # tells no language: the default
    ],
)
def test_a_strangers_help_or_stop_is_answered_in_the_language_of_the_keyword(
    aws, deps, body, language, words
):
    aws.expect_sms(STRANGER, kind="reply")
    deliver(reply(body, STRANGER))
    assert words in aws.texts_to(STRANGER)[-1]
    assert deps.contacts.get(STRANGER) is None


def test_a_strangers_yes_gets_the_signup_link_in_the_keywords_language(aws, settings, clock):
    install(Dependencies(replace(settings, signup_url="example.com/join"), clients=aws.client, clock=clock))
    aws.expect_sms(STRANGER)
    deliver(reply("OUI", STRANGER))
    assert aws.texts_to(STRANGER) == [
        "ExampleCorp: Aucune inscription en attente pour ce numéro. Inscrivez-vous sur example.com/join"
    ]


def test_a_reply_redelivered_after_a_failed_send_keeps_its_language(aws, deps):
    register(aws, language="es")
    aws.expect_sms_outage()
    record = reply("ayuda", message_id="in-help")
    assert inbound_sms.handler(sqs_event(record), LambdaContext())["batchItemFailures"]
    aws.expect_sms(PHONE)
    deliver(record)
    assert aws.texts_to(PHONE)[-1].startswith("ExampleCorp: Ayuda en")


@pytest.mark.parametrize(
    ("language", "code"),
    [("de", "unsupported_language"), ("english", "unsupported_language"), (7, "not_text")],
)
def test_an_unknown_language_is_a_400_with_a_code(aws, deps, language, code):
    response = registration.handler(api_event("/register", {**BODY, "language": language}), LambdaContext())
    assert response["statusCode"] == 400
    import json

    body = json.loads(response["body"])
    assert body["codes"] == {"language": code} and body["errors"]["language"]
    assert deps.contacts.get(PHONE) is None


def test_when_aws_manages_opt_outs_only_a_leading_keyword_goes_unanswered(aws, settings, clock):
    deps = Dependencies(replace(settings, self_managed_opt_outs=False), clients=aws.client, clock=clock)
    install(deps)
    register(aws)
    deliver(reply("STOP"))  # End User Messaging answered this one itself
    assert len(aws.texts_to(PHONE)) == 1
    register(aws, national="2065550143", phone="+12065550143")
    aws.expect_sms("+12065550143", kind="reply")
    deliver(reply("please take me off your list", "+12065550143"))  # AWS does not see this as a keyword
    assert deps.contacts.get("+12065550143").status == "OPTED_OUT"
    assert "unsubscribed" in aws.texts_to("+12065550143")[-1]
