#!/usr/bin/env python3
"""CDK app: builds the sms-optin stack from cdk.json context.

Runs with no AWS credentials, no network (after the first bundling) and no Docker:
``npx cdk synth`` (``make synth``) or plain ``python app.py``. Run directly, the app reads cdk.json's
context itself; under the CDK CLI, the CLI's context (cdk.json plus ``-c key=value``) takes precedence.
Without CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION the template is environment-agnostic. Settings that are
valid but probably a mistake (Pinpoint after its end of support, a real number with no alarm email)
are printed as warnings on stderr, once each.
"""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment, Tags

from stacks.config import Config, ConfigError, load_cdk_json_context
from stacks.nag import apply_checks
from stacks.stack import SmsOptinStack


def main() -> None:
    app = App(context=load_cdk_json_context())
    try:
        config = Config.from_context(app.node.get_all_context())
    except ConfigError as error:
        sys.exit(f"cdk.json context: {error}")
    for warning in config.warnings:
        print(f"[Warning] {warning}", file=sys.stderr)
    SmsOptinStack(
        app,
        config.stack_name,
        config=config,
        env=Environment(  # an empty variable counts as unset
            account=os.environ.get("CDK_DEFAULT_ACCOUNT") or None,
            region=os.environ.get("CDK_DEFAULT_REGION") or None,
        ),
    )
    Tags.of(app).add("project", "sms-optin")
    apply_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
