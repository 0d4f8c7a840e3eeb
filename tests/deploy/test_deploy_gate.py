"""template.yaml survives what `sam deploy` does to it: the SAM transform, cfn-lint on the
CloudFormation it produces, and a CloudFormation create / update / delete (moto, server mode).

The local platform reads template.yaml itself; these tests are what keeps it honest.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation.parsing import get_model_map

from opswire_local.template import load_template
from tests.deploy.conftest import ROOT
from tools import deploy_gate

# Resource types of the translated template that moto's CloudFormation does not create (it warns
# and goes on). A type leaves this list only when moto gains it: the test below fails then.
MOTO_LACKS = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Logs::SubscriptionFilter",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::RotationSchedule",
}

# Kinds of resource that hold state or secrets: kept by `sam delete` and by a replacement.
STATEFUL_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
    "AWS::SSM::Parameter",
    "AWS::SQS::Queue",
}


def test_every_profile_and_condition_set_translates_and_lints_clean(
    translated: dict[str, dict[str, Any]],
) -> None:
    assert set(translated) == {case["name"] for case in deploy_gate.gate_cases()}
    for name, result in translated.items():
        assert result["transform_errors"] == [], name
        assert [f for f in result["lint"] if f["level"] == "error"] == [], name


def test_the_condition_sets_turn_every_condition_on_and_off(
    translated: dict[str, dict[str, Any]],
) -> None:
    seen: dict[str, set[bool]] = {}
    for result in translated.values():
        conditions = deploy_gate.evaluate_conditions(result["template"], result["parameters"])
        for condition, value in conditions.items():
            seen.setdefault(condition, set()).add(value)
    assert seen, "the translated template has no Conditions"
    assert {name: values for name, values in seen.items() if values != {True, False}} == {}


def test_moto_lacks_exactly_the_listed_resource_types(
    translated: dict[str, dict[str, Any]],
) -> None:
    types = {
        resource["Type"]
        for result in translated.values()
        for resource in result["template"]["Resources"].values()
    }
    assert {kind for kind in types if kind not in get_model_map()} == MOTO_LACKS


def test_stateful_resources_are_retained() -> None:
    template = load_template(ROOT / "template.yaml")
    loose = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
        and (
            resource.get("DeletionPolicy") not in ("Retain", "Snapshot")
            or resource.get("UpdateReplacePolicy") not in ("Retain", "Snapshot")
        )
    ]
    assert loose == []


# ---- CloudFormation in moto -----------------------------------------------------------------


def _upload_artifacts(aws: Any) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket=deploy_gate.ARTIFACT_BUCKET)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", "def handler(event, context):\n    return event\n")
    for key in (deploy_gate.CODE_KEY, deploy_gate.LAYER_KEY):
        s3.put_object(Bucket=deploy_gate.ARTIFACT_BUCKET, Key=key, Body=archive.getvalue())


def _wait(cfn: Any, stack: str, want: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            break
        assert time.monotonic() < deadline, f"{stack} still {found['StackStatus']}"
        time.sleep(0.2)
    assert found["StackStatus"] == want, found.get("StackStatusReason")
    return dict(found)


def _arguments(result: dict[str, Any]) -> dict[str, Any]:
    template = deploy_gate.resolve_conditions(result["template"], result["parameters"])
    declared = template.get("Parameters") or {}
    return {
        "TemplateBody": json.dumps(template),
        "Parameters": [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in result["parameters"].items()
            if key in declared
        ],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    }


def _expected_outputs(result: dict[str, Any]) -> set[str]:
    template = deploy_gate.resolve_conditions(result["template"], result["parameters"])
    return set(template["Outputs"])


def _outputs(stack: dict[str, Any]) -> set[str]:
    return {output["OutputKey"] for output in stack.get("Outputs", [])}


@pytest.mark.parametrize("profile", sorted(deploy_gate.profile_parameters()))
def test_create_update_and_delete_in_moto(
    profile: str, translated: dict[str, dict[str, Any]], aws: Any
) -> None:
    """Create with every condition off; update through the condition sets (changed parameters
    add and remove resources); delete. Two stacks of one profile coexist in one account."""
    _upload_artifacts(aws)
    cfn = aws("cloudformation")
    first, *updates = [f"{profile}-{name}" for name in deploy_gate.CONDITION_SETS]
    stack = f"gate-{profile}"

    stack_ids = [cfn.create_stack(StackName=stack, **_arguments(translated[first]))["StackId"]]
    created = _wait(cfn, stack, "CREATE_COMPLETE")
    assert _outputs(created) == _expected_outputs(translated[first])
    functions = {f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]}
    assert any(name.startswith(f"{stack}-AlarmIngestFunction") for name in functions)

    second = f"{stack}-twin"
    stack_ids.append(cfn.create_stack(StackName=second, **_arguments(translated[first]))["StackId"])
    _wait(cfn, second, "CREATE_COMPLETE")

    for case in updates:
        cfn.update_stack(StackName=stack, **_arguments(translated[case]))
        updated = _wait(cfn, stack, "UPDATE_COMPLETE")
        assert _outputs(updated) == _expected_outputs(translated[case]), case

    tables_before = set(aws("dynamodb").list_tables()["TableNames"])
    for stack_id in stack_ids:
        cfn.delete_stack(StackName=stack_id)
    for stack_id in stack_ids:  # a deleted stack is found by its id only
        deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        assert deleted["StackStatus"] == "DELETE_COMPLETE", deleted.get("StackStatusReason")
    # DeletionPolicy: Retain - the incident and deployment tables outlive the stack.
    assert set(aws("dynamodb").list_tables()["TableNames"]) == tables_before


# ---- the gate fails when the old mistakes come back ------------------------------------------


def _translate_variant(tmp_path: Path, old: str, new: str) -> tuple[int, str]:
    text = (ROOT / "template.yaml").read_text()
    assert old in text
    (tmp_path / "statemachines").symlink_to(ROOT / "statemachines")
    variant = tmp_path / "template.yaml"
    variant.write_text(text.replace(old, new, 1))
    cases = deploy_gate.gate_cases()[:1]
    return deploy_gate.translate(cases, tmp_path / "out", variant)


def test_the_gate_refuses_a_dead_letter_config_with_type_and_arn(tmp_path: Path) -> None:
    status, output = _translate_variant(
        tmp_path,
        "DeadLetterConfig:\n              Arn:",
        "DeadLetterConfig:\n              Type: SQS\n              Arn:",
    )
    assert status == 1
    assert "You can either define 'Arn' or 'Type' property of DeadLetterConfig" in output


def test_the_gate_refuses_a_circular_dependency(tmp_path: Path) -> None:
    status, output = _translate_variant(
        tmp_path,
        "DEPLOYMENT_STATE_MACHINE_ARN: !Sub arn:${AWS::Partition}:states:${AWS::Region}:"
        "${AWS::AccountId}:stateMachine:${AWS::StackName}-deployment",
        "DEPLOYMENT_STATE_MACHINE_ARN: !Ref DeploymentStateMachine",
    )
    assert status == 1
    assert "E3004" in output


def test_guided_deploy_asks_only_for_the_two_addresses_and_never_stops_on_auth() -> None:
    """Read with the SAM CLI's own code: the routes declare their (signature) auth, so guided
    mode does not ask "has no authentication" (default N stops the deploy); every parameter but
    the two email addresses has a default a person accepts with Enter."""
    report = deploy_gate.guided_questions(ROOT / "template.yaml")
    assert report["unauthenticated"] == []
    assert report["without_default"] == ["AlertEmail", "SenderEmail"]
    # What can change without a deploy lives in the settings document (`opswire config`), not
    # in parameters guided mode would ask for: the ones left each shape a resource or a policy.
    # 25 until four were added: OpsEventKinds (one EventBridge rule per kind), PublicApiLimits
    # (the HttpApi throttles and the public functions' reserved concurrency), AlarmLogGroupArns
    # (the only log groups the notifiers' IAM may read) and ProvisioningManagedPolicies (the
    # provisioning write role's attach condition).
    assert not set(report["parameters"]) & {"SlackDefaultChannel", "SlackApiUrl", "GitHubApiUrl"}
    assert len(report["parameters"]) <= 29
