"""Builds the services from settings. The only place that chooses adapters; tests and the local
sandbox install their own :class:`Dependencies` with substitutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from optin.adapters import aws
from optin.clock import utcnow
from optin.settings import Settings, SettingsError, load_settings

# Services and adapters are imported where they are built: each function loads only what it uses
# (the inbound function never loads libphonenumber or the HTTP models), which keeps cold starts short.
if TYPE_CHECKING:
    from optin.abuse.friction import FormFriction
    from optin.abuse.guard import AbuseGuard
    from optin.inbound import InboundService
    from optin.lookup import PhoneLookupService
    from optin.ports import (
        CarrierLookup,
        ContactStore,
        EndpointMirror,
        InboundMarkers,
        LookupCache,
        SmsSender,
    )
    from optin.registration import RegistrationService

if TYPE_CHECKING:  # the custom channel's modules load only in the functions that use them
    from optin.adapters.contact_directory import DynamoContactDirectory
    from optin.whatsapp.broadcast import BroadcastQueue, BroadcastService
    from optin.whatsapp.delivery import DeliveryService
    from optin.whatsapp.templates import WhatsAppTransport

if TYPE_CHECKING:  # follow-up sequences (issue 6)
    from optin.followups.service import FollowUpSender
    from optin.ports import FollowUps, FollowUpScheduler

if TYPE_CHECKING:  # delivery events
    from optin.delivery_events.service import DeliveryEventsService


class Dependencies:
    """Lazily built adapters and services; every argument may be replaced."""

    def __init__(
        self,
        settings: Settings,
        clients: Callable[[str], Any] = aws.client,
        clock: Callable[[], datetime] = utcnow,
        *,
        sms: SmsSender | None = None,
        carrier: CarrierLookup | None = None,
        mirror: EndpointMirror | None = None,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.clock = clock
        self._sms = sms
        self._carrier = carrier
        self._mirror = mirror

    @cached_property
    def contacts(self) -> ContactStore:
        from optin.adapters.contact_store import DynamoContactStore

        s = self.settings
        return DynamoContactStore(self.clients("dynamodb"), s.contacts_table, s.idempotency_table)

    @cached_property
    def markers(self) -> InboundMarkers:
        from optin.adapters.contact_store import DynamoInboundMarkers

        return DynamoInboundMarkers(self.clients("dynamodb"), self.settings.idempotency_table)

    @cached_property
    def lookup_cache(self) -> LookupCache:
        from optin.adapters.lookup_cache import DynamoLookupCache

        return DynamoLookupCache(self.clients("dynamodb"), self.settings.lookup_cache_table)

    @cached_property
    def carrier(self) -> CarrierLookup:
        if self._carrier is not None:
            return self._carrier
        from optin.adapters.carrier_lookup import PhoneValidateLookup

        return PhoneValidateLookup(self.clients("pinpoint"))

    @cached_property
    def sms(self) -> SmsSender:
        if self._sms is not None:
            return self._sms
        from optin.adapters.sms import EndUserMessagingSender

        s = self.settings
        return EndUserMessagingSender(
            self.clients("pinpoint-sms-voice-v2"), s.origination_identity, s.configuration_set
        )

    @cached_property
    def mirror(self) -> EndpointMirror | None:
        if self._mirror is not None:
            return self._mirror
        if not self.settings.pinpoint_project_id:
            return None
        from optin.adapters.endpoint_mirror import PinpointEndpointMirror

        return PinpointEndpointMirror(self.clients("pinpoint"), self.settings.pinpoint_project_id)

    @cached_property
    def abuse(self) -> AbuseGuard:
        from optin.abuse.guard import AbuseGuard
        from optin.adapters.counters import DynamoCounters

        counters = DynamoCounters(self.clients("dynamodb"), self.settings.idempotency_table)
        return AbuseGuard(self.settings, counters, self.clock)

    @cached_property
    def friction(self) -> FormFriction:
        from optin.abuse.friction import FormFriction

        return FormFriction(self.settings, self._form_secret, self.clock)

    def _form_secret(self) -> bytes | None:
        s = self.settings
        if s.form_token_secret:
            return s.form_token_secret.encode()
        if not s.form_token_secret_id:
            return None
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        provider = self.__dict__.setdefault(
            "_form_secret_provider", SecretsProvider(boto3_client=self.clients("secretsmanager"))
        )
        value = provider.get(s.form_token_secret_id, max_age=300)  # cached: one read per 5 minutes
        return str(value).encode() if value else None

    @cached_property
    def lookup(self) -> PhoneLookupService:
        from optin.lookup import PhoneLookupService

        return PhoneLookupService(self.settings, self.lookup_cache, self.carrier, self.clock, self.abuse)

    @cached_property
    def registration(self) -> RegistrationService:
        from optin.registration import RegistrationService

        return RegistrationService(
            self.settings, self.lookup, self.contacts, self.sms, self.mirror, self.clock, self.abuse
        )

    @cached_property
    def inbound(self) -> InboundService:
        from optin.inbound import InboundService

        return InboundService(
            self.settings, self.contacts, self.markers, self.sms, self.mirror, self.clock, self.follow_ups
        )

    # -- Custom channel (WhatsApp): built on first use; tests and the sandbox may assign substitutes
    @cached_property
    def whatsapp(self) -> WhatsAppTransport:
        s = self.settings
        if s.whatsapp_transport == "social":
            from optin.adapters.whatsapp_social import SocialMessagingTransport

            return SocialMessagingTransport(
                self.clients("socialmessaging"), s.whatsapp_phone_number_id, s.whatsapp_api_version
            )
        if not s.whatsapp_secret_id:
            raise SettingsError("WHATSAPP_SECRET_ID must name the secret holding the WhatsApp token")
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from optin.adapters.whatsapp_graph import GraphApiTransport, SecretToken

        token = SecretToken(
            SecretsProvider(boto3_client=self.clients("secretsmanager")),
            s.whatsapp_secret_id,
            s.whatsapp_secret_field,
            s.whatsapp_secret_max_age_seconds,
        )
        return GraphApiTransport(
            s.whatsapp_base_url,
            s.whatsapp_api_version,
            s.whatsapp_phone_number_id,
            token,
            pool_size=s.whatsapp_concurrency,
        )

    @cached_property
    def broadcast_queue(self) -> BroadcastQueue:
        from optin.adapters.broadcast_queue import SqsBroadcastQueue

        return SqsBroadcastQueue(self.clients("sqs"), self.settings.broadcast_queue_url or "")

    @cached_property
    def delivery(self) -> DeliveryService:
        from optin.whatsapp.delivery import DeliveryService

        if not self.settings.whatsapp_phone_number_id:
            raise SettingsError("WHATSAPP_PHONE_NUMBER_ID must name the WhatsApp number to send from")
        requeue = self.broadcast_queue if self.settings.broadcast_queue_url else None
        return DeliveryService(self.settings, self.contact_directory, self.whatsapp, requeue=requeue)

    @cached_property
    def contact_directory(self) -> DynamoContactDirectory:
        from optin.adapters.contact_directory import DynamoContactDirectory

        return DynamoContactDirectory(self.clients("dynamodb"), self.settings.contacts_table)

    @cached_property
    def broadcasts(self) -> BroadcastService:
        from optin.whatsapp.broadcast import BroadcastService

        return BroadcastService(self.settings, self.contact_directory, self.broadcast_queue, self.clock)

    # -- Follow-up sequence: built on first use; tests and the sandbox may assign a substitute scheduler
    @cached_property
    def scheduler(self) -> FollowUpScheduler:
        from optin.adapters.scheduler import EventBridgeScheduler

        s = self.settings
        return EventBridgeScheduler(
            self.clients("scheduler"),
            s.follow_up_schedule_group,
            s.follow_up_target_arn,
            s.follow_up_scheduler_role_arn,
            s.follow_up_dead_letter_arn,
        )

    @cached_property
    def follow_ups(self) -> FollowUps | None:
        """None when no sequence is configured: the inbound flow then never touches the scheduler."""
        if not self.settings.follow_up_steps:
            return None
        from optin.followups.service import FollowUpScheduling

        return FollowUpScheduling(self.settings, lambda: self.scheduler, self.clock)

    @cached_property
    def follow_up_sender(self) -> FollowUpSender:
        from optin.followups.service import FollowUpSender

        return FollowUpSender(
            self.settings, self.contacts, self.markers, self.sms, self.scheduler, self.clock
        )

    # -- Delivery events of our texts (End User Messaging configuration set -> SNS -> SQS -> DeliveryEvents)
    @cached_property
    def delivery_events(self) -> DeliveryEventsService:
        from optin.delivery_events.service import DeliveryEventsService

        return DeliveryEventsService(self.settings, self.contacts, self.markers, self.clock)


_installed: Dependencies | None = None


def dependencies() -> Dependencies:
    """The process-wide dependencies (built from the environment on first use)."""
    global _installed
    if _installed is None:
        _installed = Dependencies(load_settings())
    return _installed


def install(deps: Dependencies | None) -> None:
    """Use ``deps`` from now on (None: rebuild from the environment on next use)."""
    global _installed
    _installed = deps
