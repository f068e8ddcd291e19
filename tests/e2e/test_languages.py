"""End to end in a real browser, in English, Spanish and French: the form in the browser's language (or
the one picked in the switch), its errors in that language, the confirmation text in it, an unrecognized
reply answered by the nudge in it, and the confirmation. Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.browser_support import expect, screenshot
from tests.e2e.conftest import Page


@contextmanager
def browser_page(browser: Any, locale: str) -> Iterator[Any]:
    """A page whose browser languages (navigator.languages, Accept-Language) start with ``locale``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    context.set_default_timeout(10_000)
    watched = Page(context.new_page())
    try:
        yield watched.page
    finally:
        context.close()
    assert not watched.problems, watched.problems


def contact(sandbox: Any, phone: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{sandbox.url}/sandbox/contacts/{phone.replace('+', '%2B')}") as answer:  # noqa: S310
        return json.loads(answer.read())


LANGUAGES = [
    # locale, language, the form's words, the texts' words (confirmation, nudge, welcome), the replies
    (
        "es-MX",
        "es",
        {
            "heading": "Recibe alertas de texto de ExampleCorp",
            "first": "Nombre",
            "last": "Apellido",
            "phone": "Número de celular",
            "submit": "Suscribirme",
            "disclosure": ("ExampleCorp", "Hasta 4 msjs/mes", "tarifas de mensajes y datos", "AYUDA", "STOP"),
            "success": "responde SI para confirmar",
            "can_text": "Podemos enviar mensajes al +1 (206) 555-0181.",
        },
        ("Responde SI para confirmar", "No entendimos tu respuesta", "Te suscribiste"),
        ("vale", "SI"),
        "+12065550181",
    ),
    (
        "fr-CA",
        "fr",
        {
            "heading": "Recevez les alertes SMS de ExampleCorp",
            "first": "Prénom",
            "last": "Nom",
            "phone": "Numéro de mobile",
            "submit": "S'inscrire",
            "disclosure": ("ExampleCorp", "Jusqu'à 4 msgs/mois", "frais de messagerie", "AIDE", "STOP"),
            "success": "répondez OUI pour confirmer",
            "can_text": "Nous pouvons envoyer des SMS au +1 (206) 555-0182.",
        },
        ("Répondez OUI pour confirmer", "Nous n'avons pas compris", "Inscription confirmée"),
        ("d'accord", "oui"),
        "+12065550182",
    ),
    (
        "en-GB",
        "en",
        {
            "heading": "Get ExampleCorp text alerts",
            "first": "First name",
            "last": "Last name",
            "phone": "Mobile number",
            "submit": "Sign up",
            "disclosure": ("ExampleCorp", "Up to 4 msgs/month", "Msg & data rates may apply", "HELP", "STOP"),
            "success": "reply YES to it to confirm",
            "can_text": "We can text +1 (206) 555-0183.",
        },
        ("Reply YES to confirm", "we didn't understand your reply", "You're subscribed"),
        ("ok", "YES"),
        "+12065550183",
    ),
]


@pytest.mark.parametrize(
    ("locale", "language", "form", "texts", "replies", "phone"), LANGUAGES, ids=[row[1] for row in LANGUAGES]
)
def test_sign_up_confirmation_nudge_and_reply_in_the_browsers_language(
    browser, sandbox, locale, language, form, texts, replies, phone
):
    with browser_page(browser, locale) as page:
        page.goto(sandbox.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_have_text(form["heading"])
        expect(page.locator("#language")).to_have_value(language)
        disclosure = page.locator("#consent-label")
        for words in form["disclosure"]:
            expect(disclosure).to_contain_text(words)
        expect(page.get_by_role("checkbox")).not_to_be_checked()

        page.get_by_label(form["first"], exact=True).fill("Lucía")
        page.get_by_label(form["last"], exact=True).fill("Martín")
        page.get_by_label(form["phone"]).fill("(206) 555-" + phone[-4:])
        expect(page.locator("#phone-message")).to_have_text(form["can_text"])
        page.get_by_role("checkbox").check()
        screenshot(page, f"form-{language}")
        with page.expect_request("**/register") as sent, page.expect_response("**/register") as answered:
            page.get_by_role("button", name=form["submit"]).click()
        assert json.loads(sent.value.post_data)["language"] == language
        assert answered.value.status == 202
        expect(page.locator("#success")).to_contain_text(form["success"])
        screenshot(page, f"form-success-{language}")

        stored = contact(sandbox, phone)
        assert stored["language"] == language and stored["consentTextVersion"] == f"v1:{language}"

        page.goto(f"{sandbox.url}/sandbox?phone={phone.replace('+', '%2B')}")
        received = page.locator("#messages .bubble-in")
        expect(received.first).to_contain_text(texts[0])
        box = page.get_by_label("Reply as this phone")
        box.fill(replies[0])  # not a keyword: the nudge, in their language
        box.press("Enter")
        expect(received).to_have_count(2)
        expect(received.last).to_contain_text(texts[1])
        expect(page.locator("#contact-status")).to_have_text("PENDING")
        box.fill(replies[1])
        box.press("Enter")
        expect(page.locator("#contact-status")).to_have_text("CONFIRMED")
        expect(received.last).to_contain_text(texts[2])
        screenshot(page, f"simulator-{language}")

    inbound = [e for e in contact(sandbox, phone)["events"] if e["type"] == "INBOUND"]
    assert [(e["detail"]["rule"], e["detail"]["intent"]) for e in inbound] == [
        ("none", "NONE"),
        ("leading_keyword", "CONFIRM"),
    ]


def test_the_switch_changes_the_page_and_its_errors(browser, sandbox):
    with browser_page(browser, "en-US") as page:
        page.goto(sandbox.url + "/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Get ExampleCorp text alerts")
        page.get_by_label("Language").select_option("fr")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_have_text("Recevez les alertes SMS de ExampleCorp")
        expect(page).to_have_title("Inscription aux alertes SMS de ExampleCorp")
        expect(page.locator("#country option").first).to_have_text(re.compile(r"^États-Unis"))

        # Our own check, then the API's error by its code, in French.
        page.get_by_role("button", name="S'inscrire").click()
        expect(page.locator("#firstName-message")).to_have_text("Saisissez votre prénom.")
        page.get_by_label("Prénom").fill("Jean")
        page.get_by_label("Nom", exact=True).fill("Tremblay")
        page.get_by_label("Numéro de mobile").fill("206-555-CALL")
        page.get_by_role("checkbox").check()
        with page.expect_response("**/register") as answered:
            page.get_by_role("button", name="S'inscrire").click()
        assert answered.value.status == 400
        assert answered.value.json()["codes"] == {"destinationNumber": "letters_in_number"}
        message = page.locator("#phone-message")
        expect(message).to_have_text("Un numéro de téléphone ne peut pas contenir de lettres.")
        expect(page.get_by_role("alert")).to_contain_text("Corrigez les champs signalés.")
        screenshot(page, "form-error-fr")

        # Switching again says the same error in Spanish.
        page.get_by_label("Langue").select_option("es")
        expect(message).to_have_text("Un número de teléfono no puede contener letras.")
        expect(page.get_by_role("alert")).to_contain_text("Corrige los campos marcados.")
        expect(page.get_by_role("button", name="Suscribirme")).to_be_visible()

        # A 422 reason (the inline check's and the sign-up's), translated too.
        page.get_by_label("Número de celular").fill("(206) 555-0111")
        expect(message).to_have_text("Es un teléfono fijo y no puede recibir mensajes de texto.")
        with page.expect_response("**/register") as answered:
            page.get_by_role("button", name="Suscribirme").click()
        assert answered.value.status == 422 and answered.value.json()["reason"] == "landline"
        expect(message).to_have_text("Es un teléfono fijo y no puede recibir mensajes de texto.")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("No podemos enviar mensajes a este número.")
        expect(alert.get_by_role("link", name="Número de celular")).to_have_attribute("href", "#phone")
        expect(alert).not_to_contain_text("teléfono fijo")  # the reason is said once, at the field
        screenshot(page, "form-landline-es")


def test_a_link_can_ask_for_a_language(browser, sandbox):
    with browser_page(browser, "en-US") as page:
        page.goto(sandbox.url + "/?lang=es")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("link", name=re.compile("^Términos"))).to_have_attribute(
            "href", "https://example.com/terms"
        )
        expect(page.locator(".lede strong")).to_have_text("SI")
    with browser_page(browser, "de-DE") as page:  # a language we do not speak: English
        page.goto(sandbox.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
