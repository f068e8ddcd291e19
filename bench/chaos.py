"""``make chaos``: the guarantees of a send under the faults production produces (issue 10).

The REAL handlers (registration, inbound SMS, delivery events) run against moto DynamoDB on a simulated
clock, with faults injected where production produces them, at the botocore level:

* every DynamoDB call is throttled with probability ``--throttle`` (30 %), before moto sees it, and the
  SDK's own standard retries deal with it as in Lambda (their back-off sleeps move the clock of the
  invocation that waits, not of the others, which run side by side as Lambda runs them);
  a few writes are applied but their answer is lost (a read timeout after the commit);
* SendTextMessage goes to a fake End User Messaging on the SDK's real client (one attempt, as
  configured): some calls answer 5xx, some time out on the read (half of those were accepted), and some
  invocations crash right after a send returned (the Lambda dies: no record, no answer);
* accepted texts produce delivery events (TEXT_SUCCESSFUL, TEXT_DELIVERED; some twice, in any order)
  on a delivery queue that drives the DeliveryEvents handler;
* each inbound message is published 5 times (SNS delivers at least once), and queues redeliver failed
  or crashed records after their visibility timeout, up to ``maxReceiveCount`` (5), then park them in a
  dead-letter queue;
* clients retry ``/register`` after the Retry-After they were given (30 s after a crash).

It prints one table, and exits non-zero when a target is missed: replies per message at most 1, lost 0,
202 without a text 0, sends without evidence 0, texts per number per cooldown at most 1.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import itertools
import json
import logging
import random
import sys
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.cost import REGION, prepare_environment
from local.tables import fast_moto_transactions

OUR_NUMBER = "+12065550100"
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COOLDOWN = timedelta(seconds=600)  # the handlers' default RESEND_COOLDOWN_SECONDS
SETTINGS_ENV = {
    "CONTACTS_TABLE": "Contacts",
    "LOOKUP_CACHE_TABLE": "PhoneLookups",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "ORIGINATION_IDENTITY": "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef",
    "OWN_NUMBERS": OUR_NUMBER,
    "FOLLOW_UP_SEQUENCE": "",
    "PINPOINT_PROJECT_ID": "",  # the default stack has no Pinpoint project
}
INBOUND_VISIBILITY = 180.0  # 6 x the inbound function's 30 s timeout (stacks/queues.py)
DELIVERY_VISIBILITY = 60.0  # 6 x the DeliveryEvents function's 10 s timeout
MAX_RECEIVES = 5  # dlqMaxReceiveCount
CRASH_RETRY = 30.0  # a client whose request died (API Gateway answered 502) tries again after this
MAX_ATTEMPTS = 25  # a client gives up after this many tries of one registration
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}
REPLY_BODIES = ("YES", "Yes please", "HELP", "STOP", "thanks!", "YES", "Stop", "info")


@dataclass(frozen=True)
class Faults:
    throttle: float = 0.30  # every DynamoDB call
    lost_write_answer: float = 0.02  # a DynamoDB write applied, its answer lost
    sms_5xx: float = 0.05
    sms_timeout: float = 0.05  # read timeout; half of these were accepted anyway
    crash_after_send: float = 0.03  # the invocation dies right after SendTextMessage returned
    duplicates: int = 5  # deliveries of each inbound message
    duplicate_event: float = 0.2  # a delivery event delivered twice


class Crash(BaseException):
    """The Lambda execution environment died (timeout, out of memory): nothing after this runs."""


@dataclass
class Sim:
    """The simulated world: a clock, a timeline of things to do, and what End User Messaging saw."""

    rng: random.Random
    faults: Faults
    now: datetime = START
    _timeline: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    _order: itertools.count = field(default_factory=itertools.count)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # every text End User Messaging took
    counts: Counter = field(default_factory=Counter)

    def clock(self) -> datetime:
        return self.now

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self._timeline, (when, next(self._order), action))

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.at(self.now + timedelta(seconds=seconds), action)

    def sleep(self, seconds: float) -> None:
        """A back-off wait inside an invocation: its own clock moves on, and what it does next (a write,
        a redelivery it schedules) happens later. Other invocations are not held up by it: Lambda runs
        them side by side."""
        self.now += timedelta(seconds=seconds)

    def run(self) -> None:
        while self._timeline:
            when, _, action = heapq.heappop(self._timeline)
            self.now = when  # each invocation starts on time, whatever another one waited before it
            action()


# -- queues with visibility timeouts, receive counts and a dead-letter queue ------------------------------
@dataclass
class Queued:
    body: str
    key: str  # what the message is about (an inbound message id, a text's message id)
    receives: int = 0
    visible_at: datetime = START
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


class SimQueue:
    """An SQS queue and its event source mapping: batches of up to 10, partial batch responses."""

    def __init__(self, sim: Sim, name: str, handler: Any, visibility: float) -> None:
        self.sim, self.name, self.handler, self.visibility = sim, name, handler, visibility
        self.waiting: dict[str, Queued] = {}
        self.dead: list[Queued] = []

    def send(self, body: str, key: str, delay: float = 0.0) -> None:
        message = Queued(body, key, visible_at=self.sim.now + timedelta(seconds=delay))
        self.waiting[message.id] = message
        self.sim.at(message.visible_at, self.poll)

    def poll(self) -> None:
        from local import events
        from local.events import LambdaContext

        now = self.sim.now
        batch = [m for m in self.waiting.values() if m.visible_at <= now][:10]
        if not batch:
            return
        for message in batch:
            message.receives += 1
            message.visible_at = now + timedelta(seconds=self.visibility)  # in flight
        records = []
        for message in batch:
            record = events.sqs_record(message.body, now, queue=self.name)
            record["messageId"] = message.id
            record["attributes"]["ApproximateReceiveCount"] = str(message.receives)
            records.append(record)
        try:
            result = self.handler({"Records": records}, LambdaContext(function_name=self.name))
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Crash:
            self.sim.counts[f"{self.name} crashes"] += 1
            failed = {m.id for m in batch}
        for message in batch:
            if message.id not in failed:
                del self.waiting[message.id]
            elif message.receives >= MAX_RECEIVES:
                del self.waiting[message.id]
                self.dead.append(message)
            else:
                self.sim.at(message.visible_at, self.poll)
        self.sim.after(0, self.poll)  # anything else visible now


# -- faults at the botocore level -------------------------------------------------------------------------
def _response(request: Any, status: int, body: dict[str, Any]) -> Any:
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    raw = MockRawResponse(json.dumps(body).encode())
    return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, raw)


def throttle_dynamodb(client: Any, sim: Sim) -> None:
    def before_send(request: Any, **kwargs: Any) -> Any:
        if sim.rng.random() < sim.faults.throttle:
            sim.counts["DynamoDB calls throttled"] += 1
            error = {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}
            return _response(request, 400, {**error, "message": "throttled (chaos)"})
        return None

    def after_call(model: Any, **kwargs: Any) -> None:
        if model.name in WRITES and sim.rng.random() < sim.faults.lost_write_answer:
            from botocore.exceptions import ReadTimeoutError

            sim.counts["DynamoDB write answers lost"] += 1
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    client.meta.events.register_first("before-send.dynamodb", before_send)
    client.meta.events.register("after-call.dynamodb", after_call)


def fake_end_user_messaging(client: Any, sim: Sim, delivery: SimQueue) -> None:
    """SendTextMessage answered by a fake service on the real client: it accepts, fails, times out, and
    publishes each accepted text's delivery events to the delivery queue."""
    from botocore.exceptions import ReadTimeoutError

    from local import events

    def before_send(request: Any, **kwargs: Any) -> Any:
        roll = sim.rng.random()
        faults = sim.faults
        if roll < faults.sms_5xx:
            sim.counts["SendTextMessage 5xx"] += 1
            return _response(request, 500, {"__type": "InternalServerException", "Message": "chaos"})
        timed_out = roll < faults.sms_5xx + faults.sms_timeout
        if timed_out and sim.rng.random() < 0.5:
            sim.counts["SendTextMessage timeouts (not accepted)"] += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        params = json.loads(request.body)
        message_id = str(uuid.uuid4())
        sim.accepted.append({**params, "MessageId": message_id, "at": sim.now})
        for event_type, final, lag in (("TEXT_SUCCESSFUL", False, 1.0), ("TEXT_DELIVERED", True, 3.0)):
            record = events.text_event_record(
                event_type,
                message_id=message_id,
                destination=params["DestinationPhoneNumber"],
                origination=OUR_NUMBER,
                at=sim.now + timedelta(seconds=lag),
                requested_at=sim.now,
                is_final=final,
                context=params.get("Context"),
            )
            body = json.dumps(events.sns_notification(record, sim.now))
            for _ in range(2 if sim.rng.random() < faults.duplicate_event else 1):
                delivery.send(body, message_id, delay=lag + sim.rng.uniform(0, 4))
        if timed_out:
            sim.counts["SendTextMessage timeouts (accepted)"] += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        return _response(request, 200, {"MessageId": message_id})

    def after_call(**kwargs: Any) -> None:
        if sim.rng.random() < sim.faults.crash_after_send:
            sim.counts["crashes right after a send"] += 1
            raise Crash()

    client.meta.events.register_first("before-send.pinpoint-sms-voice-v2.SendTextMessage", before_send)
    client.meta.events.register("after-call.pinpoint-sms-voice-v2.SendTextMessage", after_call)


# -- the run -------------------------------------------------------------------------------------------------
@dataclass
class Result:
    registrations: int
    inbound_messages: int
    inbound_deliveries: int
    replies_max: int
    replies_total: int
    lost: int
    dead_lettered: int
    accepted_without_text: int
    sends_without_evidence: int
    texts_per_cooldown_max: int
    gave_up: int
    counts: Counter
    seconds: float

    def rows(self) -> list[tuple[str, str, str]]:
        def ok(good: bool) -> str:
            return "ok" if good else "MISSED"

        return [
            ("registrations (distinct numbers)", str(self.registrations), ""),
            ("inbound messages", f"{self.inbound_messages} ({self.inbound_deliveries} deliveries)", ""),
            (
                "replies per message (max / total)",
                f"{self.replies_max} / {self.replies_total}",
                ok(self.replies_max <= 1),
            ),
            ("lost (neither applied nor in the DLQ)", str(self.lost), ok(self.lost == 0)),
            ("  not applied, parked in the DLQ", str(self.dead_lettered), ""),
            ("202 without a text", str(self.accepted_without_text), ok(self.accepted_without_text == 0)),
            (
                "sends without evidence",
                str(self.sends_without_evidence),
                ok(self.sends_without_evidence == 0),
            ),
            (
                "texts per number per cooldown (max)",
                str(self.texts_per_cooldown_max),
                ok(self.texts_per_cooldown_max <= 1),
            ),
            ("clients that gave up retrying", str(self.gave_up), ok(self.gave_up == 0)),
        ]

    @property
    def on_target(self) -> bool:
        return all(verdict != "MISSED" for _, _, verdict in self.rows())


def run(registrations: int = 500, seed: int = 11, faults: Faults | None = None) -> Result:
    """Drive the handlers through ``registrations`` sign-ups (each followed by two or three replies)."""
    import os

    environment = dict(os.environ)
    try:
        prepare_environment()
        os.environ.update(SETTINGS_ENV)
        with _reproducible(seed):
            return _run(registrations, seed, faults or Faults())
    finally:
        os.environ.clear()
        os.environ.update(environment)


@contextlib.contextmanager
def _reproducible(seed: int) -> Iterator[None]:
    """One seed, one run: the SDK's retry jitter (the global ``random``) and every ``uuid.uuid4()`` (the
    claims' tokens, message and queue ids) are drawn from the seed while the run lasts, so a run that
    finds a problem can be replayed exactly."""
    state = random.getstate()
    uuid4 = uuid.uuid4
    ids = random.Random(f"uuid-{seed}")
    random.seed(seed)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)  # type: ignore[assignment]
    try:
        yield
    finally:
        uuid.uuid4 = uuid4  # type: ignore[assignment]
        random.setstate(state)


def _run(registrations: int, seed: int, faults: Faults) -> Result:
    import os

    import boto3
    import botocore.endpoint
    from moto import mock_aws

    import optin.adapters.sms
    import optin.outbound
    from local.carrier import OfflineCarrierLookup
    from local.events import LambdaContext, api_gateway_event, sns_notification
    from local.tables import create_tables
    from optin.adapters.aws import client_config
    from optin.adapters.contact_store import _load
    from optin.handlers import delivery_events, inbound_sms, registration
    from optin.observability import logger
    from optin.settings import Settings
    from optin.wiring import Dependencies, install

    sim = Sim(random.Random(seed), faults)
    settings = Settings.from_env({**os.environ, **SETTINGS_ENV})
    started = time.perf_counter()
    sleeps = (botocore.endpoint.time, optin.adapters.sms._sleep, optin.outbound._sleep)

    class _Time:  # botocore's retry back-off, on the simulated clock
        sleep = staticmethod(sim.sleep)

    botocore.endpoint.time = _Time  # type: ignore[assignment]
    optin.adapters.sms._sleep = optin.outbound._sleep = sim.sleep
    answers: list[tuple[str, int, datetime]] = []  # (phone, status, when) of every /register answer
    published: dict[str, str] = {}  # inbound message id -> phone
    gave_up = 0
    try:
        with mock_aws(), fast_moto_transactions():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_tables(dynamodb, settings)
            throttle_dynamodb(dynamodb, sim)
            sms = boto3.client(
                "pinpoint-sms-voice-v2", region_name=REGION, config=client_config("pinpoint-sms-voice-v2")
            )
            inbound_queue = SimQueue(sim, "inbound", inbound_sms.handler, INBOUND_VISIBILITY)
            delivery_queue = SimQueue(sim, "delivery-events", delivery_events.handler, DELIVERY_VISIBILITY)
            fake_end_user_messaging(sms, sim, delivery_queue)
            clients = {"dynamodb": dynamodb, "pinpoint-sms-voice-v2": sms}
            install(
                Dependencies(
                    settings, clients=clients.__getitem__, clock=sim.clock, carrier=OfflineCarrierLookup()
                )
            )

            def publish_inbound(phone: str, body: str) -> None:
                message_id = str(uuid.uuid4())
                published[message_id] = phone
                two_way = {
                    "originationNumber": phone,
                    "destinationNumber": OUR_NUMBER,
                    "messageKeyword": "KEYWORD_123456789012",
                    "messageBody": body,
                    "inboundMessageId": message_id,
                    "previousPublishedMessageId": str(uuid.uuid4()),
                }
                notification = json.dumps(sns_notification(two_way, sim.now))
                for copy in range(sim.faults.duplicates):
                    delay = (
                        0.0
                        if copy == 0
                        else sim.rng.choice((0.2, 2.0, 30.0, 200.0, 900.0)) * sim.rng.random()
                    )
                    inbound_queue.send(notification, message_id, delay=delay)

            def register(phone: str, attempt: int = 1) -> None:
                nonlocal gave_up
                body = json.dumps(
                    {"destinationNumber": phone, "firstName": "Chaos", "lastName": "Monkey", "consent": True}
                )
                event = api_gateway_event(
                    "POST",
                    "/register",
                    body,
                    headers={"Content-Type": "application/json"},
                    source_ip=client_ips[phone],  # each person from their own address
                    api_id="chaos",
                )
                try:
                    response = registration.handler(event, LambdaContext(function_name="registration"))
                except Crash:
                    answers.append((phone, 502, sim.now))
                    retry: float | None = CRASH_RETRY
                else:
                    status = response["statusCode"]
                    answers.append((phone, status, sim.now))
                    retry = None
                    if status == 503:
                        headers = {
                            k.lower(): v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()
                        }
                        headers.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
                        retry = float(headers["retry-after"])
                    elif status == 202:  # the person reads the text and answers, two or three times
                        for n in range(sim.rng.choice((2, 2, 3))):
                            body_text = "YES" if n == 0 else sim.rng.choice(REPLY_BODIES)
                            sim.after(
                                60 + 240 * n + sim.rng.uniform(0, 60),
                                lambda b=body_text: publish_inbound(phone, b),
                            )
                if retry is not None:
                    if attempt >= MAX_ATTEMPTS:
                        gave_up += 1
                    else:
                        sim.after(retry, lambda: register(phone, attempt + 1))

            phones = [f"+1206{sim.rng.randrange(2_000_000, 9_999_999):07d}" for _ in range(registrations * 2)]
            phones = list(dict.fromkeys(p for p in phones if not p[5:8].startswith("555")))[:registrations]
            client_ips = {phone: f"198.51.{i // 250}.{i % 250 + 1}" for i, phone in enumerate(phones)}
            for i, phone in enumerate(phones):
                sim.at(START + timedelta(seconds=i * 3.6), lambda p=phone: register(p))
            # The functions' log lines and the metric lines Powertools prints anyway stay off the table.
            level = logger.log_level
            logger.setLevel(logging.CRITICAL)
            try:
                with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sim.run()
            finally:
                logger.setLevel(level)

            # -- what happened, read back without faults -------------------------------------------------
            sim.faults = Faults(0, 0, 0, 0, 0, 1, 0)
            contacts: dict[str, dict[str, Any]] = {}
            event_ids: dict[str, set[str]] = defaultdict(set)
            for page in dynamodb.get_paginator("scan").paginate(TableName=settings.contacts_table):
                for raw in page["Items"]:
                    item = _load(raw)
                    if item["sk"] == "PROFILE":
                        contacts[item["pk"]] = item
                    else:
                        event_ids[item["pk"]].add(item["sk"].rsplit("#", 1)[-1])
            markers = set()
            for page in dynamodb.get_paginator("scan").paginate(TableName=settings.idempotency_table):
                markers.update(_load(raw)["id"] for raw in page["Items"])
    finally:
        botocore.endpoint.time, optin.adapters.sms._sleep, optin.outbound._sleep = sleeps
        install(None)

    replies = Counter(
        t["Context"]["marker"] for t in sim.accepted if t.get("Context", {}).get("kind") == "reply"
    )
    confirmations = [t for t in sim.accepted if t.get("Context", {}).get("kind") == "confirmation"]
    dead = {m.key for m in inbound_queue.dead}
    applied = {mid for mid in published if f"inbound#{mid}" in markers}
    lost = sum(1 for mid in published if mid not in applied and mid not in dead)
    texts_by_phone: dict[str, list[datetime]] = defaultdict(list)
    for text in confirmations:
        texts_by_phone[text["DestinationPhoneNumber"]].append(text["at"])
    without_text = sum(
        1
        for phone, status, when in answers
        if status == 202 and not any(when - timedelta(days=1) <= at <= when for at in texts_by_phone[phone])
    )
    without_evidence = sum(
        1
        for t in confirmations
        if contacts.get(t["DestinationPhoneNumber"], {}).get("confirmationMessageId") != t["MessageId"]
        and f"confirmation-{t['MessageId']}" not in event_ids[t["DestinationPhoneNumber"]]
    )
    per_cooldown = max(
        (
            sum(1 for later in times if start <= later < start + COOLDOWN)
            for times in texts_by_phone.values()
            for start in times
        ),
        default=0,
    )
    return Result(
        registrations=len(phones),
        inbound_messages=len(published),
        inbound_deliveries=len(published) * faults.duplicates,
        replies_max=max(replies.values(), default=0),
        replies_total=sum(replies.values()),
        lost=lost,
        dead_lettered=len(dead - applied),
        accepted_without_text=without_text,
        sends_without_evidence=without_evidence,
        texts_per_cooldown_max=per_cooldown,
        gave_up=gave_up,
        counts=sim.counts,
        seconds=time.perf_counter() - started,
    )


def report(result: Result) -> str:
    width = max(len(label) for label, _, _ in result.rows())
    lines = ["Chaos run: real handlers, moto DynamoDB, faults injected at the botocore level", ""]
    lines += [f"  {label:<{width}}  {value:>24}  {verdict}" for label, value, verdict in result.rows()]
    lines += ["", "Faults injected:"]
    lines += [f"  {name:<{width}}  {count:>24}" for name, count in sorted(result.counts.items())]
    lines += ["", f"{'on target' if result.on_target else 'TARGET MISSED'} ({result.seconds:.0f} s)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=500, help="sign-ups (default 500)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--throttle", type=float, default=Faults.throttle, help="DynamoDB throttling share")
    args = parser.parse_args(argv)
    result = run(args.registrations, args.seed, Faults(throttle=args.throttle))
    print(report(result))
    return 0 if result.on_target else 1


if __name__ == "__main__":
    sys.exit(main())
