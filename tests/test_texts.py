"""The texts people receive: required wording, every text in every language, and one SMS segment each."""

from dataclasses import replace

import pytest

from bench.cost import sms_encoding, sms_segments
from optin.consent import Reply
from optin.languages import LANGUAGES
from optin.settings import TEXT_NAMES, Settings, SettingsError
from optin.texts import REPLY_TEXTS, confirmation_text, consent_text_version, reply_text

BRANDS = ["ExampleCorp", "Northwind Traders Co"]  # up to 20 characters


def texts(settings: Settings, language: str) -> dict[str, str]:
    rendered = {"confirmation": confirmation_text(settings, language)}
    return rendered | {REPLY_TEXTS[r]: reply_text(r, settings, language) for r in Reply}


def test_every_reply_has_a_text_and_every_text_exists_in_every_language():
    assert set(REPLY_TEXTS) == set(Reply)
    assert {"confirmation", *REPLY_TEXTS.values()} == set(TEXT_NAMES)
    settings = Settings(signup_url="example.com/signup")
    english = texts(settings, "en")
    for language in LANGUAGES:
        rendered = texts(settings, language)
        assert set(rendered) == set(TEXT_NAMES)
        if language != "en":  # translated, not the English text again
            assert all(rendered[name] != english[name] for name in TEXT_NAMES), language


@pytest.mark.parametrize("brand", BRANDS)
def test_every_default_text_is_one_gsm7_segment_in_every_language(brand, capsys):
    settings = replace(Settings(), brand=brand, signup_url="example.com/signup")
    report = []
    for language in LANGUAGES:
        for name, text in texts(settings, language).items():
            encoding, segments = sms_encoding(text), sms_segments(text)
            report.append(f"{language} {name:<18} {encoding} {segments} segment(s) {len(text):>3} chars")
            assert encoding == "GSM-7", f"{language} {name}: a character outside GSM-7 makes it UCS-2: {text}"
            assert segments == 1, f"{language} {name} is {segments} segments: {text}"
    with capsys.disabled():
        print(f"\nTexts with brand {brand!r} and the default frequency:\n" + "\n".join(report))


def test_the_segment_counter_sees_one_accent_outside_gsm7():
    assert sms_encoding("Responde SI") == "GSM-7"
    assert sms_encoding("Responde SÍ") == "UCS-2"  # Í is not in GSM-7
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 159 + "Í") == 3


def test_the_confirmation_says_what_carriers_require():
    text = confirmation_text(Settings())
    for phrase in (
        "ExampleCorp",
        "Up to 4 msgs/month",
        "Msg & data rates may apply",
        "Reply YES to confirm, HELP for help, STOP to cancel",
    ):
        assert phrase in text


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("es", ("Hasta 4 msjs/mes", "tarifas de msj y datos", "Responde SI para confirmar", "AYUDA", "STOP")),
        (
            "fr",
            ("Jusqu'à 4 msgs/mois", "Frais de msg et données", "Répondez OUI pour confirmer", "AIDE", "STOP"),
        ),
    ],
)
def test_the_confirmation_says_it_in_spanish_and_french_and_writes_si_without_accent(language, phrases):
    text = confirmation_text(Settings(), language)
    assert "ExampleCorp" in text
    for phrase in phrases:
        assert phrase in text
    assert "SÍ" not in text and "Sí" not in text


@pytest.mark.parametrize(("language", "yes"), [("en", "YES"), ("es", "SI"), ("fr", "OUI")])
def test_the_nudge_says_how_to_confirm_and_how_to_cancel(language, yes):
    text = reply_text(Reply.NUDGE, Settings(), language)
    assert f" {yes} " in text and "STOP" in text and "ExampleCorp" in text


def test_help_names_the_brand_and_how_to_stop():
    text = reply_text(Reply.HELP, Settings())
    assert "ExampleCorp" in text and "STOP" in text and "example.com/help" in text


def test_a_custom_frequency_is_used_as_written_in_every_language_unless_translated():
    custom = Settings.from_env({"MESSAGE_FREQUENCY": "1 msg/week"})
    assert "1 msg/week" in confirmation_text(custom, "es")  # never a guessed translation
    translated = Settings.from_env(
        {"MESSAGE_FREQUENCY": "1 msg/week", "MESSAGE_FREQUENCY_ES": "1 msj/semana"}
    )
    assert "1 msj/semana" in confirmation_text(translated, "es")
    assert "1 msg/week" in confirmation_text(translated, "fr")


def test_translations_are_configurable_and_checked():
    settings = Settings.from_env(
        {"NUDGE_TEMPLATE_FR": "{brand}: OUI ou STOP?", "NUDGE_TEMPLATE": "{brand}: YES?"}
    )
    assert reply_text(Reply.NUDGE, settings, "fr") == "ExampleCorp: OUI ou STOP?"
    assert reply_text(Reply.NUDGE, settings, "en") == "ExampleCorp: YES?"
    with pytest.raises(SettingsError, match="CONFIRMATION_TEMPLATE_ES"):
        Settings.from_env({"CONFIRMATION_TEMPLATE_ES": "{brand}: {price}"})


def test_the_consent_text_version_records_the_language():
    assert consent_text_version(Settings(), "es") == "v1:es"
    assert consent_text_version(Settings.from_env({"CONSENT_TEXT_VERSION": "2026-11"}), "fr") == "2026-11:fr"
