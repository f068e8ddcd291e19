"""Classifying inbound SMS bodies: opt-outs as people write them, confirmations, help and opt-in.

Pure domain: text in, a :class:`KeywordMatch` out. The rules, in the order they are tried (the first one
that classifies a message is its ``rule``, kept in the audit trail):

1. **leading keyword**: the body starts with a configured keyword of any intent (STOP, STOP ALL, ARRET,
   YES, SI, HELP, AYUDA, START, ...), longest keyword first, as End User Messaging matches them.
2. **revocation word**: a revocation word anywhere, as a whole word ("please stop", "I want to cancel",
   "quiero darme de baja"), unless that occurrence is inside an exception phrase ("don't stop",
   "Baja California"). Exceptions do not reach across punctuation or a line break: "No, stop" opts out.
   A leading keyword that starts an exception ("Baja California is lovely") is left to this rule too.
3. **phrase**: a plain-language revocation ("take me off your list", "wrong number", "déjame en paz"),
   with the same exceptions. A phrase written ``=no`` must be the whole message, courtesies aside ("No,
   thank you!"), and a trailing signature ("Sent from my iPhone") ignored.
4. **obfuscation**: rules 1-3 again, for opt-outs only, on the body with its disguises undone: HTML tags
   and entities, homoglyphs (Cyrillic, Greek, full-width, small capitals, letter emoji), digits for
   letters ("st0p"), spaced or split letters ("S T O P", "ST OP"), stretched letters ("stooop"), and the
   🛑 emoji; a body of nothing but 🛑, ⛔ or 🚫 opts out too. Confirmation, help and opt-in keywords are
   matched here exactly (a full-width YES confirms; "yess" does not).

**Opt-out always wins**: when any enabled rule reads a revocation, the message opts out whatever else it
says ("YES STOP", "HELP STOP"), so a body containing a revocation never confirms. Confirmation, help
and opt-in come from a leading keyword only. When in doubt the rules opt out: a wrongly honoured opt-out
costs one "Reply START to rejoin", an ignored one a lawsuit.

Normalization: a quoted earlier message ("> ..." lines, or what follows "On ... wrote:") is left out;
case folded, accents and invisible format characters removed, control characters and line breaks
separate words. Words are runs of letters and digits; a hyphen splits a word ("opt-out" is
"opt out") and so does a French elision ("n'arrêtez" is "n arretez"); other apostrophes are dropped
("don't" is "dont"). Keyword, phrase and exception texts are normalized the same way.

Pattern syntax (phrases, exceptions): words separated by spaces; ``a|b`` offers alternatives for one
word, and an alternative of several words is written with hyphens (``dont|do-not|never text me``); a
leading ``=`` anchors the phrase to the whole message. Between two words of a phrase or an
exception the message may add a filler word (:data:`FILLERS`: "don't *ever* text me").
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

_WORD = re.compile(r"[^\W_]+(?:['\u2019\u02bc-][^\W_]+)*")
_PART_SPLIT = re.compile(r"['\u2019\u02bc-]")
# Punctuation (and line breaks) that ends a clause: a negation or an exception never reaches across it.
_CLAUSE_BREAK = re.compile(r"[.,;:!?¡¿\n]")
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "t", "s", "c", "qu", "jusqu", "lorsqu", "puisqu"})
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Words a person may slip into a phrase or an exception without changing it.
FILLERS = frozenset({"ever", "please", "pls", "plz", "just", "really"})
# Politeness around a phrase anchored to the whole message: "No, thank you!" is the reply "no".
COURTESIES = frozenset(
    {
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "gracias",
        "por",
        "favor",
        "merci",
        "svp",
        "stp",
    }
)
# Lines from which the rest of a message is a signature (for phrases anchored to the whole message).
_SIGNATURE = re.compile(
    r"^\s*(?:--\s*$|-{2,}|_{2,}|sent from|sent via|sent with|get outlook|enviado desde|"
    r"envoye de|envoye depuis|envoye avec)"
)
# A reply that quotes the message it answers (email-to-SMS gateways do): the quote is ours, not theirs.
_QUOTED_LINE = re.compile(r"^\s*>(?:\s|>|$)")
_QUOTE_HEADER = re.compile(
    r"^\s*(?:-{2,}\s*original message\s*-{2,}|on\b.{0,200}\bwrote:|le\b.{0,200}\ba\s[ée]crit\s?:|"
    r"el\b.{0,200}\bescribi[óo]:)\s*$",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[a-z][^<>]{0,300}>", re.IGNORECASE)
_STOP_SIGN = "\U0001f6d1"
_STOP_ONLY = re.compile(r"^[\s\W_]*(?:[\U0001f6d1\u26d4\U0001f6ab][\s\W_]*)+$")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a"})
_LEET_WORD = re.compile(r"[a-z0-9$@]*[a-z][a-z0-9$@]*")
_REPEATS = re.compile(r"(.)\1+")


def _lookalikes() -> dict[int, str]:
    """Letters that look like Latin ones, applied before case folding (some differ by case)."""
    rows = (
        # Cyrillic
        ("\u0410\u0412\u0415\u0401\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0423", "ABEEKMHOPCTY"),
        ("\u0425\u0405\u0406\u0407\u0408\u051a\u051c\u04ae\u04ba\u04c0\u0430\u0432", "XSIIJQWYHIab"),
        ("\u0435\u0451\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0455", "eekmhopctyxs"),
        ("\u0456\u0457\u0458\u051b\u051d\u04af\u04bb\u04cf\u0501\u043f\u0433\u0475", "iijqwyhldnrv"),
        # Greek
        ("\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4", "ABEZHIKMNOPT"),
        ("\u03a5\u03a7\u03b1\u03b2\u03b5\u03b7\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4", "YXabenikvopt"),
        ("\u03c5\u03c7\u03b3\u03f2\u03f3", "uxycj"),
        # Latin
        ("\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f", "abcdefghijkl"),
        ("\u1d0d\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22", "mnoprstuvwyz"),
        ("\u0131\u0237\u0251\u0261\u0269\u028b\u01c0\u0196", "ijagivll"),
    )
    table: dict[int, str] = {}
    for letters, latin in rows:
        table.update((ord(letter), ascii_letter) for letter, ascii_letter in zip(letters, latin, strict=True))
    # Letter emoji with no compatibility form: regional indicators (flags' letters), negative circled and
    # negative squared capitals; the plain circled and squared ones fold under NFKC.
    for first in (0x1F1E6, 0x1F150, 0x1F170):
        for offset in range(26):
            table[first + offset] = chr(ord("a") + offset)
    return table


_LOOKALIKE = _lookalikes()


class Intent(StrEnum):
    CONFIRM = "CONFIRM"
    OPT_OUT = "OPT_OUT"
    OPT_IN = "OPT_IN"
    HELP = "HELP"
    NONE = "NONE"


class Rule(StrEnum):
    """Which rule classified a message (kept in its audit entry)."""

    LEADING_KEYWORD = "leading_keyword"
    REVOCATION_WORD = "revocation_word"
    PHRASE = "phrase"
    OBFUSCATION = "obfuscation"
    NONE = "none"


# The rules a deployment may turn off (the leading keyword always applies).
OPTIONAL_RULES = (Rule.REVOCATION_WORD, Rule.PHRASE, Rule.OBFUSCATION)

# When configured sets overlap, the first intent here wins: revoking consent is never shadowed.
_PRIORITY = (Intent.OPT_OUT, Intent.HELP, Intent.OPT_IN, Intent.CONFIRM)


@dataclass(frozen=True)
class KeywordMatch:
    intent: Intent
    keyword: str | None = None  # what matched, upper case: the configured keyword or word, or the phrase
    rule: Rule = Rule.NONE
    language: str | None = None  # of the keyword, when it tells one (en, es, fr)


NO_MATCH = KeywordMatch(Intent.NONE)


# -- normalization ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Word:
    text: str
    start: int  # span in the normalized text
    end: int
    hyphen: bool = False  # joined to the previous word by a hyphen ("opt-out")
    spaced: bool = False  # made of letters a disguise spaced out ("S T O P")


def _strip(text: str, invisible: str) -> str:
    """Case folded, accents dropped, format characters replaced by ``invisible``, control characters
    and line breaks turned into separators."""
    out = []
    for ch in unicodedata.normalize("NFD", text.casefold()):
        category = unicodedata.category(ch)
        if category == "Mn":
            continue
        if category == "Cf":
            out.append(invisible)
        elif category in ("Cc", "Zl", "Zp"):
            out.append("\n" if ch in _LINE_BREAKS else " ")
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _plain(text: str) -> str:
    return _strip(text, "")


def _unquoted(body: str) -> str:
    """The body without a quoted earlier message ("> ..." lines, or all after "On ... wrote:"); the body
    as it is when no word of theirs would be left (a signature aside)."""
    kept = []
    for line in body.splitlines(keepends=True):
        if _QUOTE_HEADER.match(line):
            break
        if not _QUOTED_LINE.match(line):
            kept.append(line)
    if len(kept) == len(body.splitlines(keepends=True)):
        return body
    text = "".join(kept)
    normalized = _plain(text)
    end = _body_end(normalized)
    return text if any(word.start < end for word in _scan(normalized)) else body


def _unmasked(text: str, joined: bool) -> str:
    """The body with its disguises undone. ``joined``: tags and invisible characters inside a word join
    its pieces ("S<b>TOP</b>", S + zero-width space + TOP); otherwise they separate words."""
    text = html.unescape(text)
    text = _TAG.sub("" if joined else " ", text)
    text = text.replace(_STOP_SIGN, " stop ")
    text = unicodedata.normalize("NFKC", text).translate(_LOOKALIKE)
    text = _strip(text, "" if joined else " ")
    return _LEET_WORD.sub(lambda m: m.group().translate(_LEET), text)


def _split_parts(token: str, start: int) -> Iterable[_Word]:
    """One token's words: split at hyphens and French elisions; other apostrophes dropped."""
    pieces = []
    position = 0
    for separator in _PART_SPLIT.finditer(token):
        pieces.append((token[position : separator.start()], start + position, token[separator.start()]))
        position = separator.end()
    pieces.append((token[position:], start + position, ""))
    pending = ""
    pending_start = start
    hyphen = False
    for piece, piece_start, separator in pieces:
        if not pending:
            pending_start = piece_start
        pending += piece
        if separator == "-" or not separator:
            yield _Word(pending, pending_start, pending_start + len(pending), hyphen)
            pending, hyphen = "", separator == "-"
        elif pending in _ELISIONS:  # l'arrêt, n'arrêtez, qu'il
            yield _Word(pending, pending_start, pending_start + len(pending), hyphen)
            pending, hyphen = "", False


def _scan(normalized: str) -> list[_Word]:
    found: list[_Word] = []
    for token in _WORD.finditer(normalized):
        found.extend(_split_parts(token.group(), token.start()))
    return found


def words(text: str) -> list[str]:
    """The normalized words of a message body (as the rules read it before undoing disguises)."""
    return [word.text for word in _scan(_plain(text))]


def _squeeze(word: str) -> str:
    """Repeated letters as one ("stooopp" is "stop"), for the obfuscation rule."""
    return _REPEATS.sub(r"\1", word)


def _join_spaced_letters(found: list[_Word], normalized: str) -> list[_Word]:
    """Runs of single letters a small, even gap apart become one word ("S T O P", "s.t.o.p", "S T 0 P")."""
    found = [
        _Word(w.text.translate(_LEET), w.start, w.end, w.hyphen) if len(w.text) == 1 else w for w in found
    ]
    merged: list[_Word] = []
    i = 0
    while i < len(found):
        j = i
        if len(found[i].text) == 1 and found[i].text.isalpha():
            first_gap = None
            while j + 1 < len(found) and len(found[j + 1].text) == 1 and found[j + 1].text.isalpha():
                gap = normalized[found[j].end : found[j + 1].start]
                if len(gap) > 3 or (first_gap is not None and len(gap) > first_gap):
                    break
                first_gap = len(gap) if first_gap is None else first_gap
                j += 1
        if j > i:
            text = "".join(word.text for word in found[i : j + 1])
            merged.append(_Word(text, found[i].start, found[j].end, spaced=True))
        else:
            merged.append(found[i])
        i = j + 1
    return merged


def _body_end(normalized: str) -> int:
    """Where a trailing signature starts (the end of the text when there is none)."""
    position = 0
    for line in normalized.split("\n"):
        if _SIGNATURE.match(line):
            return position
        position += len(line) + 1
    return len(normalized)


# -- patterns --------------------------------------------------------------------------------------------
Slots = tuple[frozenset[str], ...]


def parse_pattern(text: str) -> tuple[bool, tuple[Slots, ...]]:
    """A phrase or exception as (anchored to the whole message, its word sequences): one sequence of
    alternatives per word, more than one sequence when an alternative is several words ("dont|do-not
    text me"). No sequence when the text holds no word."""
    text = text.strip()
    anchored = text.startswith("=")
    sequences: list[list[frozenset[str]]] = [[]]
    for slot in text.lstrip("=").split():
        single: set[str] = set()
        multiple: list[list[str]] = []
        for option in slot.split("|"):
            option_words = words(option)
            if len(option_words) == 1:
                single.add(option_words[0])
            elif option_words:
                multiple.append(option_words)
        grown: list[list[frozenset[str]]] = []
        for sequence in sequences:
            if single:
                grown.append([*sequence, frozenset(single)])
            grown.extend([*sequence, *(frozenset({w}) for w in option_words)] for option_words in multiple)
        sequences = grown or sequences
    return anchored, tuple(tuple(sequence) for sequence in sequences if sequence)


@dataclass(frozen=True)
class _Pattern:
    slots: Slots
    anchored: bool
    label: str  # the configured text, upper case
    language: str | None

    def squeezed(self) -> _Pattern:
        slots = tuple(frozenset(_squeeze(w) for w in slot) for slot in self.slots)
        return _Pattern(slots, self.anchored, self.label, self.language)


def _index(patterns: Iterable[_Pattern]) -> dict[str, list[_Pattern]]:
    """Patterns by the words they may start with."""
    index: dict[str, list[_Pattern]] = {}
    for pattern in patterns:
        for word in pattern.slots[0]:
            index.setdefault(word, []).append(pattern)
    return index


def _match_at(
    slots: tuple[frozenset[str], ...], found: Sequence[_Word], start: int, text: str, strict: bool
) -> int | None:
    """The index after the last word when ``slots`` match from ``found[start]``, else None. Fillers may
    sit between two words; ``strict`` forbids a clause break between them."""
    position = start
    for number, slot in enumerate(slots):
        if number > 0:
            while (
                position < len(found) and found[position].text in FILLERS and found[position].text not in slot
            ):
                position += 1
        if position >= len(found) or found[position].text not in slot:
            return None
        if number > 0 and strict and _CLAUSE_BREAK.search(text[found[start].end : found[position].start]):
            return None
        position += 1
    return position


class _Rules:
    """The compiled opt-out rules for one way of reading a text (plain, or with repeats squeezed)."""

    def __init__(
        self,
        leading: dict[tuple[str, ...], KeywordMatch],
        revocation: list[_Pattern],
        phrases: list[_Pattern],
        exceptions: list[_Pattern],
    ) -> None:
        self.leading = leading
        self.lengths = sorted({len(key) for key in leading}, reverse=True)
        self.revocation = _index(revocation)
        self.phrases = _index(p for p in phrases if not p.anchored)
        self.whole = [p for p in phrases if p.anchored]
        self.exceptions = exceptions

    def leading_match(self, found: Sequence[_Word], text: str) -> KeywordMatch | None:
        """The opt-out keyword the words start with, unless it starts an exception ("Baja California")."""
        texts = [word.text for word in found]
        for length in self.lengths:
            if len(texts) >= length:
                hit = self.leading.get(tuple(texts[:length]))
                if hit is not None:
                    return None if self.excused(found, 0, length, text) else hit
        return None

    def excused(self, found: Sequence[_Word], first: int, last: int, text: str) -> bool:
        """Is found[first:last] inside an exception phrase ("don't stop", "Baja California")?"""
        for exception in self.exceptions:
            for start in range(max(0, first - 2 * len(exception.slots)), first + 1):
                end = _match_at(exception.slots, found, start, text, strict=True)
                if end is not None and start <= first and last <= end:
                    return True
        return False

    def revocation_word(self, found: Sequence[_Word], text: str) -> _Pattern | None:
        for index in range(len(found)):
            for word in self.revocation.get(found[index].text, ()):
                end = _match_at(word.slots, found, index, text, strict=True)
                if end is not None and not self.excused(found, index, end, text):
                    return word
        return None

    def phrase(self, found: Sequence[_Word], body: Sequence[_Word], text: str) -> tuple[_Pattern, str] | None:
        for index in range(len(found)):
            for phrase in self.phrases.get(found[index].text, ()):
                end = _match_at(phrase.slots, found, index, text, strict=False)
                if end is not None and not self.excused(found, index, end, text):
                    return phrase, " ".join(w.text for w in found[index:end]).upper()
        plain = [w for w in body if w.text not in COURTESIES]
        for reading in (list(body), plain):  # as written first: "no gracias" is a phrase of its own
            for phrase in self.whole:
                if reading and _match_at(phrase.slots, reading, 0, text, strict=False) == len(reading):
                    return phrase, " ".join(w.text for w in reading).upper()
        return None


class KeywordMatcher:
    """Classifies message bodies with the rules above.

    ``confirm``, ``opt_out``, ``opt_in``, ``help_``: leading keywords per intent. ``revocation_words``:
    words (or short word sequences) that opt out anywhere; ``phrases``: plain-language revocations;
    ``exceptions``: where a revocation word does not count. ``languages`` maps a configured entry (upper
    case, as written) to the language it tells (en, es, fr). ``rules``: the optional rules that apply.
    """

    def __init__(
        self,
        confirm: tuple[str, ...],
        opt_out: tuple[str, ...],
        opt_in: tuple[str, ...],
        help_: tuple[str, ...],
        *,
        revocation_words: tuple[str, ...] = (),
        phrases: tuple[str, ...] = (),
        exceptions: tuple[str, ...] = (),
        languages: Mapping[str, str] | None = None,
        rules: Iterable[Rule] = OPTIONAL_RULES,
    ) -> None:
        self._languages = {_label(k): v for k, v in (languages or {}).items()}
        self._enabled = frozenset(rules)
        sets = {Intent.OPT_OUT: opt_out, Intent.HELP: help_, Intent.OPT_IN: opt_in, Intent.CONFIRM: confirm}
        # Per intent the first listing of a key wins; across intents, the priority above.
        self._leading: dict[tuple[str, ...], KeywordMatch] = {}
        self._hyphenated: dict[tuple[str, ...], KeywordMatch] = {}
        for intent in _PRIORITY:
            for keyword in sets[intent]:
                found = _scan(_plain(keyword))
                key = tuple(w.text for w in found)
                if not key:
                    continue
                label = _label(keyword)
                hit = KeywordMatch(intent, label, Rule.LEADING_KEYWORD, self._languages.get(label))
                self._leading.setdefault(key, hit)
                self._hyphenated.setdefault(_shape(found), hit)
        revocation = [p for w in revocation_words for p in self._patterns(w, anchored_allowed=False)]
        patterns = [p for phrase in phrases for p in self._patterns(phrase)]
        excepted = [p for e in exceptions for p in self._patterns(e, anchored_allowed=False)]
        opt_outs = {k: v for k, v in self._leading.items() if v.intent == Intent.OPT_OUT}
        self._plain_rules = _Rules(opt_outs, revocation, patterns, excepted)
        self._squeezed_rules = _Rules(
            {tuple(_squeeze(w) for w in k): v for k, v in opt_outs.items()},
            [p.squeezed() for p in revocation],
            [p.squeezed() for p in patterns],
            [p.squeezed() for p in excepted],
        )
        # Single words whose letters a disguise may split ("ST OP"): revocation words and opt-out keywords.
        self._splittable = {
            _squeeze(next(iter(p.slots[0]))): p
            for p in revocation
            if len(p.slots) == 1 and len(p.slots[0]) == 1
        }
        for key, hit in opt_outs.items():
            if len(key) == 1:
                self._splittable.setdefault(
                    _squeeze(key[0]), _Pattern((frozenset(key),), False, hit.keyword or "", hit.language)
                )

    def _patterns(self, text: str, anchored_allowed: bool = True) -> list[_Pattern]:
        anchored, sequences = parse_pattern(text)
        label = _label(text.lstrip("=").strip())
        language = self._languages.get(_label(text))
        return [_Pattern(slots, anchored and anchored_allowed, label, language) for slots in sequences]

    # -- matching ----------------------------------------------------------------------------------------
    def match(self, body: str | None) -> KeywordMatch:
        """Classify one message body; NO_MATCH when no rule applies."""
        body = _unquoted(body or "")
        plain_text = _plain(body)
        plain = _scan(plain_text)
        leading = self._leading_any(plain)
        if leading is not None and leading.intent == Intent.OPT_OUT:
            if self._plain_rules.leading_match(plain, plain_text) is not None:
                return leading
            leading = None  # an exception starts the message: the other rules decide
        revoked = self._revocation(plain, plain_text, self._plain_rules)
        if revoked is not None:
            return revoked
        if Rule.OBFUSCATION in self._enabled:
            disguised = self._disguised(body)
            if disguised is not None:
                return disguised
        if leading is not None:
            return leading
        if Rule.OBFUSCATION in self._enabled:
            for joined in (True, False):
                text = _unmasked(body, joined)
                hit = self._leading_any(_join_spaced_letters(_scan(text), text))
                if hit is not None and hit.intent != Intent.OPT_OUT:
                    return KeywordMatch(hit.intent, hit.keyword, Rule.OBFUSCATION, hit.language)
        return NO_MATCH

    def _leading_any(self, found: Sequence[_Word]) -> KeywordMatch | None:
        shape = _shape(found)
        texts = tuple(w.text for w in found)
        for length in sorted({len(k) for k in self._leading}, reverse=True):
            if len(texts) >= length:
                hit = self._hyphenated.get(shape[:length]) or self._leading.get(texts[:length])
                if hit is not None:
                    return hit
        return None

    def _revocation(self, found: Sequence[_Word], text: str, rules: _Rules) -> KeywordMatch | None:
        """Rules 2 and 3 (and 1 for squeezed words) on one reading of the body."""
        if Rule.REVOCATION_WORD in self._enabled:
            word = rules.revocation_word(found, text)
            if word is not None:
                return KeywordMatch(Intent.OPT_OUT, word.label, Rule.REVOCATION_WORD, word.language)
        if Rule.PHRASE in self._enabled:
            end = _body_end(text)
            body = [w for w in found if w.start < end]
            hit = rules.phrase(found, body, text)
            if hit is not None:
                phrase, matched = hit
                return KeywordMatch(Intent.OPT_OUT, matched, Rule.PHRASE, phrase.language)
        return None

    def _disguised(self, body: str) -> KeywordMatch | None:
        """Rule 4: the opt-out rules on the body with its disguises undone."""
        if _STOP_ONLY.match(unicodedata.normalize("NFKC", body)):
            return KeywordMatch(Intent.OPT_OUT, "STOP", Rule.OBFUSCATION, None)
        for joined in (True, False):
            text = _unmasked(body, joined)
            found = _join_spaced_letters(_scan(text), text)
            squeezed = [_Word(_squeeze(w.text), w.start, w.end, w.hyphen, w.spaced) for w in found]
            for reading in (squeezed, *self._rejoined(squeezed, text)):
                hit = self._squeezed_rules.leading_match(reading, text) or self._revocation(
                    reading, text, self._squeezed_rules
                )
                if hit is not None:
                    return KeywordMatch(Intent.OPT_OUT, hit.keyword, Rule.OBFUSCATION, hit.language)
        return None

    def _rejoined(self, found: list[_Word], text: str) -> Iterable[list[_Word]]:
        """Readings where two to four adjacent pieces that spell a revocation word are one word ("ST OP",
        "un subscribe"), or where spaced-out letters hold one ("S T O P P L E A S E")."""
        for position, word in enumerate(found):
            if word.spaced:
                for spelled in self._splittable:
                    if len(spelled) >= 3 and spelled in word.text and spelled != word.text:
                        yield [
                            *found[:position],
                            _Word(spelled, word.start, word.end),
                            *found[position + 1 :],
                        ]
                        break
        for start in range(len(found)):
            for count in (2, 3, 4):
                end = start + count
                if end > len(found):
                    break
                gaps = [text[found[k].end : found[k + 1].start] for k in range(start, end - 1)]
                if any(len(gap) > 3 or "\n" in gap for gap in gaps):
                    break
                spelled = _squeeze("".join(w.text for w in found[start:end]))
                if spelled in self._splittable:
                    joined = _Word(spelled, found[start].start, found[end - 1].end)
                    yield [*found[:start], joined, *found[end:]]


def _label(text: str) -> str:
    return " ".join(text.upper().split())


def _shape(found: Sequence[_Word]) -> tuple[str, ...]:
    """The words with their hyphens ("opt-out" -> ("opt", "-out")), to report the keyword as written."""
    return tuple(("-" if w.hyphen else "") + w.text for w in found)
