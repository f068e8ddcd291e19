"""Follow-up sequences (drip messages after confirmation), as pure functions: no I/O, no AWS.

A sequence is a list of steps, configured as JSON in FOLLOW_UP_SEQUENCE (docs/followups.md). When a
contact becomes CONFIRMED, each step gets a one-time schedule at ``confirmed_at + step.after``, moved
forward into the recipient's sending window (default 09:00-20:00 local time). The schedule invokes the
sender with a :class:`FollowUpJob`; the sender re-reads the contact and sends only if it is still
CONFIRMED in the same consent episode (the same ``confirmed_at``), so a STOP, or a STOP then START,
never lets an old schedule through.

Names are deterministic (contact, episode, step), so creating the schedules again is a no-op and an
opt-out can delete them without listing anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from optin.clock import iso, parse_iso
from optin.consent import Contact
from optin.person_names import line_for_text, name_for_text

SEQUENCE_VARIABLE = "FOLLOW_UP_SEQUENCE"
WINDOW_VARIABLE = "FOLLOW_UP_SEND_WINDOW"
MESSAGE_TYPES = ("PROMOTIONAL", "TRANSACTIONAL")
DEFAULT_MESSAGE_TYPE = "PROMOTIONAL"  # a drip is marketing; the confirmation flow's texts stay TRANSACTIONAL
FIELDS = ("FirstName", "LastName", "Brand", "HelpUrl", "Frequency")  # {{Field}} placeholders
MAX_STEPS = 20  # each one is a CreateSchedule call in the inbound function
MAX_BODY = 1600  # SendTextMessage's limit
MAX_AFTER = timedelta(days=3650)

MIN_LEAD = timedelta(minutes=2)  # never schedule closer to now (or in the past: at() must be in the future)
STALE_AFTER = timedelta(days=1)  # a step planned longer ago than this is dropped, not sent late
MAX_DEFERRALS = 2  # a send that finds itself outside the window is rescheduled at most this often
JOB_TYPE = "sms-optin.follow-up"
JOB_VERSION = 1

_STEP_ID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
_AFTER = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_STEP_KEYS = {"id", "after", "body", "messageType"}


class SequenceError(ValueError):
    """FOLLOW_UP_SEQUENCE or FOLLOW_UP_SEND_WINDOW is malformed; the message starts with the variable."""


# -- the sequence ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FollowUpStep:
    id: str  # unique in the sequence; part of the schedule names and of the at-most-once marker
    after: timedelta  # from confirmation
    body: str  # template with {{FirstName}}-style fields
    message_type: str = DEFAULT_MESSAGE_TYPE


def parse_sequence(raw: str | None, variable: str = SEQUENCE_VARIABLE) -> tuple[FollowUpStep, ...]:
    """The steps of a JSON sequence: ``[{"id"?, "after", "body", "messageType"?}, ...]``. Empty text is
    an empty sequence (follow-ups off). Raises SequenceError naming ``variable`` and the step."""
    text = (raw or "").strip()
    if not text:
        return ()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SequenceError(f"{variable} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise SequenceError(f"{variable} must be a JSON list of steps, got {type(data).__name__}")
    if len(data) > MAX_STEPS:
        raise SequenceError(f"{variable} has {len(data)} steps; at most {MAX_STEPS} are allowed")
    steps = tuple(_parse_step(item, index, variable) for index, item in enumerate(data, start=1))
    seen: set[str] = set()
    for index, step in enumerate(steps, start=1):
        if step.id in seen:
            raise SequenceError(
                f"{variable} step {index}: id {step.id!r} is used twice; give the steps distinct ids"
            )
        seen.add(step.id)
    return tuple(sorted(steps, key=lambda s: s.after))


def _parse_step(item: Any, index: int, variable: str) -> FollowUpStep:
    where = f"{variable} step {index}"
    if not isinstance(item, dict):
        raise SequenceError(f"{where} must be an object with after and body, got {item!r}")
    unknown = sorted(set(item) - _STEP_KEYS)
    if unknown:
        raise SequenceError(
            f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(_STEP_KEYS))}"
        )
    after_text = item.get("after")
    if not isinstance(after_text, str) or not after_text.strip():
        raise SequenceError(f'{where}: \'after\' is required, e.g. "1d", "7d", "12h" or "1d12h"')
    after = parse_after(after_text)
    if after is None:
        raise SequenceError(
            f'{where}: \'after\' must be weeks/days/hours/minutes such as "1d", "2w" or "1d12h", '
            f"got {after_text!r}"
        )
    if after < timedelta(minutes=1) or after > MAX_AFTER:
        raise SequenceError(f"{where}: 'after' must be between 1m and 3650d, got {after_text!r}")
    step_id = item.get("id", format_after(after))
    if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
        raise SequenceError(f"{where}: 'id' must be 1 to 24 letters, digits, '-' or '_', got {step_id!r}")
    body = item.get("body")
    if not isinstance(body, str) or not body.strip():
        raise SequenceError(f"{where} ({step_id}): 'body' is required")
    body = body.strip()
    if len(body) > MAX_BODY:
        raise SequenceError(f"{where} ({step_id}): 'body' is longer than {MAX_BODY} characters")
    bad = [name for name in _PLACEHOLDER.findall(body) if name not in FIELDS]
    if bad or _PLACEHOLDER.sub("", body).count("{{"):
        raise SequenceError(
            f"{where} ({step_id}): unknown placeholder(s) {', '.join(repr(b) for b in bad) or '{{'}; "
            f"use {', '.join('{{' + f + '}}' for f in FIELDS)}"
        )
    message_type = item.get("messageType", DEFAULT_MESSAGE_TYPE)
    if not isinstance(message_type, str) or message_type.upper() not in MESSAGE_TYPES:
        raise SequenceError(f"{where} ({step_id}): 'messageType' must be PROMOTIONAL or TRANSACTIONAL")
    return FollowUpStep(step_id, after, body, message_type.upper())


def parse_after(text: str) -> timedelta | None:
    """Weeks, days, hours and minutes ("1d", "2w", "12h", "90m", "1d12h") as a timedelta; None when malformed."""
    match = _AFTER.match(text.strip().lower())
    if not match or not any(match.groups()):
        return None
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    if max(weeks, days, hours, minutes) > 10**6:
        return None
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def format_after(after: timedelta) -> str:
    """timedelta(days=1, hours=12) -> "1d12h" (the default step id)."""
    minutes = int(after.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text or "0m"


def fingerprint(steps: Sequence[FollowUpStep]) -> str:
    """A short hash of the sequence's definition, carried in each job for the logs and the audit trail."""
    canonical = json.dumps(
        [[s.id, int(s.after.total_seconds()), s.body, s.message_type] for s in steps], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{{Field}}`` placeholders; a missing value becomes empty rather than failing a send. Each
    value goes in as one printable line of at most MAX_FIELD_IN_TEXT characters, whatever it holds."""
    return _PLACEHOLDER.sub(lambda m: line_for_text(values.get(m.group(1), "")), template).strip()


def text_values(contact: Contact, brand: str, help_url: str, frequency: str) -> dict[str, str]:
    """The template fields for ``contact``. Names, even ones stored before today's rules, go in as
    :func:`optin.person_names.name_for_text` makes them: their first line, no digits, no URL, capped."""
    return {
        "FirstName": name_for_text(contact.first_name),
        "LastName": name_for_text(contact.last_name),
        "Brand": brand,
        "HelpUrl": help_url,
        "Frequency": frequency,
    }


# -- the sending window ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendWindow:
    """Local times of day when follow-ups may be sent: [start, end), in minutes after midnight."""

    start: int = 9 * 60
    end: int = 20 * 60

    @classmethod
    def parse(cls, text: str | None, variable: str = WINDOW_VARIABLE) -> SendWindow:
        """Parse "HH:MM-HH:MM", e.g. "09:00-20:00" (end exclusive; "00:00-24:00": no quiet hours)."""
        value = (text or "").strip()
        if not value:
            return cls()
        match = _WINDOW.match(value)
        if not match:
            raise SequenceError(f"{variable} must look like 09:00-20:00, got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or start >= end:
            raise SequenceError(
                f"{variable} must be a same-day window HH:MM-HH:MM with start before end, got {value!r}"
            )
        return cls(start, end)

    @property
    def always_open(self) -> bool:
        return self.start == 0 and self.end == 1440

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    def contains(self, when: datetime, zone: ZoneInfo) -> bool:
        local = when.astimezone(zone)
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return self.start * 60 <= seconds < self.end * 60

    def next_opening(self, when: datetime, zone: ZoneInfo) -> datetime:
        """``when`` if it is inside the window in ``zone``, else the window's next opening (UTC)."""
        if self.contains(when, zone):
            return when
        local = when.astimezone(zone)
        day = local.date()
        if local.hour * 60 + local.minute >= self.start:
            day += timedelta(days=1)  # past today's window: tomorrow's opening
        opening = datetime.combine(day, time(self.start // 60, self.start % 60), tzinfo=zone)
        return opening.astimezone(UTC)


def earliest_send_time(when: datetime, zones: Sequence[ZoneInfo], window: SendWindow) -> datetime:
    """The earliest moment at or after ``when`` inside ``window`` in every one of ``zones`` (the number
    may be in any of them). When the zones share no window within a week, the first zone decides."""
    if window.always_open or not zones:
        return when
    candidate = when
    limit = when + timedelta(days=8)
    while candidate <= limit:
        moved = False
        for zone in zones:
            opening = window.next_opening(candidate, zone)
            if opening != candidate:
                candidate, moved = opening, True
        if not moved:
            return candidate
    return window.next_opening(when, zones[0])


def is_sendable(when: datetime, zones: Sequence[ZoneInfo], window: SendWindow) -> bool:
    return window.always_open or all(window.contains(when, zone) for zone in zones)


def recipient_zones(lookup_timezone: str | None, phone: str) -> tuple[ZoneInfo, ...]:
    """The recipient's time zone: the carrier lookup's when it names a known IANA zone, else every zone
    libphonenumber gives for the number (an area code may span two). Raises ZoneInfoNotFoundError when
    no time zone data is available at all (tzdata missing), rather than silently using UTC."""
    if lookup_timezone:
        zone = _zone(lookup_timezone.strip())
        if zone is not None:
            return (zone,)
    zones = tuple(z for z in (_zone(key) for key in _libphonenumber_zones(phone)) if z is not None)
    if zones:
        return zones
    ZoneInfo("America/New_York")  # raises when the time zone database is missing
    return (ZoneInfo("UTC"),)  # a number libphonenumber cannot place (not one we register)


def _zone(key: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _libphonenumber_zones(phone: str) -> tuple[str, ...]:
    import phonenumbers
    from phonenumbers import timezone  # loads a large table: only when asked

    try:
        keys = timezone.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(k for k in keys if k != "Etc/Unknown")


# -- schedules and jobs -------------------------------------------------------------------------------
def episode_of(contact: Contact) -> str | None:
    """The consent episode a schedule belongs to: the confirmation time (a STOP then START makes a new one)."""
    return iso(contact.confirmed_at) if contact.confirmed_at is not None else None


def contact_key(phone: str) -> str:
    """A pseudonym of the number for schedule names (names show up in consoles and CloudTrail)."""
    return hashlib.sha256(phone.encode()).hexdigest()[:12]


def schedule_name(phone: str, episode: str, step_id: str, deferral: int = 0) -> str:
    """fu-<contact>-<episode>-<step>[-d<n>]: at most 55 characters of [0-9A-Za-z_-]."""
    at = parse_iso(episode)
    millis = int(at.timestamp()) * 1000 + at.microsecond // 1000
    name = f"fu-{contact_key(phone)}-{millis:x}-{step_id}"
    return f"{name}-d{deferral}" if deferral else name


def marker_id(job: FollowUpJob) -> str:
    """The at-most-once record of one step of one episode (idempotency table)."""
    return f"followup#{job.phone}#{job.episode}#{job.step}"


@dataclass(frozen=True)
class FollowUpJob:
    """What a schedule delivers to the sender (the schedule's input)."""

    phone: str
    step: str
    episode: str  # iso(confirmed_at) of the episode that scheduled it
    sequence: str  # fingerprint of the sequence at scheduling time (for logs and the audit trail)
    planned_for: str  # iso of the schedule's time
    deferrals: int = 0

    def to_payload(self) -> dict[str, Any]:
        return {
            "type": JOB_TYPE,
            "version": JOB_VERSION,
            "phone": self.phone,
            "step": self.step,
            "episode": self.episode,
            "sequence": self.sequence,
            "plannedFor": self.planned_for,
            "deferrals": self.deferrals,
        }

    @classmethod
    def from_payload(cls, data: Any) -> FollowUpJob:
        """Parse a schedule's input (a dict or its JSON text); raises ValueError when malformed."""
        if isinstance(data, str | bytes):
            data = json.loads(data)
        if not isinstance(data, dict) or data.get("type") != JOB_TYPE:
            raise ValueError(f"not a follow-up job (type must be {JOB_TYPE!r})")
        if data.get("version") != JOB_VERSION:
            raise ValueError(f"unsupported follow-up job version {data.get('version')!r}")
        phone, step, episode = data.get("phone"), data.get("step"), data.get("episode")
        if not isinstance(phone, str) or not _E164.match(phone):
            raise ValueError("follow-up job: 'phone' must be an E.164 number")
        if not isinstance(step, str) or not _STEP_ID.match(step):
            raise ValueError("follow-up job: 'step' must be a step id")
        if not isinstance(episode, str):
            raise ValueError("follow-up job: 'episode' must be a timestamp")
        parse_iso(episode)  # raises ValueError
        deferrals = data.get("deferrals", 0)
        if not isinstance(deferrals, int) or not 0 <= deferrals <= MAX_DEFERRALS:
            raise ValueError(f"follow-up job: 'deferrals' must be 0 to {MAX_DEFERRALS}")
        return cls(
            phone=phone,
            step=step,
            episode=episode,
            sequence=str(data.get("sequence", "")),
            planned_for=str(data.get("plannedFor", "")),
            deferrals=deferrals,
        )


@dataclass(frozen=True)
class ScheduledSend:
    """One one-time schedule to create."""

    name: str
    at: datetime  # UTC, whole seconds
    job: FollowUpJob
    description: str


@dataclass(frozen=True)
class Plan:
    sends: tuple[ScheduledSend, ...]
    stale: tuple[str, ...]  # step ids whose time passed too long ago to send now


def plan(contact: Contact, steps: Sequence[FollowUpStep], window: SendWindow, now: datetime) -> Plan:
    """The schedules a CONFIRMED contact's episode should have (none for a contact never confirmed)."""
    episode = episode_of(contact)
    if episode is None or contact.confirmed_at is None or not steps:
        return Plan((), ())
    zones = recipient_zones(contact.timezone, contact.phone)
    version = fingerprint(steps)
    sends: list[ScheduledSend] = []
    stale: list[str] = []
    for step in steps:
        planned = contact.confirmed_at + step.after
        if planned < now - STALE_AFTER:
            stale.append(step.id)
            continue
        at = earliest_send_time(_whole_seconds(max(planned, now + MIN_LEAD)), zones, window)
        job = FollowUpJob(contact.phone, step.id, episode, version, iso(at))
        sends.append(
            ScheduledSend(
                schedule_name(contact.phone, episode, step.id),
                at,
                job,
                f"sms-optin follow-up {step.id}: {format_after(step.after)} after confirmation",
            )
        )
    return Plan(tuple(sends), tuple(stale))


def deferral(job: FollowUpJob, contact: Contact, window: SendWindow, now: datetime) -> ScheduledSend | None:
    """The schedule that moves a send which found itself outside the window (a late retry, a backlog) to
    the next opening; None when it was moved too often already."""
    if job.deferrals >= MAX_DEFERRALS:
        return None
    zones = recipient_zones(contact.timezone, contact.phone)
    at = earliest_send_time(_whole_seconds(now + MIN_LEAD), zones, window)
    moved = replace(job, deferrals=job.deferrals + 1, planned_for=iso(at))
    return ScheduledSend(
        schedule_name(job.phone, job.episode, job.step, moved.deferrals),
        at,
        moved,
        f"sms-optin follow-up {job.step}: moved into the sending window ({moved.deferrals})",
    )


def schedule_names(contact: Contact, steps: Iterable[FollowUpStep]) -> list[str]:
    """Every schedule name the contact's latest episode may have (steps and their deferrals)."""
    episode = episode_of(contact)
    if episode is None:
        return []
    return [
        schedule_name(contact.phone, episode, step.id, n) for step in steps for n in range(MAX_DEFERRALS + 1)
    ]


def at_expression(when: datetime) -> str:
    """EventBridge Scheduler's one-time expression, evaluated in UTC."""
    return f"at({when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def _whole_seconds(when: datetime) -> datetime:
    """Up to the next whole second (at() takes no fraction): a step is never sent before it is due."""
    whole = when.replace(microsecond=0)
    return whole if whole == when else whole + timedelta(seconds=1)
