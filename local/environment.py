"""The sandbox's process environment: what the Lambda runtime and the stack would set, with no AWS."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import MutableMapping
from typing import Final

SANDBOX_NUMBER: Final = "+12065550100"  # our number: confirmations come from it, replies go to it
ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}\Z")  # ASCII digits only; no trailing newline

# Always set: the sandbox never talks to AWS, and has one number of its own.
_FORCED: Final = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}
# A follow-up sequence to try (docs/followups.md): confirming a number schedules these three steps.
# FOLLOW_UP_SEQUENCE='' make run turns follow-ups off; any other value replaces it.
DEMO_FOLLOW_UP_SEQUENCE: Final = json.dumps(
    [
        {
            "id": "tips",
            "after": "1d",
            "body": "{{Brand}}: Hi {{FirstName}}, 3 tips to get started: example.com/tips. Reply STOP to cancel.",
        },
        {
            "id": "week-1",
            "after": "7d",
            "body": "{{Brand}}: How is it going, {{FirstName}}? Reply HELP for help, STOP to cancel.",
        },
        {
            "id": "offer",
            "after": "30d",
            "body": "{{Brand}}: 20% off this week with code THANKS. Reply STOP to cancel.",
        },
    ]
)
# Set unless the developer set them: quiet logs, no metrics lines, the demo sequence; every other
# setting is read from the environment as in Lambda (BRAND_NAME, MESSAGE_FREQUENCY, ALLOWED_ORIGINS, ...).
_DEFAULTS: Final = {
    "POWERTOOLS_SERVICE_NAME": "sms-optin-sandbox",
    "POWERTOOLS_METRICS_NAMESPACE": "SmsOptin",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "FOLLOW_UP_SEQUENCE": DEMO_FOLLOW_UP_SEQUENCE,
    # Every caller of the sandbox is 127.0.0.1, so a per-IP limit would lock the page out after a few
    # sign-ups. IP_REGISTRATIONS_PER_HOUR=20 make run turns it on; the spend and range limits stay on.
    "IP_REGISTRATIONS_PER_HOUR": "0",
    "BOT_IP_BLOCK_SECONDS": "0",  # likewise: one honeypot try would silence the sandbox for an hour
}
# Generated per run unless set: the key the sandbox signs the form's fill-time tokens with.
_GENERATED: Final = {"FORM_TOKEN_SECRET": lambda: secrets.token_urlsafe(32)}
# Never used here: they would point the handlers at real resources.
_REMOVED: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "PINPOINT_PROJECT_ID")


def prepare_environment(env: MutableMapping[str, str] | None = None) -> str:
    """Make ``env`` (default: the process environment) a Lambda-like sandbox environment. Returns our
    number: ``SANDBOX_NUMBER`` if set, else +12065550100; it becomes ORIGINATION_IDENTITY and OWN_NUMBERS."""
    env = os.environ if env is None else env
    number = (env.get("SANDBOX_NUMBER") or SANDBOX_NUMBER).strip()
    if not E164.match(number):
        raise ValueError(f"SANDBOX_NUMBER must be an E.164 number such as {SANDBOX_NUMBER}")
    for name in _REMOVED:
        env.pop(name, None)
    for name in [n for n in env if n.startswith("AWS_ENDPOINT_URL_")]:
        env.pop(name)
    env.update(_FORCED)
    env["ORIGINATION_IDENTITY"] = number
    env["OWN_NUMBERS"] = number
    for name, value in _DEFAULTS.items():
        env.setdefault(name, value)
    for name, make in _GENERATED.items():
        if not env.get(name):
            env[name] = make()
    return number
