"""``make smoke``: prove a deployed simulator-mode stack works, end to end, in your own account.

Run it after ``make deploy`` (numberMode=simulator)::

    python -m ops.smoke --stack SmsOptin [--region us-east-1] [--timeout 120]

It reads the stack's outputs (CloudFormation DescribeStacks), then, with nothing but your credentials:

1. registers End User Messaging's US *success* destination simulator number through the real API
   (``POST {ApiUrl}register``) and expects 202;
2. waits until the delivery event marks the contact's confirmation ``DELIVERED`` (DynamoDB GetItem);
3. publishes "YES" from that number to the two-way topic, in End User Messaging's exact two-way shape,
   and waits for the contact to be ``CONFIRMED``;
4. does the same with "STOP" and waits for ``OPTED_OUT``;
5. removes the test contact (every item of its partition: the profile and its events), whatever
   happened before, and keeps removing items written late (``--settle`` seconds), such as the audit
   record of the STOP reply's delivery event.

Each step prints PASS or FAIL with the time it took; after a failure the remaining steps are skipped
(but the contact is still removed). The exit status is 0 only when every step passed. Texts go to a
destination simulator number only: they never leave AWS and reach no phone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

# End User Messaging's US destination simulator numbers, the same as stacks/messaging.py's
# US_SIMULATOR_DESTINATIONS (https://docs.aws.amazon.com/sms-voice/latest/userguide/test-phone-numbers.html).
# Kept here too so the tool needs nothing but boto3; tests/test_smoke.py checks the two agree.
SIMULATOR_SUCCESS = "+14254147755"
PROFILE = "PROFILE"
REQUIRED_OUTPUTS = ("ApiUrl", "ContactsTableName", "TwoWayTopicArn", "OwnNumbers")
DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 2.0
# After removing the contact, how long to watch for items written late (the audit record of the
# STOP reply's delivery event, for one) and remove those too.
DEFAULT_SETTLE_SECONDS = 15.0
HTTP_TIMEOUT_SECONDS = 30.0

HttpPost = Callable[[str, dict[str, Any], float], tuple[int, str]]


class StepFailed(Exception):
    """A step did not get the result it waits for; the message says what it saw instead."""


@dataclass(frozen=True)
class StackOutputs:
    api_url: str
    contacts_table: str
    two_way_topic_arn: str
    own_number: str

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> StackOutputs:
        missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
        if missing:
            raise StepFailed(f"the stack has no output {', '.join(missing)}: is it an sms-optin stack?")
        api_url = outputs["ApiUrl"]
        return cls(
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            contacts_table=outputs["ContactsTableName"],
            two_way_topic_arn=outputs["TwoWayTopicArn"],
            own_number=outputs["OwnNumbers"].split(",")[0].strip(),
        )


@dataclass
class StepResult:
    name: str
    status: str  # PASS | FAIL | SKIP
    seconds: float = 0.0
    detail: str = ""


def post_json(url: str, body: dict[str, Any], timeout: float) -> tuple[int, str]:
    """POST a JSON body; the status code and response text, whatever the status."""
    request = urllib.request.Request(  # noqa: S310 - the stack's own https API URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def two_way_message(*, sender: str, our_number: str, body: str) -> dict[str, str]:
    """An inbound SMS as End User Messaging publishes it to the two-way topic (user guide, "Example of
    a two-way SMS message payload"): the sender, our number, the keyword, the body and two ids."""
    return {
        "originationNumber": sender,
        "destinationNumber": our_number,
        "messageKeyword": body.split()[0].upper() if body.split() else "",
        "messageBody": body,
        "inboundMessageId": str(uuid.uuid4()),
        "previousPublishedMessageId": uuid.uuid4().hex,
    }


@dataclass
class Smoke:
    """The smoke test against one stack. Clients are injected so tests can use moto or Stubber."""

    cloudformation: Any
    dynamodb: Any
    sns: Any
    stack_name: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    poll_interval: float = DEFAULT_POLL_SECONDS
    settle: float = DEFAULT_SETTLE_SECONDS
    number: str = SIMULATOR_SUCCESS
    http_post: HttpPost = post_json
    out: TextIO = field(default_factory=lambda: sys.stdout)
    outputs: StackOutputs | None = None
    results: list[StepResult] = field(default_factory=list)

    def run(self) -> bool:
        """Every step in order, then the clean-up; True when all passed."""
        steps: Sequence[tuple[str, Callable[[], str]]] = (
            ("read the stack's outputs", self.read_outputs),
            ("register the simulator number (POST /register)", self.register),
            ("confirmation text DELIVERED (delivery event)", self.wait_delivered),
            ('reply "YES" -> contact CONFIRMED', self.confirm),
            ('reply "STOP" -> contact OPTED_OUT', self.opt_out),
        )
        self._print(f"Smoke test of stack {self.stack_name} with simulator number {self.number}")
        failed = False
        for name, step in steps:
            if failed:
                self._record(StepResult(name, "SKIP", detail="an earlier step failed"))
                continue
            failed = not self._attempt(name, step)
        if self.outputs is not None:
            self._attempt("remove the test contact", self.remove_contact)
        passed = all(result.status == "PASS" for result in self.results)
        self._print("smoke test " + ("passed" if passed else "FAILED"))
        return passed

    # --- steps: each returns a short detail or raises StepFailed -----------------------------------

    def read_outputs(self) -> str:
        try:
            stacks = self.cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as error:
            raise StepFailed(f"DescribeStacks: {error.response['Error'].get('Message', error)}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        self.outputs = StackOutputs.from_outputs(outputs)
        return f"API {self.outputs.api_url}, our number {self.outputs.own_number}"

    def register(self) -> str:
        leftovers = self._delete_contact_items()  # an earlier run that stopped half-way
        body = {
            "destinationNumber": self.number,
            "firstName": "Smoke",
            "lastName": "Test",
            "source": "smoke test",
            "consent": True,
        }
        status, text = self.http_post(self._out().api_url + "register", body, HTTP_TIMEOUT_SECONDS)
        if status != 202:
            raise StepFailed(f"expected HTTP 202, got {status}: {text[:300]}")
        return "HTTP 202" + (f" (removed {leftovers} items of an earlier run first)" if leftovers else "")

    def wait_delivered(self) -> str:
        def delivered(profile: dict[str, Any] | None) -> str | None:
            delivery = (profile or {}).get("confirmationDelivery") or {}
            if delivery.get("status") == "FAILED":
                raise StepFailed(f"the confirmation FAILED ({delivery.get('eventType', 'no event type')})")
            if delivery.get("status") == "DELIVERED":
                return f"{delivery.get('eventType', '')} from {delivery.get('carrier') or 'the simulator'}"
            return None

        return self._wait_for(delivered, "confirmationDelivery.status = DELIVERED")

    def confirm(self) -> str:
        return self._reply_and_wait("YES", "CONFIRMED")

    def opt_out(self) -> str:
        return self._reply_and_wait("STOP", "OPTED_OUT")

    def remove_contact(self) -> str:
        removed = self._delete_contact_items()
        deadline = time.monotonic() + self.settle
        while time.monotonic() < deadline:  # late writers: delivery events of the last replies
            time.sleep(self.poll_interval)
            removed += self._delete_contact_items()
        if self._profile() is not None:
            raise StepFailed("the profile is still there")
        return f"{removed} items removed"

    # --- helpers -------------------------------------------------------------------------------------

    def _reply_and_wait(self, body: str, status: str) -> str:
        out = self._out()
        message = two_way_message(sender=self.number, our_number=out.own_number, body=body)
        self.sns.publish(TopicArn=out.two_way_topic_arn, Message=json.dumps(message))

        def reached(profile: dict[str, Any] | None) -> str | None:
            return (
                f"inboundMessageId {message['inboundMessageId']}"
                if (profile or {}).get("status") == status
                else None
            )

        return self._wait_for(reached, f"status = {status}")

    def _wait_for(self, check: Callable[[dict[str, Any] | None], str | None], what: str) -> str:
        deadline = time.monotonic() + self.timeout
        profile: dict[str, Any] | None = None
        while True:
            profile = self._profile()
            found = check(profile)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                seen = "no contact" if profile is None else f"status {profile.get('status')}"
                delivery = (profile or {}).get("confirmationDelivery")
                if delivery:
                    seen += f", confirmationDelivery {delivery.get('status')}"
                raise StepFailed(f"no {what} after {self.timeout:g} s ({seen})")
            time.sleep(self.poll_interval)

    def _profile(self) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(
            TableName=self._out().contacts_table,
            Key={"pk": {"S": self.number}, "sk": {"S": PROFILE}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        deserialize = TypeDeserializer().deserialize
        return {key: deserialize(value) for key, value in item.items()}

    def _delete_contact_items(self) -> int:
        """Every item of the test number's partition (PROFILE, EVENT#...)."""
        table = self._out().contacts_table
        keys: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.number}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        ):
            keys += page["Items"]
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
            while requests:
                unprocessed = self.dynamodb.batch_write_item(RequestItems={table: requests})
                requests = unprocessed.get("UnprocessedItems", {}).get(table, [])
                if requests:
                    time.sleep(self.poll_interval)
        return len(keys)

    def _out(self) -> StackOutputs:
        if self.outputs is None:
            raise StepFailed("the stack's outputs were not read")
        return self.outputs

    def _attempt(self, name: str, step: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            detail = step()
        except StepFailed as error:
            self._record(StepResult(name, "FAIL", time.monotonic() - started, str(error)))
            return False
        except Exception as error:  # an AWS or network error fails the step, and says which
            self._record(
                StepResult(name, "FAIL", time.monotonic() - started, f"{type(error).__name__}: {error}")
            )
            return False
        self._record(StepResult(name, "PASS", time.monotonic() - started, detail))
        return True

    def _record(self, result: StepResult) -> None:
        self.results.append(result)
        took = f"{result.seconds:6.1f} s" if result.status != "SKIP" else "       "
        self._print(
            f"{result.status:<4}  {took}  {result.name}" + (f": {result.detail}" if result.detail else "")
        )

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    client: Callable[[str], Any] | None = None,
) -> int:
    """The command line; 0 when every step passed, 1 otherwise. ``client`` makes an AWS client for a
    service name (tests pass stubbed or moto clients); by default, the caller's credentials."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.smoke", description="End-to-end smoke test of a deployed simulator-mode stack."
    )
    parser.add_argument("--stack", default="SmsOptin", help="CloudFormation stack name (default SmsOptin)")
    parser.add_argument("--region", default=None, help="AWS Region (default: your profile's)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds each waiting step may take (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=DEFAULT_POLL_SECONDS,
        help=f"seconds between reads of the contact (default {DEFAULT_POLL_SECONDS:g})",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_SECONDS,
        help="seconds to watch for late items of the test contact after removing it "
        f"(default {DEFAULT_SETTLE_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    make_client = client or boto3.Session(region_name=args.region).client
    smoke = Smoke(
        cloudformation=make_client("cloudformation"),
        dynamodb=make_client("dynamodb"),
        sns=make_client("sns"),
        stack_name=args.stack,
        timeout=args.timeout,
        poll_interval=args.poll_interval,
        settle=args.settle,
        out=out or sys.stdout,
    )
    return 0 if smoke.run() else 1


if __name__ == "__main__":
    sys.exit(main())
