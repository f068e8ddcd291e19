"""cdk-nag, cfn-lint, and ``python app.py`` in an empty environment with no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import lint
from infra_helpers import props, resources

from stacks.nag import MIN_REASON_LENGTH

ROOT = Path(__file__).resolve().parents[2]
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
# CDK's Lambda Function adds DependsOn its role while also referencing it with GetAtt (cosmetic).
TOLERATED_WARNINGS = {"W3005"}


def acknowledgements(metadata: dict) -> list[tuple[str, str, str]]:
    return [
        (path, rule, reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == ACKNOWLEDGED
        for rule, reason in entry["data"].items()
    ]


def test_cdk_nag_passes_with_reasons_on_every_acknowledgement(synthesized: object) -> None:
    # The fixture's app.synth() raises on any unacknowledged AwsSolutions finding, error or warning.
    for variant, metadata in synthesized.metadata.items():  # type: ignore[attr-defined]
        found = acknowledgements(metadata)
        assert found, variant
        for path, rule, reason in found:
            assert len(reason.strip()) >= MIN_REASON_LENGTH, (path, rule)
            if "IAM5" in rule or "IAM4" in rule:
                assert "[" in rule, f"{rule} at {path} must name the finding it accepts, not the whole rule"


def test_nag_acknowledgements_are_the_expected_ones(synthesized: object) -> None:
    rules = {
        rule.removeprefix("Annotation::").split("[")[0]
        for metadata in synthesized.metadata.values()  # type: ignore[attr-defined]
        for _, rule, _ in acknowledgements(metadata)
    }
    assert rules == {
        "AwsSolutions-IAM5",  # X-Ray '*'; Pinpoint endpoints of this project
        "AwsSolutions-IAM4",  # API Gateway logging role; CDK custom-resource provider; AWS Backup's role
        "AwsSolutions-L1",  # runtime pinned to python3.13; CDK provider's Node.js runtime
        "AwsSolutions-SQS3",  # the dead-letter queues themselves (inbound, SNS subscriptions)
        "AwsSolutions-APIG3",  # WAF optional
        "AwsSolutions-APIG4",  # public sign-up form
        "AwsSolutions-COG4",  # public sign-up form
        "CloudFormation-Validate::W3696",  # Pinpoint end of support (only where pinpoint=true)
        "AwsSolutions-S1",  # the form's static-files bucket: no access-log bucket
        "AwsSolutions-CFR1",  # no geo restriction: countries are decided by the number check
        "AwsSolutions-CFR2",  # static files: abuse is limited at the API
        "AwsSolutions-CFR3",  # no CloudFront access logs for static files
        "AwsSolutions-CFR4",  # default CloudFront certificate: TLS policy fixed by CloudFront
        "AwsSolutions-SMG4",  # the WhatsApp token is Meta's to rotate, not a Lambda's
    }


@pytest.mark.parametrize("variant", ["default", "new", "existing", "challenge"])
def test_cfn_lint_reports_no_errors(templates: dict, variant: str) -> None:
    matches = lint(json.dumps(templates[variant]), regions=["us-east-1", "us-west-2"])
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert not errors
    warnings = {m.rule.id for m in matches if m.rule.id.startswith("W")}
    assert warnings <= TOLERATED_WARNINGS, warnings  # W3696 (Pinpoint) is acknowledged in metadata


def test_default_template_passes_cfn_lint_with_w3696_enabled(default: dict) -> None:
    # The rule is live in this cfn-lint: an unacknowledged Pinpoint resource triggers it...
    probe = {"Resources": {"Project": {"Type": "AWS::Pinpoint::App", "Properties": {"Name": "probe"}}}}
    assert "W3696" in {m.rule.id for m in lint(json.dumps(probe), regions=["us-east-1"])}
    # ...and the default template neither has one nor switches any check off.
    assert not [r for r in default["Resources"].values() if r["Type"].startswith("AWS::Pinpoint::")]
    assert "cfn-lint" not in json.dumps(default.get("Metadata", {}))
    assert not [r for r in default["Resources"].values() if "cfn-lint" in r.get("Metadata", {})]
    found = {m.rule.id for m in lint(json.dumps(default), regions=["us-east-1", "us-west-2"])}
    assert "W3696" not in found
    assert found <= TOLERATED_WARNINGS, found


def _no_network_prefix() -> list[str]:
    """``unshare -n`` runs the command without any network, where the kernel allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return [unshare, "-n"]
    return []


def test_app_synthesizes_with_an_empty_environment_offline(synthesized: object, tmp_path: Path) -> None:
    # `synthesized` first: the dependency cache exists, as after any earlier synth on this machine.
    environment = {
        "PATH": os.environ["PATH"],
        "CDK_OUTDIR": str(tmp_path),  # where the CDK CLI would point it
        "PIP_NO_INDEX": "1",  # belt and braces where unshare is not allowed
        # How the CDK CLI passes `-c pinpoint=true`: it overrides cdk.json's context.
        "CDK_CONTEXT_JSON": json.dumps({"pinpoint": "true"}),
    }
    result = subprocess.run(  # noqa: S603
        [*_no_network_prefix(), sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "SmsOptin.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::SMSVOICE::PhoneNumber" in types
    assert "AWS::Pinpoint::App" in types  # turning Pinpoint on still works...
    warnings = [line for line in result.stderr.splitlines() if line.startswith("[Warning]")]
    assert len(warnings) == 1, result.stderr[-3000:]  # ...with exactly one warning, naming the end
    assert "2026-10-30" in warnings[0] and "end of support" in warnings[0]
    assert not any("AWS_ACCESS_KEY" in key for key in environment)


@pytest.mark.parametrize("variant", ["default", "new", "existing", "challenge"])
def test_no_identity_policy_uses_a_wildcard_resource_except_xray(templates: dict, variant: str) -> None:
    """Across every IAM policy of the stack (functions, channel role, custom resources, API Gateway)."""
    template = templates[variant]
    documents = [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    ]
    documents += [
        p["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
        for p in r["Properties"].get("Policies", [])
    ]
    assert documents
    for document in documents:
        for statement in document["Statement"]:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if "*" in resources:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                # X-Ray and CloudFront invalidations (by CDK's BucketDeployment) have no resource ARNs.
                assert set(actions) <= {
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "cloudfront:CreateInvalidation",
                    "cloudfront:GetInvalidation",
                }, statement


def test_queue_and_topic_keys_go_with_the_stack(templates: dict) -> None:
    # They protect transient messages only; a retained key would be billed monthly, protecting nothing.
    for template in templates.values():
        keys = resources(template, "AWS::KMS::Key")
        assert keys and all(k.get("DeletionPolicy") == "Delete" for k in keys.values())
        assert all(props(k)["EnableKeyRotation"] is True for k in keys.values())
