"""Cost per 1000 submissions: our registration flow ÷ the tutorial's (one validate + one SMS each).

The REAL registration handler (``optin.handlers.registration.handler``) is driven with API Gateway
events under moto DynamoDB. The two paid services are replaced by counting fakes passed through
``Dependencies``: the carrier lookup answers by a fixed rule from the number (see
:func:`phone_type_code`), the SMS sender counts messages and their billed segments. A controllable
clock moves to each submission's time, so the cooldown, the daily cap and the lookup cache behave
as they would in life. Every DynamoDB call is counted with a botocore event hook on the client.

The mix of submissions is generated with a seeded RNG from a :class:`Mix` (see ``bench/README.md``
for the default and why).
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from local import events
from local.events import LambdaContext
from local.tables import fast_moto_transactions

# -- prices (USD, list) -----------------------------------------------------------------------------
VALIDATE_USD = 0.006  # Pinpoint PhoneNumberValidate, per call
SMS_USD = 0.00645  # US SMS, per message part (segment)
# DynamoDB on-demand, us-east-1: per request unit. Reported apart from the headline.
DDB_WRITE_UNIT_USD = 0.625 / 1_000_000
DDB_READ_UNIT_USD = 0.125 / 1_000_000
TARGET = 0.4

# The tutorial's confirmation text (seed 002, "设置短信注册系统"): one segment.
TUTORIAL_TEXT = (
    "ExampleCorp: Reply YES to confirm your subscription. 2 msgs per month. No purchase req'd. "
    "Msg&data rates may apply. Terms: example.com/terms-sms"
)

REGION = "us-east-1"
OUR_NUMBER = "+12065550100"
# The functions' configuration for this run (everything else: the handlers' defaults).
SETTINGS_ENV = {
    "CONTACTS_TABLE": "Contacts",
    "LOOKUP_CACHE_TABLE": "PhoneLookups",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "ORIGINATION_IDENTITY": "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef",
    "OWN_NUMBERS": OUR_NUMBER,
}
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MEAN_GAP_SECONDS = 40.0  # one submission every 40 s on average (~11 h for 1000)
COOLDOWN_SECONDS = 600  # the handlers' default RESEND_COOLDOWN_SECONDS (repeats are placed around it)

# -- the mix ----------------------------------------------------------------------------------------
CATEGORIES = {
    "new": "first-time valid mobile",
    "malformed": "malformed / garbage",
    "foreign": "outside allowlist (pumping)",
    "landline": "landline or VoIP",
    "dup": "repeat inside cooldown",
    "later": "repeat after cooldown",
    "confirmed": "re-submit when confirmed",
}
# A public sign-up form with bot traffic and double submits (rationale in bench/README.md).
DEFAULT_SHARES = {
    "malformed": 0.20,
    "foreign": 0.10,
    "landline": 0.10,
    "dup": 0.20,
    "later": 0.08,
    "confirmed": 0.05,
}
# The issue's minimums (>= 15% malformed, >= 10% landline or VoIP, >= 15% repeats inside the cooldown).
ISSUE_MINIMUMS = {"malformed": 0.15, "landline": 0.10, "dup": 0.15}
EXPECTED_STATUS = {
    "new": 202,
    "malformed": 400,
    "foreign": 400,
    "landline": 422,
    "dup": 202,
    "later": 202,
    "confirmed": 202,
}


@dataclass(frozen=True)
class Mix:
    """Shares of each category; ``new`` (first-time valid mobiles) is the remainder."""

    name: str
    shares: dict[str, float]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.shares) - set(CATEGORIES) - {"new"})
        if unknown:
            raise ValueError(f"unknown mix categories {unknown}; known: {', '.join(CATEGORIES)}")
        if any(v < 0 for v in self.shares.values()):
            raise ValueError("mix shares must not be negative")
        if sum(v for k, v in self.shares.items() if k != "new") > 1 + 1e-9:
            raise ValueError("mix shares add up to more than 1")

    @classmethod
    def parse(cls, spec: str, name: str = "custom") -> Mix:
        """``malformed=0.2,foreign=10%,...``; unnamed categories are 0 and ``new`` takes the rest."""
        shares: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"mix entry {part!r} is not category=share")
            value = value.strip()
            number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
            shares[key.strip()] = number
        shares.pop("new", None)
        return cls(name, shares)

    def share(self, category: str) -> float:
        if category == "new":
            return max(0.0, 1.0 - sum(v for k, v in self.shares.items() if k != "new"))
        return self.shares.get(category, 0.0)

    def counts(self, n: int) -> dict[str, int]:
        """Whole submissions per category adding up to ``n`` (largest remainder)."""
        exact = {c: self.share(c) * n for c in CATEGORIES}
        counts = {c: math.floor(v) for c, v in exact.items()}
        by_remainder = sorted(CATEGORIES, key=lambda c: exact[c] - counts[c], reverse=True)
        for c in by_remainder[: n - sum(counts.values())]:
            counts[c] += 1
        return counts

    def describe(self) -> str:
        return ", ".join(f"{c} {self.share(c):.0%}" for c in CATEGORIES if self.share(c) > 0)

    def spec(self) -> str:
        return ",".join(f"{c}={self.share(c):g}" for c in CATEGORIES if c != "new" and self.share(c) > 0)

    def below_issue_minimums(self) -> list[str]:
        return [
            f"{c} {self.share(c):.0%} < {m:.0%}"
            for c, m in ISSUE_MINIMUMS.items()
            if self.share(c) < m - 1e-9
        ]


DEFAULT_MIX = Mix("default (public form, bots, double submits)", DEFAULT_SHARES)
# Exactly the issue's minimums; every other submission is a first-time valid mobile.
ISSUE_MINIMUM_MIX = Mix("issue minimum (15/10/15, rest new mobiles)", dict(ISSUE_MINIMUMS))


# -- the generated submissions ----------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    at: float  # seconds after START
    category: str
    body: str  # the raw request body
    phone: str | None = None  # E.164 of the number, when it is one
    ip: str = "203.0.113.7"


@dataclass(frozen=True)
class Confirmation:
    """The handset replies YES (driven through the real inbound handler; not a submission)."""

    at: float
    phone: str


Event = Submission | Confirmation

US_AREAS = ("201", "206", "212", "213", "305", "312", "404", "415", "503", "512", "602", "617", "702", "713")
CA_AREAS = ("403", "416", "514", "604", "613")
FOREIGN_REGIONS = ("GB", "NG", "PK", "BD", "ID", "PH", "VN", "UZ", "EG", "LK", "RU", "JM", "DO")
FIRST = ("Carlos", "Mary", "Wei", "Aisha", "John", "Priya", "Lucas", "Fatima", "Noah", "Emma")
LAST = ("Salazar", "Major", "Zhang", "Khan", "Doe", "Patel", "Silva", "Haddad", "Smith", "Brown")
MOBILE_LINES = range(700, 10_000)  # see phone_type_code
LANDLINE_LINES = range(0, 700)


def phone_type_code(e164: str) -> int:
    """The fake carrier lookup's rule, from the last four digits: 0000-0499 LANDLINE (1),
    0500-0699 VOIP (2), anything else MOBILE (0)."""
    line = int(e164[-4:])
    return 1 if line < 500 else 2 if line < 700 else 0


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = {OUR_NUMBER}

    def nanp(self, lines: range) -> str:
        """A fresh valid US (90%) or CA (10%) geographic number whose line is in ``lines``."""
        rng = self.rng
        while True:
            area = rng.choice(CA_AREAS if rng.random() < 0.1 else US_AREAS)
            exchange = rng.randint(200, 999)
            if exchange % 100 == 11:
                continue
            e164 = f"+1{area}{exchange}{rng.randrange(lines.start, lines.stop):04d}"
            number = phonenumbers.parse(e164)
            if (
                e164 in self.used
                or not phonenumbers.is_valid_number(number)
                or phonenumbers.region_code_for_number(number) not in ("US", "CA")
                or phonenumbers.number_type(number)
                not in (PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.MOBILE)
            ):
                continue
            self.used.add(e164)
            return e164

    def typed(self, e164: str) -> str:
        """The number as a person types it."""
        a, x, line = e164[2:5], e164[5:8], e164[8:]
        return self.rng.choice(
            (
                f"{a}{x}{line}",
                f"({a}) {x}-{line}",
                f"{a}-{x}-{line}",
                f"{a}.{x}.{line}",
                f"+1 {a} {x} {line}",
                f"+1{a}{x}{line}",
                f"1-{a}-{x}-{line}",
            )
        )

    def body(self, number: str, **extra: Any) -> str:
        data = {
            "destinationNumber": number,
            "firstName": self.rng.choice(FIRST),
            "lastName": self.rng.choice(LAST),
            "source": "https://example.com/sms-signup",
            **extra,
        }
        if self.rng.random() < 0.5:
            data["consent"] = True
        return json.dumps(data)

    def person(self, e164: str) -> str:
        extra = {}
        if phonenumbers.region_code_for_number(phonenumbers.parse(e164)) == "CA" and self.rng.random() < 0.5:
            extra["country"] = "CA"
        return self.body(self.typed(e164), **extra)

    def foreign(self) -> tuple[str, str]:
        """A valid mobile number of a country we do not serve, as SMS-pumping bots send them."""
        rng = self.rng
        while True:
            region = rng.choice(FOREIGN_REGIONS)
            example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
            national = str(example.national_number)
            national = national[:-4] + f"{rng.randrange(10_000):04d}"
            e164 = f"+{example.country_code}{national}"
            number = phonenumbers.parse(e164)
            if e164 in self.used or not phonenumbers.is_valid_number(number):
                continue
            if phonenumbers.region_code_for_number(number) in ("US", "CA"):
                continue
            self.used.add(e164)
            typed = e164 if rng.random() < 0.5 else f"+{example.country_code} {national}"
            extra = {"country": region} if rng.random() < 0.3 else {}
            return e164, self.body(typed, **extra)

    def malformed(self) -> str:
        """Garbage a public form receives: letters, wrong length, bad characters, invalid numbers,
        empty or missing fields, bodies that are not JSON."""
        rng = self.rng
        a, x, line = rng.choice(US_AREAS), rng.randint(200, 999), f"{rng.randrange(10_000):04d}"
        kind = rng.choices(
            ("letters", "short", "long", "characters", "invalid", "empty", "missing", "not_json"),
            weights=(20, 20, 15, 10, 15, 8, 7, 5),
        )[0]
        if kind == "letters":
            number = rng.choice(
                (
                    f"{a}-555-CALL",
                    "call me",
                    "n/a",
                    f"{a}{x}{line} ext 12",
                    "1-800-FLOWERS",
                    "asdfgh",
                    "O2O6555O142",
                )
            )
        elif kind == "short":
            number = "".join(str(rng.randrange(10)) for _ in range(rng.randint(3, 9)))
        elif kind == "long":
            number = str(rng.randint(2, 9)) + "".join(
                str(rng.randrange(10)) for _ in range(rng.randint(11, 15))
            )
        elif kind == "characters":
            number = rng.choice(
                (f"{a}*{x}*{line}", f"{a}#{x}#{line}", f"{a}_{x}_{line}", f"+1 ({a}) {x}-{line};")
            )
        elif kind == "invalid":
            number = f"{rng.choice('01')}{rng.randrange(100):02d}-{x}-{line}"  # area codes never start 0/1
        elif kind == "empty":
            number = rng.choice(("", "   "))
        elif kind == "missing":
            data = {"destinationNumber": f"{a}{x}{line}", "firstName": "", "lastName": "Bot"}
            if rng.random() < 0.5:
                data = {"firstName": "Bot", "lastName": "Bot"}
            return json.dumps(data)
        else:
            return rng.choice(
                (f"destinationNumber={a}{x}{line}&firstName=Bot", "<html></html>", "null", "[]")
            )
        return self.body(number)


def generate(mix: Mix, n: int, seed: int) -> list[Event]:
    """The submissions of ``mix`` (and the YES replies of those who later re-submit), in time order."""
    rng = random.Random(seed)
    gen = _Generator(rng)
    counts = mix.counts(n)
    repeats = counts["dup"] + counts["later"] + counts["confirmed"]
    if repeats and not counts["new"]:
        raise ValueError("repeats need first-time mobiles to repeat: give 'new' a share")

    # First submissions of every number (and the garbage), spread at random intervals.
    kinds = [c for c in ("new", "malformed", "foreign", "landline") for _ in range(counts[c])]
    rng.shuffle(kinds)
    mean_gap = MEAN_GAP_SECONDS * n / max(1, len(kinds))
    events: list[Event] = []
    firsts: list[Submission] = []
    t = 0.0
    for kind in kinds:
        t += max(1.0, rng.expovariate(1 / mean_gap))
        ip = f"203.0.113.{rng.randrange(1, 255)}"
        if kind == "new":
            e164 = gen.nanp(MOBILE_LINES)
            first = Submission(t, kind, gen.person(e164), e164, ip)
            firsts.append(first)
            events.append(first)
        elif kind == "landline":
            e164 = gen.nanp(LANDLINE_LINES)
            events.append(Submission(t, kind, gen.person(e164), e164, ip))
        elif kind == "foreign":
            e164, body = gen.foreign()
            events.append(Submission(t, kind, body, e164, f"198.51.100.{rng.randrange(1, 255)}"))
        else:
            events.append(Submission(t, kind, gen.malformed(), None, f"198.51.100.{rng.randrange(1, 255)}"))

    # Some people confirm (YES a few minutes later) and re-submit hours later; the others'
    # numbers get the double submits and the later repeats (a few numbers hammered by bots).
    pool = firsts[:]
    rng.shuffle(pool)
    keep = max(min(counts["confirmed"], len(pool) // 2), 1) if counts["confirmed"] else 0
    confirmers, others = pool[:keep], pool[keep:] or pool
    yes_at: dict[str, float] = {}
    for first in confirmers:
        yes_at[first.phone or ""] = first.at + rng.uniform(20, 480)
        events.append(Confirmation(yes_at[first.phone or ""], first.phone or ""))
    for _ in range(counts["confirmed"]):
        first = rng.choice(confirmers)
        at = yes_at[first.phone or ""] + rng.uniform(120, 12 * 3600)
        events.append(Submission(at, "confirmed", gen.person(first.phone or ""), first.phone, first.ip))
    for _ in range(counts["dup"]):
        first = rng.choice(others)
        # A double click resends the same body; an impatient person may retype it.
        body = first.body if rng.random() < 0.6 else gen.person(first.phone or "")
        at = first.at + rng.uniform(2, COOLDOWN_SECONDS - 60)
        events.append(Submission(at, "dup", body, first.phone, first.ip))
    hammered = rng.sample(others, max(1, len(others) // 50))
    for _ in range(counts["later"]):
        first = rng.choice(hammered) if rng.random() < 0.3 else rng.choice(others)
        at = first.at + rng.uniform(COOLDOWN_SECONDS + 60, 20 * 3600)
        events.append(Submission(at, "later", gen.person(first.phone or ""), first.phone, first.ip))
    events.sort(key=lambda e: e.at)
    return events


# -- counting fakes ---------------------------------------------------------------------------------
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_encoding(text: str) -> str:
    """GSM-7 when every character is in its basic or extended table; one other character makes it UCS-2."""
    return "GSM-7" if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text) else "UCS-2"


def sms_segments(text: str) -> int:
    """Billed message parts: GSM-7 160 (153 per part when split), else UCS-2 70 (67)."""
    if sms_encoding(text) == "GSM-7":
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class CountingCarrier:
    """Stands in for PhoneNumberValidate: counts calls, answers by :func:`phone_type_code`."""

    def __init__(self, meter: Counter) -> None:
        self.meter = meter

    def lookup(self, e164: str, country: str | None) -> Any:
        from optin.phone_numbers import CarrierInfo

        self.meter["lookups"] += 1
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
        return CarrierInfo(
            e164=e164,
            country=region or country,
            phone_type_code=phone_type_code(e164),
            carrier="Example Wireless",
        )


class CountingSms:
    """Stands in for SendTextMessage: counts messages and their billed segments."""

    def __init__(self, meter: Counter, clock: Clock) -> None:
        self.meter = meter
        self.clock = clock
        self.bodies: Counter = Counter()

    def send(self, to: str, body: str, **_: Any) -> Any:
        from optin.ports import SentMessage

        self.meter["sms"] += 1
        self.meter["segments"] += sms_segments(body)
        self.bodies[body] += 1
        return SentMessage(message_id=f"msg-{uuid.uuid4().hex[:16]}", sent_at=self.clock())


def _value_size(value: dict[str, Any]) -> int:
    (kind, data), *_ = value.items()
    if kind in ("S", "B"):
        return len(data.encode() if isinstance(data, str) else data)
    if kind == "N":
        return len(data.lstrip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in data.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    return sum(len(str(v)) for v in data)  # sets


def item_size(item: dict[str, Any]) -> int:
    """Approximate DynamoDB item size in bytes (attribute names plus values)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


class DynamoMeter:
    """Counts every call on a DynamoDB client, and its approximate on-demand request units."""

    def __init__(self, client: Any, meter: Counter) -> None:
        self.meter = meter
        self._params: dict[str, Any] = {}
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        self._params = params
        self.meter["ddb_calls"] += 1
        self.meter[f"ddb:{op}"] += 1
        if op == "PutItem":
            self.meter["wru"] += math.ceil(max(1, item_size(params["Item"])) / 1024)
        elif op == "UpdateItem":
            self.meter["wru"] += 1  # our updates touch small marker items
        elif op == "TransactWriteItems":
            for write in params["TransactItems"]:
                item = write.get("Put", {}).get("Item")
                self.meter["wru"] += 2 * (math.ceil(max(1, item_size(item)) / 1024) if item else 1)

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        op, params = model.name, self._params
        if op == "GetItem":
            size = item_size(parsed.get("Item") or {})
            units = math.ceil(max(1, size) / 4096)
            self.meter["rru"] += units if params.get("ConsistentRead") else units / 2
        elif op == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self.meter["rru"] += math.ceil(max(1, size) / 4096) * (1 if params.get("ConsistentRead") else 0.5)


# -- Lambda events (shapes from local.events, shared with the sandbox and the tests) ---------------
def api_event(body: str, ip: str) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/json",
        "Referer": "https://example.com/sms-signup",
        "User-Agent": "Mozilla/5.0 (bench)",
    }
    return events.api_gateway_event("POST", "/register", body, headers=headers, source_ip=ip, api_id="bench")


def yes_event(phone: str, at: datetime) -> dict[str, Any]:
    message = {
        "originationNumber": phone,
        "destinationNumber": OUR_NUMBER,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "Yes",
        "inboundMessageId": str(uuid.uuid4()),
    }
    return {"Records": [events.sqs_record(events.sns_notification(message, at), at)]}


# -- the run ----------------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the submissions of one category cost."""

    n: int = 0
    statuses: Counter = field(default_factory=Counter)
    meter: Counter = field(default_factory=Counter)

    @property
    def lookups(self) -> int:
        return int(self.meter["lookups"])

    @property
    def sms(self) -> int:
        return int(self.meter["sms"])

    @property
    def segments(self) -> int:
        return int(self.meter["segments"])

    @property
    def ddb_calls(self) -> int:
        return int(self.meter["ddb_calls"])

    @property
    def paid_calls(self) -> int:
        return self.lookups + self.sms

    @property
    def usd(self) -> float:
        return self.lookups * VALIDATE_USD + self.segments * SMS_USD

    @property
    def ddb_usd(self) -> float:
        return self.meter["wru"] * DDB_WRITE_UNIT_USD + self.meter["rru"] * DDB_READ_UNIT_USD

    def add(self, other: Tally) -> None:
        self.n += other.n
        self.statuses.update(other.statuses)
        self.meter.update(other.meter)


@dataclass
class CostResult:
    mix: Mix
    n: int
    seed: int
    by_category: dict[str, Tally]
    inbound: Tally  # the YES replies driven through the inbound handler (not submissions)
    unexpected: list[str]
    confirmation_text: str
    elapsed: float

    @property
    def ours(self) -> Tally:
        total = Tally()
        for tally in self.by_category.values():
            total.add(tally)
        return total

    @property
    def tutorial_segments(self) -> int:
        return sms_segments(TUTORIAL_TEXT)

    def tutorial(self, category: str | None = None) -> tuple[int, int, float]:
        """The tutorial's flow on the same submissions: (validate calls, SMS, USD)."""
        n = self.by_category[category].n if category else self.n
        return n, n, n * (VALIDATE_USD + self.tutorial_segments * SMS_USD)

    @property
    def usd_ratio(self) -> float:
        return self.ours.usd / self.tutorial()[2]

    @property
    def calls_ratio(self) -> float:
        validate, sms, _ = self.tutorial()
        return self.ours.paid_calls / (validate + sms)

    def floor(self, segments: int | None = None) -> float:
        """The unavoidable part of the USD ratio: each first-time mobile needs one lookup and one
        confirmation SMS (of ``segments`` parts; default: our text's), each first-time landline/VoIP
        one lookup."""
        segments = segments or sms_segments(self.confirmation_text)
        new, land = self.by_category["new"].n, self.by_category["landline"].n
        return (new * (VALIDATE_USD + segments * SMS_USD) + land * VALIDATE_USD) / self.tutorial()[2]


def prepare_environment() -> None:
    """A quiet, offline process for the handlers (call before they are imported): fake AWS
    credentials for moto, no X-Ray, no metrics output, warnings and errors only in the log."""
    import os

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "SmsOptin",
            "POWERTOOLS_SERVICE_NAME": "sms-optin-bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **SETTINGS_ENV,
        }
    )


def run(mix: Mix = DEFAULT_MIX, n: int = 1000, seed: int = 7) -> CostResult:
    """Drive the real registration handler with ``n`` generated submissions of ``mix``."""
    import boto3
    from moto import mock_aws

    from local.tables import create_tables
    from optin.handlers import inbound_sms, registration
    from optin.settings import Settings
    from optin.texts import confirmation_text
    from optin.wiring import Dependencies, install

    settings = Settings.from_env(SETTINGS_ENV)
    events = generate(mix, n, seed)
    by_category = {c: Tally() for c in CATEGORIES}
    inbound = Tally()
    unexpected: list[str] = []
    started = time.perf_counter()
    with mock_aws(), fast_moto_transactions():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb, settings)
        meter: Counter = Counter()
        DynamoMeter(dynamodb, meter)
        clock = Clock(START)
        clients = {"dynamodb": dynamodb}
        deps = Dependencies(
            settings,
            clients=clients.__getitem__,  # any other client would be a real AWS call: fail loudly
            clock=clock,
            carrier=CountingCarrier(meter),
            sms=CountingSms(meter, clock),
        )
        install(deps)
        try:
            for event in events:
                clock.now = START + timedelta(seconds=event.at)
                before = meter.copy()
                if isinstance(event, Confirmation):
                    result = inbound_sms.handler(
                        yes_event(event.phone, clock.now),
                        LambdaContext(function_name="sms-optin-bench", remaining_ms=10_000),
                    )
                    inbound.n += 1
                    inbound.meter.update(meter - before)
                    if result.get("batchItemFailures"):
                        unexpected.append(f"YES from {event.phone} failed: {result}")
                    continue
                tally = by_category[event.category]
                try:
                    response = registration.handler(
                        api_event(event.body, event.ip),
                        LambdaContext(function_name="sms-optin-bench", remaining_ms=10_000),
                    )
                    status = response["statusCode"]
                except Exception as exc:  # a 5xx-equivalent: report it, keep measuring
                    status = f"exception {type(exc).__name__}"
                delta = meter - before
                tally.n += 1
                tally.statuses[status] += 1
                tally.meter.update(delta)
                problem = _check(event, status, delta)
                if problem:
                    unexpected.append(f"{CATEGORIES[event.category]}: {event.body[:70]!r} -> {problem}")
        finally:
            install(None)
    return CostResult(
        mix,
        n,
        seed,
        by_category,
        inbound,
        unexpected,
        confirmation_text(settings),
        time.perf_counter() - started,
    )


def _check(event: Submission, status: Any, delta: Counter) -> str | None:
    """What a user would notice if the flow misbehaved for this kind of submission."""
    lookups, sms = delta["lookups"], delta["sms"]
    expected = EXPECTED_STATUS[event.category]
    if status != expected:
        return f"HTTP {status}, expected {expected}"
    want = {
        "new": (1, 1),
        "malformed": (0, 0),
        "foreign": (0, 0),
        "landline": (1, 0),
        "dup": (0, 0),
        "confirmed": (0, 0),
    }.get(event.category)
    if event.category == "later":
        if lookups or sms > 1:
            return f"{lookups} lookups and {sms} SMS for a repeat (cached lookup, at most one SMS)"
        return None
    if want and (lookups, sms) != want:
        return f"{lookups} lookups and {sms} SMS, expected {want[0]} and {want[1]}"
    return None


# -- report -----------------------------------------------------------------------------------------
def _status_text(statuses: Counter) -> str:
    return " ".join(f"{s}x{k}" if len(statuses) > 1 else str(s) for s, k in sorted(statuses.items(), key=str))


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


def report(result: CostResult) -> str:
    ours = result.ours
    per1000 = 1000 / result.n
    seg_ours = sms_segments(result.confirmation_text)
    lines = [
        f"Mix: {result.mix.name}",
        f"  {result.mix.describe()}",
        f"  (--mix {result.mix.spec()}; {result.n} submissions, seed {result.seed}, "
        f"one every {MEAN_GAP_SECONDS:.0f} s on average; ran in {result.elapsed:.1f} s)",
    ]
    below = result.mix.below_issue_minimums()
    if below:
        lines.append(f"  NOTE: below the issue's minimums: {', '.join(below)}")
    header = (
        f"  {'category':<28} {'n':>5} {'HTTP':<9} | {'ours: validate':>14} {'SMS':>5} {'USD':>8} {'DDB calls':>9}"
        f" | {'tutorial: validate':>18} {'SMS':>5} {'USD':>8}"
    )
    lines += ["", header, "  " + "-" * (len(header) - 2)]
    for category, label in CATEGORIES.items():
        tally = result.by_category[category]
        if not tally.n:
            continue
        t_validate, t_sms, t_usd = result.tutorial(category)
        lines.append(
            f"  {label:<28} {tally.n:>5} {_status_text(tally.statuses):<9} | {tally.lookups:>14} {tally.sms:>5}"
            f" {tally.usd:>8.4f} {tally.ddb_calls:>9} | {t_validate:>18} {t_sms:>5} {t_usd:>8.4f}"
        )
    t_validate, t_sms, t_usd = result.tutorial()
    lines += [
        "  " + "-" * (len(header) - 2),
        f"  {'total':<28} {result.n:>5} {'':<9} | {ours.lookups:>14} {ours.sms:>5} {ours.usd:>8.4f}"
        f" {ours.ddb_calls:>9} | {t_validate:>18} {t_sms:>5} {t_usd:>8.4f}",
        f"  {'per 1000 submissions':<28} {1000:>5} {'':<9} | {ours.lookups * per1000:>14.0f}"
        f" {ours.sms * per1000:>5.0f} {ours.usd * per1000:>8.4f} {ours.ddb_calls * per1000:>9.0f}"
        f" | {t_validate * per1000:>18.0f} {t_sms * per1000:>5.0f} {t_usd * per1000:>8.4f}",
        "",
        f"  SMS are billed per segment: our confirmation text is {len(result.confirmation_text)} chars ="
        f" {seg_ours} segment(s) per SMS; the tutorial's is {len(TUTORIAL_TEXT)} chars ="
        f" {result.tutorial_segments}. Ours: {ours.segments} segments billed for {ours.sms} SMS.",
    ]
    if seg_ours > 1:
        one_segment = (ours.lookups * VALIDATE_USD + ours.sms * SMS_USD) / t_usd
        lines.append(
            f"  WARNING: the default confirmation text exceeds one SMS segment; in one segment the USD"
            f" ratio would be {one_segment:.2f}x."
        )
    ops = ", ".join(
        f"{k.removeprefix('ddb:')} {v}" for k, v in sorted(ours.meter.items()) if k.startswith("ddb:")
    )
    lines += [
        f"  DynamoDB (not in the ratio; the tutorial uses none): {ours.ddb_calls} calls ({ops}),"
        f" ≈{ours.meter['wru']:.0f} WRU + {ours.meter['rru']:.0f} RRU ≈ USD {ours.ddb_usd * per1000:.5f}"
        " per 1000 submissions on demand.",
        "  Pinpoint endpoint mirror: off, as in the default stack (Pinpoint reached end of support).",
    ]
    if result.inbound.n:
        lines.append(
            f"  Not counted (not submissions): {result.inbound.n} YES replies driven through the inbound handler"
            f" ({result.inbound.sms} welcome SMS, {result.inbound.ddb_calls} DynamoDB calls)."
        )
    floor = f"USD ratio ≥ {result.floor():.2f}x"
    if seg_ours > 1:
        floor += f" ({result.floor(1):.2f}x with a one-segment text)"
    lines.append(
        f"  Floor for this mix: first-time mobiles ({result.mix.share('new'):.0%}) each need a lookup and an SMS,"
        f" first-time landline/VoIP ({result.mix.share('landline'):.0%}) a lookup: {floor}."
    )
    if result.unexpected:
        lines.append(f"  UNEXPECTED outcomes ({len(result.unexpected)}):")
        lines += [f"    {u}" for u in result.unexpected[:10]]
    else:
        lines.append("  Every submission got the expected HTTP status and paid calls for its category.")
    invalid = "  (INVALID: unexpected outcomes above)" if result.unexpected else ""
    lines += [
        "",
        f"  paid calls (validate + SMS) ours ÷ tutorial: {ours.paid_calls} / {t_validate + t_sms}"
        f" = {result.calls_ratio:.2f}x  target ≤ {TARGET}x  {verdict(result.calls_ratio, TARGET)}{invalid}",
        f"  USD at list price           ours ÷ tutorial: {ours.usd:.4f} / {t_usd:.4f}"
        f" = {result.usd_ratio:.2f}x  target ≤ {TARGET}x  {verdict(result.usd_ratio, TARGET)}{invalid}",
    ]
    return "\n".join(lines)
