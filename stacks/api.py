"""The REST API: ``POST /register`` and ``POST /validate`` on stage ``v1``.

Request bodies are checked against JSON-schema models before a function runs. The models check shape
only (a JSON object of bounded size, string fields of bounded length, a boolean consent): field-level
rules such as "letters in the number" stay in the handlers, which answer with a message and a code
per field. The lengths come from ``optin.limits``, the handlers' own limits.

A REST API has no body-size setting: every handler refuses a body above its limit with a 400
(``body_too_large``), and with WAF on, a size rule blocks such bodies before they reach Lambda (whose
6 MB invocation limit would otherwise answer for bodies API Gateway still takes, up to 10 MB).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from optin import limits
from stacks.nag import acknowledge

STAGE = "v1"
CORS_HEADERS = ("Content-Type",)


def _object(title: str, max_properties: int, **fields: apigw.JsonSchema) -> apigw.JsonSchema:
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        title=title,
        type=apigw.JsonSchemaType.OBJECT,
        properties=fields,
        max_properties=max_properties,
    )


def _string(max_length: int) -> apigw.JsonSchema:
    return apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=max_length)


REGISTER_SCHEMA = _object(
    "RegisterRequest",
    limits.MAX_REGISTER_FIELDS,
    destinationNumber=_string(limits.MAX_NUMBER_LENGTH),
    firstName=_string(limits.MAX_NAME_LENGTH),
    lastName=_string(limits.MAX_NAME_LENGTH),
    source=_string(limits.MAX_SOURCE_LENGTH),
    country=_string(limits.MAX_COUNTRY_INPUT),
    consent=apigw.JsonSchema(type=apigw.JsonSchemaType.BOOLEAN),
)
VALIDATE_SCHEMA = _object(
    "ValidateRequest",
    limits.MAX_VALIDATE_FIELDS,
    phoneNumber=_string(limits.MAX_NUMBER_LENGTH),
    country=_string(limits.MAX_COUNTRY_INPUT),
)
BROADCAST_SCHEMA = _object(
    "BroadcastRequest",
    limits.MAX_BROADCAST_FIELDS,
    template=_string(limits.MAX_TEMPLATE_NAME_LENGTH),
    language=_string(limits.MAX_LANGUAGE_LENGTH),
    source=_string(limits.MAX_SOURCE_LENGTH),
    broadcastId=_string(limits.MAX_BROADCAST_ID_LENGTH),
    cursor=_string(limits.MAX_CURSOR_LENGTH),
)
# The answer of WAF's body size rule, in the handlers' error shape (a WAF custom response body).
BODY_TOO_LARGE_KEY = "BodyTooLarge"
BODY_TOO_LARGE = (
    '{"message": "Some fields are not valid.", '
    f'"errors": {{"body": "The request body must be at most {limits.MAX_FORM_BODY_BYTES} bytes '
    f'({limits.MAX_BROADCAST_BODY_BYTES} for broadcasts)."}}, "codes": {{"body": "body_too_large"}}}}'
)


def _error_template(why: str, code: str) -> dict[str, str]:
    """A gateway response body in the handlers' shape; ``why`` may hold VTL."""
    return {
        "application/json": f'{{"message": "Some fields are not valid.", "errors": {{"body": "{why}"}}, '
        f'"codes": {{"body": "{code}"}}}}'
    }


class RegistrationApi(Construct):
    """API Gateway REST API in front of the registration and validation functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Mapping[str, tuple[lambda_.IFunction, apigw.JsonSchema]],
        allowed_origins: Sequence[str],
        iam_routes: Mapping[str, tuple[lambda_.IFunction, apigw.JsonSchema]] | None = None,
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
        cloudwatch_role: bool,
        waf_rate_limit: int | None,
    ) -> None:
        """``routes`` maps a path (``register``) to its function and request JSON schema.

        ``allowed_origins`` is the CORS allowlist; empty means no cross-origin browser access.
        ``waf_rate_limit`` (requests per IP per 5 minutes) attaches a WAF web ACL when set.
        """
        super().__init__(scope, construct_id)
        self.allowed_origins = tuple(allowed_origins)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="SMS double opt-in: registration and phone validation",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if cloudwatch_role else None,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                # Errors only, and never request bodies: bodies carry phone numbers and names.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            default_cors_preflight_options=(
                apigw.CorsOptions(
                    allow_origins=list(self.allowed_origins),
                    allow_methods=["OPTIONS", "POST"],
                    allow_headers=list(CORS_HEADERS),
                    max_age=None,
                )
                if self.allowed_origins
                else None
            ),
        )
        validator = self.api.add_request_validator(
            "Validator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        public = {path: (route, apigw.AuthorizationType.NONE) for path, route in routes.items()}
        signed = {path: (route, apigw.AuthorizationType.IAM) for path, route in (iam_routes or {}).items()}
        for path, ((function, schema), authorization) in {**public, **signed}.items():
            model = self.api.add_model(
                f"{path.title()}Model",
                content_type="application/json",
                schema=schema,
            )
            self.api.root.add_resource(path).add_method(
                "POST",
                apigw.LambdaIntegration(function),
                request_models={"application/json": model},
                request_validator=validator,
                authorization_type=authorization,
            )
        self._cors_on_errors()

        self.web_acl: wafv2.CfnWebACL | None = None
        if waf_rate_limit is not None:
            self.web_acl = self._web_acl(waf_rate_limit)
        else:
            acknowledge(
                self.api,
                "AwsSolutions-APIG3",
                "A WAF web ACL is optional (context waf=true adds one with a per-IP rate rule); without it "
                "the stage's throttling and the handlers' per-number cooldowns bound abuse.",
            )
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "The sign-up form is public by design: anyone may submit a number. Abuse is bounded by "
            "throttling, the optional WAF rate rule and per-number cooldowns in the handlers.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Public sign-up endpoints have no user pool: the caller is an anonymous visitor whose "
            "consent is confirmed by SMS (double opt-in), not by a login.",
        )
        if cloudwatch_role:
            acknowledge(
                self.api,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs for execution logging; this AWS managed policy "
                "is the one AWS documents for it and grants only CloudWatch Logs writes.",
            )

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def origin(self) -> str:
        """``https://<api id>.execute-api.<region>.<suffix>``: no stage, so the site's CSP can name it
        without depending on the deployment (which depends on the site through CORS)."""
        stack = Stack.of(self)
        return f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    def _cors_on_errors(self) -> None:
        """API Gateway's own errors: a body the schema refuses answers in the handlers' JSON shape (with
        the validator's explanation under ``errors``), and with a single origin the browser may read them."""
        headers = (
            {"Access-Control-Allow-Origin": f"'{self.allowed_origins[0]}'", "Vary": "'Origin'"}
            if len(self.allowed_origins) == 1
            else None
        )
        self.api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            response_headers=headers,
            templates=_error_template(
                "$util.escapeJavaScript($context.error.validationErrorString)", "invalid_body"
            ),
        )
        # Bodies over API Gateway's own 10 MB limit, and a media type it refuses: the same shape.
        self.api.add_gateway_response(
            "RequestTooLarge",
            type=apigw.ResponseType.REQUEST_TOO_LARGE,
            status_code="400",
            response_headers=headers,
            templates=_error_template("The request body is too large.", "body_too_large"),
        )
        self.api.add_gateway_response(
            "UnsupportedMediaType",
            type=apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
            status_code="415",
            response_headers=headers,
            templates={
                "application/json": '{"message": "The request body must be JSON.", "errors": '
                '{"Content-Type": "Send the body as application/json, encoded in UTF-8."}, '
                '"codes": {"Content-Type": "unsupported_media_type"}}'
            },
        )
        if headers is None:
            return
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.api.add_gateway_response(
                f"Cors{response_type.response_type}", type=response_type, response_headers=headers
            )

    def _web_acl(self, rate_limit: int) -> wafv2.CfnWebACL:
        metric = "SmsOptinApi"
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(metric),
            custom_response_bodies={
                BODY_TOO_LARGE_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content=BODY_TOO_LARGE, content_type="APPLICATION_JSON"
                )
            },
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RatePerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=rate_limit, evaluation_window_sec=300
                        )
                    ),
                    visibility_config=_visibility(f"{metric}RatePerIp"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="BodySize",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(
                        block=wafv2.CfnWebACL.BlockActionProperty(
                            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                                response_code=400, custom_response_body_key=BODY_TOO_LARGE_KEY
                            )
                        )
                    ),
                    statement=_body_too_large(),
                    visibility_config=_visibility(f"{metric}BodySize"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
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
    form_body_too_large = wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(
            statements=[
                _body_larger_than(limits.MAX_FORM_BODY_BYTES),
                wafv2.CfnWebACL.StatementProperty(
                    not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=broadcasts)
                ),
            ]
        )
    )
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[_body_larger_than(limits.MAX_BROADCAST_BODY_BYTES), form_body_too_large]
        )
    )
