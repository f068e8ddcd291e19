"""The form's texts (web/i18n.js): every text in English, Spanish and French, and every code and reason
the API can answer with translated, so an error is never shown in a language the person did not pick."""

from __future__ import annotations

import json
import re
from pathlib import Path

from optin import models, person_names, request_body
from optin.languages import LANGUAGES
from optin.phone_numbers import Rejection

WEB = Path(__file__).resolve().parents[1] / "web"


def texts() -> dict:
    source = (WEB / "i18n.js").read_text("utf-8")
    start = source.index("window.OPTIN_TEXTS =") + len("window.OPTIN_TEXTS =")
    return json.loads(source[start:].strip().rstrip(";"))


def api_codes() -> set[str]:
    codes = {code for code, _ in models._BUILT_IN.values()} | set(models.NUMBER_CODES.values())
    codes |= person_names.CODES | request_body.CODES | {models.LANGUAGE_CODE, "invalid_value"}
    return codes


def api_reasons() -> set[str]:
    return {str(r) for r in Rejection if not r.is_input_error} | {"cannot_deliver"}


def test_every_language_has_every_text():
    table = texts()
    assert set(table) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(table[language]) == set(table["en"]), language
        for key, value in table[language].items():
            if key not in ("codes", "reasons"):
                assert value, (language, key)
                placeholders = set(re.findall(r"\{(\w+)\}", json.dumps(value)))
                assert placeholders == set(re.findall(r"\{(\w+)\}", json.dumps(table["en"][key]))), (
                    language,
                    key,
                )


def test_every_api_code_and_reason_is_translated():
    table = texts()
    for language in ("es", "fr"):
        assert api_codes() <= set(table[language]["codes"]), sorted(
            api_codes() - set(table[language]["codes"])
        )
        assert api_reasons() <= set(table[language]["reasons"]), language
        assert "{max}" in table[language]["codes"]["too_long"]


def test_the_disclosure_says_what_carriers_require_in_every_language():
    table = texts()
    required = {
        "en": (
            "{brand}",
            "{frequency}",
            "Msg & data rates may apply",
            "HELP",
            "STOP",
            "not a condition of purchase",
        ),
        "es": (
            "{brand}",
            "{frequency}",
            "tarifas de mensajes y datos",
            "AYUDA",
            "STOP",
            "no es condición de compra",
        ),
        "fr": (
            "{brand}",
            "{frequency}",
            "frais de messagerie et de données",
            "AIDE",
            "STOP",
            "pas une condition d'achat",
        ),
    }
    for language, phrases in required.items():
        for phrase in phrases:
            assert phrase in table[language]["disclosure"], (language, phrase)


def test_the_form_tells_each_language_its_own_confirm_keyword():
    table = texts()
    for language, keyword in (("en", "YES"), ("es", "SI"), ("fr", "OUI")):
        assert {"strong": keyword} in table[language]["lede"]
        assert f" {keyword} " in table[language]["accepted"]


def test_the_page_loads_the_texts_before_the_form_script():
    page = (WEB / "index.html").read_text("utf-8")
    assert page.index('src="i18n.js"') < page.index('src="app.js"')
    for key in re.findall(r'data-i18n="(\w+)"', page):
        assert key in texts()["en"], key
