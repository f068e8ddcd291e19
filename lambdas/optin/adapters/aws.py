"""boto3 clients, created on first use and reused for the life of the process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from optin.ports import DependencyUnavailable

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=8,
)
# SendTextMessage has no idempotency token: an SDK retry after a read timeout can put a second copy of
# the text on the phone. The SMS client never retries by itself; adapters.sms retries only what certainly
# did not reach the service.
NEVER_RETRIED = {"pinpoint-sms-voice-v2"}
_SINGLE_ATTEMPT = _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


@cache
def client(service: str) -> Any:
    """A shared client for ``service`` (region and credentials from the environment)."""
    return boto3.client(service, config=client_config(service))


def client_config(service: str) -> Config:
    return _SINGLE_ATTEMPT if service in NEVER_RETRIED else _CONFIG


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def unavailable_on_failure(what: str) -> Iterator[None]:
    """Turn an AWS failure that our caller cannot fix into DependencyUnavailable."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise DependencyUnavailable(f"{what}: {type(exc).__name__}") from exc
