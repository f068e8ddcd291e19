"""The classification rules (issue 11) at the classifier: a table of bodies covering every rule and each
exception, their case, Unicode, emoji and signature variants, and messages of 1,600 characters.

Each row says what a person meant: the intent, which rule must see it, and the language it tells.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin.inbound import matcher_for
from optin.keywords import FILLERS, Intent, KeywordMatcher, Rule, parse_pattern
from optin.settings import DEFAULT_KEYWORD_EXCEPTIONS, Settings, SettingsError

MATCHER = matcher_for(Settings())
OUT, YES, HELP, START, NONE = Intent.OPT_OUT, Intent.CONFIRM, Intent.HELP, Intent.OPT_IN, Intent.NONE
LEAD, WORD, PHRASE, OBF, NO_RULE = (
    Rule.LEADING_KEYWORD,
    Rule.REVOCATION_WORD,
    Rule.PHRASE,
    Rule.OBFUSCATION,
    Rule.NONE,
)

# (body, intent, rule, language)
TABLE = [
    # -- the examples ------------------------------------------------------------------------------
    ("STOP\nThanks", OUT, LEAD, "en"),
    ("YES\n\nSent from my iPhone", YES, LEAD, "en"),
    ("ARRET", OUT, LEAD, "fr"),
    ("REMOVE", OUT, LEAD, "en"),
    ("TD", OUT, LEAD, None),
    ("STOP ALL", OUT, LEAD, "en"),
    ("please stop", OUT, WORD, "en"),
    ("Please STOP", OUT, WORD, "en"),
    ("Who is this? Stop texting me", OUT, WORD, "en"),
    ("Wrong number, stop", OUT, WORD, "en"),
    ("I want to cancel", OUT, WORD, "en"),
    ("I revoke my consent", OUT, WORD, "en"),
    ("I want to opt out", OUT, WORD, "en"),
    ("Please unsubscribe me", OUT, WORD, "en"),
    ("<b>STOP</b>", OUT, WORD, "en"),
    ("HELP STOP", OUT, WORD, "en"),
    ("Take me off your list", OUT, PHRASE, "en"),
    ("No more texts", OUT, PHRASE, "en"),
    ("Do not text me", OUT, PHRASE, "en"),
    ("Don't text me again", OUT, PHRASE, "en"),
    ("Remove me", OUT, LEAD, "en"),
    ("unsub", OUT, PHRASE, "en"),
    ("wrong number", OUT, PHRASE, "en"),
    ("Leave me alone", OUT, PHRASE, "en"),
    ("ALTO", OUT, LEAD, "es"),
    ("PARAR", OUT, LEAD, "es"),
    ("BAJA", OUT, LEAD, "es"),
    ("CANCELAR", OUT, LEAD, "es"),
    ("ARRÊT", OUT, LEAD, "fr"),
    ("ARRÊTER", OUT, LEAD, "fr"),
    ("DÉSABONNER", OUT, LEAD, "fr"),
    ("YES STOP", OUT, WORD, "en"),
    ("yes, stop texting me", OUT, WORD, "en"),
    ("OK", NONE, NO_RULE, None),
    ("Yeah", NONE, NO_RULE, None),
    ("sure", NONE, NO_RULE, None),
    ("👍", NONE, NO_RULE, None),
    ("si", YES, LEAD, "es"),
    ("oui", YES, LEAD, "fr"),
    # -- leading keywords ----------------------------------------------------------------------------------
    ("Stop", OUT, LEAD, "en"),
    ("STOP!!!", OUT, LEAD, "en"),
    ("stop.", OUT, LEAD, "en"),
    ("StopAll", OUT, LEAD, "en"),
    ("Stop all messages", OUT, LEAD, "en"),
    ("End", OUT, LEAD, "en"),
    ("QUIT", OUT, LEAD, "en"),
    ("Cancel my subscription", OUT, LEAD, "en"),
    ("Revoke", OUT, LEAD, "en"),
    ("optout", OUT, LEAD, "en"),
    ("Opt-out", OUT, LEAD, "en"),
    ("opt out please", OUT, LEAD, "en"),
    ("remove", OUT, LEAD, "en"),
    ("td", OUT, LEAD, None),
    ("Alto!", OUT, LEAD, "es"),
    ("Pare", OUT, LEAD, "es"),
    ("baja por favor", OUT, LEAD, "es"),
    ("Arrêter svp", OUT, LEAD, "fr"),
    ("arret", OUT, LEAD, "fr"),
    ("Désabonner", OUT, LEAD, "fr"),
    ("Arrêtez de m'envoyer des messages", OUT, LEAD, "fr"),
    ("YES", YES, LEAD, "en"),
    ("Yes!", YES, LEAD, "en"),
    ("yes please", YES, LEAD, "en"),
    ("Y", YES, LEAD, "en"),
    ("y.", YES, LEAD, "en"),
    ("CONFIRM", YES, LEAD, "en"),
    ("Confirm!", YES, LEAD, "en"),
    ("SÍ", YES, LEAD, "es"),
    ("Sí, confirmo", YES, LEAD, "es"),
    ("SI", YES, LEAD, "es"),
    ("OUI", YES, LEAD, "fr"),
    ("Oui merci", YES, LEAD, "fr"),
    ("HELP", HELP, LEAD, "en"),
    ("help?", HELP, LEAD, "en"),
    ("Info", HELP, LEAD, "en"),
    ("AYUDA", HELP, LEAD, "es"),
    ("ayuda por favor", HELP, LEAD, "es"),
    ("AIDE", HELP, LEAD, "fr"),
    ("aide svp", HELP, LEAD, "fr"),
    ("START", START, LEAD, "en"),
    ("Unstop", START, LEAD, "en"),
    # -- revocation words anywhere -------------------------------------------------------------------------
    ("Can you stop", OUT, WORD, "en"),
    ("I said STOP", OUT, WORD, "en"),
    ("ok stop now", OUT, WORD, "en"),
    ("Why won't this end", OUT, WORD, "en"),
    ("I quit", OUT, WORD, "en"),
    ("please cancel", OUT, WORD, "en"),
    ("How do I unsubscribe?", OUT, WORD, "en"),
    ("I'd like to optout", OUT, WORD, "en"),
    ("I'd like to opt-out", OUT, WORD, "en"),
    ("Thanks but stop", OUT, WORD, "en"),
    ("Hi, STOP", OUT, WORD, "en"),
    ("Y stop", OUT, WORD, "en"),
    ("CONFIRM? no, stop", OUT, WORD, "en"),
    ("START STOP", OUT, WORD, "en"),
    ("INFO then cancel", OUT, WORD, "en"),
    ("Quiero darme de baja", OUT, WORD, "es"),
    ("Por favor, alto", OUT, WORD, "es"),
    ("Quiero cancelar", OUT, WORD, "es"),
    ("Hay que parar esto", OUT, WORD, "es"),
    ("sí, baja", OUT, WORD, "es"),
    ("Merci d'arrêter", OUT, WORD, "fr"),
    ("Je veux me désabonner", OUT, WORD, "fr"),
    ("oui arrêtez", OUT, WORD, "fr"),
    ("Pouvez-vous arrêter", OUT, WORD, "fr"),
    ("Veuillez me désinscrire", OUT, WORD, "fr"),
    ("AIDE ARRET", OUT, WORD, "fr"),
    ("No, stop", OUT, WORD, "en"),  # a comma: not the negation "no stop"
    ("Don't. Stop.", OUT, WORD, "en"),  # the negation does not reach across the full stop
    ("Don't\nstop", OUT, WORD, "en"),  # nor across a line break
    ("I can't stop laughing but please stop texting me", OUT, WORD, "en"),
    # -- phrases -------------------------------------------------------------------------------------------
    ("Please take me off this list", OUT, PHRASE, "en"),
    ("Take my number off your list", OUT, PHRASE, "en"),
    ("Remove my number from your list", OUT, LEAD, "en"),
    ("please remove my number", OUT, PHRASE, "en"),
    ("Delete my number", OUT, PHRASE, "en"),
    ("no more messages please", OUT, PHRASE, "en"),
    ("NO MORE SPAM", OUT, PHRASE, "en"),
    ("Never text me again", OUT, PHRASE, "en"),
    ("Don't ever text me", OUT, PHRASE, "en"),
    ("Do not contact me", OUT, PHRASE, "en"),
    ("dont message me", OUT, PHRASE, "en"),
    ("I don't want these texts", OUT, PHRASE, "en"),
    ("I do not want to receive texts", OUT, PHRASE, "en"),
    ("Not interested", OUT, PHRASE, "en"),
    ("I'm no longer interested", OUT, PHRASE, "en"),
    ("I never signed up for this", OUT, PHRASE, "en"),
    ("I didn't ask for this", OUT, PHRASE, "en"),
    ("You have the wrong number", OUT, PHRASE, "en"),
    ("Wrong person", OUT, PHRASE, "en"),
    ("opt me out", OUT, PHRASE, "en"),
    ("unsubscribed", OUT, PHRASE, "en"),
    ("unsubcribe", OUT, PHRASE, "en"),  # a misspelling
    ("This is spam", OUT, PHRASE, "en"),
    ("go away", OUT, PHRASE, "en"),
    ("Lose my number", OUT, PHRASE, "en"),
    ("I will block you", OUT, PHRASE, "en"),
    ("No", OUT, PHRASE, "en"),
    ("NO!", OUT, PHRASE, "en"),
    ("Nope", OUT, PHRASE, "en"),
    ("No thanks", OUT, PHRASE, "en"),
    ("No, thank you.", OUT, PHRASE, "en"),
    ("No\n\nSent from my iPhone", OUT, PHRASE, "en"),
    ("No más mensajes", OUT, PHRASE, "es"),
    ("No me envíen más mensajes", OUT, PHRASE, "es"),
    ("Ya no quiero recibir nada", OUT, PHRASE, "es"),
    ("Dejen de enviarme mensajes", OUT, PHRASE, "es"),
    ("Déjame en paz", OUT, PHRASE, "es"),
    ("Sácame de la lista", OUT, PHRASE, "es"),
    ("Número equivocado", OUT, PHRASE, "es"),
    ("No me interesa", OUT, PHRASE, "es"),
    ("No gracias", OUT, PHRASE, "es"),
    ("Ya basta", OUT, PHRASE, "es"),
    ("Do not contact", OUT, PHRASE, "en"),
    ("Please don't text", OUT, PHRASE, "en"),
    ("stpo", OUT, PHRASE, "en"),  # a typo of STOP
    ("Nah I'm good", OUT, PHRASE, "en"),
    ("I want out", OUT, PHRASE, "en"),
    ("Get me out of this list", OUT, PHRASE, "en"),
    ("Cancelled", OUT, PHRASE, "en"),
    ("canceled.", OUT, PHRASE, "en"),
    ("Cease and desist", OUT, PHRASE, "en"),
    ("Desist", OUT, PHRASE, "en"),
    ("Stopping", OUT, PHRASE, "en"),
    ("Stopping by the store later", NONE, NO_RULE, None),  # "stopping" counts only as the whole reply
    ("Para", OUT, PHRASE, "es"),  # only as the whole reply: "para" is also "for"
    ("Para qué es esto?", NONE, NO_RULE, None),
    ("No quiero", OUT, PHRASE, "es"),
    ("Basta de mensajes", OUT, PHRASE, "es"),
    ("Desuscribir", OUT, PHRASE, "es"),  # alone: the word needs no "de baja" after it
    ("desuscribirme por favor", OUT, PHRASE, "es"),
    ("Quiero darme de baja de la lista", OUT, WORD, "es"),
    ("Fichez-moi la paix", OUT, PHRASE, "fr"),
    ("Vous vous êtes trompé de numéro", OUT, PHRASE, "fr"),
    ("Cessez", OUT, PHRASE, "fr"),
    ("Gracias", NONE, NO_RULE, None),
    ("Merci!", NONE, NO_RULE, None),
    ("No problem", NONE, NO_RULE, None),
    ("Plus de messages svp", OUT, PHRASE, "fr"),
    ("Ne m'envoyez plus de messages", OUT, PHRASE, "fr"),
    ("Laissez-moi tranquille", OUT, PHRASE, "fr"),
    ("Retirez-moi de votre liste", OUT, PHRASE, "fr"),
    ("Mauvais numéro", OUT, PHRASE, "fr"),
    ("Je ne suis pas intéressé", OUT, PHRASE, "fr"),
    ("Ça ne m'intéresse pas", OUT, PHRASE, "fr"),
    ("Non merci", OUT, PHRASE, "fr"),
    # -- obfuscations --------------------------------------------------------------------------------------
    ("S T O P", OUT, OBF, "en"),
    ("s.t.o.p", OUT, OBF, "en"),
    ("S-T-O-P", OUT, OBF, "en"),
    ("S T 0 P", OUT, OBF, "en"),
    ("P L E A S E  S T O P", OUT, OBF, "en"),
    ("S T O P P L E A S E", OUT, OBF, "en"),
    ("ST OP", OUT, OBF, "en"),
    ("un subscribe", OUT, OBF, "en"),
    ("st0p", OUT, OBF, "en"),
    ("$TOP", OUT, OBF, "en"),
    ("STOOOOP", OUT, OBF, "en"),
    ("stopppp please", OUT, OBF, "en"),
    ("ＳＴＯＰ", OUT, OBF, "en"),  # full-width
    ("ｐｌｅａｓｅ ｓｔｏｐ", OUT, OBF, "en"),
    ("\u0405\u0422\u041e\u0420", OUT, OBF, "en"),  # Cyrillic capitals
    ("\u0455\u0442\u043e\u0440", OUT, OBF, "en"),  # Cyrillic small letters
    ("ST\u039fP", OUT, OBF, "en"),  # a Greek capital omicron
    ("\u0392\u0391\u0408\u0391", OUT, OBF, "es"),  # BAJA in Greek and Cyrillic capitals
    ("\ua731\u1d1b\u1d0f\u1d18", OUT, OBF, "en"),  # small capitals
    ("𝐒𝐓𝐎𝐏", OUT, OBF, "en"),  # mathematical bold
    ("ⓢⓣⓞⓟ", OUT, OBF, "en"),  # circled letters
    ("🆂🆃🅾🅿", OUT, OBF, "en"),  # negative squared letters
    ("🇸🇹🇴🇵", OUT, OBF, "en"),  # regional indicators
    ("S<b></b>TOP", OUT, OBF, "en"),
    ("<b>S</b>TOP", OUT, OBF, "en"),
    ("&#83;&#84;&#79;&#80;", OUT, OBF, "en"),
    ("S\u200bTOP please", OUT, LEAD, "en"),  # an invisible space inside a word is dropped
    ("STOP\u200bplease", OUT, OBF, "en"),  # and read as a space when it glues two words
    ("🛑", OUT, OBF, None),
    ("🛑🛑🛑", OUT, OBF, None),
    ("⛔", OUT, OBF, None),
    ("🚫 🚫", OUT, OBF, None),
    ("🛑 thanks", OUT, OBF, "en"),
    ("Thanks 🛑", OUT, OBF, "en"),
    ("YES 🛑", OUT, OBF, "en"),  # opt-out wins here too
    ("S T O P  T E X T I N G", OUT, OBF, "en"),
    ("Ｙ Ｅ Ｓ", YES, OBF, "en"),
    ("ＹＥＳ", YES, OBF, "en"),
    ("yes\u200bplease", YES, OBF, "en"),
    ("<p>YES</p>", YES, OBF, "en"),
    ("ＨＥＬＰ", HELP, OBF, "en"),
    # -- exceptions: plainly negated, or part of an unrelated phrase -----------------------------------------
    ("Don't stop", NONE, NO_RULE, None),
    ("dont stop!", NONE, NO_RULE, None),
    ("Do not stop sending these", NONE, NO_RULE, None),
    ("can't stop", NONE, NO_RULE, None),
    ("I cannot stop smiling", NONE, NO_RULE, None),
    ("never stop", NONE, NO_RULE, None),
    ("won't stop me", NONE, NO_RULE, None),
    ("Please don't ever stop", NONE, NO_RULE, None),
    ("Don't cancel my subscription", NONE, NO_RULE, None),
    ("don't unsubscribe me", NONE, NO_RULE, None),
    ("Never quit", NONE, NO_RULE, None),
    ("I'll stop by tomorrow", NONE, NO_RULE, None),
    ("See you at the bus stop", NONE, NO_RULE, None),
    ("Non-stop deals!", NONE, NO_RULE, None),
    ("At the end of the day it's fine", NONE, NO_RULE, None),
    ("See you at the end", NONE, NO_RULE, None),
    ("You'll end up liking it", NONE, NO_RULE, None),
    ("End-to-end encrypted?", NONE, NO_RULE, None),
    ("A high-end store", NONE, NO_RULE, None),
    ("No pares", NONE, NO_RULE, None),
    ("no cancelar", NONE, NO_RULE, None),
    ("No me des de baja", NONE, NO_RULE, None),
    ("Trabajo sin parar", NONE, NO_RULE, None),
    ("Vivo en Baja California", NONE, NO_RULE, None),
    ("Baja California", NONE, NO_RULE, None),
    ("Nuestra oficina en Palo Alto", NONE, NO_RULE, None),
    ("N'arrêtez pas", NONE, NO_RULE, None),
    ("Il pleut sans arrêt", NONE, NO_RULE, None),
    ("Yes, don't stop!", YES, LEAD, "en"),
    ("YES never stop", YES, LEAD, "en"),
    # -- whole words only, and replies nobody should read as a keyword ----------------------------------------
    ("stopwatch", NONE, NO_RULE, None),
    ("Unstoppable", NONE, NO_RULE, None),
    ("weekend", NONE, NO_RULE, None),
    ("endless fun", NONE, NO_RULE, None),
    ("cancellation policy?", NONE, NO_RULE, None),
    ("quite good", NONE, NO_RULE, None),
    ("yesterday", NONE, NO_RULE, None),
    ("eyes", NONE, NO_RULE, None),
    ("yess", NONE, NO_RULE, None),
    ("I said yes", NONE, NO_RULE, None),
    ("Yep", NONE, NO_RULE, None),
    ("Okay", NONE, NO_RULE, None),
    ("ok 👍", NONE, NO_RULE, None),
    ("Who is this?", NONE, NO_RULE, None),
    ("Thanks!", NONE, NO_RULE, None),
    ("vale", NONE, NO_RULE, None),
    ("D'accord", NONE, NO_RULE, None),
    ("helpful", NONE, NO_RULE, None),
    ("information", NONE, NO_RULE, None),
    ("started", NONE, NO_RULE, None),
    ("", NONE, NO_RULE, None),
    ("   ", NONE, NO_RULE, None),
    ("😀😀", NONE, NO_RULE, None),
    ("<3", NONE, NO_RULE, None),
    ("Yes no", YES, LEAD, "en"),  # "no" is a refusal only as the whole message
    # -- a reply quoting our text: the quote is ours ("STOP to cancel"), not theirs ---------------------------
    (
        "YES\n> ExampleCorp: Thanks for signing up! Reply YES to confirm, HELP for help, STOP to cancel.",
        YES,
        LEAD,
        "en",
    ),
    (
        "Oui\n\nLe 2 déc. 2026, ExampleCorp a écrit :\nRépondez OUI pour confirmer, STOP pour annuler.",
        YES,
        LEAD,
        "fr",
    ),
    ("Yes\nOn Mon, Nov 23, 2026 at 9:00 AM ExampleCorp wrote:\nReply STOP to cancel", YES, LEAD, "en"),
    ("stop\n> Reply YES to confirm", OUT, LEAD, "en"),
    (">:( stop texting me", OUT, LEAD, "en"),  # an emoticon is not a quote
    ("> STOP", OUT, LEAD, "en"),  # nothing but a quote: read as it is
]


@pytest.mark.parametrize(("body", "intent", "rule", "language"), TABLE, ids=[repr(row[0]) for row in TABLE])
def test_table(body, intent, rule, language):
    match = MATCHER.match(body)
    assert (match.intent, match.rule, match.language) == (intent, rule, language)
    assert (match.keyword is None) == (intent == NONE)


def test_the_table_covers_every_rule_intent_and_language_with_over_200_bodies():
    assert len(TABLE) + len(VARIANT_BODIES) >= 200
    assert {row[2] for row in TABLE} == set(Rule)
    assert {row[1] for row in TABLE} == set(Intent)
    assert {row[3] for row in TABLE} == {"en", "es", "fr", None}


# -- variants: case, Unicode, emoji, signatures --------------------------------------------------------------
SIGNATURES = (
    "\n\nSent from my iPhone",
    "\n--\nJohn Doe",
    "\r\n\r\nEnviado desde mi iPhone",
    "\nEnvoyé de mon iPhone",
    "\n\nGet Outlook for Android",
)


def _variants(body: str) -> list[str]:
    spaced = body.replace(" ", "\u00a0")  # no-break spaces
    return [
        body.upper(),
        body.lower(),
        body.swapcase(),
        "  " + body + "  ",
        "🙏 " + body,
        body + " 😡😡",
        body + "!!! 🙏🏽",
        "\u200b" + body + "\u200b",  # zero-width spaces around
        spaced,
        "\t" + body + "\n",
        *(body + signature for signature in SIGNATURES),
    ]


VARIANT_ROWS = [row for row in TABLE if row[0].strip() and row[2] != OBF and row[1] != NONE]
VARIANT_BODIES = [(variant, row[1]) for row in VARIANT_ROWS for variant in _variants(row[0])]


@pytest.mark.parametrize(("body", "intent"), VARIANT_BODIES, ids=[repr(v[0]) for v in VARIANT_BODIES])
def test_case_unicode_emoji_and_signature_variants_keep_their_intent(body, intent):
    assert MATCHER.match(body).intent == intent


@pytest.mark.parametrize("body", [row[0] for row in TABLE if row[1] == NONE and row[0].strip()])
def test_variants_of_what_is_not_a_keyword_stay_so(body):
    for variant in _variants(body):
        assert MATCHER.match(variant).intent == NONE, variant


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("Stóp", OUT),  # accents are dropped
        ("ÇANCEL", OUT),
        ("Yés", YES),
        ("S\u0336T\u0336O\u0336P\u0336", OUT),  # struck through with combining marks
        ("sto\u0301p please", OUT),
        ("ＹＥＳ\u3000please", YES),  # ideographic space
        ("HELP\u2028STOP", OUT),  # a line separator between two words
        ("ｓｔｏｐ", OUT),
        ("Ѕtop", OUT),  # one Cyrillic letter
        ("no cancelen", NONE),  # an exception spares a phrase too
        ("cancelen", OUT),
    ],
)
def test_unicode_forms(body, intent):
    assert MATCHER.match(body).intent == intent


# -- 1,600 characters (a concatenated message at its longest) ------------------------------------------------
FILLER = "I love the outdoors and I read every one of your updates about trails and gear. "


def long_body(head: str = "", tail: str = "", middle: str = "") -> str:
    room = 1600 - len(head) - len(tail) - len(middle)
    text = (FILLER * 30)[:room]
    half = len(text) // 2
    body = head + text[:half] + middle + text[half:] + tail
    assert len(body) == 1600
    return body


@pytest.mark.parametrize(
    ("body", "intent", "rule"),
    [
        (long_body(head="STOP "), OUT, LEAD),
        (long_body(tail=" stop"), OUT, WORD),
        (long_body(middle=" please unsubscribe me. "), OUT, WORD),
        (long_body(middle=" take me off your list. "), OUT, PHRASE),
        (long_body(middle=" S T O P "), OUT, OBF),
        (long_body(head="YES ", tail=" STOP"), OUT, WORD),
        (long_body(head="YES "), YES, LEAD),
        (long_body(head="HELP "), HELP, LEAD),
        (long_body(), NONE, NO_RULE),
        (long_body(middle=" don't stop! "), NONE, NO_RULE),
        (long_body(head="Ｂａｊａ ", middle=" 🛑 "), OUT, OBF),
        (long_body(head="No "), NONE, NO_RULE),  # "no" opts out only as the whole reply
    ],
    ids=lambda value: value if isinstance(value, Intent | Rule) else f"{len(value)} chars",
)
def test_messages_of_1600_characters(body, intent, rule):
    match = MATCHER.match(body)
    assert (match.intent, match.rule) == (intent, rule)


def test_1600_characters_of_disguises_are_classified_quickly():
    import time

    bodies = [
        ("S T O P " * 200)[:1600],
        ("ѕтор " * 320)[:1600],
        ("<i>s</i>t<i>o</i>p " * 80)[:1600],
        "🛑" * 800,
    ]
    quiet = [("a b c d e f " * 140)[:1600], ("ok " * 540)[:1600], ("st op " * 270)[:1600].replace("op", "ep")]
    started = time.perf_counter()
    for body in bodies:
        assert MATCHER.match(body).intent == OUT
    for body in quiet:
        assert MATCHER.match(body).intent == NONE
    assert time.perf_counter() - started < 2.0


# -- the exception list: one place, each entry tested ----------------------------------------------------------
def _examples(slots: tuple[frozenset[str], ...]) -> list[str]:
    """Every wording an exception pattern stands for."""
    return [" ".join(words) for words in itertools.product(*(sorted(slot) for slot in slots))]


EXCEPTION_EXAMPLES = [
    example
    for entry in DEFAULT_KEYWORD_EXCEPTIONS
    for slots in parse_pattern(entry)[1]
    for example in _examples(slots)
]


@pytest.mark.parametrize("body", EXCEPTION_EXAMPLES)
def test_every_exception_excuses_its_revocation_word_and_nothing_else(body):
    assert MATCHER.match(body).intent != OUT
    without = KeywordMatcher(
        (),
        Settings().opt_out_keywords,
        (),
        (),
        revocation_words=Settings().revocation_words,
        phrases=Settings().revocation_phrases,
    )
    assert without.match(body).intent == OUT  # it is the exception that spares this body
    broken = body.replace(" ", ". ", 1)  # punctuation between its words: no longer the exception
    assert MATCHER.match(broken).intent == OUT, broken


def test_the_exception_list_is_small_and_is_the_settings_default():
    assert len(EXCEPTION_EXAMPLES) < 80
    assert Settings().keyword_exceptions == DEFAULT_KEYWORD_EXCEPTIONS
    for wording in ("dont stop", "cant stop", "never stop", "wont stop"):  # the issue's own
        assert wording in EXCEPTION_EXAMPLES


def test_fillers_never_turn_a_revocation_into_an_exception():
    assert "stop" not in FILLERS and not FILLERS & {"dont", "never", "cant"}
    assert MATCHER.match("don't please stop").intent == NONE  # a filler inside the exception
    assert MATCHER.match("don't, please, stop").intent == OUT


# -- opt-out wins ----------------------------------------------------------------------------------------------
OTHER_KEYWORDS = [*Settings().confirm_keywords, *Settings().help_keywords, *Settings().opt_in_keywords]
REVOCATIONS = ["stop", "cancel", "unsubscribe", "baja", "arrêtez", "take me off your list", "S T O P", "🛑"]


@pytest.mark.parametrize("keyword", OTHER_KEYWORDS)
def test_opt_out_wins_over_every_other_keyword_in_the_same_message(keyword):
    for revocation in REVOCATIONS:
        for body in (f"{keyword} {revocation}", f"{keyword}, {revocation}!", f"{keyword}\n{revocation}"):
            assert MATCHER.match(body).intent == OUT, body


@settings(max_examples=300, deadline=None)
@given(
    middle=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
    keyword=st.sampled_from(["YES", "Y", "SI", "OUI", "CONFIRM", "START", "HELP"]),
    revocation=st.sampled_from(
        ["STOP", "cancel", "quit", "unsubscribe", "opt out", "alto", "arrêter", "end"]
    ),
)
def test_a_body_containing_a_revocation_never_confirms(middle, keyword, revocation):
    match = MATCHER.match(f"{keyword} {middle}. {revocation}")
    assert match.intent == OUT
    assert match.rule != NO_RULE


# -- configuration ---------------------------------------------------------------------------------------------
def test_the_optional_rules_can_be_turned_off_but_the_leading_keyword_stays():
    leading_only = matcher_for(Settings.from_env({"REVOCATION_RULES": "none"}))
    assert leading_only.match("STOP").intent == OUT
    for body in ("please stop", "take me off your list", "S T O P"):
        assert leading_only.match(body).intent == NONE
    words_only = matcher_for(Settings.from_env({"REVOCATION_RULES": "revocation_word"}))
    assert words_only.match("please stop").rule == WORD
    assert words_only.match("take me off your list").intent == NONE


def test_words_phrases_exceptions_and_languages_are_configurable():
    settings = Settings.from_env(
        {
            "REVOCATION_WORDS": "HALT,STOP",
            "REVOCATION_PHRASES": "enough already,=nein",
            "KEYWORD_EXCEPTIONS": "don't halt",
            "OPT_OUT_KEYWORDS": "STOP,BASTA:es",
            "CONFIRM_KEYWORDS": "YES,JA:en",
        }
    )
    matcher = matcher_for(settings)
    assert matcher.match("please halt").rule == WORD
    assert matcher.match("don't halt").intent == NONE
    assert matcher.match("don't stop").intent == OUT  # the default exceptions were replaced
    assert matcher.match("ok enough already").rule == PHRASE
    assert matcher.match("Nein!").intent == OUT and matcher.match("nein danke").intent == NONE
    basta = matcher.match("Basta")
    assert (basta.intent, basta.keyword, basta.language) == (OUT, "BASTA", "es")
    assert matcher.match("ja").language == "en"  # a tag wins over the default's
    assert settings.opt_out_keywords == ("STOP", "BASTA")  # the lists hold the keywords without tags
    assert matcher_for(settings).match("alto").intent == NONE  # not configured any more


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REVOCATION_RULES": "phrases"}, "REVOCATION_RULES"),
        ({"OPT_OUT_KEYWORDS": "STOP,HALT:de"}, "OPT_OUT_KEYWORDS"),
        ({"REVOCATION_PHRASES": "👍"}, "REVOCATION_PHRASES"),
        ({"DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
        ({"NUDGE_TEMPLATE": "{brand} {oops}"}, "NUDGE_TEMPLATE"),
        ({"NUDGE_UNRECOGNIZED": "maybe"}, "NUDGE_UNRECOGNIZED"),
    ],
)
def test_bad_keyword_settings_fail_with_the_variable_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_docs_state_the_rules_and_every_exception():
    from pathlib import Path

    page = Path(__file__).resolve().parents[1].joinpath("docs", "how-it-works.md").read_text("utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| Keyword matching |"))
    text = row.replace("\\|", "|").lower()
    for entry in DEFAULT_KEYWORD_EXCEPTIONS:
        assert f"`{entry.lower()}`" in text, entry
    for rule in Rule:
        assert f"`{rule.value}`" in text, rule
