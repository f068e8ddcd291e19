"""Messaging and number: the two-way topic, the origination number, keywords and the Pinpoint project.

Number modes (context ``numberMode``):

* ``simulator`` (default): a new US SIMULATOR number. Its messages stay inside AWS and reach only the
  destination simulator numbers, so a first deploy needs no registration and never texts a real phone.
* ``new``: a new number of ``numberType`` in ``numberCountry``. US SMS numbers must be registered
  (toll-free verification or 10DLC) before they can send; CloudFormation cannot do that part.
* ``existing``: a number the account already has. A custom resource points its two-way channel at the
  topic (``UpdatePhoneNumber``), puts the keywords (``PutKeyword``) and undoes both on delete.

Numbers this stack configures have self-managed opt-outs: AWS stops answering HELP and STOP itself and
routes them to the topic, so the inbound function answers each exactly once.

Every number this stack configures, new or existing, uses the stack's own opt-out list (``OptOutList``,
output ``OptOutListName``). With self-managed opt-outs AWS adds nobody to it by itself: ``sms-optin
optouts sync`` (the operator's tool) puts the contacts table's opt-outs on it and brings the numbers a
carrier or an operator put there into the table. End User Messaging refuses to text a number on it.
No function reads or writes the list, so none is granted access to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pinpoint as pinpoint
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import PINPOINT_END_OF_SUPPORT_DATE, Config, parse_phone_number_arn
from stacks.nag import acknowledge

SMS_VOICE = "sms-voice.amazonaws.com"
SDK_SERVICE = "@aws-sdk/client-pinpoint-sms-voice-v2"
PINPOINT_END_OF_SUPPORT = (
    f"Amazon Pinpoint engagement features reached end of support on {PINPOINT_END_OF_SUPPORT_DATE}. "
    "This project and SMS channel exist only because context pinpoint=true asked for them (off by "
    "default): for the design card and for accounts AWS still serves, which mirror contacts to "
    "endpoints and run campaigns. Nothing in the opt-in flow depends on them."
)
# End User Messaging's US destination simulator numbers: texts from a SIMULATOR origination number to
# them never leave AWS and produce real event records, success or failure. Source: AWS End User
# Messaging SMS user guide, "Simulator phone numbers", destination simulator phone numbers table, United
# States rows: https://docs.aws.amazon.com/sms-voice/latest/userguide/test-phone-numbers.html
US_SIMULATOR_DESTINATIONS = {"success": "+14254147755", "failure": "+14254147167"}


@dataclass(frozen=True)
class Keyword:
    """An optional keyword configured on the number (besides the mandatory HELP and STOP)."""

    keyword: str
    action: str  # OPT_IN | OPT_OUT | AUTOMATIC_RESPONSE
    message: str


def number_keywords(config: Config) -> tuple[Keyword, ...]:
    """The optional keywords registered on the number (none on the simulator number).

    End User Messaging answers a registered keyword itself, with that keyword's fixed message, whatever
    the sender's state. So the simulator number (the default, for trying the flow) registers none and
    every keyword reply comes from the inbound function, worded for the contact's state. A real number
    (``new`` or ``existing``) registers them as carriers expect; their messages are worded to be true in
    any state, and the functions are told (``NUMBER_KEYWORDS``) not to answer those keywords a second time.

    * The confirm keyword (first of ``confirmKeywords``, default YES) is OPT_IN, not AUTOMATIC_RESPONSE:
      OPT_IN also takes the sender off the number's opt-out list (where REVOKE may have put them).
    * START and UNSTOP are OPT_IN (resubscribe). REVOKE is OPT_OUT, except on a US toll-free number,
      where carriers manage opt-outs and STOP is the only opt-out keyword AWS accepts.
    """
    if config.number.mode == "simulator":
        return ()
    settings = config.settings
    thanks = config.render(
        "{brand}: Thanks for your reply. If you signed up for {brand} texts, you're now subscribed. "
        "{frequency}. Msg & data rates may apply. Reply HELP for help, STOP to cancel."
    )
    again = config.render(
        "{brand}: You can receive {brand} texts again. Reply HELP for help, STOP to cancel."
    )
    keywords = [Keyword(settings.confirm_keywords[0], "OPT_IN", thanks)]
    keywords += [Keyword(word, "OPT_IN", again) for word in ("START", "UNSTOP")]
    if not config.number.us_toll_free:
        keywords.append(Keyword("REVOKE", "OPT_OUT", config.render(settings.opt_out_template)))
    return tuple(keywords)


class Messaging(Construct):
    """The two-way SNS topic (KMS-encrypted), the origination number and, optionally, Pinpoint."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        sms_voice_arns = f"arn:{Aws.PARTITION}:sms-voice:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        confused_deputy = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": sms_voice_arns},
        }

        # Customer managed key of the two-way topic (the inbound queues have their own: the queue key's
        # policy names this topic, and a key naming the topic that uses it would be a cycle).
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts inbound SMS on the two-way SNS topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # nothing it encrypts outlives the stack
        )
        self.topic = sns.Topic(
            self,
            "TwoWayTopic",
            display_name="Inbound SMS (two-way)",
            master_key=self.key,
            enforce_ssl=True,
        )

        # Who publishes: End User Messaging itself (topic policy) or a role it assumes.
        self.channel_role: iam.Role | None = None
        if config.number.channel_role:
            self.channel_role = iam.Role(
                self,
                "TwoWayChannelRole",
                description="Assumed by AWS End User Messaging to publish inbound SMS to the topic",
                assumed_by=iam.ServicePrincipal(SMS_VOICE).with_conditions(
                    {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
                ),
            )
            # Explicit rather than topic.grant_publish, whose kms:GenerateDataKey* is wider than SNS needs.
            self.channel_role.add_to_policy(
                iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
            )
            self.channel_role.add_to_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]
                )
            )
        else:
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowEndUserMessagingTwoWay",
                    principals=[iam.ServicePrincipal(SMS_VOICE)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=confused_deputy,
                )
            )
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowEndUserMessagingToEncrypt",
                    principals=[iam.ServicePrincipal(SMS_VOICE)],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],  # in a key policy, '*' is this key
                    conditions=confused_deputy,
                )
            )

        self.keywords = number_keywords(config)
        self.opt_out_list = smsvoice.CfnOptOutList(self, "OptOutList")
        if config.number.creates_number:
            self.phone_number: smsvoice.CfnPhoneNumber | None = self._new_number(config)
            if self.channel_role:  # the role and its policy before two-way is switched on
                self.phone_number.node.add_dependency(self.channel_role)
            self.origination_identity_arn = self.phone_number.attr_arn
            self.own_numbers = self.phone_number.attr_phone_number
        else:
            self.phone_number = None
            self.origination_identity_arn, self.own_numbers = self._existing_number(config, stack)

        self.pinpoint_project: pinpoint.CfnApp | None = None
        if config.pinpoint:
            self.pinpoint_project = pinpoint.CfnApp(self, "PinpointProject", name=config.stack_name)
            channel = pinpoint.CfnSMSChannel(
                self, "PinpointSmsChannel", application_id=self.pinpoint_project.ref, enabled=True
            )
            for resource in (self.pinpoint_project, channel):
                # cfn-lint W3696 warns on every AWS::Pinpoint::* resource (end of support); acknowledged
                # both for cfn-lint (template metadata) and for CDK's own CloudFormation validation.
                resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3696"]}})
                resource.add_metadata("Comment", PINPOINT_END_OF_SUPPORT)
                acknowledge(resource, "CloudFormation-Validate::W3696", PINPOINT_END_OF_SUPPORT)

    @property
    def pinpoint_project_id(self) -> str | None:
        return self.pinpoint_project.ref if self.pinpoint_project else None

    def grant_validate(self, grantee: iam.IGrantable) -> None:
        """Phone number validation (carrier lookup): its one IAM resource, not the Pinpoint project."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["mobiletargeting:PhoneNumberValidate"],
            resource_arns=[
                f"arn:{Aws.PARTITION}:mobiletargeting:{Aws.REGION}:{Aws.ACCOUNT_ID}:phone/number/validate"
            ],
        )

    def grant_send_sms(self, grantee: iam.IGrantable, *, configuration_set_arn: str) -> None:
        """SendTextMessage from our origination number through the sends' configuration set only
        (the action is authorized against every resource the request names)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sms-voice:SendTextMessage"],
            resource_arns=[self.origination_identity_arn, configuration_set_arn],
        )

    def grant_endpoint_sync(self, grantee: iam.IGrantable) -> None:
        """Get/UpdateEndpoint on this project's endpoints; nothing when Pinpoint is off."""
        if self.pinpoint_project is None:
            return
        endpoints = (
            f"arn:{Aws.PARTITION}:mobiletargeting:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"apps/{self.pinpoint_project.ref}/endpoints/*"
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["mobiletargeting:GetEndpoint", "mobiletargeting:UpdateEndpoint"],
            resource_arns=[endpoints],
        )
        project = Stack.of(self).get_logical_id(self.pinpoint_project)
        principal = grantee.grant_principal
        if isinstance(principal, Construct):
            acknowledge(
                principal,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:mobiletargeting:<AWS::Region>:"
                f"<AWS::AccountId>:apps/<{project}>/endpoints/*]",
                "Endpoint ids are the subscribers' phone numbers, known only at run time; the wildcard is "
                "confined to this stack's Pinpoint project and to Get/UpdateEndpoint.",
            )

    def _new_number(self, config: Config) -> smsvoice.CfnPhoneNumber:
        settings = config.settings
        return smsvoice.CfnPhoneNumber(
            self,
            "PhoneNumber",
            iso_country_code=config.number.country,
            number_type=config.number.number_type or "SIMULATOR",
            number_capabilities=["SMS"],
            mandatory_keywords=smsvoice.CfnPhoneNumber.MandatoryKeywordsProperty(
                help=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message=config.render(settings.help_template)
                ),
                stop=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message=config.render(settings.opt_out_template)
                ),
            ),
            optional_keywords=[
                smsvoice.CfnPhoneNumber.OptionalKeywordProperty(
                    keyword=keyword.keyword, action=keyword.action, message=keyword.message
                )
                for keyword in self.keywords
            ],
            opt_out_list_name=self.opt_out_list.ref,
            self_managed_opt_outs_enabled=True,
            two_way=smsvoice.CfnPhoneNumber.TwoWayProperty(
                enabled=True,
                channel_arn=self.topic.topic_arn,
                channel_role=self.channel_role.role_arn if self.channel_role else None,
            ),
            deletion_protection_enabled=config.number.deletion_protection,
        )

    def _existing_number(self, config: Config, stack: Stack) -> tuple[str, str]:
        """Configure a number the account has; return its ARN and (from the API) its E.164 number."""
        given = config.number.existing or ""
        parts = parse_phone_number_arn(given)
        number_arn = (
            given
            if parts
            else stack.format_arn(service="sms-voice", resource="phone-number", resource_name=given)
        )
        number_id = parts["id"] if parts else given
        log_group = logs.LogGroup(
            self,
            "NumberSetupLogs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

        two_way = {
            "PhoneNumberId": number_id,
            "TwoWayEnabled": True,
            "TwoWayChannelArn": self.topic.topic_arn,
            "SelfManagedOptOutsEnabled": True,
            "OptOutListName": self.opt_out_list.ref,
        }
        statements = [iam.PolicyStatement(actions=["sms-voice:UpdatePhoneNumber"], resources=[number_arn])]
        if self.channel_role:
            two_way["TwoWayChannelRole"] = self.channel_role.role_arn
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.channel_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": SMS_VOICE}},
                )
            )
        setup = cr.AwsCustomResource(
            self,
            "TwoWaySetup",
            resource_type="Custom::SmsTwoWay",
            on_create=self._call("UpdatePhoneNumber", two_way, number_id, ["PhoneNumber"]),
            on_update=self._call("UpdatePhoneNumber", two_way, number_id, ["PhoneNumber"]),
            # On delete AWS answers HELP and STOP itself again: nobody else would once we are gone. The
            # number goes back to the account's Default opt-out list, so that ours can be deleted.
            on_delete=self._call(
                "UpdatePhoneNumber",
                {
                    "PhoneNumberId": number_id,
                    "TwoWayEnabled": False,
                    "SelfManagedOptOutsEnabled": False,
                    "OptOutListName": "Default",
                },
                number_id,
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(statements),
            install_latest_aws_sdk=False,
            log_group=log_group,
        )
        if self.channel_role:
            setup.node.add_dependency(self.channel_role)

        keyword_policy = cr.AwsCustomResourcePolicy.from_statements(
            [
                iam.PolicyStatement(
                    actions=["sms-voice:PutKeyword", "sms-voice:DeleteKeyword"], resources=[number_arn]
                )
            ]
        )
        for keyword in self.keywords:
            put = {
                "OriginationIdentity": number_id,
                "Keyword": keyword.keyword,
                "KeywordMessage": keyword.message,
                "KeywordAction": keyword.action,
            }
            physical_id = f"{number_id}/{keyword.keyword}"
            cr.AwsCustomResource(
                self,
                f"Keyword{keyword.keyword.title()}",
                resource_type="Custom::SmsKeyword",
                on_create=self._call("PutKeyword", put, physical_id),
                on_update=self._call("PutKeyword", put, physical_id),
                on_delete=self._call(
                    "DeleteKeyword",
                    {"OriginationIdentity": number_id, "Keyword": keyword.keyword},
                    physical_id,
                ),
                policy=keyword_policy,
                install_latest_aws_sdk=False,
                log_group=log_group,
            )
        self._acknowledge_custom_resource_provider(stack)
        return number_arn, setup.get_response_field("PhoneNumber")

    @staticmethod
    def _call(
        action: str, parameters: dict[str, object], physical_id: str, output_paths: list[str] | None = None
    ) -> cr.AwsSdkCall:
        return cr.AwsSdkCall(
            service=SDK_SERVICE,
            action=action,
            parameters=parameters,
            physical_resource_id=cr.PhysicalResourceId.of(physical_id),
            output_paths=output_paths or [],
        )

    @staticmethod
    def _acknowledge_custom_resource_provider(stack: Stack) -> None:
        provider_id = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        provider = stack.node.try_find_child(provider_id)
        if provider is None:
            return
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK AwsCustomResource provider (runs only at deploy time to configure the existing "
            "number) uses the AWS managed basic execution policy; its API permissions are scoped to "
            "the number's ARN.",
        )
