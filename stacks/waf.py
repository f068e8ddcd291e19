"""The API's firewall: an AWS WAF web ACL on the REST API's stage, its logs, and the optional challenge.

Rules, in the order WAF evaluates them:

1. ``IpReputation``: AWS's managed ``AWSManagedRulesAmazonIpReputationList`` (25 WCU) blocks addresses
   Amazon threat intelligence knows for bots, reconnaissance and DDoS.
2. ``KnownBadInputs``: ``AWSManagedRulesKnownBadInputsRuleSet`` (200 WCU) blocks request patterns of
   known exploits (Log4j, Java deserialization, path traversal to ``localhost`` and the like).
   Both groups run their own rule actions (``OverrideAction: None``); ``Count`` would only observe.
3. ``RatePerIp``: every route together, ``wafRateLimit`` requests per client IP per 5 minutes.
4. ``RegisterRatePerIp`` / ``ValidateRatePerIp``: the same, counted only for requests whose URI path is
   ``/register`` or ``/validate`` (a scope-down statement), with their own, smaller limits: a paid
   lookup sits behind each new number on both routes, and a text behind ``/register``.
5. ``BodySize``: bodies over the handlers' limits (``optin.limits``) get the handlers' 400 before Lambda.
6. ``RegisterChallenge`` (``wafChallenge``): WAF's silent ``Challenge`` on ``POST /register``: a request
   without a valid AWS WAF token is answered by WAF (HTTP 202 with a challenge, never reaching the
   function); the hosted form gets the token beforehand through the JavaScript integration SDK.

A blocked rate answers 429 ``{"reason": "rate_limited"}`` with a Retry-After, in the handlers' shape.
WAF's own answers carry no CORS headers, so a browser sees them as a failed request.

Logs go to a CloudWatch Logs group whose name starts with ``aws-waf-logs-`` (WAF refuses any other) with
the stack's log retention and a resource policy of its own. WAF logs never contain request bodies (the
log record has the URI, query string, headers, client IP and country, not the body); body content can
only appear as the matched data of a rule match, which the web ACL's data protection replaces with
``REDACTED``. The query string and the Referer header, which could carry a number in a URL, are
redacted in the logging configuration.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct

from optin import limits
from stacks.nag import acknowledge

# The answer of the body size rule, in the handlers' error shape (a WAF custom response body).
BODY_TOO_LARGE_KEY = "BodyTooLarge"
BODY_TOO_LARGE = (
    '{"message": "Some fields are not valid.", '
    f'"errors": {{"body": "The request body must be at most {limits.MAX_FORM_BODY_BYTES} bytes '
    f'({limits.MAX_BROADCAST_BODY_BYTES} for broadcasts)."}}, "codes": {{"body": "body_too_large"}}}}'
)
# The answer of the rate rules: the shape of the functions' own 429 (optin.http).
RATE_WINDOW_SECONDS = 300
RATE_LIMITED_KEY = "RateLimited"
RATE_LIMITED = (
    '{"message": "Too many requests from this network. Please try again later.", '
    f'"reason": "rate_limited", "retryAfterSeconds": {RATE_WINDOW_SECONDS}}}'
)
LOG_GROUP_PREFIX = "aws-waf-logs-"  # WAF delivers only to log groups named so
IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
METRIC = "SmsOptinApi"


class ApiFirewall(Construct):
    """A regional web ACL on ``stage``, its logging, and (``challenge``) the form's WAF integration URL."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        name: str,
        rate_limit: int,
        register_rate_limit: int,
        validate_rate_limit: int,
        challenge: bool,
        log_retention: logs.RetentionDays,
    ) -> None:
        """``name`` names the web ACL and its log group; the limits are requests per client IP per
        5 minutes (``rate_limit`` over every route, the others on their route only)."""
        super().__init__(scope, construct_id)
        rules = [
            _managed("IpReputation", IP_REPUTATION),
            _managed("KnownBadInputs", KNOWN_BAD_INPUTS),
            _rate("RatePerIp", rate_limit),
            _rate("RegisterRatePerIp", register_rate_limit, path="/register"),
            _rate("ValidateRatePerIp", validate_rate_limit, path="/validate"),
            wafv2.CfnWebACL.RuleProperty(
                name="BodySize",
                priority=0,
                action=_block(400, BODY_TOO_LARGE_KEY),
                statement=_body_too_large(),
                visibility_config=_visibility("BodySize"),
            ),
        ]
        if challenge:
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name="RegisterChallenge",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(challenge={}),
                    statement=_and(_method("POST"), _path_contains("/register")),
                    visibility_config=_visibility("RegisterChallenge"),
                )
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            description="sms-optin API: IP reputation, known bad inputs, per-IP rate rules, body size",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(""),
            custom_response_bodies={
                BODY_TOO_LARGE_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content=BODY_TOO_LARGE, content_type="APPLICATION_JSON"
                ),
                RATE_LIMITED_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content=RATE_LIMITED, content_type="APPLICATION_JSON"
                ),
            },
            rules=[_with_priority(rule, priority) for priority, rule in enumerate(rules)],
            # Body content can reach the logs and sampled requests only as a rule's matched data.
            data_protection_config=wafv2.CfnWebACL.DataProtectionConfigProperty(
                data_protections=[
                    wafv2.CfnWebACL.DataProtectProperty(
                        field=wafv2.CfnWebACL.FieldToProtectProperty(field_type="BODY"),
                        action="SUBSTITUTION",
                    )
                ]
            ),
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        self.log_group = self._logging(name, log_retention)
        self.integration_url: str | None = self._integration_url(name) if challenge else None

    @property
    def sdk_origin(self) -> str | None:
        """The origin of the integration URL (``https://<id>.<region>.sdk.awswaf.com``), resolved at
        deployment: what the form's CSP allows in ``script-src`` and ``connect-src``."""
        if self.integration_url is None:
            return None
        return Fn.join("", ["https://", Fn.select(2, Fn.split("/", self.integration_url))])

    def _logging(self, name: str, retention: logs.RetentionDays) -> logs.LogGroup:
        group_name = f"{LOG_GROUP_PREFIX}{name}"
        log_group = logs.LogGroup(
            self, "Logs", log_group_name=group_name, retention=retention, removal_policy=RemovalPolicy.DESTROY
        )
        stack = Stack.of(self)
        # WAF delivers through CloudWatch Logs' log delivery service. Without a policy on the group WAF
        # would add this statement to an account-wide policy, which has a size limit shared by every
        # vended log in the account; this one names this group only.
        policy = log_group.add_to_resource_policy(
            iam.PolicyStatement(
                sid="WafLogDelivery",
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
                    },
                },
            )
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # The log group's ARN without the ':*' that CloudFormation's Arn attribute ends with.
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
                # CloudFormation wants {"Name": ...} here; CDK's property class would render "name".
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "referer"}),
            ],
        )
        logging.node.add_dependency(log_group)
        if policy.policy_dependable is not None:
            logging.node.add_dependency(policy.policy_dependable)
        return log_group

    def _integration_url(self, name: str) -> str:
        """CloudFormation does not return a web ACL's application integration URL (its attributes are
        Arn, Capacity, Id and LabelNamespace); wafv2:GetWebACL does, at deployment."""
        call = cr.AwsSdkCall(
            service="WAFV2",
            action="GetWebACL",
            parameters={"Name": name, "Scope": "REGIONAL", "Id": self.web_acl.attr_id},
            physical_resource_id=cr.PhysicalResourceId.of(self.web_acl.attr_id),
            output_paths=["ApplicationIntegrationURL"],
        )
        lookup = cr.AwsCustomResource(
            self,
            "IntegrationUrl",
            resource_type="Custom::WafIntegrationUrl",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["wafv2:GetWebACL"], resources=[self.web_acl.attr_arn])]
            ),
            install_latest_aws_sdk=False,
        )
        provider_id = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        provider = Stack.of(self).node.try_find_child(provider_id)
        if provider is not None:
            acknowledge(
                provider,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "The CDK AwsCustomResource provider runs only at deploy time (here: reading the web ACL's "
                "integration URL with wafv2:GetWebACL on that ACL alone) and writes its own logs with "
                "the AWS managed basic execution policy.",
            )
        return lookup.get_response_field("ApplicationIntegrationURL")


def _visibility(rule: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"{METRIC}{rule}", sampled_requests_enabled=True
    )


def _with_priority(rule: wafv2.CfnWebACL.RuleProperty, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=rule.name,
        priority=priority,
        statement=rule.statement,
        visibility_config=rule.visibility_config,
        action=rule.action,
        override_action=rule.override_action,
    )


def _managed(name: str, group: str) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=0,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=group
            )
        ),
        visibility_config=_visibility(name),
    )


def _block(
    status: int, body_key: str, headers: dict[str, str] | None = None
) -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status,
                custom_response_body_key=body_key,
                response_headers=[
                    wafv2.CfnWebACL.CustomHTTPHeaderProperty(name=key, value=value)
                    for key, value in (headers or {}).items()
                ]
                or None,
            )
        )
    )


def _rate(name: str, limit: int, *, path: str | None = None) -> wafv2.CfnWebACL.RuleProperty:
    """Block a client IP past ``limit`` requests in 5 minutes (on ``path`` only, when given)."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=0,
        action=_block(
            429, RATE_LIMITED_KEY, {"Retry-After": str(RATE_WINDOW_SECONDS), "Cache-Control": "no-store"}
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP",
                limit=limit,
                evaluation_window_sec=RATE_WINDOW_SECONDS,
                scope_down_statement=_path_contains(path) if path else None,
            )
        ),
        visibility_config=_visibility(name),
    )


def _path_contains(segment: str) -> wafv2.CfnWebACL.StatementProperty:
    """The URI path holds ``segment`` (``/register``), after URL-decoding and lowercasing: WAF sees the
    stage in the path (``/v1/register``), and a trailing slash or an encoded letter still counts."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="CONTAINS",
            search_string=segment,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
                wafv2.CfnWebACL.TextTransformationProperty(priority=1, type="LOWERCASE"),
            ],
        )
    )


def _method(method: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(method={}),
            positional_constraint="EXACTLY",
            search_string=method,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _and(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def _body_larger_than(size: int) -> wafv2.CfnWebACL.StatementProperty:
    """The body is over ``size`` bytes. A body past what WAF inspects (16 KB for API Gateway by
    default) counts as over: oversize handling MATCH."""
    return wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            comparison_operator="GT",
            size=size,
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
            ),
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _body_too_large() -> wafv2.CfnWebACL.StatementProperty:
    """Over the broadcast limit anywhere, or over the form limit outside ``/broadcasts``: the handlers'
    limits (``optin.limits``), enforced before Lambda."""
    broadcasts = wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="ENDS_WITH",
            search_string="/broadcasts",
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")],
        )
    )
    form_body_too_large = _and(
        _body_larger_than(limits.MAX_FORM_BODY_BYTES),
        wafv2.CfnWebACL.StatementProperty(
            not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=broadcasts)
        ),
    )
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[_body_larger_than(limits.MAX_BROADCAST_BODY_BYTES), form_body_too_large]
        )
    )
