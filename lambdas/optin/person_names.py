"""What a person's name (and a sign-up source) may be, and how a stored name goes into a text.

Pure functions on ``str``: no pydantic, no AWS. The request models use the ``clean_*`` functions,
which normalize to NFC and raise :class:`TextProblem` with a stable code and a sentence for the
person; the follow-up texts use :func:`name_for_text` and :func:`line_for_text`, which never fail and
turn anything (including names stored before these rules) into one short printable line.

A name can never add a line, a URL or a number to a text: line breaks and control characters
(Unicode Cc, including C0 and C1 controls, ESC of ANSI sequences and NUL, and the line and paragraph
separators), format characters (Cf: bidi overrides such as U+202E, zero-width characters, BOM),
digits of any script and URL-like text (a scheme, ``www.``, an ``@``, or a dot followed by letters as
in ``example.com``) are refused in a name, and dropped when a stored name is put into a text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from optin.limits import MAX_FIELD_IN_TEXT, MAX_NAME_IN_TEXT, MAX_NAME_LENGTH, MAX_SOURCE_LENGTH

# Characters in a letter or symbol category that show nothing (Hangul fillers, Braille blank, Khmer
# inherent vowels): a name made of them alone has no visible character.
_INVISIBLE: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
_LINE_OR_CONTROL: Final = frozenset({"Cc", "Zl", "Zp"})
_UNDISPLAYABLE: Final = frozenset({"Cs", "Co", "Cn"})  # lone surrogates, private use, unassigned
_DOTS: Final = "[.\u3002\uff0e\uff61]"
_URL_LIKE: Final = re.compile(rf"://|\bwww{_DOTS}|@|{_DOTS}[^\W\d_]{{2,}}", re.IGNORECASE)
_SPACES: Final = re.compile(r"\s+")


# Every code a name or source refusal carries.
CODES: Final = frozenset(
    {
        "required",
        "too_long",
        "no_visible_characters",
        "control_characters",
        "format_characters",
        "invalid_characters",
        "digits",
        "url",
    }
)


class TextProblem(ValueError):
    """A text field is refused: ``code`` is stable and machine-readable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _category(ch: str) -> str:
    return unicodedata.category(ch)


def has_visible_character(text: str) -> bool:
    """True if some character draws something: a letter, digit, punctuation or symbol."""
    return any(_category(ch)[0] in "LNPS" and ch not in _INVISIBLE for ch in text)


def _first_problem(text: str) -> TextProblem | None:
    """Control, format and undisplayable characters, in that order of precedence."""
    categories = {_category(ch) for ch in text}
    if categories & _LINE_OR_CONTROL:
        return TextProblem("control_characters", "Remove line breaks, tabs and other control characters.")
    if "Cf" in categories:
        return TextProblem(
            "format_characters", "Remove invisible formatting characters (such as zero-width spaces)."
        )
    if categories & _UNDISPLAYABLE:
        return TextProblem("invalid_characters", "Remove characters that cannot be displayed.")
    return None


def is_url_like(text: str) -> bool:
    """A scheme (``://``), ``www.``, an ``@`` or a domain-like dot (``example.com``), also in
    full-width or other compatibility forms."""
    return bool(_URL_LIKE.search(unicodedata.normalize("NFKC", text)))


def _has_digit(text: str) -> bool:
    return any(_category(ch)[0] == "N" for ch in text)


def clean_name(value: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A first or last name as typed, normalized (NFC, trimmed, single spaces) or refused.

    Raises TextProblem with code ``required``, ``too_long``, ``no_visible_characters``,
    ``control_characters``, ``format_characters``, ``invalid_characters``, ``digits`` or ``url``."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise TextProblem("required", "This field is required.")
    if len(text) > max_length:
        raise TextProblem("too_long", f"Use at most {max_length} characters.")
    if not has_visible_character(text):
        raise TextProblem("no_visible_characters", "Enter a name with at least one visible letter.")
    problem = _first_problem(text)
    if problem is not None:
        raise problem
    if _has_digit(text):
        raise TextProblem("digits", "A name cannot contain digits.")
    if is_url_like(text):
        raise TextProblem("url", "A name cannot contain a web or email address.")
    return _SPACES.sub(" ", text)


def clean_source(value: str, max_length: int = MAX_SOURCE_LENGTH) -> str | None:
    """The ``source`` a sign-up names (a page URL or a label), NFC and trimmed; None when blank.

    Raises TextProblem with code ``too_long``, ``control_characters``, ``format_characters`` or
    ``invalid_characters``."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        return None
    if len(text) > max_length:
        raise TextProblem("too_long", f"Use at most {max_length} characters.")
    problem = _first_problem(text)
    if problem is not None:
        raise problem
    return text


def header_text(value: str | None, max_length: int) -> str | None:
    """A header kept as evidence (Referer, Origin, User-Agent): control, format and undisplayable
    characters dropped, NFC, trimmed and cut to ``max_length``; None when nothing is left."""
    if not value:
        return None
    kept = "".join(ch for ch in value if _category(ch) not in _LINE_OR_CONTROL | _UNDISPLAYABLE | {"Cf"})
    text = unicodedata.normalize("NFC", kept).strip()[:max_length].strip()
    return text or None


def _one_line(value: str) -> str:
    """Controls and line breaks become spaces, format and undisplayable characters go, spaces collapse."""
    out = []
    for ch in unicodedata.normalize("NFC", value):
        category = _category(ch)
        if category in _LINE_OR_CONTROL:
            out.append(" ")
        elif category != "Cf" and category not in _UNDISPLAYABLE:
            out.append(ch)
    return _SPACES.sub(" ", "".join(out)).strip()


def _cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space when there is one in the second half."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rfind(" ")
    return (text[:cut] if cut >= limit // 2 else text[:limit]).rstrip()


def line_for_text(value: str | None, limit: int = MAX_FIELD_IN_TEXT) -> str:
    """Any template field as a text inserts it: one printable line of at most ``limit`` characters."""
    return _cap(_one_line(value or ""), limit)


def name_for_text(value: str | None, limit: int = MAX_NAME_IN_TEXT) -> str:
    """A stored name as a text inserts it (``{{FirstName}}``): its first line only, without control or
    format characters, without any word that holds a digit or looks like a URL, at most ``limit``
    characters. ``"Carlos\\nURGENT: call 1-900-…"`` becomes ``"Carlos"``; never fails, may be ``""``."""
    text = unicodedata.normalize("NFC", value or "").lstrip()
    end = next((i for i, ch in enumerate(text) if _category(ch) in _LINE_OR_CONTROL), len(text))
    words = _one_line(text[:end]).split(" ")
    kept = [w for w in words if w and not _has_digit(w) and not is_url_like(w)]
    return _cap(" ".join(kept), limit)
