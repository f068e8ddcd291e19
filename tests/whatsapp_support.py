"""Helpers for the custom-channel and broadcast tests: a fake Graph API on 127.0.0.1, moto DynamoDB,
Secrets Manager and SQS, contacts in every consent state, and event builders."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

from local.events import LambdaContext
from local.fake_whatsapp import FakeWhatsApp
from local.tables import create_tables
from optin.adapters.contact_store import contact_to_item
from optin.consent import Contact, Status
from optin.settings import Settings
from optin.wiring import Dependencies, install

REGION = "us-east-1"
SECRET_NAME = "sms-optin/whatsapp-token"
TOKEN = "EAAG-test-token-123456"
QUEUE = "broadcast-queue"
_serializer = TypeSerializer()


def Context(remaining_ms: int = 30_000) -> LambdaContext:
    """A Lambda context whose remaining time runs down for real."""
    return LambdaContext(function_name="custom-channel", remaining_ms=remaining_ms)


def fast_settings(base: Settings, fake: FakeWhatsApp, queue_url: str, **overrides: Any) -> Settings:
    """Settings pointing at the fake, with short waits so retry tests take milliseconds."""
    values: dict[str, Any] = {
        "whatsapp_base_url": fake.url,
        "whatsapp_phone_number_id": fake.phone_number_id,
        "whatsapp_secret_id": SECRET_NAME,
        "broadcast_queue_url": queue_url,
        "whatsapp_backoff_base_ms": 10,
        "whatsapp_backoff_max_ms": 80,
        "whatsapp_request_timeout_ms": 1000,
        "whatsapp_safety_margin_ms": 200,
        "whatsapp_requeue_delay_seconds": 0,
    }
    values.update(overrides)
    return replace(base, **values)


@dataclass
class World:
    """Everything a custom-channel test touches."""

    fake: FakeWhatsApp
    settings: Settings
    deps: Dependencies
    dynamodb: Any
    secrets: Any
    sqs: Any
    queue_url: str

    def client(self, service: str) -> Any:
        return {"dynamodb": self.dynamodb, "secretsmanager": self.secrets, "sqs": self.sqs}[service]

    def reconfigure(self, **overrides: Any) -> Dependencies:
        """Fresh dependencies (new token cache and token bucket) with some settings changed."""
        self.settings = replace(self.settings, **overrides)
        self.deps = Dependencies(self.settings, clients=self.client)
        install(self.deps)
        return self.deps

    # -- contacts ---------------------------------------------------------------------------------
    def seed(self, phone: str, status: Status = Status.CONFIRMED, source: str = "form") -> Contact:
        contact = Contact(
            phone=phone,
            status=status,
            first_name="Test",
            last_name="Person",
            source=source,
            submitted_at=datetime(2026, 11, 1, tzinfo=UTC),
            consent_text_version="v1",
            confirmed_at=datetime(2026, 11, 1, 0, 5, tzinfo=UTC) if status == Status.CONFIRMED else None,
        )
        item = contact_to_item(replace(contact, version=1))
        self.dynamodb.put_item(
            TableName=self.settings.contacts_table,
            Item={k: _serializer.serialize(v) for k, v in item.items()},
        )
        return replace(contact, version=1)

    def seed_many(self, count: int, status: Status = Status.CONFIRMED, source: str = "form", start: int = 0):
        return [self.seed(phone(start + i), status, source) for i in range(count)]

    # -- the queue --------------------------------------------------------------------------------
    def drain(self) -> list[dict[str, Any]]:
        """Every message on the broadcast queue, as Lambda's SQS records, removed from the queue."""
        records: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            )
            messages = answer.get("Messages", [])
            if not messages:
                return records
            for m in messages:
                records.append(
                    {
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "body": m["Body"],
                        "attributes": m.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": m["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{QUEUE}",
                        "awsRegion": REGION,
                    }
                )
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


def build_world(fake: FakeWhatsApp, base: Settings, **overrides: Any) -> World:
    """Inside ``mock_aws``: tables (with the byStatus index), the token secret and the broadcast queue."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    create_tables(dynamodb, base)
    fake.rotate_token(TOKEN)
    secrets.create_secret(Name=SECRET_NAME, SecretString=json.dumps({"token": TOKEN}))
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    settings = fast_settings(base, fake, queue_url, **overrides)
    world = World(fake, settings, Dependencies(settings), dynamodb, secrets, sqs, queue_url)
    world.reconfigure()
    return world


def phone(n: int) -> str:
    """A distinct US test number, E.164."""
    return f"+1206555{n:04d}"


def endpoint(address: str, **fields: Any) -> dict[str, Any]:
    """One endpoint as Pinpoint puts it in a custom-channel event."""
    value: dict[str, Any] = {
        "ChannelType": "CUSTOM",
        "Address": address,
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "Location": {"Country": "US"},
        "Demographic": {"Platform": "WhatsApp"},
        "EffectiveDate": "2026-11-01T00:00:00.000Z",
        "Attributes": {},
        "User": {},
    }
    value.update(fields)
    return value


DATA = {
    "templateName": "order_update",
    "languageCode": "en_US",
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Carlos"}]}],
}


def pinpoint_event(endpoints: dict[str, dict[str, Any]], data: Any = None) -> dict[str, Any]:
    """A custom-channel event as Pinpoint sends it (Data is a JSON string)."""
    data = DATA if data is None else data
    return {
        "Message": {},
        "Data": data if isinstance(data, str) else json.dumps(data),
        "ApplicationId": "3a0b9e1c2d4f4b6a8c0e1f2a3b4c5d6e",
        "CampaignId": "f1e2d3c4b5a697887766554433221100",
        "TreatmentId": "0",
        "ActivityId": "a1b2c3d4e5f6",
        "ScheduledTime": "2026-11-22T15:00:00.000Z",
        "Endpoints": endpoints,
    }


def statuses(response: dict[str, Any]) -> dict[str, str]:
    return {eid: entry["EventAttributes"]["status"] for eid, entry in response.items()}


def reasons(response: dict[str, Any]) -> dict[str, str | None]:
    return {eid: entry["EventAttributes"].get("reason") for eid, entry in response.items()}
