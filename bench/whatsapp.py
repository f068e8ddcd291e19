"""Benchmark of issue 5: the custom-channel handler against a sequential sender, side by side.

A 50-endpoint batch is sent to the fake WhatsApp Cloud API (``local.fake_whatsapp``, in a process of
its own like a remote API) answering each request after 50 ms:

* the sequential reference sends one request after another, as seed 003 does (a new connection and a
  JSON POST per endpoint, no retries);
* the handler is ``optin.handlers.custom_channel.handler`` with its default settings, wired as in
  Lambda: contacts checked in DynamoDB and the token read from Secrets Manager (both emulated by moto).

Then the same batch with 30% of requests answered 503: how many messages the handler delivered within
its retry budget. Run ``python -m bench.whatsapp`` (``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

import bench  # noqa: F401 -- puts lambdas/ and the project root on sys.path
from local.events import LambdaContext

ENDPOINTS = 50
LATENCY = 0.050
TARGET = 20.0
FAILURE_RATE = 0.3
REGION = "us-east-1"
SECRET = "bench/whatsapp-token"  # noqa: S105 -- a secret name in moto, not a credential
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "bench-whatsapp",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


@dataclass(frozen=True)
class WhatsAppBenchResult:
    endpoints: int
    latency_ms: float
    rounds: int
    sequential_seconds: float  # median
    handler_seconds: float  # median of warm invocations, contacts from a DynamoDB-like store (10 ms)
    handler_moto_seconds: float  # median of warm invocations, contacts from moto's DynamoDB
    handler_first_seconds: float  # the first invocation: secret read, connections opened
    concurrency: int
    rate_per_second: int
    failure_rate: float
    delivered: int  # with failures injected
    failed: int
    requests_with_failures: int
    failure_run_seconds: float
    retry_budget: str

    @property
    def ratio(self) -> float:
        return self.sequential_seconds / self.handler_seconds

    @property
    def ratio_moto(self) -> float:
        return self.sequential_seconds / self.handler_moto_seconds

    @property
    def passed(self) -> bool:
        return self.ratio >= TARGET and self.delivered == self.endpoints


class StoreWithLatency:
    """Contacts answered from memory after ``latency`` seconds of waiting, as DynamoDB answers a
    BatchGetItem in its region (a few ms of network wait, no CPU). moto, by contrast, spends ~50 ms of
    CPU on the same call in this process, which says nothing about the handler."""

    def __init__(self, contacts: dict[str, Any], latency: float = 0.010) -> None:
        self._contacts = contacts
        self._latency = latency

    def get_many(self, phones):
        time.sleep(self._latency)
        return {p: self._contacts[p] for p in phones if p in self._contacts}


def _numbers(n: int) -> list[str]:
    return [f"+1206555{i:04d}" for i in range(n)]


def _event(numbers: list[str]) -> dict[str, Any]:
    data = {
        "templateName": "order_update",
        "languageCode": "en_US",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Carlos"}]}],
    }
    endpoints = {
        n.lstrip("+"): {"ChannelType": "CUSTOM", "Address": n, "EndpointStatus": "ACTIVE", "OptOut": "NONE"}
        for n in numbers
    }
    return {"Message": {}, "Data": json.dumps(data), "CampaignId": "bench", "Endpoints": endpoints}


def sequential_send(url: str, token: str, event: dict[str, Any]) -> int:
    """The reference: what seed 003 does, done right (a JSON body): one request after another."""
    data = json.loads(event["Data"])
    delivered = 0
    for endpoint in event["Endpoints"].values():
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": endpoint["Address"].lstrip("+"),
            "type": "template",
            "template": {
                "name": data["templateName"],
                "language": {"code": data["languageCode"]},
                "components": data["components"],
            },
        }
        request = urllib.request.Request(  # noqa: S310 -- the URL is the fake on 127.0.0.1
            url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                delivered += response.status == 200
        except urllib.error.HTTPError:
            pass
    return delivered


def _statuses(response: dict[str, Any]) -> list[str]:
    return [entry["EventAttributes"]["status"] for entry in response.values()]


def run(
    endpoints: int = ENDPOINTS, latency: float = LATENCY, rounds: int = 5, seed: int = 5
) -> WhatsAppBenchResult:
    for name, value in _ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from local.fake_whatsapp import FakeWhatsAppProcess
    from local.tables import create_tables
    from optin.adapters.contact_store import contact_to_item
    from optin.clock import utcnow
    from optin.consent import Contact, Status
    from optin.handlers import custom_channel
    from optin.settings import Settings
    from optin.whatsapp.pacing import TokenBucket
    from optin.wiring import Dependencies, install

    numbers = _numbers(endpoints)
    event = _event(numbers)
    # The fake runs in its own process, as a remote API would: in this one it would compete for the GIL.
    with FakeWhatsAppProcess(latency=latency, token="bench-token") as fake, mock_aws():  # noqa: S106
        # What the stack would provide: tables, the secret; contacts confirmed by the opt-in flow.
        base = Settings.from_env()
        settings = Settings.from_env(
            {
                **os.environ,
                "WHATSAPP_BASE_URL": fake.url,
                "WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
                "WHATSAPP_SECRET_ID": SECRET,
            }
        )
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb, base)
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=SECRET, SecretString=json.dumps({"token": fake.token})
        )
        for number in numbers:
            contact = Contact(number, Status.CONFIRMED, "B", "Ench", "bench", utcnow(), "v1", version=1)
            item = {
                k: {"S": v} if isinstance(v, str) else {"N": str(v)}
                for k, v in contact_to_item(contact).items()
            }
            dynamodb.put_item(TableName=settings.contacts_table, Item=item)
        as_wired = Dependencies(settings)  # moto DynamoDB, as the tests run it
        store_like = Dependencies(settings)  # the same, with the contacts read like DynamoDB would
        store_like.contact_directory = StoreWithLatency(as_wired.contact_directory.get_many(numbers))

        def invoke(deps: Dependencies) -> tuple[float, dict[str, Any]]:
            install(deps)
            # A fresh bucket each time: each timed batch is one invocation's worth, not back-to-back.
            deps.delivery.bucket = TokenBucket(settings.whatsapp_rate_per_second)
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                response = custom_channel.handler(
                    event,
                    LambdaContext(
                        function_name="bench-custom-channel", remaining_ms=60_000, memory_limit_in_mb=1024
                    ),
                )
            elapsed = time.perf_counter() - started
            assert _statuses(response) == ["sent"] * endpoints, "the handler did not send every message"
            return elapsed, response

        sequential: list[float] = []
        handler: list[float] = []
        handler_moto: list[float] = []
        first, _ = invoke(as_wired)
        invoke(store_like)  # warm: its own token read and connections
        for _ in range(rounds):  # interleaved, so all three see the same machine
            started = time.perf_counter()
            assert sequential_send(as_wired.whatsapp.url, fake.token, event) == endpoints
            sequential.append(time.perf_counter() - started)
            handler.append(invoke(store_like)[0])
            handler_moto.append(invoke(as_wired)[0])

        fake.reset()
        fake.faults(failRate=FAILURE_RATE, status=503, seed=seed)
        install(store_like)
        store_like.delivery.bucket = TokenBucket(settings.whatsapp_rate_per_second)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            outcome = _statuses(
                custom_channel.handler(
                    event,
                    LambdaContext(
                        function_name="bench-custom-channel", remaining_ms=60_000, memory_limit_in_mb=1024
                    ),
                )
            )
        failure_seconds = time.perf_counter() - started
        requests_with_failures = len(fake.messages())
        install(None)

    return WhatsAppBenchResult(
        endpoints=endpoints,
        latency_ms=latency * 1000,
        rounds=rounds,
        sequential_seconds=statistics.median(sequential),
        handler_seconds=statistics.median(handler),
        handler_moto_seconds=statistics.median(handler_moto),
        handler_first_seconds=first,
        concurrency=settings.whatsapp_concurrency,
        rate_per_second=settings.whatsapp_rate_per_second,
        failure_rate=FAILURE_RATE,
        delivered=outcome.count("sent"),
        failed=outcome.count("failed"),
        requests_with_failures=requests_with_failures,
        failure_run_seconds=failure_seconds,
        retry_budget=(
            f"{settings.whatsapp_max_attempts} attempts, backoff {settings.whatsapp_backoff_base_ms} ms "
            f"doubling to {settings.whatsapp_backoff_max_ms} ms with full jitter, within the invocation's time"
        ),
    )


def report(result: WhatsAppBenchResult) -> str:
    r = result
    verdict = "PASS" if r.ratio >= TARGET else "FAIL"
    all_delivered = "PASS" if r.delivered == r.endpoints else "FAIL"
    return "\n".join(
        [
            f"== WhatsApp custom channel: {r.endpoints} endpoints, fake Cloud API (own process) answering in "
            f"{r.latency_ms:.0f} ms; medians of {r.rounds} interleaved rounds",
            f"  sequential reference (seed 003, one request after another)  {r.sequential_seconds * 1000:7.0f} ms",
            f"  handler, contacts from a DynamoDB-like store (10 ms)         {r.handler_seconds * 1000:7.0f} ms"
            f"  {r.ratio:5.1f}x  target >= {TARGET:.0f}x  {verdict}",
            f"  handler, contacts from moto's DynamoDB (CPU-bound emulator)   {r.handler_moto_seconds * 1000:7.0f} ms"
            f"  {r.ratio_moto:5.1f}x",
            f"  first invocation (secret read, connections opened)           {r.handler_first_seconds * 1000:7.0f} ms",
            f"  handler defaults: {r.concurrency} workers, token bucket {r.rate_per_second} msg/s, "
            "token from Secrets Manager (moto)",
            f"== Same batch, {r.failure_rate:.0%} of requests answered 503",
            f"  delivered {r.delivered}/{r.endpoints} (failed {r.failed}) in {r.failure_run_seconds * 1000:.0f} ms "
            f"with {r.requests_with_failures} requests  target: all  {all_delivered}",
            f"  retry budget: {r.retry_budget}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatsapp", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each sender (default 5)")
    parser.add_argument(
        "--latency-ms", type=float, default=LATENCY * 1000, help="fake API latency (default 50)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(latency=args.latency_ms / 1000, rounds=max(1, args.rounds))
    if args.json:
        extra = {"ratio": result.ratio, "ratioMoto": result.ratio_moto, "passed": result.passed}
        print(json.dumps({**asdict(result), **extra}, indent=2))
    else:
        print(report(result))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
