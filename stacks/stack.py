"""The one stack: composes messaging, delivery events, data and its backup, functions, the inbound
pipeline, the API and its firewall, the form-token key, the form's hosting and monitoring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.api import BROADCAST_SCHEMA, REGISTER_SCHEMA, VALIDATE_SCHEMA, RegistrationApi
from stacks.backup import ContactsBackup
from stacks.bundling import lambda_asset
from stacks.config import Config
from stacks.custom_channel import CustomChannel
from stacks.data import CONTACTS, IDEMPOTENCY, LOOKUP_CACHE, ContactsData
from stacks.delivery_events import DeliveryEvents
from stacks.followups import FollowUpScheduling
from stacks.form_token import FormTokenKey
from stacks.functions import Functions, FunctionSpec
from stacks.inbound import InboundPipeline
from stacks.messaging import US_SIMULATOR_DESTINATIONS, Messaging
from stacks.monitoring import Monitoring
from stacks.waf import ApiFirewall
from stacks.web import WebHosting

REGISTRATION = FunctionSpec(
    name="Registration",
    handler="optin.handlers.registration.handler",
    service="registration",
    description="POST /register: validate the number, record consent, send the confirmation SMS; "
    "GET /form-token",
    timeout_seconds=15,  # a carrier lookup, DynamoDB and one SMS; API Gateway waits at most 29 s
    validates_numbers=True,
    sends_sms=True,
    syncs_endpoints=True,
    # Idempotency holds the abuse counters too (spend, number ranges, client IPs).
    tables=(CONTACTS, LOOKUP_CACHE, IDEMPOTENCY),
)
PHONE_VALIDATION = FunctionSpec(
    name="PhoneValidation",
    handler="optin.handlers.phone_validation.handler",
    service="phone-validation",
    description="POST /validate: check a number (cached carrier lookup) before the form is submitted",
    timeout_seconds=10,
    validates_numbers=True,
    tables=(LOOKUP_CACHE, IDEMPOTENCY),  # the spend counters live in Idempotency
)
INBOUND_SMS = FunctionSpec(
    name="InboundSms",
    handler="optin.handlers.inbound_sms.handler",
    service="inbound-sms",
    description="Two-way SMS from the queue: YES confirms, STOP/HELP/START answered once per message",
    timeout_seconds=30,
    memory_mb=256,
    sends_sms=True,
    syncs_endpoints=True,
    tables=(CONTACTS, IDEMPOTENCY),
)
FOLLOW_UP = FunctionSpec(
    name="FollowUp",
    handler="optin.handlers.follow_up.handler",
    service="follow-up",
    description="A scheduled follow-up step: re-checks consent and quiet hours, sends at most once",
    timeout_seconds=30,
    memory_mb=256,
    sends_sms=True,
    tables=(CONTACTS, IDEMPOTENCY),
)
CUSTOM_CHANNEL = FunctionSpec(
    name="CustomChannel",
    handler="optin.handlers.custom_channel.handler",
    service="custom-channel",
    description="WhatsApp template messages for up to 50 endpoints (Pinpoint custom channel or broadcast queue)",
    timeout_seconds=60,
    memory_mb=1024,  # 50 requests in flight: CPU share matters
)
BROADCASTS = FunctionSpec(
    name="Broadcasts",
    handler="optin.handlers.broadcasts.handler",
    service="broadcasts",
    description="POST /broadcasts (IAM): queue the CONFIRMED contacts in batches of 50 for the custom channel",
    timeout_seconds=30,
)
DELIVERY_EVENTS = FunctionSpec(
    name="DeliveryEvents",
    handler="optin.handlers.delivery_events.handler",
    service="delivery-events",
    description="SMS delivery events from the queue: record each text's outcome on its contact or audit trail",
    timeout_seconds=10,
    tables=(CONTACTS, IDEMPOTENCY),
)
FUNCTION_SPECS = (
    REGISTRATION,
    PHONE_VALIDATION,
    INBOUND_SMS,
    FOLLOW_UP,
    CUSTOM_CHANNEL,
    BROADCASTS,
    DELIVERY_EVENTS,
)


class SmsOptinStack(Stack):
    """Everything the double opt-in flow needs, built from a :class:`Config`.

    ``extra_functions`` adds functions (specs) with the same defaults, environment and grants; the
    custom-channel function is meant to arrive that way. ``extra_origins`` joins the CORS allowlist
    (the web hosting construct adds its CloudFront origin there).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        code: lambda_.Code | None = None,
        extra_functions: Sequence[FunctionSpec] = (),
        extra_origins: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SMS double opt-in: registration API, two-way SMS confirmation, consent store",
            **kwargs,
        )
        self.config = config
        # The form's site comes first: its origin is the API's first CORS origin. Its CSP names the
        # API's origin, which is only known once the API exists (resolved at synthesis).
        self.web = (
            WebHosting(
                self,
                "Web",
                api_origin=lambda: self.api.origin,
                waf_sdk_origin=lambda: self.firewall.sdk_origin if self.firewall else None,
            )
            if config.web
            else None
        )
        site = (self.web.origin,) if self.web else ()
        self.allowed_origins = (*site, *config.allowed_origins, *extra_origins)

        self.messaging = Messaging(self, "Messaging", config=config)
        self.delivery_events = DeliveryEvents(
            self,
            "DeliveryEvents",
            stack_name=config.stack_name,
            existing_configuration_set=config.configuration_set,
            allowed_countries=config.settings.allowed_countries,
            traffic_filter=config.protect_filter,
            consumer_timeout_seconds=DELIVERY_EVENTS.timeout_seconds,
            max_receive_count=config.dlq_max_receive_count,
        )
        self.data = ContactsData(self, "Data")
        self.backup = (
            ContactsBackup(
                self,
                "Backup",
                table=self.data.contacts,
                retention_days=config.backup_retention_days,
                plan_name=f"{config.stack_name}-contacts",
            )
            if config.backup
            else None
        )
        self.custom_channel = CustomChannel(
            self,
            "CustomChannel",
            secret_arn=config.whatsapp_secret_arn,
            delivery_timeout_seconds=CUSTOM_CHANNEL.timeout_seconds,
            max_receive_count=config.dlq_max_receive_count,
        )
        self.follow_ups = FollowUpScheduling(
            self,
            "FollowUps",
            group_name=f"{config.stack_name}-follow-ups",
            sender_timeout_seconds=FOLLOW_UP.timeout_seconds,
            max_receive_count=config.dlq_max_receive_count,
        )
        self.functions = Functions(
            self,
            "Functions",
            specs=(*FUNCTION_SPECS, *extra_functions),
            code=code or lambda_.Code.from_asset(str(lambda_asset())),
            environment=self.function_environment(),
            log_retention=config.log_retention,
        )
        for spec, function in self.functions:
            self._grant(spec, function)
        self.form_token_key = FormTokenKey(self, "FormToken")
        self.form_token_key.grant_signing(self.functions[REGISTRATION.name])
        # Confirming schedules a contact's steps and opting out deletes them; a late step reschedules itself.
        self.follow_ups.grant_scheduling(self.functions[INBOUND_SMS.name], delete=True)
        self.follow_ups.grant_scheduling(self.functions[FOLLOW_UP.name], delete=False)
        self.follow_ups.drive(self.functions[FOLLOW_UP.name])
        self.delivery_events.drive(self.functions[DELIVERY_EVENTS.name])
        # WhatsApp: delivery reads contacts (BatchGetItem) and the token; broadcasts query the status index.
        for spec in (CUSTOM_CHANNEL, BROADCASTS):
            self.data.grant(self.functions[spec.name], CONTACTS, write=False)
        settings = config.settings
        self.custom_channel.grant_delivery(
            self.functions[CUSTOM_CHANNEL.name],
            social_phone_number_id=(
                settings.whatsapp_phone_number_id if settings.whatsapp_transport == "social" else None
            ),
            pinpoint_project_id=self.messaging.pinpoint_project_id,
        )
        self.custom_channel.grant_enqueue(self.functions[BROADCASTS.name])

        self.inbound = InboundPipeline(
            self,
            "Inbound",
            topic=self.messaging.topic,
            function=self.functions[INBOUND_SMS.name],
            max_receive_count=config.dlq_max_receive_count,
            max_concurrency=config.inbound_max_concurrency,
        )
        self.api = RegistrationApi(
            self,
            "Api",
            routes={
                "register": (self.functions[REGISTRATION.name], REGISTER_SCHEMA),
                "validate": (self.functions[PHONE_VALIDATION.name], VALIDATE_SCHEMA),
            },
            iam_routes={"broadcasts": (self.functions[BROADCASTS.name], BROADCAST_SCHEMA)},
            # The form asks for its signed fill-time token; the registration function signs it.
            read_routes={"form-token": self.functions[REGISTRATION.name]},
            allowed_origins=self.allowed_origins,
            throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst,
            log_retention=config.log_retention,
            cloudwatch_role=config.api_gateway_cloudwatch_role,
            waf_token_header=config.waf_challenge,
        )
        self.firewall = (
            ApiFirewall(
                self,
                "Firewall",
                stage=self.api.api.deployment_stage,
                name=f"{config.stack_name}-api",
                rate_limit=config.waf_rate_limit,
                register_rate_limit=config.waf_register_rate_limit,
                validate_rate_limit=config.waf_validate_rate_limit,
                challenge=config.waf_challenge,
                log_retention=config.log_retention,
            )
            if config.waf
            else None
        )
        if self.firewall is None:
            self.api.without_firewall()

        if self.web:
            self.web.publish(self.site_config())

        self.monitoring = Monitoring(
            self, "Monitoring", key=self.messaging.key, alarm_email=config.alarm_email
        )
        self.monitoring.dead_letter_queue(self.inbound.dead_letter_queue)
        self.monitoring.dead_letter_queue(
            self.inbound.subscription_dead_letter_queue,
            name="InboundSubscription",
            what="SNS could not deliver inbound SMS into the inbound queue (check its policy and KMS key)",
        )
        self.monitoring.dead_letter_queue(
            self.delivery_events.dead_letter_queue,
            name="DeliveryEvents",
            what="SMS delivery events failed repeatedly and were not recorded",
        )
        self.monitoring.dead_letter_queue(
            self.delivery_events.subscription_dead_letter_queue,
            name="DeliveryEventsSubscription",
            what="SNS could not deliver SMS delivery events into their queue (check its policy and KMS key)",
        )
        self.monitoring.dead_letter_queue(
            self.custom_channel.dead_letter_queue,
            name="Broadcast",
            what="A WhatsApp broadcast batch failed repeatedly",
        )
        self.monitoring.dead_letter_queue(
            self.follow_ups.dead_letter_queue,
            name="FollowUp",
            what="A follow-up step could not be delivered or sent",
        )
        self.monitoring.queue_age(self.inbound.queue)
        self.monitoring.api_server_errors(self.api.api)
        self.monitoring.spend_limit_reached([REGISTRATION.service, PHONE_VALIDATION.service])
        self.monitoring.range_blocked(REGISTRATION.service)
        for spec, function in self.functions:
            self.monitoring.function_errors(spec.name, function)

        self._outputs()

    def function_environment(self) -> dict[str, str]:
        """The environment every function gets (each adds its POWERTOOLS_SERVICE_NAME)."""
        environment = {
            "CONTACTS_TABLE": self.data.contacts.table_name,
            "LOOKUP_CACHE_TABLE": self.data.lookup_cache.table_name,
            "IDEMPOTENCY_TABLE": self.data.idempotency.table_name,
            "ORIGINATION_IDENTITY": self.messaging.origination_identity_arn,
            "OWN_NUMBERS": self.messaging.own_numbers,
            # The numbers this stack configures have self-managed opt-outs: our function answers STOP/HELP.
            "SELF_MANAGED_OPT_OUTS": "true",
            # Every send names the configuration set: delivery events and the country rules apply.
            "CONFIGURATION_SET": self.delivery_events.configuration_set_name,
            **self.follow_ups.environment(),
            **self.custom_channel.environment(),
            **self.config.settings_environment,
        }
        if self.messaging.keywords:  # the number answers these itself: no second reply from us
            environment["NUMBER_KEYWORDS"] = ",".join(k.keyword for k in self.messaging.keywords)
        if self.config.number.mode == "simulator":  # the numbers a simulator number can text
            environment["SIMULATOR_DESTINATIONS"] = ",".join(US_SIMULATOR_DESTINATIONS.values())
        if self.messaging.pinpoint_project_id:
            environment["PINPOINT_PROJECT_ID"] = self.messaging.pinpoint_project_id
        if self.allowed_origins:
            environment["ALLOWED_ORIGINS"] = ",".join(self.allowed_origins)
        return environment

    def site_config(self) -> dict[str, object]:
        """The form's config.json: where the API is, and the disclosure it shows beside the consent box."""
        settings = self.config.settings
        config: dict[str, object] = {
            "apiBaseUrl": self.api.url.rstrip("/"),
            "brandName": settings.brand,
            "messageFrequency": settings.message_frequency,
            "termsUrl": self.config.terms_url,
            "privacyUrl": self.config.privacy_url,
            "defaultCountry": settings.default_country,
            "countries": list(settings.allowed_countries),
            "resendCooldownSeconds": settings.resend_cooldown_seconds,
        }
        if settings.message_frequencies:  # messageFrequencyEs / messageFrequencyFr: the form says the same
            config["messageFrequencies"] = dict(settings.message_frequencies)
        if self.firewall and self.firewall.integration_url:
            # AWS WAF's JavaScript integration for the challenge on POST /register: the page loads
            # <wafIntegrationUrl>/challenge.js and sends the token it gets as the X-Aws-Waf-Token header.
            config["wafIntegrationUrl"] = self.firewall.integration_url
        return config

    def _grant(self, spec: FunctionSpec, function: lambda_.Function) -> None:
        if spec.validates_numbers:
            self.messaging.grant_validate(function)
        if spec.sends_sms:
            self.messaging.grant_send_sms(
                function, configuration_set_arn=self.delivery_events.configuration_set_arn
            )
        if spec.syncs_endpoints:
            self.messaging.grant_endpoint_sync(function)
        for table in spec.tables:
            self.data.grant(function, table)

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (
                self.api.url,
                "Base URL of the REST API (stage v1): POST register, POST validate, GET form-token",
            ),
            "TwoWayTopicArn": (self.messaging.topic.topic_arn, "SNS topic receiving inbound SMS"),
            "OriginationIdentity": (self.messaging.origination_identity_arn, "Phone number ARN we send from"),
            "OwnNumbers": (self.messaging.own_numbers, "Our number(s) in E.164"),
            "ContactsTableName": (self.data.contacts.table_name, "Contacts and consent evidence (retained)"),
            "LookupCacheTableName": (self.data.lookup_cache.table_name, "Phone lookup cache"),
            "IdempotencyTableName": (self.data.idempotency.table_name, "Inbound message idempotency records"),
            "BroadcastQueueUrl": (
                self.custom_channel.queue.queue_url,
                "Batches for the WhatsApp custom channel",
            ),
            "WhatsAppTokenSecretArn": (self.custom_channel.secret.secret_arn, "Put the WhatsApp token here"),
            "CustomChannelFunctionArn": (
                self.functions[CUSTOM_CHANNEL.name].function_arn,
                "DeliveryUri for a Pinpoint campaign's CustomDeliveryConfiguration",
            ),
            "DeadLetterQueueUrl": (
                self.inbound.dead_letter_queue.queue_url,
                "Inbound SMS that failed repeatedly",
            ),
            "ConfigurationSetName": (
                self.delivery_events.configuration_set_name,
                "End User Messaging configuration set every text is sent through",
            ),
            "DeliveryEventsTopicArn": (
                self.delivery_events.topic.topic_arn,
                "SNS topic of SMS delivery events (an existing configurationSet needs an event destination here)",
            ),
            "DeliveryEventsDeadLetterQueueUrl": (
                self.delivery_events.dead_letter_queue.queue_url,
                "SMS delivery events that failed repeatedly",
            ),
            "ProtectConfigurationId": (
                self.delivery_events.sending_countries.id,
                "Protect configuration: SMS only to allowedCountries",
            ),
            # Read by the operator's tool, sms-optin (optin.admin.targets).
            "OptOutListName": (
                self.messaging.opt_out_list.ref,
                "End User Messaging opt-out list of our number(s): sms-optin optouts sync",
            ),
            "RegistrationFunctionName": (
                self.functions[REGISTRATION.name].function_name,
                "sms-optin reads the functions' settings from this function's environment",
            ),
        }
        if self.web:
            outputs["SiteUrl"] = (self.web.url, "The registration form (CloudFront)")
        if self.firewall:
            outputs["WafLogGroupName"] = (self.firewall.log_group.log_group_name, "WAF logs of the API")
            if self.firewall.integration_url:
                outputs["WafIntegrationUrl"] = (
                    self.firewall.integration_url,
                    "AWS WAF JavaScript integration URL (load <url>/challenge.js on a form of your own)",
                )
        if self.messaging.pinpoint_project_id:
            outputs["PinpointProjectId"] = (
                self.messaging.pinpoint_project_id,
                "Pinpoint project (application) id",
            )
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
