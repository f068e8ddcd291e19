"""The admin operations, on the functions' own services and adapters (:class:`optin.wiring.Dependencies`).

Every consent change is a decision of :mod:`optin.consent_records` (or, for an import that asks for
re-permission, the registration service itself) written with ``optin.contacts.transact``: the same
conditional writes, the same audit trail, the same rules as the Lambda functions. Results come back as
plain JSON-ready objects so that the sandbox can serve them over HTTP unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from optin.admin.adapters import DynamoConsentRecords, ListedNumber, ProfileFilter
from optin.admin.rows import record_json
from optin.consent import Contact, Status
from optin.consent_records import (
    CARRIER,
    OPT_OUT_LIST_SOURCE,
    SUPPRESSED,
    SUPPRESSION_SOURCE,
    ImportAs,
    SyncAction,
    import_action,
    opted_out_by_operator,
    personal_markers,
    plan_erasure,
    sync_action,
)
from optin.contacts import Change, mirror_quietly, transact
from optin.followups.sequence import schedule_names
from optin.lookup import PhoneLookupService, PhoneVerdict
from optin.masking import mask
from optin.models import RegistrationBody
from optin.observability import logger
from optin.phone_numbers import CarrierInfo, Precheck
from optin.ports import DependencyUnavailable
from optin.registration import CannotReceiveSms, InvalidPhoneNumber, RegistrationRequest, RegistrationService
from optin.request_body import BodyError
from optin.settings import Settings

if TYPE_CHECKING:
    from optin.wiring import Dependencies

IMPORT_USER_AGENT = "sms-optin import"
DEFAULT_IMPORT_SOURCE = "import"
# CSV header spellings (lower case, without spaces, '_' and '-') -> the field they fill.
_COLUMNS = {
    "phone": "phone",
    "phonenumber": "phone",
    "number": "phone",
    "mobile": "phone",
    "destinationnumber": "phone",
    "e164": "phone",
    "firstname": "firstName",
    "first": "firstName",
    "givenname": "firstName",
    "lastname": "lastName",
    "last": "lastName",
    "surname": "lastName",
    "familyname": "lastName",
    "source": "source",
    "country": "country",
}


class OptOutList(Protocol):
    name: str

    def pages(self) -> Iterator[list[ListedNumber]]: ...

    def put(self, phone: str) -> None: ...

    def remove(self, phone: str) -> bool: ...


@dataclass(frozen=True)
class EraseResult:
    phone: str
    outcome: str  # erased | already_erased | not_found
    events_deleted: int = 0
    markers_deleted: int = 0
    schedules_deleted: int = 0
    lookup_deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {camel: value for camel, value in zip(_ERASE_KEYS, asdict(self).values(), strict=True)}


_ERASE_KEYS = ("phone", "outcome", "eventsDeleted", "markersDeleted", "schedulesDeleted", "lookupDeleted")


@dataclass(frozen=True)
class RowResult:
    """One imported row. ``outcome``: registered | suppressed | would_register | would_suppress |
    skipped | rejected | failed (try again: a re-run resumes); ``reason`` says why, ``errors`` maps the
    row's fields to what is wrong with them (as /register's 400 does)."""

    line: int
    phone: str  # E.164 when the number parsed, else as written
    outcome: str
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    texted: bool = False  # a confirmation text went out for this row

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "phone": self.phone,
            "outcome": self.outcome,
            "reason": self.reason,
            "errors": self.errors,
            "texted": self.texted,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowResult:
        return cls(
            int(data["line"]),
            str(data["phone"]),
            str(data["outcome"]),
            str(data.get("reason") or ""),
            dict(data.get("errors") or {}),
            bool(data.get("texted")),
        )


@dataclass
class SyncReport:
    """What ``optouts sync`` did (or, with ``applied`` False, would do), number by number."""

    opt_out_list: str
    applied: bool
    listed: int = 0  # numbers on the AWS list
    opted_out_here: list[str] = field(default_factory=list)
    put_on_list: list[str] = field(default_factory=list)
    removed_from_list: list[str] = field(default_factory=list)
    not_removed: list[str] = field(default_factory=list)  # End User Messaging refused (30-day limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "optOutList": self.opt_out_list,
            "applied": self.applied,
            "listed": self.listed,
            "optedOutHere": self.opted_out_here,
            "putOnList": self.put_on_list,
            "removedFromList": self.removed_from_list,
            "notRemoved": self.not_removed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncReport:
        return cls(
            str(data["optOutList"]),
            bool(data["applied"]),
            int(data.get("listed", 0)),
            list(data.get("optedOutHere", [])),
            list(data.get("putOnList", [])),
            list(data.get("removedFromList", [])),
            list(data.get("notRemoved", [])),
        )


class _PrecheckOnly:
    """The lookup service for an import without ``--lookup``: the same free offline precheck, and no paid
    carrier lookup (the number is then recorded with libphonenumber's type, not a carrier's answer)."""

    def __init__(self, lookup: PhoneLookupService) -> None:
        self._lookup = lookup

    def precheck(self, raw: str | None, country: str | None = None) -> Precheck:
        return self._lookup.precheck(raw, country)

    def check(self, raw: str | None, country: str | None = None) -> PhoneVerdict:
        pre = self.precheck(raw, country)
        if not pre.ok or pre.e164 is None:
            return PhoneVerdict(pre, rejection=pre.rejection)
        return PhoneVerdict(pre, _Unverified(e164=pre.e164, country=pre.country, phone_type_code=0))


@dataclass(frozen=True)
class _Unverified(CarrierInfo):
    @property
    def phone_type(self) -> str:
        return "UNVERIFIED"


class ConsentAdmin:
    """show, export, erase, import (one row at a time) and opt-out sync."""

    def __init__(
        self,
        deps: Dependencies,
        records: DynamoConsentRecords,
        opt_out_list: Callable[[], OptOutList] | None = None,
    ) -> None:
        self._deps = deps
        self._records = records
        self._opt_out_list = opt_out_list
        self._registration: dict[bool, RegistrationService] = {}

    @property
    def settings(self) -> Settings:
        return self._deps.settings

    # -- show and export ---------------------------------------------------------------------------------
    def show(self, phone: str) -> dict[str, Any] | None:
        """The contact and its whole audit trail, or None."""
        contact = self._deps.contacts.get(phone)
        if contact is None:
            return None
        return record_json(contact, self._deps.contacts.events(phone))

    def export(self, where: ProfileFilter, with_audit: bool = False) -> Iterator[dict[str, Any]]:
        """Records page by page: memory holds one page of profiles (and one contact's trail) at a time."""
        for page in self._records.profiles(where):
            for contact in page:
                events = self._deps.contacts.events(contact.phone) if with_audit else None
                yield record_json(contact, events)

    # -- erase ---------------------------------------------------------------------------------------
    def erase(self, phone: str, reason: str) -> EraseResult:
        """Erase the personal data of ``phone`` for ``reason`` (GDPR/CCPA). Idempotent; a run that was
        interrupted is completed by the next one."""
        deps = self._deps
        now = deps.clock()
        lookup_deleted = self._records.forget_lookup(phone)
        contact = deps.contacts.get(phone)
        if contact is None:
            return EraseResult(phone, "not_found", lookup_deleted=lookup_deleted)
        events = deps.contacts.events(phone)
        if plan_erasure(contact, events, reason, now) is None:
            return EraseResult(phone, "already_erased", lookup_deleted=lookup_deleted)

        schedules = self._cancel_follow_ups(contact)

        def decide(current: Contact | None) -> tuple[Change | None, None]:
            plan = plan_erasure(current, events, reason, now) if current is not None else None
            if plan is None or plan.contact is None or plan.tombstone is None:
                return None, None
            return Change(plan.contact, (plan.tombstone,)), None

        saved, _ = transact(deps.contacts, phone, decide)
        steps = [step.id for step in self.settings.follow_up_steps]
        markers = self._records.delete_markers(personal_markers(phone, events, steps))
        # What is left of the trail now (the tombstone, and anything written since the read above).
        deleted = 0
        if saved is not None:
            keys = self._records.event_keys(phone)
            rest = plan_erasure(saved, deps.contacts.events(phone), reason, now)
            if rest is not None:
                deleted = self._records.delete_events(
                    phone, [keys[i] for i in rest.delete_events if i in keys]
                )
            mirror_quietly(deps.mirror, saved)
        logger.info("contact erased", extra={"phone": mask(phone), "eventsDeleted": deleted})
        return EraseResult(phone, "erased", deleted, markers, schedules, lookup_deleted)

    def _cancel_follow_ups(self, contact: Contact) -> int:
        """Delete the schedules of the contact's current episode (their input names the number)."""
        steps = self.settings.follow_up_steps
        if not steps or contact.confirmed_at is None:
            return 0
        scheduler = self._deps.scheduler
        return sum(1 for name in schedule_names(contact, steps) if scheduler.delete(name))

    # -- import ----------------------------------------------------------------------------------------
    def import_row(
        self,
        row: Mapping[str, str | None],
        line: int,
        mode: ImportAs,
        *,
        apply: bool = False,
        lookup: bool = False,
        source: str = DEFAULT_IMPORT_SOURCE,
    ) -> RowResult:
        """Validate one CSV row as /register validates a body, then (with ``apply``) register it through
        the registration service (``pending``: a re-permission text) or suppress it (``opted-out``)."""
        fields = normalize_row(row)
        raw_phone = (fields.get("phone") or "").strip()
        body: dict[str, Any] = {
            "destinationNumber": raw_phone,
            "source": fields.get("source") or source,
            "consent": True,
        }
        if fields.get("country"):
            body["country"] = fields["country"]
        if mode == ImportAs.PENDING:
            body["firstName"] = fields.get("firstName") or ""
            body["lastName"] = fields.get("lastName") or ""
        else:  # a suppression list needs no names, and none are kept
            body["firstName"] = body["lastName"] = "-"
        try:
            parsed = RegistrationBody.parse(body, self.settings)
        except BodyError as exc:
            errors = {_ROW_FIELD.get(k, k): v for k, v in exc.errors.items()}
            codes = sorted({exc.codes[k] for k in exc.errors})
            return RowResult(line, raw_phone, "rejected", ",".join(codes), errors)
        pre = self._deps.lookup.precheck(parsed.destinationNumber, parsed.country)
        if not pre.ok or pre.e164 is None:
            return RowResult(line, raw_phone, "rejected", str(pre.rejection), {"phone": pre.message or ""})
        phone = pre.e164
        now = self._deps.clock()
        action = import_action(self._deps.contacts.get(phone), mode, now)
        if action.startswith("skip:"):
            return RowResult(line, phone, "skipped", action.removeprefix("skip:"))
        if not apply:
            return RowResult(line, phone, f"would_{action}")
        if action == "suppress":
            detail = {"source": parsed.source or source}
            changed = self._opt_out(phone, SUPPRESSED, SUPPRESSION_SOURCE, now, detail)
            return RowResult(
                line, phone, "suppressed" if changed else "skipped", "" if changed else "opted_out"
            )
        request = RegistrationRequest(
            phone=parsed.destinationNumber,
            first_name=parsed.firstName,
            last_name=parsed.lastName,
            source=parsed.source or source,
            country=parsed.country,
            user_agent=IMPORT_USER_AGENT,
        )
        try:
            outcome = self._registration_service(lookup).register(request)
        except InvalidPhoneNumber as exc:
            return RowResult(line, phone, "rejected", str(exc.verdict.rejection), {"phone": str(exc)})
        except CannotReceiveSms as exc:
            return RowResult(line, phone, "rejected", exc.reason, {"phone": exc.message})
        except DependencyUnavailable as exc:
            return RowResult(line, phone, "failed", exc.what)
        texted = ":" not in outcome and outcome not in ("confirmed", "claimed")
        contact = self._deps.contacts.get(phone)
        texted = texted and contact is not None and contact.confirmation_message_id is not None
        return RowResult(line, phone, "registered", outcome, texted=texted)

    def _registration_service(self, lookup: bool) -> RegistrationService:
        """The functions' registration service, without the abuse guard: the guard keeps bots off the
        public form (per-IP and per-range limits, the spend breaker); an operator's import is paced by
        ``--rate`` and must not use up the form's hourly budget."""
        if lookup not in self._registration:
            deps = self._deps
            unguarded = PhoneLookupService(deps.settings, deps.lookup_cache, deps.carrier, deps.clock, None)
            service: Any = unguarded if lookup else _PrecheckOnly(unguarded)
            self._registration[lookup] = RegistrationService(
                deps.settings, service, deps.contacts, deps.sms, deps.mirror, deps.clock, guard=None
            )
        return self._registration[lookup]

    def _opt_out(self, phone: str, keyword: str, source: str, at: datetime, detail: dict[str, str]) -> bool:
        def decide(current: Contact | None) -> tuple[Change | None, bool]:
            decided = opted_out_by_operator(current, phone, keyword, source, at, detail)
            return (Change(decided[0], decided[1]) if decided else None), decided is not None

        saved, changed = transact(self._deps.contacts, phone, decide)
        if changed and saved is not None:
            mirror_quietly(self._deps.mirror, saved)
            follow_ups = self._deps.follow_ups
            if follow_ups is not None:
                # The schedules of the episode that just ended are named after its confirmation time.
                follow_ups.sync(replace(saved, status=Status.OPTED_OUT))
        return changed

    # -- opt-out sync ---------------------------------------------------------------------------------
    def sync_opt_outs(self, apply: bool = True) -> SyncReport:
        """End User Messaging's opt-out list <-> the contacts table, both ways (``sync_action``). The list
        is read whole first (numbers and times only); the table page by page."""
        if self._opt_out_list is None:
            raise DependencyUnavailable("no opt-out list is configured for this target")
        opt_outs = self._opt_out_list()
        report = SyncReport(opt_outs.name, apply)
        listed: dict[str, ListedNumber] = {}
        for page in opt_outs.pages():
            for number in page:
                listed[number.phone] = number
        report.listed = len(listed)
        for phone, number in sorted(listed.items()):
            action = sync_action(self._deps.contacts.get(phone), number.opted_out_at)
            if action == SyncAction.OPT_OUT_HERE:
                detail = {
                    "optOutList": opt_outs.name,
                    "endUserOptedOut": str(number.end_user_opted_out).lower(),
                }
                if not apply or self._opt_out(
                    phone, CARRIER, OPT_OUT_LIST_SOURCE, number.opted_out_at, detail
                ):
                    report.opted_out_here.append(phone)
            elif action == SyncAction.REMOVE_FROM_LIST:
                if not apply or opt_outs.remove(phone):
                    report.removed_from_list.append(phone)
                else:
                    report.not_removed.append(phone)
        for page in self._records.profiles(ProfileFilter(status=Status.OPTED_OUT)):
            for contact in page:
                if contact.phone in listed or sync_action(contact, None) != SyncAction.PUT_ON_LIST:
                    continue
                if apply:
                    opt_outs.put(contact.phone)
                report.put_on_list.append(contact.phone)
        logger.info(
            "opt-outs synced",
            extra={
                "applied": apply,
                "optedOutHere": len(report.opted_out_here),
                "putOnList": len(report.put_on_list),
                "removedFromList": len(report.removed_from_list),
            },
        )
        return report


_ROW_FIELD = {"destinationNumber": "phone", "firstName": "firstName", "lastName": "lastName"}


def normalize_row(row: Mapping[str, str | None]) -> dict[str, str]:
    """A CSV row's cells under the field names import knows (``phone``, ``firstName``, ``lastName``,
    ``source``, ``country``), whatever the header's spelling (``first_name``, ``First Name``, ...)."""
    fields: dict[str, str] = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        name = _COLUMNS.get("".join(ch for ch in key.lower() if ch not in " _-"))
        if name and name not in fields:
            fields[name] = value
    return fields
