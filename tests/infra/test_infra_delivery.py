"""Delivery events, sending countries, redrive policies on every subscription, and backups."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest
from infra_helpers import (
    actions,
    as_list,
    function,
    function_statements,
    get_att,
    only,
    props,
    ref,
    resources,
    statements_for,
    text,
)

from optin.settings import Settings
from stacks.delivery_events import TEXT_EVENT_TYPES
from stacks.messaging import US_SIMULATOR_DESTINATIONS
from stacks.protect import SMS_COUNTRIES

SMS_VOICE = {"Service": "sms-voice.amazonaws.com"}
SNS = {"Service": "sns.amazonaws.com"}
SENDERS = ("Registration", "InboundSms", "FollowUp")
REAL_NUMBER_VARIANTS = ("new", "existing")


def env(template: dict, name: str) -> dict:
    return props(function(template, name)[1])["Environment"]["Variables"]


def delivery_topic(template: dict) -> tuple[str, dict]:
    return only(template, "AWS::SNS::Topic", "DeliveryEventsTopic")


def configuration_set_arn_suffix(name: str) -> str:
    return f':configuration-set/{name}"]]}}'


def botocore_event_types() -> list[str]:
    model = Path(botocore.__file__).parent / "data" / "pinpoint-sms-voice-v2"
    (service,) = model.glob("*/service-2.json.gz")
    with gzip.open(service) as handle:
        return json.load(handle)["shapes"]["EventType"]["enum"]


# --- the configuration set and its event destination -------------------------------------------


def test_configuration_set_publishes_every_text_event_to_the_encrypted_topic(default: dict) -> None:
    set_id, configuration_set = only(default, "AWS::SMSVOICE::ConfigurationSet")
    topic_id, topic = delivery_topic(default)
    p = props(configuration_set)
    assert p["ConfigurationSetName"] == "Test-default-delivery"
    (destination,) = p["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["SnsDestination"] == {"TopicArn": ref(topic_id)}
    # Every TEXT_* event End User Messaging knows, except the shorthand TEXT_ALL and the unsupported TEXT_SENT.
    expected = {t for t in botocore_event_types() if t.startswith("TEXT_")} - {"TEXT_ALL", "TEXT_SENT"}
    assert set(destination["MatchingEventTypes"]) == expected == set(TEXT_EVENT_TYPES)
    assert "TEXT_DELIVERED" in expected and "TEXT_CARRIER_UNREACHABLE" in expected
    key = props(topic)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert default["Resources"][key]["Type"] == "AWS::KMS::Key"
    # The topic policy exists before End User Messaging is pointed at the topic.
    policy_id, _ = only(default, "AWS::SNS::TopicPolicy", "DeliveryEvents")
    assert policy_id in configuration_set["DependsOn"]
    assert default["Outputs"]["ConfigurationSetName"]["Value"] == ref(set_id)
    assert default["Outputs"]["DeliveryEventsTopicArn"]["Value"] == ref(topic_id)


@pytest.mark.parametrize(
    ("variant", "set_name"), [("default", "Test-default-delivery"), ("new", "optin-events")]
)
def test_only_the_configuration_set_in_this_account_may_publish_or_encrypt(
    templates: dict, variant: str, set_name: str
) -> None:
    template = templates[variant]
    topic_id, topic = delivery_topic(template)
    _, policy = only(template, "AWS::SNS::TopicPolicy", "DeliveryEvents")
    assert props(policy)["Topics"] == [ref(topic_id)]
    (allow,) = [s for s in props(policy)["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == SMS_VOICE
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == ref(topic_id)
    key = props(topic)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    (encrypt,) = [
        s
        for s in props(template["Resources"][key])["KeyPolicy"]["Statement"]
        if s.get("Principal") == SMS_VOICE
    ]
    assert set(encrypt["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    for statement in (allow, encrypt):
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
        assert text(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(
            configuration_set_arn_suffix(set_name)
        )


def test_an_existing_configuration_set_is_used_and_ours_is_not_created(new: dict) -> None:
    assert not resources(new, "AWS::SMSVOICE::ConfigurationSet")
    assert new["Outputs"]["ConfigurationSetName"]["Value"] == "optin-events"
    topic_id, _ = delivery_topic(new)
    # Its owner adds the event destination to our topic: docs/deploy.md points at this output.
    assert new["Outputs"]["DeliveryEventsTopicArn"]["Value"] == ref(topic_id)


@pytest.mark.parametrize("variant", ["default", "new", "existing"])
def test_every_send_names_the_configuration_set_and_may_use_it(templates: dict, variant: str) -> None:
    template = templates[variant]
    sets = resources(template, "AWS::SMSVOICE::ConfigurationSet")
    expected_env = ref(next(iter(sets))) if sets else "optin-events"
    set_name = f"Test-{variant}-delivery" if sets else "optin-events"
    for name in SENDERS:
        assert env(template, name)["CONFIGURATION_SET"] == expected_env, name
        (statement,) = statements_for(function_statements(template, name), "sms-voice:SendTextMessage")
        assert text(as_list(statement["Resource"])[-1]).endswith(configuration_set_arn_suffix(set_name))


# --- the queue and the DeliveryEvents function -----------------------------------------------------


def test_topic_feeds_an_encrypted_queue_with_a_dlq_through_the_sns_envelope(default: dict) -> None:
    topic_id, _ = delivery_topic(default)
    queue_id, queue = only(default, "AWS::SQS::Queue", "DeliveryEventsQueue")
    dlq_id, _ = only(default, "AWS::SQS::Queue", "DeliveryEventsDeadLetterQueue")
    assert props(queue)["RedrivePolicy"] == {
        "deadLetterTargetArn": get_att(dlq_id, "Arn"),
        "maxReceiveCount": 5,
    }
    key = props(queue)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert default["Resources"][key]["Type"] == "AWS::KMS::Key"
    _, subscription = only(default, "AWS::SNS::Subscription", "DeliveryEvents")
    p = props(subscription)
    assert (p["Protocol"], p["TopicArn"], p["Endpoint"]) == ("sqs", ref(topic_id), get_att(queue_id, "Arn"))
    assert not p.get("RawMessageDelivery")  # the same SNS envelope as the inbound pipeline
    assert default["Outputs"]["DeliveryEventsDeadLetterQueueUrl"]["Value"] == ref(dlq_id)


def test_delivery_events_function(default: dict) -> None:
    function_id, fn = function(default, "DeliveryEvents")
    p = props(fn)
    assert p["Handler"] == "optin.handlers.delivery_events.handler"
    assert p["Timeout"] == 10
    assert env(default, "DeliveryEvents")["POWERTOOLS_SERVICE_NAME"] == "delivery-events"
    # The same asset as every other function (built from the directory, whatever modules it holds).
    assert p["Code"] == props(function(default, "Registration")[1])["Code"]
    queue_id, queue = only(default, "AWS::SQS::Queue", "DeliveryEventsQueue")
    _, mapping = only(default, "AWS::Lambda::EventSourceMapping", "DeliveryEvents")
    m = props(mapping)
    assert (m["FunctionName"], m["EventSourceArn"]) == (ref(function_id), get_att(queue_id, "Arn"))
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["BatchSize"] == 10
    assert props(queue)["VisibilityTimeout"] >= 6 * p["Timeout"]

    statements = function_statements(default, "DeliveryEvents")
    assert not [a for a in actions(statements) if a.startswith(("sms-voice:", "mobiletargeting:"))]
    tables = {lid.removeprefix("Data")[:5]: lid for lid in resources(default, "AWS::DynamoDB::Table")}
    written = {
        r["Fn::GetAtt"][0]
        for s in statements_for(statements, "dynamodb:PutItem")
        for r in as_list(s["Resource"])
        if "Fn::GetAtt" in r
    }
    assert written == {tables["Conta"], tables["Idemp"]}


def test_function_error_and_dead_letter_alarms_cover_delivery_events(default: dict) -> None:
    function_id, _ = function(default, "DeliveryEvents")
    alarms = [props(a) for a in resources(default, "AWS::CloudWatch::Alarm").values()]
    assert any(a.get("MetricName") == "Errors" and function_id in text(a["Dimensions"]) for a in alarms)


# --- no silent loss between SNS and SQS -----------------------------------------------------------


@pytest.mark.parametrize("variant", ["default", "new", "existing", "regional"])
def test_every_sqs_subscription_has_an_alarmed_dead_letter_queue_sns_can_write(
    templates: dict, variant: str
) -> None:
    template = templates[variant]
    subscriptions = {
        lid: props(s)
        for lid, s in resources(template, "AWS::SNS::Subscription").items()
        if props(s)["Protocol"] == "sqs"
    }
    assert len(subscriptions) == 2  # two-way SMS and delivery events
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    for lid, subscription in subscriptions.items():
        target = subscription["RedrivePolicy"]["deadLetterTargetArn"]
        dlq_id = target["Fn::GetAtt"][0]
        assert template["Resources"][dlq_id]["Type"] == "AWS::SQS::Queue", lid
        assert dlq_id != subscription["Endpoint"]["Fn::GetAtt"][0]
        topic = subscription["TopicArn"]
        # The queue policy lets only this topic send to the dead-letter queue...
        (queue_policy,) = [
            props(p)
            for p in resources(template, "AWS::SQS::QueuePolicy").values()
            if ref(dlq_id) in props(p)["Queues"]
        ]
        (allow,) = [s for s in queue_policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
        assert (allow["Principal"], allow["Action"]) == (SNS, "sqs:SendMessage")
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
        # ...and its KMS key lets SNS encrypt for this topic.
        key = props(template["Resources"][dlq_id])["KmsMasterKeyId"]["Fn::GetAtt"][0]
        (encrypt,) = [
            s
            for s in props(template["Resources"][key])["KeyPolicy"]["Statement"]
            if s.get("Principal") == SNS
        ]
        assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(as_list(encrypt["Action"]))
        assert encrypt["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
        # ...and a message in it raises an alarm.
        assert [
            a
            for a in alarms
            if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and a["Dimensions"] == [{"Name": "QueueName", "Value": get_att(dlq_id, "QueueName")}]
            and a["Threshold"] == 1
        ], lid


def test_every_dead_letter_queue_is_alarmed(default: dict) -> None:
    alarmed = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in (props(x) for x in resources(default, "AWS::CloudWatch::Alarm").values())
        if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    dead_letter_queues = {lid for lid in resources(default, "AWS::SQS::Queue") if "DeadLetterQueue" in lid}
    assert len(dead_letter_queues) == 6  # inbound, follow-ups, broadcasts, delivery events, 2 subscriptions
    assert dead_letter_queues <= alarmed


# --- sending countries (protect configuration) ------------------------------------------------------


def rules(template: dict) -> dict[str, str]:
    _, protect = only(template, "AWS::SMSVOICE::ProtectConfiguration")
    country_rules = props(protect)["CountryRuleSet"]
    assert set(country_rules) == {"SMS"}  # the stack sends text only
    found = {r["CountryCode"]: r["ProtectStatus"] for r in country_rules["SMS"]}
    assert len(found) == len(country_rules["SMS"]), "one rule per country"
    return found


def test_sms_goes_only_to_the_allowed_countries(default: dict) -> None:
    found = rules(default)
    assert {c for c, status in found.items() if status != "BLOCK"} == {"US", "CA"}
    assert found["US"] == found["CA"] == "ALLOW"
    # Every other country End User Messaging sends SMS to is blocked, well inside the API's 300 rules.
    assert set(found) == set(SMS_COUNTRIES) | {"US", "CA"}
    assert 200 < len(found) <= 300
    for abroad in ("GB", "MX", "IN", "NG", "PH", "AU"):
        assert found[abroad] == "BLOCK", abroad


def test_traffic_filtering_for_the_allowed_countries_by_context(new: dict) -> None:
    found = rules(new)
    assert found["US"] == found["CA"] == "FILTER"
    assert {status for c, status in found.items() if c not in ("US", "CA")} == {"BLOCK"}


def test_the_protect_configuration_is_associated_with_our_configuration_set(default: dict) -> None:
    protect_id, _ = only(default, "AWS::SMSVOICE::ProtectConfiguration")
    _, configuration_set = only(default, "AWS::SMSVOICE::ConfigurationSet")
    assert props(configuration_set)["ProtectConfigurationId"] == get_att(protect_id, "ProtectConfigurationId")
    assert default["Outputs"]["ProtectConfigurationId"]["Value"] == get_att(
        protect_id, "ProtectConfigurationId"
    )


def test_the_country_list_has_iso_codes_only() -> None:
    assert all(len(code) == 2 and code.isupper() for code in SMS_COUNTRIES)
    assert {"US", "CA", "TV", "TC", "AO"} <= set(SMS_COUNTRIES)
    assert not {"KV", "AN"} & set(SMS_COUNTRIES)  # not ISO 3166-1 codes


# --- simulator mode ----------------------------------------------------------------------------------


def test_simulator_mode_tells_every_function_the_us_destination_simulator_numbers(templates: dict) -> None:
    expected = "+14254147755,+14254147167"
    assert ",".join(US_SIMULATOR_DESTINATIONS.values()) == expected
    ours = [
        props(f)["Environment"]["Variables"]
        for f in resources(templates["default"], "AWS::Lambda::Function").values()
        if "CONTACTS_TABLE" in props(f).get("Environment", {}).get("Variables", {})
    ]
    assert len(ours) == 7
    assert all(v["SIMULATOR_DESTINATIONS"] == expected for v in ours)
    for variant in REAL_NUMBER_VARIANTS:
        assert "SIMULATOR_DESTINATIONS" not in env(templates[variant], "Registration")


# --- backups -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "days"), [("default", 1461), ("existing", 400)])
def test_the_contacts_table_is_backed_up_for_the_configured_retention(
    templates: dict, variant: str, days: int
) -> None:
    template = templates[variant]
    _, plan = only(template, "AWS::Backup::BackupPlan")
    (rule,) = props(plan)["BackupPlan"]["BackupPlanRule"]
    assert rule["Lifecycle"] == {"DeleteAfterDays": days}
    assert rule["ScheduleExpression"] == "cron(0 5 ? * SUN *)"
    vault_id, vault = only(template, "AWS::Backup::BackupVault")
    assert rule["TargetBackupVault"] == get_att(vault_id, "BackupVaultName")
    assert vault["DeletionPolicy"] == "Retain"  # the backups outlive the stack, as the table does
    (deny,) = props(vault)["AccessPolicy"]["Statement"]
    assert deny["Effect"] == "Deny" and "backup:DeleteRecoveryPoint" in deny["Action"]
    _, selection = only(template, "AWS::Backup::BackupSelection")
    contacts, _ = only(template, "AWS::DynamoDB::Table", "DataContacts")
    assert props(selection)["BackupSelection"]["Resources"] == [get_att(contacts, "Arn")]


def test_backups_can_be_turned_off(new: dict) -> None:
    assert not [r for r in new["Resources"].values() if r["Type"].startswith("AWS::Backup::")]


@pytest.mark.parametrize("variant", ["default", "new", "existing"])
def test_a_send_nobody_recorded_waits_for_every_redelivery_of_its_delivery_events(
    variant: str, templates: dict
) -> None:
    """A text that went out but was not recorded (the function died after the send) is presumed unsent,
    and sent again, only once its claim has settled. Its delivery events record it first as long as the
    DeliveryEvents function gets to them: on the queue's last receive at the latest, (maxReceiveCount - 1)
    visibility timeouts after the first. A shorter settle sends a second text whenever that function
    fails for a minute or two while the inbound function works (seen in make chaos, seed 11)."""
    template = templates[variant]
    _, queue = only(template, "AWS::SQS::Queue", "DeliveryEventsQueue")
    visibility = props(queue)["VisibilityTimeout"]
    receives = props(queue)["RedrivePolicy"]["maxReceiveCount"]
    last_receive = visibility * (receives - 1)
    for sender in SENDERS:
        # Unset, the functions take the settings' default.
        settle = int(env(template, sender).get("SEND_SETTLE_SECONDS", Settings().send_settle_seconds))
        assert settle > last_receive + visibility // 2, (sender, settle, last_receive)
