"""The texts people receive: required wording, and one SMS segment each."""

from dataclasses import replace

import pytest

from optin.consent import Reply
from optin.settings import Settings
from optin.texts import confirmation_text, reply_text

# GSM 03.38 basic character set: a text made only of these costs one segment per 160 characters.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def texts(settings: Settings) -> dict[str, str]:
    return {"CONFIRMATION": confirmation_text(settings)} | {r.value: reply_text(r, settings) for r in Reply}


@pytest.mark.parametrize("brand", ["ExampleCorp", "Northwind Traders Co"])  # up to 20 characters
def test_every_default_text_is_one_gsm7_segment(brand):
    settings = replace(Settings(), brand=brand, signup_url="example.com/signup")
    for name, text in texts(settings).items():
        assert set(text) <= GSM7, f"{name} has characters outside GSM-7, which would cut a segment to 70"
        assert len(text) <= 160, f"{name} is {len(text)} characters: two segments"


def test_the_confirmation_says_what_carriers_require():
    text = confirmation_text(Settings())
    for phrase in (
        "ExampleCorp",
        "Up to 4 msgs/month",
        "Msg & data rates may apply",
        "Reply YES to confirm, HELP for help, STOP to cancel",
    ):
        assert phrase in text


def test_help_names_the_brand_and_how_to_stop():
    text = reply_text(Reply.HELP, Settings())
    assert "ExampleCorp" in text and "STOP" in text and "example.com/help" in text
