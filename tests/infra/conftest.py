"""Synthesizes the app once per session: one App, one stack per variant, cdk-nag applied, one synth.

Variants (together they cover the number modes, Pinpoint on and off, both publish modes, WAF on and
off, the WAF challenge, CORS, the stack's own configuration set and an existing one, backups on and off):

* ``default``: cdk.json as shipped — simulator number, Pinpoint off, topic policy, WAF on (no
  challenge), no origins, the stack's configuration set and protect configuration (ALLOW), backups for
  1461 days, the abuse limits at their defaults.
* ``new``: a new US toll-free number, the role publish mode, WAF with its own rate limits, one CORS
  origin, an existing configuration set, traffic filtering (FILTER), no backups, alarm email, no form.
* ``existing``: an existing number by ARN, Pinpoint on, the role publish mode, two CORS origins,
  backups for 400 days, WAF off.
* ``regional``: cdk.json as shipped, in a concrete account and region, as the CDK CLI synthesizes.
* ``challenge``: the hosted form with the WAF challenge, requireFormToken, and every abuse limit
  changed (``infra_helpers.CHALLENGE``), alarm email.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment
from infra_helpers import VARIANTS

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


# The CDK CLI synthesizes with a concrete region (and account, with credentials): cdk-nag then names
# resolved ARNs in its findings, so acknowledgements must match those too.
ENVIRONMENTS = {"regional": Environment(account="123456789012", region="eu-west-1")}


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    templates: dict[str, dict[str, Any]]  # variant -> CloudFormation template
    metadata: dict[str, dict[str, Any]]  # variant -> construct metadata (acknowledgements)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from aws_cdk import App

    from stacks.config import Config, load_cdk_json_context
    from stacks.nag import apply_checks
    from stacks.stack import SmsOptinStack

    outdir = tmp_path_factory.mktemp("cdk.out")
    base = load_cdk_json_context()
    app = App(outdir=str(outdir), context=base)
    stack_names = {}
    for variant, overrides in VARIANTS.items():
        config = Config.from_context({**base, **overrides, "stackName": f"Test-{variant}"})
        stack_names[variant] = SmsOptinStack(
            app, f"Test-{variant}", config=config, env=ENVIRONMENTS.get(variant)
        ).stack_name
    apply_checks(app)
    app.synth()  # raises on any unacknowledged cdk-nag or CloudFormation validation finding
    yield Synthesized(
        outdir=outdir,
        templates={
            v: json.loads((outdir / f"{n}.template.json").read_text()) for v, n in stack_names.items()
        },
        metadata={v: json.loads((outdir / f"{n}.metadata.json").read_text()) for v, n in stack_names.items()},
    )


@pytest.fixture(scope="session")
def templates(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.templates


@pytest.fixture(scope="session")
def default(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["default"]


@pytest.fixture(scope="session")
def new(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["new"]


@pytest.fixture(scope="session")
def existing(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["existing"]
