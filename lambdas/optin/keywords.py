"""Keyword matching for inbound SMS: the leading word (or words) of the body, matched exactly.

The body is normalized first: Unicode compatibility forms folded (full-width letters become
ASCII), accents and invisible characters removed, case folded. Words are runs of letters and
digits, optionally joined by a hyphen or apostrophe, so surrounding punctuation and emoji never
count and "stopwatch" is never STOP. Multi-word keywords ("OPT OUT") match the leading words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


class Intent(StrEnum):
    CONFIRM = "CONFIRM"
    OPT_OUT = "OPT_OUT"
    OPT_IN = "OPT_IN"
    HELP = "HELP"
    NONE = "NONE"


# When configured sets overlap, the first intent here wins: revoking consent is never shadowed.
_PRIORITY = (Intent.OPT_OUT, Intent.HELP, Intent.OPT_IN, Intent.CONFIRM)


@dataclass(frozen=True)
class KeywordMatch:
    intent: Intent
    keyword: str | None = None  # the configured keyword that matched, upper case


NO_MATCH = KeywordMatch(Intent.NONE)


def words(text: str) -> list[str]:
    """The normalized words of a message body."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    # Control characters and line breaks separate words ("STOP\nThanks" is two words); invisible
    # format characters and accents are dropped.
    kept = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch
        for ch in folded
        if unicodedata.category(ch) not in {"Mn", "Cf"}
    )
    return _WORD.findall(kept.casefold())


class KeywordMatcher:
    """Classifies message bodies against configured keyword sets."""

    def __init__(
        self,
        confirm: tuple[str, ...],
        opt_out: tuple[str, ...],
        opt_in: tuple[str, ...],
        help_: tuple[str, ...],
    ) -> None:
        sets = {Intent.OPT_OUT: opt_out, Intent.HELP: help_, Intent.OPT_IN: opt_in, Intent.CONFIRM: confirm}
        self._table: dict[tuple[str, ...], KeywordMatch] = {}
        for intent in reversed(_PRIORITY):  # higher priority written last, so it wins
            for keyword in sets[intent]:
                key = tuple(words(keyword))
                if key:
                    self._table[key] = KeywordMatch(intent, " ".join(keyword.upper().split()))
        self._lengths = sorted({len(key) for key in self._table}, reverse=True)

    def match(self, body: str | None) -> KeywordMatch:
        """The keyword the body starts with, longest keyword first; NO_MATCH when none."""
        leading = words(body or "")
        for length in self._lengths:
            if len(leading) >= length:
                found = self._table.get(tuple(leading[:length]))
                if found:
                    return found
        return NO_MATCH
