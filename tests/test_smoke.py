"""``make smoke`` (ops/smoke.py) against a stand-in for a deployed stack, never against AWS.

botocore's Stubber plays CloudFormation (DescribeStacks with the stack's outputs, checked against the
real API model); moto plays DynamoDB (the contacts table) and SNS (the two-way topic, delivering into
an SQS queue with the SNS envelope, as the real subscription does). The test plays the functions: a
local HTTP server answers ``POST /register`` and records the contact as the Registration function
would, a timer records the delivery event as DeliveryEvents would, and a thread reads the two-way
queue and moves the contact as InboundSms would. Each test can make one of those misbehave.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ops import smoke
from stacks.messaging import US_SIMULATOR_DESTINATIONS

STACK = "SmsOptinSmoke"
OUR_NUMBER = "+12065550100"
TWO_WAY_KEYS = {
    "originationNumber",
    "destinationNumber",
    "messageKeyword",
    "messageBody",
    "inboundMessageId",
    "previousPublishedMessageId",
}
FAST = ["--timeout", "3", "--poll-interval", "0.02", "--settle", "0.5"]


@dataclass
class FakeStack:
    """The deployed stack's behaviour, as the functions would write it into the contacts table."""

    table: str
    queue_url: str
    register_status: int = 202
    delivery: str | None = "DELIVERED"  # or FAILED, or None: no delivery event ever arrives
    answers_replies: bool = True
    registrations: list[dict[str, Any]] = field(default_factory=list)
    inbound: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")

    # Registration: PENDING contact with an evidence event, then (later) the delivery event.
    def register(self, body: dict[str, Any]) -> int:
        self.registrations.append(body)
        if self.register_status != 202:
            return self.register_status
        number = body["destinationNumber"]
        self._put(number, "PROFILE", {"status": {"S": "PENDING"}})
        self._put(number, f"EVENT#{time.time_ns()}#REGISTERED", {"source": {"S": body["source"]}})
        if self.delivery:
            threading.Timer(0.1, self._deliver, args=(number,)).start()
        return 202

    def _deliver(self, number: str) -> None:
        event = "TEXT_DELIVERED" if self.delivery == "DELIVERED" else "TEXT_CARRIER_UNREACHABLE"
        self.dynamodb.update_item(
            TableName=self.table,
            Key={"pk": {"S": number}, "sk": {"S": "PROFILE"}},
            UpdateExpression="SET confirmationDelivery = :d",
            ExpressionAttributeValues={
                ":d": {
                    "M": {
                        "status": {"S": self.delivery or ""},
                        "eventType": {"S": event},
                        "at": {"S": "2026-12-01T10:00:00Z"},
                        "carrier": {"S": "Simulator"},
                        "priceUsd": {"N": "0.00581"},
                    }
                }
            },
        )

    # InboundSms: the two-way queue (SNS envelope) moves the contact.
    def read_replies(self) -> None:
        while not self.stop.is_set():
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            for message in messages:
                envelope = json.loads(message["Body"])
                reply = json.loads(envelope["Message"])
                self.inbound.append(reply)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                if not self.answers_replies:
                    continue
                status = {"YES": "CONFIRMED", "STOP": "OPTED_OUT"}.get(reply["messageBody"])
                if status:
                    number = reply["originationNumber"]
                    # The event first, then the state: the function writes both in one transaction.
                    self._put(number, f"EVENT#{time.time_ns()}#{status}", {})
                    self.dynamodb.update_item(
                        TableName=self.table,
                        Key={"pk": {"S": number}, "sk": {"S": "PROFILE"}},
                        UpdateExpression="SET #s = :s",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={":s": {"S": status}},
                    )
                    # The reply's delivery event lands in the audit trail a moment later.
                    threading.Timer(
                        0.1, self._put, args=(number, f"EVENT#{time.time_ns()}#REPLY_DELIVERED", {})
                    ).start()
            time.sleep(0.02)

    def items(self, number: str) -> list[dict[str, Any]]:
        return self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": number}},
        )["Items"]

    def _put(self, number: str, sort_key: str, attributes: dict[str, Any]) -> None:
        self.dynamodb.put_item(
            TableName=self.table, Item={"pk": {"S": number}, "sk": {"S": sort_key}, **attributes}
        )


def serve(stack: FakeStack) -> ThreadingHTTPServer:
    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            status = stack.register(body) if self.path == "/v1/register" else 404
            payload = json.dumps({"message": "ok" if status == 202 else "refused"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


CONTACTS_TABLE = "SmsOptinSmoke-DataContacts"


@dataclass
class Deployed:
    stack: FakeStack
    outputs: dict[str, str]
    cloudformation: Any
    describe: Stubber

    def run(self, *args: str) -> tuple[int, str]:
        """``python -m ops.smoke --stack ... ARGS``, with CloudFormation stubbed and the rest in moto."""
        self.describe.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": "2026-12-01T09:00:00Z",
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()],
                    }
                ]
            },
            expected_params={"StackName": STACK},
        )
        clients = {
            "cloudformation": self.cloudformation,
            "dynamodb": boto3.client("dynamodb", region_name="us-east-1"),
            "sns": boto3.client("sns", region_name="us-east-1"),
        }
        out = io.StringIO()
        code = smoke.main(
            ["--stack", STACK, "--region", "us-east-1", *args], out=out, client=clients.__getitem__
        )
        self.describe.assert_no_pending_responses()  # the outputs were read, once
        return code, out.getvalue()


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    """The stack's outputs (Stubber), its contacts table and two-way topic (moto), the fake functions."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=CONTACTS_TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        sns = boto3.client("sns", region_name="us-east-1")
        topic_arn = sns.create_topic(Name="TwoWayTopic")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="inbound")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)  # with the SNS envelope
        stack = FakeStack(table=CONTACTS_TABLE, queue_url=queue_url)
        http = serve(stack)
        outputs = {
            "ApiUrl": f"http://127.0.0.1:{http.server_port}/v1/",
            "ContactsTableName": CONTACTS_TABLE,
            "TwoWayTopicArn": topic_arn,
            "OwnNumbers": OUR_NUMBER,
            "ConfigurationSetName": "SmsOptinSmoke-delivery",
        }
        reader = threading.Thread(target=stack.read_replies, daemon=True)
        reader.start()
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        try:
            with Stubber(cloudformation) as describe:
                yield Deployed(stack, outputs, cloudformation, describe)
        finally:
            stack.stop.set()
            reader.join(timeout=5)
            http.shutdown()
            http.server_close()


def lines(output: str, status: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(status)]


def test_the_whole_flow_passes_and_leaves_nothing_behind(deployed: Deployed) -> None:
    code, output = deployed.run(*FAST)
    assert code == 0, output
    passed = lines(output, "PASS")
    assert len(passed) == 6, output  # outputs, register, delivered, YES, STOP, clean-up
    assert all(" s  " in line for line in passed)  # each step says how long it took
    assert not lines(output, "FAIL") and output.rstrip().endswith("smoke test passed")

    (registration,) = deployed.stack.registrations
    assert registration == {
        "destinationNumber": "+14254147755",
        "firstName": "Smoke",
        "lastName": "Test",
        "source": "smoke test",
        "consent": True,
    }
    # The replies in End User Messaging's two-way shape: from the simulator number, to our number.
    assert [m["messageBody"] for m in deployed.stack.inbound] == ["YES", "STOP"]
    for message in deployed.stack.inbound:
        assert set(message) == TWO_WAY_KEYS
        assert message["originationNumber"] == "+14254147755"
        assert message["destinationNumber"] == OUR_NUMBER
        assert message["messageKeyword"] == message["messageBody"]
        uuid.UUID(message["inboundMessageId"])
    assert deployed.stack.inbound[0]["inboundMessageId"] != deployed.stack.inbound[1]["inboundMessageId"]
    # Profile, registration, confirmation and opt-out events, and the late audit records of both replies.
    assert lines(output, "PASS")[-1].endswith("6 items removed")
    assert deployed.stack.items("+14254147755") == []


def test_a_failed_confirmation_fails_at_once_skips_the_rest_and_still_cleans_up(deployed: Deployed) -> None:
    deployed.stack.delivery = "FAILED"
    started = time.monotonic()
    code, output = deployed.run("--timeout", "30", "--poll-interval", "0.02", "--settle", "0.3")
    assert code == 1
    assert time.monotonic() - started < 10  # did not wait for the 30 s timeout
    (failed,) = lines(output, "FAIL")
    assert "DELIVERED" in failed and "FAILED (TEXT_CARRIER_UNREACHABLE)" in failed
    assert len(lines(output, "SKIP")) == 2  # YES and STOP
    assert lines(output, "PASS")[-1].endswith("2 items removed")
    assert deployed.stack.inbound == []
    assert deployed.stack.items("+14254147755") == []
    assert output.rstrip().endswith("smoke test FAILED")


def test_a_state_that_never_comes_times_out_after_the_configured_time(deployed: Deployed) -> None:
    deployed.stack.answers_replies = False  # the inbound function does nothing
    code, output = deployed.run("--timeout", "0.5", "--poll-interval", "0.02", "--settle", "0.3")
    assert code == 1
    (failed,) = lines(output, "FAIL")
    assert '"YES"' in failed and "no status = CONFIRMED after 0.5 s (status PENDING" in failed
    assert "confirmationDelivery DELIVERED" in failed
    assert len(lines(output, "SKIP")) == 1
    assert deployed.stack.items("+14254147755") == []


def test_no_delivery_event_times_out(deployed: Deployed) -> None:
    deployed.stack.delivery = None
    code, output = deployed.run("--timeout", "0.3", "--poll-interval", "0.02", "--settle", "0")
    assert code == 1
    (failed,) = lines(output, "FAIL")
    assert "no confirmationDelivery.status = DELIVERED after 0.3 s (status PENDING)" in failed


def test_a_refused_registration_fails_the_run(deployed: Deployed) -> None:
    deployed.stack.register_status = 400
    code, output = deployed.run(*FAST)
    assert code == 1
    (failed,) = lines(output, "FAIL")
    assert "expected HTTP 202, got 400" in failed
    assert len(lines(output, "SKIP")) == 3


def test_leftovers_of_an_earlier_run_are_removed_before_registering(deployed: Deployed) -> None:
    deployed.stack._put("+14254147755", "PROFILE", {"status": {"S": "CONFIRMED"}})
    deployed.stack._put("+14254147755", "EVENT#1#CONFIRMED", {})
    code, output = deployed.run(*FAST)
    assert code == 0, output
    assert "removed 2 items of an earlier run first" in output


def test_an_unknown_stack_fails_without_touching_anything() -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    out = io.StringIO()
    with Stubber(cloudformation) as stub, Stubber(dynamodb) as db, Stubber(sns) as topic:
        stub.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id Nope does not exist",
            expected_params={"StackName": "Nope"},
        )
        passed = smoke.Smoke(
            cloudformation=cloudformation, dynamodb=dynamodb, sns=sns, stack_name="Nope", out=out
        ).run()
        stub.assert_no_pending_responses()
        db.assert_no_pending_responses()  # no DynamoDB or SNS call was made: Stubber would refuse it
        topic.assert_no_pending_responses()
    assert passed is False
    (failed,) = lines(out.getvalue(), "FAIL")
    assert "Stack with id Nope does not exist" in failed
    assert len(lines(out.getvalue(), "SKIP")) == 4
    assert "remove the test contact" not in out.getvalue()


def test_outputs_of_another_stack_are_refused() -> None:
    with pytest.raises(smoke.StepFailed, match="ContactsTableName, TwoWayTopicArn, OwnNumbers"):
        smoke.StackOutputs.from_outputs({"ApiUrl": "https://x.example.com/v1/"})
    outputs = smoke.StackOutputs.from_outputs(
        {
            "ApiUrl": "https://x.example.com/v1",
            "ContactsTableName": "t",
            "TwoWayTopicArn": "arn",
            "OwnNumbers": "+12065550100, +12065550101",
        }
    )
    assert (outputs.api_url, outputs.own_number) == ("https://x.example.com/v1/", "+12065550100")


def test_the_tool_texts_the_stacks_us_success_simulator_number() -> None:
    assert US_SIMULATOR_DESTINATIONS["success"] == smoke.SIMULATOR_SUCCESS
