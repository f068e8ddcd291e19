"""Helpers for the admin tool's tests: a boto3 session for ``--stack`` whose CloudFormation and Lambda
clients are under botocore's Stubber and whose DynamoDB and End User Messaging clients are the test's
(moto DynamoDB, stubbed SMS)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.stub import Stubber

from optin.admin.cli import main
from tests.support import FakeAws

STACK = "SmsOptin"
FUNCTION = "SmsOptin-Registration-abc123"
OPT_OUT_LIST = "SmsOptin-OptOutList-xyz"
OUTPUTS = {
    "ContactsTableName": "Contacts",
    "IdempotencyTableName": "Idempotency",
    "LookupCacheTableName": "PhoneLookups",
    "OptOutListName": OPT_OUT_LIST,
    "RegistrationFunctionName": FUNCTION,
    "OriginationIdentity": "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef",
    "OwnNumbers": "+12065550100",
}
# What the stack gives every function (a subset is enough: the rest keep their defaults).
FUNCTION_VARIABLES = (
    "CONTACTS_TABLE",
    "LOOKUP_CACHE_TABLE",
    "IDEMPOTENCY_TABLE",
    "ORIGINATION_IDENTITY",
    "OWN_NUMBERS",
    "BRAND_NAME",
)


class Terminal(io.StringIO):
    """Standard input that says it is a terminal (the erase prompt reads it)."""

    def isatty(self) -> bool:
        return True


class FakeTime:
    """Monotonic time that moves only when the pacing sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Run:
    code: int
    out: str
    err: str


class StackSession:
    """Stands in for ``boto3.Session(region_name=...)``."""

    def __init__(
        self, aws: FakeAws, outputs: dict[str, str] | None = None, region: str = "us-east-1"
    ) -> None:
        self.aws = aws
        self.outputs = dict(OUTPUTS if outputs is None else outputs)
        self.region_name = region
        self.environment = {name: os.environ[name] for name in FUNCTION_VARIABLES}
        self.cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        self.functions = boto3.client("lambda", region_name="us-east-1")
        self.cloudformation_stub = Stubber(self.cloudformation)
        self.functions_stub = Stubber(self.functions)
        self.regions: list[str | None] = []
        self.time = FakeTime()

    def __call__(self, region_name: str | None = None) -> StackSession:
        self.regions.append(region_name)
        if region_name:
            self.region_name = region_name
        return self

    def client(self, service: str, config: Any = None) -> Any:
        return {
            "cloudformation": self.cloudformation,
            "lambda": self.functions,
            "dynamodb": self.aws.dynamodb,
            "pinpoint": self.aws.pinpoint,
            "pinpoint-sms-voice-v2": self.aws.sms,
        }[service]

    def expect_stack(self, exists: bool = True) -> None:
        if not exists:
            self.cloudformation_stub.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {STACK} does not exist",
                http_status_code=400,
            )
            return
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        self.cloudformation_stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": "2026-11-01T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": outputs,
                    }
                ]
            },
            {"StackName": STACK},
        )

    def expect_settings(self) -> None:
        self.functions_stub.add_response(
            "get_function_configuration",
            {"FunctionName": FUNCTION, "Environment": {"Variables": dict(self.environment)}},
            {"FunctionName": FUNCTION},
        )

    def run(
        self,
        *args: str,
        stdin: str = "",
        settings: bool = False,
        sleep: Any = None,
        stack_exists: bool = True,
        tty: bool = False,
    ) -> Run:
        """``sms-optin ARGS --stack SmsOptin`` in-process; the stack (and, with ``settings``, the
        function's environment) may be read once."""
        self.cloudformation_stub = Stubber(self.cloudformation)  # nothing left over from an earlier run
        self.functions_stub = Stubber(self.functions)
        self.expect_stack(stack_exists)
        if settings:
            self.expect_settings()
        out, err = io.StringIO(), io.StringIO()
        with self.cloudformation_stub, self.functions_stub:
            code = main(
                [*args, "--stack", STACK],
                stdin=(Terminal if tty else io.StringIO)(stdin),
                stdout=out,
                stderr=err,
                session_factory=self,
                sleep=sleep or self.time.sleep,
                monotonic=self.time.monotonic,
                clock=self.aws.deps.clock,
            )
        return Run(code, out.getvalue(), err.getvalue())
