"""Issue 10, case 6, the pure rules (optin.person_names): names and sources are normalized or refused
with a reason and a code; a stored name goes into a text as one short printable line; the sandbox
terminal escapes what it prints. The same cases through the handlers are in test_hostile_input.py."""

from __future__ import annotations

import pytest

from local.outbox import Message
from local.server import log_message, printable
from optin.clock import utcnow
from optin.followups.sequence import render
from optin.limits import MAX_NAME_IN_TEXT, MAX_NAME_LENGTH, MAX_SOURCE_LENGTH
from optin.person_names import CODES, TextProblem, clean_name, clean_source, line_for_text, name_for_text

PHONE = "+12065550142"
INJECTION = "Carlos\nURGENT: your account is locked, call 1-900-555-0199"


# -- what a name may be ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Carlos", "Carlos"),
        ("  María  José ", "María José"),
        ("Jose\u0301", "José"),  # decomposed accent -> NFC
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("J. R. R.", "J. R. R."),
        ("Zoë\u00a0Ann", "Zoë Ann"),  # a no-break space becomes a space
        ("李小龙", "李小龙"),
        ("Ngozi Okonjo-Iweala", "Ngozi Okonjo-Iweala"),
        ("Henry VIII", "Henry VIII"),  # Roman numerals are letters
    ],
)
def test_names_people_have_are_kept_normalized(typed, stored):
    assert clean_name(typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "required"),
        (" \t\n ", "required"),
        ("A" * (MAX_NAME_LENGTH + 1), "too_long"),
        ("Car\x00los", "control_characters"),  # NUL
        ("Carlos\nURGENT", "control_characters"),
        ("Car\rlos", "control_characters"),
        ("Carlos\x1b[31mRED", "control_characters"),  # ANSI escape
        ("Carlos\x85Next", "control_characters"),  # C1: next line
        ("Carlos\x9b31m", "control_characters"),  # C1: CSI
        ("Carlos\u2028Line", "control_characters"),  # line separator
        ("Carlos\u202eevil", "format_characters"),  # right-to-left override
        ("Car\u200blos", "format_characters"),  # zero-width space
        ("\ufeffCarlos", "format_characters"),  # BOM
        ("\u200b\u200c\u200d", "no_visible_characters"),  # zero-width only
        ("\u3164", "no_visible_characters"),  # Hangul filler
        ("\u0301\u0302", "no_visible_characters"),  # combining marks alone
        ("Carlos\ue000", "invalid_characters"),  # private use
        ("Car\ud800los", "invalid_characters"),  # lone surrogate
        ("Carlos 3", "digits"),
        ("Agent 007", "digits"),
        ("Carlos \u0663", "digits"),  # Arabic-Indic three
        ("Carlos \u2460", "digits"),  # circled one
        ("https://evil.example", "url"),
        ("www.evil", "url"),
        ("Carlos evil.com", "url"),
        ("Carlos@example", "url"),
        ("Carlos \uff45\uff56\uff49\uff4c\uff0e\uff43\uff4f\uff4d", "url"),  # full-width evil.com
    ],
)
def test_names_that_could_hurt_are_refused_with_a_code(typed, code):
    with pytest.raises(TextProblem) as refused:
        clean_name(typed)
    assert refused.value.code == code and refused.value.message
    assert code in CODES


def test_the_length_cap_is_said_in_the_message():
    with pytest.raises(TextProblem, match=str(MAX_NAME_LENGTH)):
        clean_name("A" * (MAX_NAME_LENGTH + 1))


def test_sources_get_the_character_rules_and_their_own_cap():
    assert clean_source(" https://shop.example.com/join?x=1 ") == "https://shop.example.com/join?x=1"
    assert clean_source("   ") is None
    assert clean_source("x" * MAX_SOURCE_LENGTH) == "x" * MAX_SOURCE_LENGTH
    for bad, code in [
        ("x" * (MAX_SOURCE_LENGTH + 1), "too_long"),
        ("form\nBcc: all", "control_characters"),
        ("form\u202e", "format_characters"),
    ]:
        with pytest.raises(TextProblem) as refused:
            clean_source(bad)
        assert refused.value.code == code


# -- a stored name in a text -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stored", "inserted"),
    [
        ("Carlos", "Carlos"),
        (INJECTION, "Carlos"),
        ("\nCarlos\nSecond line", "Carlos"),
        ("Carlos\x1b[31m", "Carlos"),
        ("Car\u200blos\u202e", "Carlos"),
        ("Carlos call 1-900-555-0199 now", "Carlos call now"),
        ("Carlos see evil.example.com/x or https://x.y", "Carlos see or"),
        ("\u200b", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_name_goes_into_a_text_as_one_short_clean_line(stored, inserted):
    assert name_for_text(stored) == inserted


def test_a_long_stored_name_is_capped_at_a_word():
    text = name_for_text("Maria " * 20)
    assert len(text) <= MAX_NAME_IN_TEXT and text.endswith("Maria") and "  " not in text


def test_any_template_field_is_one_printable_line():
    assert line_for_text("Acme\nInc\x00\u202e  Ltd") == "Acme Inc Ltd"
    assert len(line_for_text("x" * 1000)) == 160


def test_the_injection_example_never_reaches_the_text():
    """Issue 10: "Hi {{FirstName}}" with the injection name stays one line with no number in it."""
    from optin.consent import Contact, Status
    from optin.followups.sequence import text_values

    contact = Contact(
        phone=PHONE,
        status=Status.CONFIRMED,
        first_name=INJECTION,
        last_name="S\n1",
        source="form",
        submitted_at=utcnow(),
        consent_text_version="v1",
    )
    text = render(
        "Hi {{FirstName}} {{LastName}}, welcome!", text_values(contact, "Acme", "example.com/help", "Weekly")
    )
    assert text == "Hi Carlos S, welcome!"


# -- the sandbox terminal --------------------------------------------------------------------------------
def test_the_terminal_shows_control_and_format_characters_escaped(capsys):
    assert printable("Carlos\n\x1b[2J\x00\x9b\u202e\u200b\u2028ok") == (
        "Carlos\\n\\x1b[2J\\x00\\x9b\\u202e\\u200b\\u2028ok"
    )
    assert printable("Car\ud800los") == "Car\\ud800los"
    log_message(
        Message(
            to=PHONE,
            sender="+12065550100",
            body="Hi Carlos\x1b[31m\nURGENT",
            sent_at=utcnow(),
            message_id="m",
        )
    )
    line = capsys.readouterr().err
    assert "\x1b" not in line and line.count("\n") == 1
    assert "Hi Carlos\\x1b[31m\\nURGENT" in line
