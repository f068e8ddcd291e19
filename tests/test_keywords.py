"""Keyword matching: the leading word exactly, never a substring."""

import pytest

from optin.inbound import matcher_for
from optin.keywords import Intent, KeywordMatcher
from optin.settings import Settings

MATCHER = matcher_for(Settings())

CASES = [
    # confirm
    ("YES", Intent.CONFIRM, "YES"),
    ("yes", Intent.CONFIRM, "YES"),
    ("Yes!", Intent.CONFIRM, "YES"),
    ("  yes  ", Intent.CONFIRM, "YES"),
    ("\tYES\n", Intent.CONFIRM, "YES"),
    ("yes please", Intent.CONFIRM, "YES"),
    ("Yes, sign me up", Intent.CONFIRM, "YES"),
    ('"yes"', Intent.CONFIRM, "YES"),
    ("...yes...", Intent.CONFIRM, "YES"),
    ("Y", Intent.CONFIRM, "Y"),
    ("y.", Intent.CONFIRM, "Y"),
    ("Confirm", Intent.CONFIRM, "CONFIRM"),
    ("CONFIRM!!!", Intent.CONFIRM, "CONFIRM"),
    ("ＹＥＳ", Intent.CONFIRM, "YES"),  # full-width letters
    ("👍 yes", Intent.CONFIRM, "YES"),  # leading emoji is not a word
    ("yes 👍", Intent.CONFIRM, "YES"),
    ("\u200byes", Intent.CONFIRM, "YES"),  # zero-width space
    ("yes\u00a0please", Intent.CONFIRM, "YES"),  # no-break space
    # traps that must not confirm
    ("eyes", Intent.NONE, None),
    ("yesterday", Intent.NONE, None),
    ("yess", Intent.NONE, None),
    ("yeah", Intent.NONE, None),
    ("I said yes", Intent.NONE, None),
    ("y'all", Intent.NONE, None),
    ("confirmed", Intent.NONE, None),
    ("", Intent.NONE, None),
    ("   ", Intent.NONE, None),
    ("👍", Intent.NONE, None),
    # opt-out
    ("STOP", Intent.OPT_OUT, "STOP"),
    ("stop", Intent.OPT_OUT, "STOP"),
    ("Stop please", Intent.OPT_OUT, "STOP"),
    ("STOP!!!", Intent.OPT_OUT, "STOP"),
    ("¡Stop!", Intent.OPT_OUT, "STOP"),
    ("🛑 stop", Intent.OPT_OUT, "STOP"),
    ("StopAll", Intent.OPT_OUT, "STOPALL"),
    ("unsubscribe", Intent.OPT_OUT, "UNSUBSCRIBE"),
    ("End.", Intent.OPT_OUT, "END"),
    ("quit", Intent.OPT_OUT, "QUIT"),
    ("Cancel my subscription", Intent.OPT_OUT, "CANCEL"),
    ("revoke", Intent.OPT_OUT, "REVOKE"),
    ("optout", Intent.OPT_OUT, "OPTOUT"),
    ("opt-out", Intent.OPT_OUT, "OPT-OUT"),
    ("Opt out", Intent.OPT_OUT, "OPT OUT"),
    ("OPT   OUT now", Intent.OPT_OUT, "OPT OUT"),
    ("ＳＴＯＰ", Intent.OPT_OUT, "STOP"),
    # traps that must not opt out
    ("stopwatch", Intent.NONE, None),
    ("weekend", Intent.NONE, None),
    ("ending", Intent.NONE, None),
    ("Don't stop", Intent.NONE, None),
    ("opt", Intent.NONE, None),
    ("option", Intent.NONE, None),
    ("cancellation", Intent.NONE, None),
    ("quite", Intent.NONE, None),
    # opt back in
    ("START", Intent.OPT_IN, "START"),
    ("start.", Intent.OPT_IN, "START"),
    ("Unstop", Intent.OPT_IN, "UNSTOP"),
    ("started", Intent.NONE, None),
    # help
    ("HELP", Intent.HELP, "HELP"),
    ("help?", Intent.HELP, "HELP"),
    ("Info", Intent.HELP, "INFO"),
    ("information", Intent.NONE, None),
    ("helpful", Intent.NONE, None),
]


def test_table_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("body", "intent", "keyword"), CASES, ids=[repr(c[0]) for c in CASES])
def test_leading_word_is_matched_exactly(body, intent, keyword):
    match = MATCHER.match(body)
    assert (match.intent, match.keyword) == (intent, keyword)


def test_configured_keywords_replace_the_defaults():
    matcher = KeywordMatcher(confirm=("JOIN", "SI"), opt_out=("BAJA",), opt_in=("ALTA",), help_=("AYUDA",))
    assert matcher.match("join now").intent == Intent.CONFIRM
    assert matcher.match("Sí").intent == Intent.CONFIRM  # accents are folded
    assert matcher.match("baja").intent == Intent.OPT_OUT
    assert matcher.match("yes").intent == Intent.NONE
    assert matcher.match("joined").intent == Intent.NONE


def test_opt_out_wins_when_sets_overlap():
    matcher = KeywordMatcher(confirm=("END",), opt_out=("END",), opt_in=(), help_=())
    assert matcher.match("end").intent == Intent.OPT_OUT


def test_longest_keyword_wins():
    matcher = KeywordMatcher(confirm=("OPT",), opt_out=("OPT OUT",), opt_in=(), help_=())
    assert matcher.match("opt out").intent == Intent.OPT_OUT
    assert matcher.match("opt in").intent == Intent.CONFIRM


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("STOP\nThanks", Intent.OPT_OUT),
        ("STOP\r\nThanks", Intent.OPT_OUT),
        ("YES\n\nSent from my iPhone", Intent.CONFIRM),
        ("yes\tplease", Intent.CONFIRM),
        ("YES\u2028Sent from my phone", Intent.CONFIRM),  # line separator
        ("YES\x85thanks", Intent.CONFIRM),  # next line (a control character)
        ("HELP\x00", Intent.HELP),
    ],
)
def test_control_characters_and_line_breaks_separate_words(body, intent):
    assert MATCHER.match(body).intent == intent
