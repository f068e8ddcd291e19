"""The SMS texts, rendered from configurable templates."""

from __future__ import annotations

from optin.consent import Reply
from optin.settings import Settings


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, settings: Settings, **values: str) -> str:
    """Fill ``{brand}``, ``{frequency}``, ``{help_url}``, ``{signup_url}`` and ``values``; unknown
    placeholders become empty rather than failing a send."""
    fields = _Blank(settings.text_fields())
    fields.update(values)
    return " ".join(template.format_map(fields).split())


def confirmation_text(settings: Settings) -> str:
    return render(settings.confirmation_template, settings)


def reply_text(reply: Reply, settings: Settings) -> str:
    template = {
        Reply.WELCOME: settings.welcome_template,
        Reply.HELP: settings.help_template,
        Reply.OPT_OUT: settings.opt_out_template,
        Reply.ALREADY_CONFIRMED: settings.already_confirmed_template,
        Reply.SIGNUP: settings.signup_template,
    }[reply]
    return render(template, settings)
