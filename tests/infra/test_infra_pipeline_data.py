"""Inbound pipeline, contacts data and monitoring."""

from __future__ import annotations

import pytest
from infra_helpers import function, get_att, only, props, ref, resources, text

SNS = {"Service": "sns.amazonaws.com"}


def queues(template: dict) -> tuple[str, dict, str, dict]:
    queue_id, queue = only(template, "AWS::SQS::Queue", "InboundQueue")
    dlq_id, dlq = only(template, "AWS::SQS::Queue", "InboundDeadLetterQueue")
    return queue_id, queue, dlq_id, dlq


def test_queue_has_dead_letter_queue_with_max_receive_count(default: dict, existing: dict) -> None:
    for template, count in ((default, 5), (existing, 3)):
        _, queue, dlq_id, _ = queues(template)
        assert props(queue)["RedrivePolicy"] == {
            "deadLetterTargetArn": get_att(dlq_id, "Arn"),
            "maxReceiveCount": count,
        }


def test_queues_are_encrypted_with_a_customer_key_and_require_tls(default: dict) -> None:
    _, queue, _, dlq = queues(default)
    for q in (queue, dlq):
        key = props(q)["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert default["Resources"][key]["Type"] == "AWS::KMS::Key"
    for policy in resources(default, "AWS::SQS::QueuePolicy").values():
        statements = props(policy)["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_queue_key_lets_sns_deliver_only_from_the_two_way_topic(default: dict) -> None:
    _, queue, _, _ = queues(default)
    topic_id, _ = only(default, "AWS::SNS::Topic", "TwoWay")
    key = props(queue)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    (statement,) = [
        s for s in props(default["Resources"][key])["KeyPolicy"]["Statement"] if s.get("Principal") == SNS
    ]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": ref(topic_id)}}


def test_topic_subscribes_the_queue_with_the_sns_envelope(default: dict) -> None:
    queue_id, _, _, _ = queues(default)
    topic_id, _ = only(default, "AWS::SNS::Topic", "TwoWay")
    _, subscription = only(default, "AWS::SNS::Subscription", "InboundQueue")
    p = props(subscription)
    assert p["Protocol"] == "sqs"
    assert p["TopicArn"] == ref(topic_id)
    assert p["Endpoint"] == get_att(queue_id, "Arn")
    assert not p.get("RawMessageDelivery")  # the handler reads the SNS Timestamp of the YES
    queue_policy = next(
        props(p)["PolicyDocument"]["Statement"]
        for p in resources(default, "AWS::SQS::QueuePolicy").values()
        if ref(queue_id) in props(p)["Queues"]
    )
    (allow,) = [s for s in queue_policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == SNS
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": ref(topic_id)}}


def test_queue_drives_inbound_function_with_partial_batch_responses(default: dict) -> None:
    queue_id, queue, _, _ = queues(default)
    inbound_id, inbound = function(default, "InboundSms")
    _, mapping = only(default, "AWS::Lambda::EventSourceMapping", "InboundSms")
    p = props(mapping)
    assert p["FunctionName"] == ref(inbound_id)
    assert p["EventSourceArn"] == get_att(queue_id, "Arn")
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert props(queue)["VisibilityTimeout"] >= 6 * props(inbound)["Timeout"]


def test_alarm_on_dead_letter_queue_depth(default: dict) -> None:
    _, _, dlq_id, _ = queues(default)
    (alarm,) = [
        props(a)
        for a in resources(default, "AWS::CloudWatch::Alarm").values()
        if props(a).get("MetricName") == "ApproximateNumberOfMessagesVisible" and dlq_id in text(props(a))
    ]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": get_att(dlq_id, "QueueName")}]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_alarms_notify_an_encrypted_topic_when_an_email_is_set(default: dict, new: dict) -> None:
    assert all("AlarmActions" not in props(a) for a in resources(default, "AWS::CloudWatch::Alarm").values())
    topic_id, alarm_topic = only(new, "AWS::SNS::Topic", "Alarm")
    assert "KmsMasterKeyId" in props(alarm_topic)
    alarms = resources(new, "AWS::CloudWatch::Alarm").values()
    assert len(alarms) >= 5
    assert all(props(a)["AlarmActions"] == [ref(topic_id)] for a in alarms)
    (subscription,) = [
        props(s) for s in resources(new, "AWS::SNS::Subscription").values() if props(s)["Protocol"] == "email"
    ]
    assert subscription == {"Endpoint": "ops@example.com", "Protocol": "email", "TopicArn": ref(topic_id)}


TABLES = {
    "Contacts": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "LookupCache": [{"AttributeName": "phoneNumber", "KeyType": "HASH"}],
    "Idempotency": [{"AttributeName": "id", "KeyType": "HASH"}],
}


@pytest.mark.parametrize("name", TABLES)
def test_tables(default: dict, name: str) -> None:
    _, table = only(default, "AWS::DynamoDB::Table", f"Data{name}")
    p = props(table)
    assert p["KeySchema"] == TABLES[name]
    assert all(a["AttributeType"] == "S" for a in p["AttributeDefinitions"])
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    retained = name == "Contacts"
    assert table["DeletionPolicy"] == ("Retain" if retained else "Delete")
    assert table["UpdateReplacePolicy"] == ("Retain" if retained else "Delete")
    assert p.get("DeletionProtectionEnabled", False) is retained


def test_outputs(templates: dict) -> None:
    for template in templates.values():
        outputs = template["Outputs"]
        assert {
            "ApiUrl",
            "TwoWayTopicArn",
            "ContactsTableName",
            "LookupCacheTableName",
            "IdempotencyTableName",
        } <= set(outputs)
        topic_id, _ = only(template, "AWS::SNS::Topic", "TwoWay")
        assert outputs["TwoWayTopicArn"]["Value"] == ref(topic_id)
        contacts, _ = only(template, "AWS::DynamoDB::Table", "DataContacts")
        assert outputs["ContactsTableName"]["Value"] == ref(contacts)
        stage_id, stage = only(template, "AWS::ApiGateway::Stage")
        assert props(stage)["StageName"] == "v1"
        assert ref(stage_id) in outputs["ApiUrl"]["Value"]["Fn::Join"][1]
