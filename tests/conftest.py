"""Shared fixtures: emulated DynamoDB (moto), stubbed Pinpoint and SMS clients (botocore Stubber,
which checks every request against the real API model), and builders for Lambda events."""

from __future__ import annotations

import os

# Before any handler module is imported: a Lambda-like environment with fake credentials.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "SmsOptin",
        "POWERTOOLS_SERVICE_NAME": "sms-optin-tests",
        "CONTACTS_TABLE": "Contacts",
        "LOOKUP_CACHE_TABLE": "PhoneLookups",
        "IDEMPOTENCY_TABLE": "Idempotency",
        "ORIGINATION_IDENTITY": "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef",
        "OWN_NUMBERS": "+12065550100",
        "BRAND_NAME": "ExampleCorp",
    }
)

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from local.tables import create_tables
from optin.settings import Settings
from optin.wiring import Dependencies, install
from tests.support import Clock, FakeAws


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off with real sleeps in Lambda; the tests keep the retries and skip the waits."""
    import optin.adapters.sms
    import optin.outbound

    monkeypatch.setattr(optin.adapters.sms, "_sleep", lambda seconds: None)
    monkeypatch.setattr(optin.outbound, "_sleep", lambda seconds: None)


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def aws(settings: Settings, clock: Clock) -> Iterator[FakeAws]:
    """moto DynamoDB with the stack's tables, Stubber-backed pinpoint and SMS clients, and
    Dependencies installed for the handlers. Fails the test if a stubbed call was expected but not made."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, settings)
        fake = FakeAws(dynamodb)
        fake.install(settings, clock)
        with fake.pinpoint_stub, fake.sms_stub:
            yield fake
        fake.pinpoint_stub.assert_no_pending_responses()
        fake.sms_stub.assert_no_pending_responses()
    install(None)


@pytest.fixture
def deps(aws: FakeAws) -> Dependencies:
    return aws.deps


class LogLines:
    """What the functions' real log handler wrote, as text and as parsed JSON lines."""

    def __init__(self, buffer) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.getvalue()

    def records(self) -> list[dict]:
        import json

        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[LogLines]:
    """Redirect the shared Powertools logger's own handler (formatter and all) into a buffer."""
    import io

    from optin.observability import logger

    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield LogLines(buffer)
    finally:
        handler.setStream(previous)
