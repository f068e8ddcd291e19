"""The cost benchmark's ``attack`` mix (issue 12): an SMS-pumping burst against the registration
handler, measured like the other mixes (the REAL handler under moto, counting fakes for the two paid
services, a controllable clock).

5,000 bot submissions arrive within 10 minutes from 20 IP addresses: a third with the form's honeypot
filled, the rest half foreign mobiles and half numbers walked in sequence through a few ranges. Real
people (3 % on top, each from their own address, random US and Canadian mobiles) sign up in between.
It reports the paid calls and USD per 1,000 attack submissions against the tutorial's flow (one lookup
and one text each), and how many of the real people still got their confirmation text.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from bench.cost import (
    MOBILE_LINES,
    REGION,
    SETTINGS_ENV,
    SMS_USD,
    START,
    TUTORIAL_TEXT,
    VALIDATE_USD,
    Clock,
    CountingCarrier,
    CountingSms,
    _Generator,
    api_event,
    sms_segments,
    verdict,
)
from local.events import LambdaContext
from local.tables import fast_moto_transactions

TARGET = 0.02  # USD per 1000 attack submissions ÷ the tutorial's
SERVED_TARGET = 0.99  # of the real people still get their text
BURST_SECONDS = 600
ATTACK_IPS = tuple(f"192.0.2.{n}" for n in range(1, 21))
SEQUENCE_STARTS = ("+14155550700", "+13125550700", "+12125550700")  # mobiles by the fake lookup's rule


@dataclass(frozen=True)
class AttackResult:
    attacks: int
    people: int
    statuses: dict[str, Counter]
    attack_meter: Counter
    people_served: int
    seconds: float

    def usd_per_1000(self) -> float:
        m = self.attack_meter
        return (m["lookups"] * VALIDATE_USD + m["segments"] * SMS_USD) * 1000 / self.attacks

    def tutorial_per_1000(self) -> float:
        return 1000 * (VALIDATE_USD + sms_segments(TUTORIAL_TEXT) * SMS_USD)

    @property
    def ratio(self) -> float:
        return self.usd_per_1000() / self.tutorial_per_1000()

    @property
    def served(self) -> float:
        return self.people_served / self.people if self.people else 1.0

    @property
    def on_target(self) -> bool:
        return self.ratio <= TARGET and self.served >= SERVED_TARGET


def _submissions(attacks: int, seed: int) -> list[tuple[float, str, str, str, str | None]]:
    """(at, who, ip, body, e164 of a real person) in time order; who is an attack kind or "person"."""
    rng = random.Random(seed)
    gen = _Generator(rng)
    events = []
    sequences = [int(start[1:]) for start in SEQUENCE_STARTS]
    # A pumping bot walks its ranges number by number as it goes: numbers are handed out in time order.
    for i, at in enumerate(sorted(rng.uniform(0, BURST_SECONDS) for _ in range(attacks))):
        ip = ATTACK_IPS[i % len(ATTACK_IPS)]
        roll = rng.random()
        run = rng.randrange(len(sequences))
        sequences[run] += 1
        if roll < 1 / 3:
            kind, body = "honeypot", json.loads(gen.body(f"+{sequences[run]}"))
            body["website"] = "https://cheap-pills.example"
            text = json.dumps(body)
        elif roll < 2 / 3:
            kind, (_, text) = "foreign", gen.foreign()
        else:
            kind, text = "sequential", gen.body(f"+{sequences[run]}")
        events.append((at, kind, ip, text, None))
    people = round(attacks * 0.03)
    for n in range(people):
        e164 = gen.nanp(MOBILE_LINES)
        events.append(
            (rng.uniform(0, BURST_SECONDS), "person", f"203.0.113.{n % 250}", gen.person(e164), e164)
        )
    events.sort(key=lambda e: e[0])
    return events


def run(attacks: int = 5000, seed: int = 7) -> AttackResult:
    import boto3
    from moto import mock_aws

    from local.tables import create_tables
    from optin.handlers import registration
    from optin.settings import Settings
    from optin.wiring import Dependencies, install

    settings = Settings.from_env(SETTINGS_ENV)
    events = _submissions(attacks, seed)
    statuses: dict[str, Counter] = {}
    attack_meter: Counter = Counter()
    served = set()
    started = time.perf_counter()
    with mock_aws(), fast_moto_transactions():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb, settings)
        meter: Counter = Counter()
        clock = Clock(START)
        sms = CountingSms(meter, clock)
        deps = Dependencies(
            settings,
            clients={"dynamodb": dynamodb}.__getitem__,
            clock=clock,
            carrier=CountingCarrier(meter),
            sms=sms,
        )
        install(deps)
        try:
            for at, who, ip, body, person in events:
                clock.now = START + timedelta(seconds=at)
                before = meter.copy()
                response = registration.handler(
                    api_event(body, ip), LambdaContext(function_name="sms-optin-bench", remaining_ms=10_000)
                )
                statuses.setdefault(who, Counter())[response["statusCode"]] += 1
                if who == "person":
                    if meter["sms"] > before["sms"]:
                        served.add(person)
                else:
                    attack_meter.update(meter - before)
        finally:
            install(None)
    people = sum(1 for e in events if e[1] == "person")
    return AttackResult(attacks, people, statuses, attack_meter, len(served), time.perf_counter() - started)


def report(result: AttackResult) -> str:
    m = result.attack_meter
    lines = [
        f"attack mix: {result.attacks} bot submissions in {BURST_SECONDS // 60} minutes from {len(ATTACK_IPS)} IPs"
        f" (1/3 honeypot, foreign mobiles, sequential ranges) and {result.people} real people "
        f"({result.seconds:.0f} s)",
    ]
    for who, counts in sorted(result.statuses.items()):
        lines.append(f"  {who:<11} " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    lines.append(
        f"  paid calls from the attack: {m['lookups']} lookups, {m['sms']} texts ({m['segments']} segments)"
    )
    lines.append(
        f"  USD per 1000 attack submissions: {result.usd_per_1000():.4f} vs the tutorial's "
        f"{result.tutorial_per_1000():.2f}  ->  {result.ratio:.4f}x (target ≤ {TARGET}x)  {verdict(result.ratio, TARGET)}"
    )
    lines.append(
        f"  real people who got their text: {result.people_served} of {result.people} "
        f"({result.served:.1%}; target ≥ {SERVED_TARGET:.0%})  {'ok' if result.served >= SERVED_TARGET else 'MISSED'}"
    )
    return "\n".join(lines)
