"""Delivering a custom-channel batch to WhatsApp: who is skipped and why, concurrent sends paced by a
token bucket, retries within the invocation's time budget, and one result for every endpoint.

The same service serves a Pinpoint campaign or journey (the results go back to Pinpoint) and the
broadcast queue (endpoints that failed for a retryable reason go back onto the queue). It never sees
a Lambda event: the handlers parse and delegate.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from optin.consent import Contact, Status
from optin.masking import mask
from optin.observability import logger, metrics
from optin.ports import DependencyUnavailable
from optin.settings import Settings, SettingsError
from optin.whatsapp.pacing import Backoff, Deadline, Sleep, TokenBucket
from optin.whatsapp.templates import (
    InvalidTemplate,
    PermanentSendError,
    SendError,
    TemplateMessage,
    WhatsAppTransport,
    parse_template,
)

SENT, FAILED, SKIPPED = "sent", "failed", "skipped"
_ADDRESS_NOISE = re.compile(r"[\s().-]")
_E164_DIGITS = re.compile(r"^[1-9]\d{6,14}$")
_MIN_ATTEMPT_SECONDS = 0.05  # no attempt starts with less time than this left
_SKIP_FOR_STATUS = {Status.PENDING: "not_confirmed", Status.OPTED_OUT: "opted_out"}


class UnsupportedEvent(ValueError):
    """The event is not a custom-channel delivery (no Endpoints); nothing can be answered per endpoint."""


class BatchNotDelivered(Exception):
    """A queued batch made no progress; the queue should deliver it again later (then dead-letter it)."""


@dataclass(frozen=True)
class EndpointResult:
    status: str  # sent | failed | skipped
    message_id: str | None = None
    reason: str | None = None
    retryable: bool = False  # failed, but another attempt later may succeed
    attempts: int = 0

    def event_attributes(self) -> dict[str, dict[str, str]]:
        """The endpoint's entry in Pinpoint's custom-channel response (journeys split on these)."""
        attributes = {"status": self.status}
        if self.message_id:
            attributes["messageId"] = self.message_id
        else:
            attributes["reason"] = self.reason or "unknown"
        return {"EventAttributes": attributes}


def sent(message_id: str, attempts: int) -> EndpointResult:
    return EndpointResult(SENT, message_id=message_id, attempts=attempts)


def failed(reason: str, *, retryable: bool, attempts: int = 0) -> EndpointResult:
    return EndpointResult(FAILED, reason=reason, retryable=retryable, attempts=attempts)


def skipped(reason: str) -> EndpointResult:
    return EndpointResult(SKIPPED, reason=reason)


@dataclass(frozen=True)
class CustomChannelEvent:
    """What Pinpoint (or the broadcast queue) hands the function: Data and up to 50 endpoints."""

    data: Any
    endpoints: Mapping[str, Mapping[str, Any]]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def campaign_id(self) -> str | None:
        return self.raw.get("CampaignId") or self.raw.get("JourneyId")

    def only(self, endpoint_ids: set[str]) -> dict[str, Any]:
        """The same event with only ``endpoint_ids`` left in Endpoints."""
        return {
            **self.raw,
            "Endpoints": {k: dict(v) for k, v in self.endpoints.items() if k in endpoint_ids},
        }


def parse_event(event: Any) -> CustomChannelEvent:
    """Read a Pinpoint custom-channel event. Raises UnsupportedEvent when there is no Endpoints map."""
    if not isinstance(event, Mapping) or "Endpoints" not in event:
        raise UnsupportedEvent(
            "Unsupported event: no 'Endpoints'. This function takes Amazon Pinpoint custom-channel events "
            "(a campaign or journey with CustomDeliveryConfiguration) or broadcast batches in that shape."
        )
    endpoints = event["Endpoints"]
    if not isinstance(endpoints, Mapping) or not all(isinstance(v, Mapping) for v in endpoints.values()):
        raise UnsupportedEvent("Unsupported event: 'Endpoints' must map endpoint ids to endpoint objects.")
    return CustomChannelEvent(data=event.get("Data"), endpoints=endpoints, raw=event)


def normalize_address(address: Any) -> str | None:
    """An endpoint Address as E.164 ('+' and 7 to 15 digits), or None when it is not a phone number."""
    if not isinstance(address, str):
        return None
    digits = _ADDRESS_NOISE.sub("", address).removeprefix("+")
    return f"+{digits}" if _E164_DIGITS.match(digits) else None


def precheck(endpoint: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(E.164 address, None) for an endpoint we may try, or (None, why it is skipped)."""
    opt_out = str(endpoint.get("OptOut") or "NONE").upper()
    if opt_out != "NONE":
        return None, "opted_out"
    status = str(endpoint.get("EndpointStatus") or "ACTIVE").upper()
    if status != "ACTIVE":
        return None, "inactive"
    phone = normalize_address(endpoint.get("Address"))
    if phone is None:
        return None, "invalid_address"
    return phone, None


class Requeue(Protocol):
    def send(self, events: list[dict[str, Any]], delay_seconds: int = 0) -> int: ...


class ContactBatchReader(Protocol):
    def get_many(self, phones: Sequence[str]) -> dict[str, Contact]:
        """The contacts that exist among ``phones``, read consistently. Raises DependencyUnavailable."""
        ...


class DeliveryService:
    """Sends one template message to each endpoint of a batch, concurrently and politely."""

    def __init__(
        self,
        settings: Settings,
        contacts: ContactBatchReader,
        transport: WhatsAppTransport,
        *,
        requeue: Requeue | None = None,
        bucket: TokenBucket | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.whatsapp_concurrency < 1 or settings.whatsapp_max_attempts < 1:
            raise SettingsError("WHATSAPP_CONCURRENCY and WHATSAPP_MAX_ATTEMPTS must be at least 1")
        self._settings = settings
        self._contacts = contacts
        self._transport = transport
        self._requeue = requeue
        # One bucket per process: it keeps pacing across back-to-back invocations of a warm function.
        self.bucket = bucket or TokenBucket(settings.whatsapp_rate_per_second, clock=clock, sleep=sleep)
        self._backoff = backoff or Backoff(
            settings.whatsapp_backoff_base_ms / 1000, settings.whatsapp_backoff_max_ms / 1000
        )
        self._sleep = sleep
        self._clock = clock
        # One pool per process, its threads reused by later invocations of a warm function.
        self._pool = ThreadPoolExecutor(settings.whatsapp_concurrency, thread_name_prefix="whatsapp")

    def deadline(self, context: Any) -> Deadline:
        """The time this invocation may spend sending: the remaining time minus the safety margin."""
        return Deadline.from_context(
            context, self._settings.whatsapp_safety_margin_ms / 1000, clock=self._clock
        )

    # -- one batch -------------------------------------------------------------------------------
    def deliver(self, event: CustomChannelEvent, deadline: Deadline) -> dict[str, EndpointResult]:
        """A result for every endpoint of ``event``, in its order, before ``deadline``."""
        started = self._clock()
        results: dict[str, EndpointResult] = {}
        try:
            template = parse_template(event.data, self._settings.whatsapp_default_language)
        except InvalidTemplate as exc:
            logger.error(
                "custom-channel Data is not a template message; every endpoint fails",
                extra={"errors": exc.errors, "campaignId": event.campaign_id},
            )
            results = {eid: failed("invalid_data", retryable=False) for eid in event.endpoints}
            self._report(event, results, started)
            return results

        todo: dict[str, str] = {}
        seen: set[str] = set()
        for endpoint_id, endpoint in event.endpoints.items():
            phone, why = precheck(endpoint)
            if phone is not None and phone in seen:
                phone, why = None, "duplicate_address"  # one message per number per batch
            if phone is None:
                results[endpoint_id] = skipped(why or "invalid_address")
                continue
            seen.add(phone)
            todo[endpoint_id] = phone
        if todo and self._settings.whatsapp_require_confirmed:
            todo = self._confirmed_only(todo, results)
        results.update(self._run(template, todo, deadline))
        ordered = {eid: results[eid] for eid in event.endpoints}
        self._report(event, ordered, started)
        return ordered

    def deliver_queued(self, event: CustomChannelEvent, deadline: Deadline) -> dict[str, EndpointResult]:
        """Deliver a batch from the broadcast queue. Endpoints that failed for a retryable reason go back
        onto the queue as a smaller batch when others got through; when nothing got through, raise
        BatchNotDelivered so the queue redelivers the whole batch (and finally dead-letters it). Each
        requeue strictly shrinks the batch, so this always ends."""
        # Unreadable Data raises InvalidTemplate: the record fails and, after its retries, rests in the DLQ.
        parse_template(event.data, self._settings.whatsapp_default_language)
        results = self.deliver(event, deadline)
        retry = {eid for eid, r in results.items() if r.status == FAILED and r.retryable}
        if not retry:
            return results
        if len(retry) == len(results):
            raise BatchNotDelivered(f"none of {len(results)} endpoints could be sent; retrying the batch")
        if self._requeue is None:
            raise BatchNotDelivered("retryable failures and no queue to put them back on")
        try:
            self._requeue.send([event.only(retry)], self._settings.whatsapp_requeue_delay_seconds)
        except DependencyUnavailable:
            # The whole batch comes back: the endpoints already sent may get the message twice.
            logger.exception("could not requeue the failed endpoints; the batch will be redelivered whole")
            raise
        logger.info(
            "requeued the endpoints that failed for a retryable reason", extra={"endpoints": len(retry)}
        )
        metrics.add_metric(name="WhatsAppRequeued", unit=MetricUnit.Count, value=len(retry))
        return results

    def _confirmed_only(self, todo: dict[str, str], results: dict[str, EndpointResult]) -> dict[str, str]:
        """The endpoints whose number is CONFIRMED in our store; the others get their skip reason."""
        try:
            contacts = self._contacts.get_many(list(todo.values()))
        except DependencyUnavailable as exc:
            logger.warning(
                "could not read the contacts; the batch fails as retryable", extra={"error": str(exc)}
            )
            results.update({eid: failed("contacts_unavailable", retryable=True) for eid in todo})
            return {}
        confirmed: dict[str, str] = {}
        for endpoint_id, phone in todo.items():
            contact = contacts.get(phone)
            if contact is None:
                results[endpoint_id] = skipped("unknown_contact")
            elif contact.status != Status.CONFIRMED:
                results[endpoint_id] = skipped(_SKIP_FOR_STATUS.get(contact.status, "not_confirmed"))
            else:
                confirmed[endpoint_id] = phone
        return confirmed

    # -- concurrency -----------------------------------------------------------------------------
    def _run(
        self, template: TemplateMessage, todo: dict[str, str], deadline: Deadline
    ) -> dict[str, EndpointResult]:
        if not todo:
            return {}
        results: dict[str, EndpointResult] = {}
        futures: dict[Future[EndpointResult], str] = {
            self._pool.submit(self._one, template, phone, deadline): eid for eid, phone in todo.items()
        }
        # Every attempt is bounded by the deadline; the extra second only covers bookkeeping.
        done, _ = wait(futures, timeout=deadline.remaining() + 1.0)
        for future, endpoint_id in futures.items():
            if future in done:
                results[endpoint_id] = future.result()
            else:
                future.cancel()  # not started yet: it never will be
                results[endpoint_id] = failed("deadline_exceeded", retryable=True)
        return results

    def _one(self, template: TemplateMessage, phone: str, deadline: Deadline) -> EndpointResult:
        """One endpoint, on a pool thread. Never raises: whatever happens becomes its result."""
        if deadline.remaining() < _MIN_ATTEMPT_SECONDS:
            return failed("deadline_exceeded", retryable=True)
        try:
            return self._send(template.body(phone.removeprefix("+")), deadline)
        except Exception:
            # A bug or an adapter error we did not foresee: this endpoint fails, the others go on.
            logger.exception("delivery task crashed", extra={"address": mask(phone)})
            return failed("internal_error", retryable=True)

    def _send(self, body: dict[str, Any], deadline: Deadline) -> EndpointResult:
        last: SendError | None = None
        attempts = 0
        for attempt in range(1, self._settings.whatsapp_max_attempts + 1):
            if not self.bucket.acquire(deadline):
                break
            timeout = min(self._settings.whatsapp_request_timeout_ms / 1000, deadline.remaining())
            if timeout < _MIN_ATTEMPT_SECONDS:
                break
            attempts = attempt
            try:
                return sent(self._transport.send(body, timeout), attempts)
            except PermanentSendError as exc:
                return failed(exc.reason, retryable=False, attempts=attempts)
            except SendError as exc:
                last = exc
                if exc.retry_after:
                    self.bucket.hold(exc.retry_after)  # the server's pause applies to every worker
            if attempt == self._settings.whatsapp_max_attempts:
                break
            delay = self._backoff.delay(attempt, last.retry_after)
            if delay + _MIN_ATTEMPT_SECONDS > deadline.remaining():
                break  # no time left for another attempt: report now rather than run out the clock
            self._sleep(delay)
        reason = last.reason if last is not None else "deadline_exceeded"
        return failed(reason, retryable=True, attempts=attempts)

    # -- reporting -------------------------------------------------------------------------------
    def _report(
        self, event: CustomChannelEvent, results: Mapping[str, EndpointResult], started: float
    ) -> None:
        outcomes = Counter(r.status for r in results.values())
        reasons = Counter(f"{r.status}:{r.reason}" for r in results.values() if r.status != SENT)
        retries = sum(max(0, r.attempts - 1) for r in results.values())
        for endpoint_id, result in results.items():
            if result.status == FAILED:
                endpoint = event.endpoints.get(endpoint_id, {})
                logger.warning(
                    "WhatsApp message not sent",
                    extra={
                        "endpointId": mask(endpoint_id),
                        "address": mask(str(endpoint.get("Address", ""))),
                        "reason": result.reason,
                        "retryable": result.retryable,
                        "attempts": result.attempts,
                    },
                )
        logger.info(
            "custom-channel batch delivered",
            extra={
                "campaignId": event.campaign_id,
                "endpoints": len(results),
                "sent": outcomes[SENT],
                "failed": outcomes[FAILED],
                "skipped": outcomes[SKIPPED],
                "reasons": dict(reasons),
                "retries": retries,
                "seconds": round(self._clock() - started, 3),
            },
        )
        for status, name in (
            (SENT, "WhatsAppSent"),
            (FAILED, "WhatsAppFailed"),
            (SKIPPED, "WhatsAppSkipped"),
        ):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=outcomes[status])
        if retries:
            metrics.add_metric(name="WhatsAppRetries", unit=MetricUnit.Count, value=retries)


def pinpoint_response(results: Mapping[str, EndpointResult]) -> dict[str, dict[str, dict[str, str]]]:
    """Pinpoint's custom-channel response: ``{endpointId: {"EventAttributes": {...}}}``."""
    return {endpoint_id: result.event_attributes() for endpoint_id, result in results.items()}
