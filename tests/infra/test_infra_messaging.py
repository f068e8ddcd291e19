"""Messaging and number: topic encryption and policies, number modes, keywords, Pinpoint."""

from __future__ import annotations

import json

from infra_helpers import EXISTING_ARN, as_list, get_att, only, props, ref, resources, role_statements, text

SMS_VOICE = {"Service": "sms-voice.amazonaws.com"}


def topic(template: dict) -> tuple[str, dict]:
    return only(template, "AWS::SNS::Topic", "TwoWay")


def key_policy(template: dict, key: str) -> list[dict]:
    return props(template["Resources"][key])["KeyPolicy"]["Statement"]


def test_topic_is_standard_and_encrypted_with_a_customer_key(templates: dict) -> None:
    for template in templates.values():
        _, t = topic(template)
        assert "FifoTopic" not in props(t)  # two-way SMS does not support FIFO topics
        key = props(t)["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert template["Resources"][key]["Type"] == "AWS::KMS::Key"
        assert props(template["Resources"][key])["EnableKeyRotation"] is True


def test_key_policy_lets_sms_voice_encrypt_under_confused_deputy_conditions(default: dict) -> None:
    _, t = topic(default)
    key = props(t)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    (statement,) = [s for s in key_policy(default, key) if s.get("Principal") == SMS_VOICE]
    assert set(statement["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    assert text(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(
        '":sms-voice:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":*"]]}'
    )


def test_topic_policy_allows_only_sms_voice_from_this_account(default: dict) -> None:
    name, _ = topic(default)
    (_, policy) = only(default, "AWS::SNS::TopicPolicy", "TwoWay")
    assert props(policy)["Topics"] == [ref(name)]
    statements = props(policy)["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == SMS_VOICE
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == ref(name)
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    assert "aws:SourceArn" in allow["Condition"]["ArnLike"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_role_mode_publishes_through_a_role_trusted_by_sms_voice(existing: dict) -> None:
    name, t = topic(existing)
    role_id, role = only(existing, "AWS::IAM::Role", "TwoWayChannelRole")
    (trust,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == SMS_VOICE
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}
    statements = role_statements(existing, role_id)
    key = props(t)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": ref(name)} in statements
    (kms,) = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert set(kms["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert kms["Resource"] == get_att(key, "Arn")
    # No service-principal path to the two-way topic in role mode.
    assert all(
        s.get("Principal") != SMS_VOICE
        for p in resources(existing, "AWS::SNS::TopicPolicy").values()
        if ref(name) in props(p)["Topics"]
        for s in props(p)["PolicyDocument"]["Statement"]
    )
    assert all(s.get("Principal") != SMS_VOICE for s in key_policy(existing, key))


def test_simulator_number_is_the_default(default: dict) -> None:
    _, number = only(default, "AWS::SMSVOICE::PhoneNumber")
    p = props(number)
    assert p["NumberType"] == "SIMULATOR"
    assert p["IsoCountryCode"] == "US"
    assert p["NumberCapabilities"] == ["SMS"]
    assert p["SelfManagedOptOutsEnabled"] is True
    assert p["TwoWay"] == {"Enabled": True, "ChannelArn": ref(topic(default)[0])}
    opt_out_list, _ = only(default, "AWS::SMSVOICE::OptOutList")
    assert p["OptOutListName"] == ref(opt_out_list)
    assert "ExampleCorp" in p["MandatoryKeywords"]["HELP"]["Message"]
    assert "STOP" in p["MandatoryKeywords"]["HELP"]["Message"]
    assert "unsubscribed" in p["MandatoryKeywords"]["STOP"]["Message"]
    # No optional keywords on the simulator: every keyword reply comes from the function, state-aware.
    assert not p.get("OptionalKeywords")


def test_a_real_number_registers_keywords_and_the_functions_do_not_answer_them_twice(new: dict) -> None:
    _, number = only(new, "AWS::SMSVOICE::PhoneNumber")
    registered = props(number)["OptionalKeywords"]
    assert all(k["Message"].startswith("ExampleCorp:") for k in registered)
    ours = [
        props(f)["Environment"]["Variables"]
        for f in resources(new, "AWS::Lambda::Function").values()
        if "CONTACTS_TABLE" in props(f).get("Environment", {}).get("Variables", {})
    ]
    assert ours and all(v["NUMBER_KEYWORDS"].split(",") == [k["Keyword"] for k in registered] for v in ours)


def test_new_number_from_context(new: dict) -> None:
    _, number = only(new, "AWS::SMSVOICE::PhoneNumber")
    p = props(number)
    assert (p["NumberType"], p["IsoCountryCode"]) == ("TOLL_FREE", "US")
    assert p["SelfManagedOptOutsEnabled"] is True
    role_id, _ = only(new, "AWS::IAM::Role", "TwoWayChannelRole")
    assert p["TwoWay"] == {
        "Enabled": True,
        "ChannelArn": ref(topic(new)[0]),
        "ChannelRole": get_att(role_id, "Arn"),
    }
    policy_id, _ = only(new, "AWS::IAM::Policy", "TwoWayChannelRole")
    assert policy_id in number["DependsOn"]  # publish permission exists before two-way is switched on
    assert set(p["MandatoryKeywords"]) == {"HELP", "STOP"}
    keywords = {k["Keyword"]: k["Action"] for k in p["OptionalKeywords"]}
    # US toll-free: carriers manage opt-outs, STOP is the only opt-out keyword AWS accepts.
    assert keywords == {"YES": "OPT_IN", "START": "OPT_IN", "UNSTOP": "OPT_IN"}


def test_existing_number_is_configured_by_custom_resources(existing: dict) -> None:
    assert not resources(existing, "AWS::SMSVOICE::PhoneNumber")
    name, _ = topic(existing)
    role_id, _ = only(existing, "AWS::IAM::Role", "TwoWayChannelRole")
    _, setup = only(existing, "Custom::SmsTwoWay")
    create, delete = text(props(setup)["Create"]), text(props(setup)["Delete"])
    for fragment in (
        '\\"action\\":\\"UpdatePhoneNumber\\"',
        '\\"PhoneNumberId\\":\\"phone-0123456789abcdef0123456789abcdef\\"',
        '\\"TwoWayEnabled\\":true',
        '\\"SelfManagedOptOutsEnabled\\":true',
        f'{{"Ref": "{name}"}}',
        f'{{"Fn::GetAtt": ["{role_id}", "Arn"]}}',
    ):
        assert fragment in create, fragment
    assert '\\"TwoWayEnabled\\":false' in delete
    assert '\\"SelfManagedOptOutsEnabled\\":false' in delete  # AWS answers STOP/HELP again after us

    keywords = {}
    for resource in resources(existing, "Custom::SmsKeyword").values():
        call = json.loads(props(resource)["Create"])
        assert call["action"] == "PutKeyword"
        assert json.loads(props(resource)["Delete"])["action"] == "DeleteKeyword"
        keywords[call["parameters"]["Keyword"]] = call["parameters"]["KeywordAction"]
    assert keywords == {"YES": "OPT_IN", "START": "OPT_IN", "UNSTOP": "OPT_IN", "REVOKE": "OPT_OUT"}


def test_existing_number_custom_resource_permissions_are_scoped(existing: dict) -> None:
    role_id, _ = only(existing, "AWS::IAM::Role", "TwoWayChannelRole")
    statements = [
        s
        for policy in resources(existing, "AWS::IAM::Policy").values()
        if "Messaging" in text(policy) and "sms-voice:" in text(policy)
        for s in props(policy)["PolicyDocument"]["Statement"]
    ]
    by_action = {a: s for s in statements for a in as_list(s["Action"])}
    for action in ("sms-voice:UpdatePhoneNumber", "sms-voice:PutKeyword", "sms-voice:DeleteKeyword"):
        assert by_action[action]["Resource"] == EXISTING_ARN
    (passrole,) = [  # the one passing the channel role (the functions also pass the scheduler's role)
        s
        for s in statements
        if "iam:PassRole" in as_list(s["Action"]) and "sms-voice" in text(s.get("Condition"))
    ]
    assert passrole["Resource"] == get_att(role_id, "Arn")
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "sms-voice.amazonaws.com"}}


def test_pinpoint_off_by_default_and_on_by_context(templates: dict, existing: dict) -> None:
    for variant in ("default", "regional", "new"):
        template = templates[variant]
        assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::Pinpoint::")]
        assert "PinpointProjectId" not in template["Outputs"]
    app, resource = only(existing, "AWS::Pinpoint::App")
    _, channel = only(existing, "AWS::Pinpoint::SMSChannel")
    assert props(channel) == {"ApplicationId": ref(app), "Enabled": True}
    for r in (resource, channel):
        assert r["Metadata"]["cfn-lint"]["config"]["ignore_checks"] == ["W3696"]
        comment = r["Metadata"]["Comment"]
        assert "end of support on 2026-10-30" in comment
        assert "design card" in comment and "accounts AWS still serves" in comment
    assert existing["Outputs"]["PinpointProjectId"]["Value"] == ref(app)


def test_w3696_acknowledgement_explains_the_choice(synthesized: object) -> None:
    metadata = synthesized.metadata["existing"]  # type: ignore[attr-defined]
    reasons = [
        entry["data"]["CloudFormation-Validate::W3696"]
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules" and "CloudFormation-Validate::W3696" in entry["data"]
    ]
    assert len(reasons) == 2  # the project and its SMS channel
    assert all(
        "2026-10-30" in r and "pinpoint=true" in r and "accounts AWS still serves" in r for r in reasons
    )
