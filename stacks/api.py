"""The REST API on stage ``v1``: ``POST /register``, ``POST /validate``, ``GET /form-token`` and the
IAM-signed ``POST /broadcasts``.

Request bodies are checked against JSON-schema models before a function runs. The models check shape
only (a JSON object of bounded size, string fields of bounded length, a boolean consent): field-level
rules such as "letters in the number" stay in the handlers, which answer with a message and a code
per field. The lengths come from ``optin.limits``, the handlers' own limits.

A REST API has no body-size setting: every handler refuses a body above its limit with a 400
(``body_too_large``), and with WAF on, a size rule blocks such bodies before they reach Lambda (whose
6 MB invocation limit would otherwise answer for bodies API Gateway still takes, up to 10 MB). The web
ACL itself is its own construct (``stacks/waf.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from optin import limits
from stacks.nag import acknowledge

STAGE = "v1"
CORS_HEADERS = ("Content-Type",)
# The header a cross-origin page sends its AWS WAF token in (the cookie is not sent cross-site).
WAF_TOKEN_HEADER = "X-Aws-Waf-Token"  # noqa: S105 -- a header name, not a secret


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
        read_routes: Mapping[str, lambda_.IFunction] | None = None,
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
        cloudwatch_role: bool,
        waf_token_header: bool = False,
    ) -> None:
        """``routes`` maps a path (``register``) to its function and request JSON schema (POST);
        ``read_routes`` maps a path (``form-token``) to the function answering its GET, which has no body.

        ``allowed_origins`` is the CORS allowlist; empty means no cross-origin browser access.
        ``waf_token_header`` lets browsers send the AWS WAF token header (``wafChallenge``).
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
                    allow_methods=["OPTIONS", "GET", "POST"] if read_routes else ["OPTIONS", "POST"],
                    allow_headers=[*CORS_HEADERS, *([WAF_TOKEN_HEADER] if waf_token_header else [])],
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
        for path, function in (read_routes or {}).items():
            # No body, so no model; the stage's throttling and the web ACL's rules still apply.
            self.api.root.add_resource(path).add_method(
                "GET", apigw.LambdaIntegration(function), authorization_type=apigw.AuthorizationType.NONE
            )
        self._cors_on_errors()

        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "The sign-up form is public by design: anyone may submit a number. Abuse is bounded by the "
            "stage throttle, the WAF rules, the functions' spend breaker, number-range and per-IP limits, "
            "and per-number cooldowns.",
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

    def without_firewall(self) -> None:
        """Record why cdk-nag's WAF finding is accepted when the deployment turns WAF off."""
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "WAF is on by default; this deployment turned it off (context waf=false), e.g. because another "
            "firewall fronts the API. The stage throttle and the functions' spend breaker, number-range "
            "and per-IP limits still bound abuse and cost.",
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
