"""WhatsApp custom channel: the token secret, the broadcast queue, the two functions, POST /broadcasts."""

from __future__ import annotations

from infra_helpers import as_list, get_att, only, props, ref, resources, text


def _statements(template: dict, function_name: str) -> list[dict]:
    role_id, _ = only(template, "AWS::IAM::Role", f"Functions{function_name}Role")
    return [
        s
        for policy in resources(template, "AWS::IAM::Policy").values()
        if ref(role_id) in props(policy)["Roles"]
        for s in props(policy)["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in as_list(s["Action"])}


def test_the_token_lives_in_secrets_manager_and_only_the_delivery_function_reads_it(default: dict) -> None:
    secret_id, secret = only(default, "AWS::SecretsManager::Secret", "WhatsApp")
    assert "WhatsApp" in props(secret)["Description"]
    readers = [
        lid
        for lid, policy in resources(default, "AWS::IAM::Policy").items()
        if "secretsmanager:GetSecretValue" in text(props(policy))
        and text(ref(secret_id)) in text(props(policy))
    ]
    assert len(readers) == 1 and "CustomChannel" in readers[0]
    _, function = only(default, "AWS::Lambda::Function", "CustomChannel")
    assert props(function)["Environment"]["Variables"]["WHATSAPP_SECRET_ID"] == ref(secret_id)


def test_the_broadcast_queue_is_encrypted_has_a_dlq_and_drives_delivery_one_batch_at_a_time(
    default: dict,
) -> None:
    queue_id, queue = only(default, "AWS::SQS::Queue", "BroadcastQueue")
    dlq_id, _ = only(default, "AWS::SQS::Queue", "BroadcastDeadLetterQueue")
    assert "KmsMasterKeyId" in props(queue)
    assert props(queue)["RedrivePolicy"]["deadLetterTargetArn"] == get_att(dlq_id, "Arn")
    function_id, function = only(default, "AWS::Lambda::Function", "CustomChannel")
    assert props(function)["Handler"] == "optin.handlers.custom_channel.handler"
    _, mapping = only(default, "AWS::Lambda::EventSourceMapping", "CustomChannel")
    p = props(mapping)
    assert (p["FunctionName"], p["EventSourceArn"], p["BatchSize"]) == (
        ref(function_id),
        get_att(queue_id, "Arn"),
        1,
    )
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props(queue)["VisibilityTimeout"] >= 6 * props(function)["Timeout"]
    assert any(dlq_id in text(props(a)) for a in resources(default, "AWS::CloudWatch::Alarm").values())


def test_least_privilege_for_delivery_and_broadcasts(default: dict) -> None:
    queue_id, _ = only(default, "AWS::SQS::Queue", "BroadcastQueue")
    contacts_id, _ = only(default, "AWS::DynamoDB::Table", "Contacts")
    for name in ("CustomChannel", "Broadcasts"):
        statements = _statements(default, name)
        actions = _actions(statements)
        assert not {
            a for a in actions if a.startswith("dynamodb:") and ("Put" in a or "Update" in a or "Delete" in a)
        }
        assert "sms-voice:SendTextMessage" not in actions
        (send,) = [s for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
        assert send["Resource"] == get_att(queue_id, "Arn")
        assert any(
            contacts_id in text(s["Resource"]) and "dynamodb:Query" in as_list(s["Action"])
            for s in statements
        )
    assert "secretsmanager:GetSecretValue" not in _actions(_statements(default, "Broadcasts"))


def test_broadcasts_route_requires_iam_and_signup_routes_stay_public(default: dict) -> None:
    methods = {}
    for method in resources(default, "AWS::ApiGateway::Method").values():
        p = props(method)
        if p["HttpMethod"] == "POST":
            methods[text(p["ResourceId"])] = p["AuthorizationType"]
    resources_by_path = {
        props(r)["PathPart"]: text(ref(lid))
        for lid, r in resources(default, "AWS::ApiGateway::Resource").items()
    }
    assert methods[resources_by_path["broadcasts"]] == "AWS_IAM"
    assert methods[resources_by_path["register"]] == "NONE"
    assert methods[resources_by_path["validate"]] == "NONE"


def test_contacts_table_has_the_sparse_status_index(default: dict) -> None:
    _, table = only(default, "AWS::DynamoDB::Table", "Contacts")
    (index,) = props(table)["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "byStatus"
    assert index["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "pk", "KeyType": "RANGE"},
    ]


def test_pinpoint_campaigns_of_this_project_may_invoke_delivery_only_when_pinpoint_exists(
    default: dict, existing: dict
) -> None:
    app_id, _ = only(existing, "AWS::Pinpoint::App")
    function_id, _ = only(existing, "AWS::Lambda::Function", "CustomChannel")
    (permission,) = [
        props(p)
        for p in resources(existing, "AWS::Lambda::Permission").values()
        if "pinpoint" in text(props(p)["Principal"])
    ]
    assert permission["FunctionName"] == get_att(function_id, "Arn")
    assert permission["Principal"] == {
        "Fn::Join": ["", ["pinpoint.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert app_id in text(permission["SourceArn"]) and text(permission["SourceArn"]).endswith('/*"]]}')
    assert not [
        p for p in resources(default, "AWS::Lambda::Permission").values() if "pinpoint" in text(props(p))
    ]
