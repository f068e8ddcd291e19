"""The functions' shared defaults: one code asset, runtime, logging, tracing, role and environment.

A function is described by a :class:`FunctionSpec`; :class:`Functions` turns a list of specs into
Lambda functions that differ only in what the spec says. Adding a function (the custom channel, for
one) is adding a spec; the stack then grants it what its flags ask for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "SmsOptin"


@dataclass(frozen=True)
class FunctionSpec:
    """One function: what it runs and which capabilities its role gets."""

    name: str  # CamelCase role, part of every logical id: Registration, PhoneValidation, ...
    handler: str  # module.function inside the asset
    service: str  # POWERTOOLS_SERVICE_NAME
    description: str
    timeout_seconds: int = 10
    memory_mb: int = 512
    # Capabilities; the stack turns each into a least-privilege grant.
    validates_numbers: bool = False  # mobiletargeting:PhoneNumberValidate
    sends_sms: bool = False  # sms-voice:SendTextMessage from our number through the configuration set
    syncs_endpoints: bool = False  # Pinpoint Get/UpdateEndpoint (only when Pinpoint is on)
    tables: tuple[str, ...] = ()  # read/write data on these tables (keys of ContactsData.tables)


class Functions(Construct):
    """Lambda functions built from specs with the project's defaults."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[FunctionSpec],
        code: lambda_.Code,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"function names must be unique, got {names}")
        self._functions: dict[str, tuple[FunctionSpec, lambda_.Function]] = {}
        for spec in specs:
            self._functions[spec.name] = (spec, self._build(spec, code, environment, log_retention))

    def _build(
        self,
        spec: FunctionSpec,
        code: lambda_.Code,
        environment: Mapping[str, str],
        retention: logs.RetentionDays,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{spec.name}Logs",
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{spec.name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Least-privilege role of the {spec.name} function",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): only this function's group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            spec.name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=spec.handler,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": spec.service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions, so Lambda's tracing grant must use '*'. Every other "
            "statement of this role is scoped (asserted in tests/infra).",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            f"Pinned to {RUNTIME.name}: the bundled wheels (pydantic-core) are built for cp313 and the "
            "handlers are tested on it; move runtime and wheels together.",
        )
        return function

    def __getitem__(self, name: str) -> lambda_.Function:
        return self._functions[name][1]

    def __iter__(self) -> Iterator[tuple[FunctionSpec, lambda_.Function]]:
        return iter(self._functions.values())
