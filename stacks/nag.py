"""cdk-nag wiring: the AwsSolutions pack on the whole app, and written-down acknowledgements."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Stack, Token, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def apply_checks(app: App) -> None:
    """Run AwsSolutions on every stack; any unacknowledged finding (error or warning) fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress one cdk-nag finding on ``scope`` and its children, with the reason it is acceptable."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def finding_arn(scope: IConstruct, rest: str) -> str:
    """An ARN of this stack as cdk-nag spells it in a finding: concrete where the stack's environment
    is known (the CDK CLI sets the region), ``<AWS::...>`` tokens where it is not (``python app.py``).
    ``rest`` follows ``arn:<partition>:`` with ``{region}`` and ``{account}`` placeholders."""
    stack = Stack.of(scope)

    def shown(value: str, token: str) -> str:
        return token if Token.is_unresolved(value) else value

    partition = shown(stack.partition, "<AWS::Partition>")
    return f"arn:{partition}:" + rest.format(
        region=shown(stack.region, "<AWS::Region>"), account=shown(stack.account, "<AWS::AccountId>")
    )
