"""WhatsApp Cloud API (Meta's Graph API) over HTTPS, with the access token from Secrets Manager.

``POST {base}/{version}/{phone-number-id}/messages`` with a JSON body and ``Authorization: Bearer``.
One urllib3 pool (keep-alive, as many connections as workers) is shared by the sending threads;
urllib3 ships with botocore, so it costs no import time and no extra dependency. The token is read
through Powertools parameters (cached for ``max_age``) and re-read once when the API answers 401.
Neither the token nor the request headers are ever logged.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import urllib3
from urllib3 import exceptions as http_errors

from optin.whatsapp.templates import PermanentSendError, TransientSendError

# Graph error codes that mean "slow down" or "try again", even when the HTTP status is 400.
TRANSIENT_GRAPH_CODES = frozenset(
    {
        1,  # API unknown: possibly a temporary issue
        2,  # API service: temporary downtime
        4,  # application request limit reached
        17,  # user request limit reached
        80007,  # WhatsApp Business Account rate limit
        130429,  # Cloud API throughput reached
        131000,  # something went wrong (generic, retryable)
        131016,  # service temporarily unavailable
        131056,  # too many messages to this recipient in a short time (pair rate limit)
    }
)
AUTH_GRAPH_CODES = frozenset({190})  # access token expired or invalid (sent with HTTP 401 or 400)
MAX_RETRY_AFTER = 60.0


class TokenUnavailable(Exception):
    """The token could not be read (missing secret, no permission, empty value)."""


class TokenSource(Protocol):
    def current(self) -> str: ...

    def refresh(self, rejected: str) -> str | None:
        """A token other than ``rejected`` (re-read from the store), or None when there is none."""
        ...


class StaticToken:
    """A fixed token: for the local sandbox and the benchmark, never for deployed functions."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    def refresh(self, rejected: str) -> str | None:
        return None if rejected == self._token else self._token


class SecretToken:
    """The token in a Secrets Manager secret (a plain string, or JSON with the token under ``field``),
    cached by a Powertools ``SecretsProvider`` for ``max_age`` seconds.

    ``refresh`` re-reads the secret when the API refused the cached token: once however many threads
    saw the 401 at the same time, and at most once per ``reread_interval`` for the same refused token,
    so a token that is simply wrong costs one refused request per message, not a secret read each.
    """

    def __init__(
        self,
        provider: Any,
        secret_id: str,
        field: str = "token",
        max_age: int = 300,
        reread_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret_id:
            raise TokenUnavailable("WHATSAPP_SECRET_ID is not set")
        self._provider = provider
        self._secret_id = secret_id
        self._field = field
        self._max_age = max_age
        self._reread_interval = reread_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._reread_for: dict[str, float] = {}  # refused token -> when it made us re-read the secret

    def _read(self, force: bool = False) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            raw = self._provider.get(self._secret_id, max_age=self._max_age, force_fetch=force)
        except GetParameterError as exc:
            # Name the AWS error, never the value.
            raise TokenUnavailable(
                f"cannot read the WhatsApp token secret: {type(exc.__cause__).__name__}"
            ) from exc
        if isinstance(raw, bytes):
            raw = raw.decode()
        token = str(raw or "").strip()
        if token.startswith("{"):
            try:
                token = str(json.loads(token).get(self._field) or "").strip()
            except (ValueError, AttributeError):
                token = ""
        if not token:
            raise TokenUnavailable(
                f"the WhatsApp token secret has no token (JSON key {self._field!r} or text)"
            )
        return token

    def current(self) -> str:
        with self._lock:  # a cold start with 32 threads reads the secret once, not 32 times
            return self._read()

    def refresh(self, rejected: str) -> str | None:
        with self._lock:
            token = self._read()
            if token != rejected:
                return token  # another thread re-read it already, or the cache moved on
            now = self._clock()
            last = self._reread_for.get(rejected)
            if last is not None and now - last < self._reread_interval:
                return None
            self._reread_for = {
                t: at for t, at in self._reread_for.items() if now - at < self._reread_interval
            }
            self._reread_for[rejected] = now
            token = self._read(force=True)
            return None if token == rejected else token


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date is treated as absent)."""
    if not value:
        return None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        return None


class GraphApiTransport:
    """WhatsAppTransport on the Cloud API."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        phone_number_id: str,
        token: TokenSource,
        *,
        pool_size: int = 32,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._token = token
        self._http = pool or urllib3.PoolManager(
            num_pools=2, maxsize=pool_size, block=False, retries=False, headers={"User-Agent": "sms-optin"}
        )

    def send(self, body: dict[str, Any], timeout: float) -> str:
        try:
            token = self._token.current()
        except TokenUnavailable as exc:
            raise TransientSendError("token_unavailable") from exc
        payload = json.dumps(body, separators=(",", ":")).encode()
        status, answer, retry_after = self._post(payload, token, timeout)
        if status == 401 or _error_code(answer) in AUTH_GRAPH_CODES:
            try:
                fresh = self._token.refresh(token)
            except TokenUnavailable as exc:
                raise TransientSendError("token_unavailable") from exc
            if fresh is None:
                raise PermanentSendError("unauthorized")
            status, answer, retry_after = self._post(payload, fresh, timeout)
            if status == 401 or _error_code(answer) in AUTH_GRAPH_CODES:
                raise PermanentSendError("unauthorized")
        return _message_id(status, answer, retry_after)

    def _post(self, payload: bytes, token: str, timeout: float) -> tuple[int, Any, float | None]:
        try:
            response = self._http.request(
                "POST",
                self.url,
                body=payload,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=urllib3.Timeout(total=timeout),
                redirect=False,
            )
        except http_errors.NewConnectionError as exc:  # before TimeoutError: urllib3 2 derives it from that
            raise TransientSendError("network_error") from exc
        except http_errors.TimeoutError as exc:
            raise TransientSendError("timeout") from exc
        except http_errors.HTTPError as exc:
            raise TransientSendError("network_error") from exc
        try:
            answer = json.loads(response.data or b"null")
        except ValueError:
            answer = None
        return response.status, answer, _retry_after(response.headers.get("Retry-After"))


def _error_code(answer: Any) -> int | None:
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        code = answer["error"].get("code")
        return code if isinstance(code, int) else None
    return None


def _message_id(status: int, answer: Any, retry_after: float | None) -> str:
    """The message id of a 2xx answer; otherwise raise the matching SendError."""
    if 200 <= status < 300:
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if (
            isinstance(messages, list)
            and messages
            and isinstance(messages[0], dict)
            and messages[0].get("id")
        ):
            return str(messages[0]["id"])
        raise PermanentSendError("unexpected_response")  # accepted, maybe: a retry could send it twice
    code = _error_code(answer)
    transient_flag = isinstance(answer, dict) and bool((answer.get("error") or {}).get("is_transient"))
    if status == 429 or status >= 500:
        raise TransientSendError(f"http_{status}", retry_after)
    if code in TRANSIENT_GRAPH_CODES or transient_flag:
        raise TransientSendError(f"graph_{code}", retry_after)
    raise PermanentSendError(f"graph_{code}" if code is not None else f"http_{status}")
