"""Form friction against bots: a honeypot field and a minimum fill time, proven by a signed token.

The form asks ``GET /form-token`` when the page loads: the token is the issue time, signed with the
stack's secret (HMAC-SHA256), so the time cannot be forged. ``POST /register`` then reads two optional
body fields the tutorial's body does not have:

* ``website``: hidden from people; a value means a bot filled every field it saw;
* ``formToken``: a token younger than the minimum fill time means nobody typed the form.

Either way the caller gets the usual 202 and nothing is stored or sent: a bot learns nothing. A token
that is forged counts the same; one that is too old (a page left open for a day) counts as no token.
Without a token the body is taken as the tutorial's API body, unless ``REQUIRE_FORM_TOKEN`` says every
submission must come from our own form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from optin.observability import count
from optin.settings import Settings

VERSION = "v1"
HONEYPOT_FIELD = "website"
TOKEN_FIELD = "formToken"  # noqa: S105 -- a field name, not a secret
MAX_TOKEN_LENGTH = 120


class TokenVerdict(StrEnum):
    PERSON = "person"  # signed by us, old enough to have been typed
    TOO_FAST = "too_fast"
    FORGED = "forged"  # not signed by us, or unreadable
    EXPIRED = "expired"


class FormTokenRequired(Exception):
    """This deployment takes submissions from its own form only, and this one has no valid token (400)."""


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(secret: bytes, now: datetime) -> str:
    payload = f"{VERSION}.{int(now.timestamp() * 1000)}"
    return f"{payload}.{_signature(secret, payload)}"


def judge(token: str, secret: bytes, now: datetime, min_fill: timedelta, max_age: timedelta) -> TokenVerdict:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION or not parts[1].isdigit() or len(token) > MAX_TOKEN_LENGTH:
        return TokenVerdict.FORGED
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _signature(secret, payload)):
        return TokenVerdict.FORGED
    age = now - datetime.fromtimestamp(int(parts[1]) / 1000, tz=now.tzinfo)
    if age < min_fill:
        return TokenVerdict.TOO_FAST  # a token from the future is too fast as well
    return TokenVerdict.EXPIRED if age > max_age else TokenVerdict.PERSON


class FormFriction:
    def __init__(
        self, settings: Settings, secret: Callable[[], bytes | None], clock: Callable[[], datetime]
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._clock = clock

    def token(self) -> str | None:
        """A fresh token for the form; None when no signing secret is configured."""
        secret = self._secret()
        return issue(secret, self._clock()) if secret else None

    def bot_sign(self, body: Any) -> str | None:
        """How the submission gives itself away as a bot (``honeypot``, ``too_fast``, ``forged``), or None.
        The caller then answers 202 and does nothing else. Raises FormTokenRequired when a token is
        required and this body has none that counts."""
        if not isinstance(body, dict):
            return None  # the body's own validation answers
        honeypot = body.get(HONEYPOT_FIELD)
        if honeypot not in (None, "", False):
            count("BotSubmission", reason="honeypot")
            return "honeypot"
        verdict = self._verdict(body.get(TOKEN_FIELD))
        if verdict in (TokenVerdict.TOO_FAST, TokenVerdict.FORGED):
            count("BotSubmission", reason=verdict.value)
            return verdict.value
        if verdict != TokenVerdict.PERSON and self._settings.require_form_token:
            raise FormTokenRequired()
        return None

    def _verdict(self, token: Any) -> TokenVerdict | None:
        if token is None or token == "":
            return None
        secret = self._secret()
        if secret is None:
            return None  # no tokens in this deployment: the field means nothing
        if not isinstance(token, str):
            return TokenVerdict.FORGED
        s = self._settings
        return judge(
            token,
            secret,
            self._clock(),
            timedelta(seconds=s.form_min_fill_seconds),
            timedelta(seconds=s.form_token_max_age_seconds),
        )
