"""What the operator's tool (sms-optin) needs from the stack: one opt-out list that every number uses,
its name and the settings function as outputs, no function with access to the list, and a Lambda asset
without the tool."""

from __future__ import annotations

import json
from pathlib import Path

from infra_helpers import only, props, ref, resources

from optin.admin.targets import (
    CONTACTS_OUTPUT,
    IDEMPOTENCY_OUTPUT,
    LOOKUP_CACHE_OUTPUT,
    OPT_OUT_LIST_OUTPUT,
    SETTINGS_FUNCTION_OUTPUT,
)


def test_every_variant_has_one_opt_out_list_and_outputs_its_name(templates: dict) -> None:
    for variant, template in templates.items():
        list_id, _ = only(template, "AWS::SMSVOICE::OptOutList")
        assert template["Outputs"][OPT_OUT_LIST_OUTPUT]["Value"] == ref(list_id), variant
        for name in (CONTACTS_OUTPUT, IDEMPOTENCY_OUTPUT, LOOKUP_CACHE_OUTPUT):
            assert name in template["Outputs"], (variant, name)


def test_new_numbers_use_the_stacks_opt_out_list(default: dict, new: dict) -> None:
    for template in (default, new):
        list_id, _ = only(template, "AWS::SMSVOICE::OptOutList")
        _, number = only(template, "AWS::SMSVOICE::PhoneNumber")
        assert props(number)["OptOutListName"] == ref(list_id)


def test_an_existing_number_is_moved_to_the_list_and_back_to_default_on_delete(existing: dict) -> None:
    list_id, _ = only(existing, "AWS::SMSVOICE::OptOutList")
    _, setup = only(existing, "Custom::SmsTwoWay")
    for phase in ("Create", "Update"):
        call = json.dumps(props(setup)[phase])
        assert '\\"OptOutListName\\":\\"' in call, phase
        assert f'{{"Ref": "{list_id}"}}' in call, phase
    delete = json.dumps(props(setup)["Delete"])
    assert '\\"OptOutListName\\":\\"Default\\"' in delete  # our list can go once the number left it


def test_settings_function_output_names_the_registration_function(default: dict) -> None:
    value = default["Outputs"][SETTINGS_FUNCTION_OUTPUT]["Value"]
    function_id = value["Ref"]
    function = default["Resources"][function_id]
    assert function["Type"] == "AWS::Lambda::Function"
    assert props(function)["Handler"] == "optin.handlers.registration.handler"


def test_no_function_may_touch_the_opt_out_list(templates: dict) -> None:
    opt_out_actions = {
        "sms-voice:PutOptedOutNumber",
        "sms-voice:DeleteOptedOutNumber",
        "sms-voice:DescribeOptedOutNumbers",
    }
    for variant, template in templates.items():
        for policy_id, policy in resources(template, "AWS::IAM::Policy").items():
            for statement in props(policy)["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not opt_out_actions & set(actions), (variant, policy_id)
                assert "sms-voice:*" not in actions, (variant, policy_id)


def test_the_lambda_asset_leaves_the_admin_tool_out() -> None:
    from stacks.bundling import lambda_asset

    asset = lambda_asset()
    assert (asset / "optin" / "consent_records.py").is_file()  # the domain rules are shared
    assert not (asset / "optin" / "admin").exists()
    assert not list(asset.rglob("rich"))  # nor its libraries
    requirements = (Path(__file__).parents[2] / "lambdas" / "requirements.txt").read_text()
    assert "rich" not in requirements.lower()
