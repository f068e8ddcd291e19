"""The SMS texts, rendered from configurable templates in the contact's language (en, es, fr)."""

from __future__ import annotations

from optin.consent import Reply
from optin.languages import DEFAULT_LANGUAGE
from optin.settings import Settings

# The text each reply sends (a name of settings.TEXT_NAMES).
REPLY_TEXTS = {
    Reply.WELCOME: "welcome",
    Reply.HELP: "help",
    Reply.OPT_OUT: "opt_out",
    Reply.ALREADY_CONFIRMED: "already_confirmed",
    Reply.SIGNUP: "signup",
    Reply.NUDGE: "nudge",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, settings: Settings, language: str = DEFAULT_LANGUAGE, **values: str) -> str:
    """Fill ``{brand}``, ``{frequency}`` (in ``language``), ``{help_url}``, ``{signup_url}`` and
    ``values``; unknown placeholders become empty rather than failing a send."""
    fields = _Blank(settings.text_fields(language))
    fields.update(values)
    return " ".join(template.format_map(fields).split())


def confirmation_text(settings: Settings, language: str = DEFAULT_LANGUAGE) -> str:
    return render(settings.template("confirmation", language), settings, language)


def reply_text(reply: Reply, settings: Settings, language: str = DEFAULT_LANGUAGE) -> str:
    return render(settings.template(REPLY_TEXTS[reply], language), settings, language)


def consent_text_version(settings: Settings, language: str) -> str:
    """The consent text a person agreed to: the configured version and the language it was shown in."""
    return f"{settings.consent_text_version}:{language}"
