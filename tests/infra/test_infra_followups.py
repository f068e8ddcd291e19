"""Follow-up sequences: schedule group, the scheduler's role, the step queue and its DLQ, the sender."""

from __future__ import annotations

from infra_helpers import as_list, get_att, only, props, ref, resources, text


def _statements(template: dict, function_name: str) -> list[dict]:
    role_id, _ = only(template, "AWS::IAM::Role", f"{function_name}Role")
    return [
        s
        for policy in resources(template, "AWS::IAM::Policy").values()
        if ref(role_id) in props(policy)["Roles"]
        for s in props(policy)["PolicyDocument"]["Statement"]
    ]


def test_a_schedule_group_owned_by_the_stack(default: dict) -> None:
    _, group = only(default, "AWS::Scheduler::ScheduleGroup")
    assert props(group)["Name"] == "Test-default-follow-ups"


def test_the_scheduler_role_is_trusted_only_by_scheduler_for_this_group_and_may_only_deliver(
    default: dict,
) -> None:
    role_id, role = only(default, "AWS::IAM::Role", "SchedulerRole")
    (trust,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    assert "schedule-group/Test-default-follow-ups" in text(trust["Condition"]["ArnEquals"])
    statements = [
        s
        for policy in resources(default, "AWS::IAM::Policy").values()
        if ref(role_id) in props(policy)["Roles"]
        for s in props(policy)["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert actions == {"sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt"}
    assert all("*" not in text(s["Resource"]) for s in statements)


def test_steps_queue_is_encrypted_with_a_dlq_and_drives_the_sender(default: dict) -> None:
    queue_id, queue = only(default, "AWS::SQS::Queue", "FollowUpsQueue")
    dlq_id, _ = only(default, "AWS::SQS::Queue", "FollowUpsDeadLetterQueue")
    assert "KmsMasterKeyId" in props(queue)
    assert props(queue)["RedrivePolicy"]["deadLetterTargetArn"] == get_att(dlq_id, "Arn")
    sender_id, sender = only(default, "AWS::Lambda::Function", "FollowUp")
    assert props(sender)["Handler"] == "optin.handlers.follow_up.handler"
    _, mapping = only(default, "AWS::Lambda::EventSourceMapping", "FollowUp")
    assert props(mapping)["FunctionName"] == ref(sender_id)
    assert props(mapping)["EventSourceArn"] == get_att(queue_id, "Arn")
    assert props(mapping)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props(queue)["VisibilityTimeout"] >= 6 * props(sender)["Timeout"]
    assert any(dlq_id in text(props(a)) for a in resources(default, "AWS::CloudWatch::Alarm").values()), (
        "an alarm on the follow-up dead-letter queue"
    )


def test_functions_know_where_schedules_go(default: dict) -> None:
    _, inbound = only(default, "AWS::Lambda::Function", "InboundSms")
    variables = props(inbound)["Environment"]["Variables"]
    role_id, _ = only(default, "AWS::IAM::Role", "SchedulerRole")
    queue_id, _ = only(default, "AWS::SQS::Queue", "FollowUpsQueue")
    assert variables["FOLLOW_UP_SCHEDULER_ROLE_ARN"] == get_att(role_id, "Arn")
    assert variables["FOLLOW_UP_TARGET_ARN"] == get_att(queue_id, "Arn")
    assert variables["FOLLOW_UP_SCHEDULE_GROUP"] == "Test-default-follow-ups"


def test_inbound_creates_and_deletes_the_sender_only_creates_and_both_pass_only_the_scheduler_role(
    default: dict,
) -> None:
    role_id, _ = only(default, "AWS::IAM::Role", "SchedulerRole")
    for function, expected in (
        ("InboundSms", {"scheduler:CreateSchedule", "scheduler:DeleteSchedule"}),
        ("FollowUp", {"scheduler:CreateSchedule"}),
    ):
        statements = _statements(default, function)
        scheduling = [s for s in statements if any(a.startswith("scheduler:") for a in as_list(s["Action"]))]
        assert {a for s in scheduling for a in as_list(s["Action"])} == expected
        assert all("schedule/Test-default-follow-ups/*" in text(s["Resource"]) for s in scheduling)
        (passrole,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
        assert passrole["Resource"] == get_att(role_id, "Arn")
        assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    assert not [s for s in _statements(default, "Registration") if "iam:PassRole" in as_list(s["Action"])]
