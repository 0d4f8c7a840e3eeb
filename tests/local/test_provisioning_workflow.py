"""The provisioning workflow on the local platform: Step Functions (moto) runs plan -> post ->
approval -> Map apply -> verify -> notify, and undo on failure, through our real handlers."""

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire.provisioning.resources import EXECUTION_TAG, SPEC_TAG
from opswire.provisioning.spec import load_spec, parse_spec
from opswire_cli.provision_cli import (
    SpecTarget,
    approval_token,
    local_outputs,
    make_plan,
    posture,
    start_and_follow,
)
from opswire_local.template import ACCOUNT_ID, REGION
from tests.conftest import REPO_ROOT
from tests.local.conftest import PlatformFactory

pytestmark = pytest.mark.local
EXAMPLES = REPO_ROOT / "examples"
BUCKET = "customer-support-agent-knowledge"


def example(name: str) -> Any:
    return load_spec((Path(EXAMPLES) / f"{name}.yaml").read_text())


def setup(start_platform: PlatformFactory) -> tuple[Any, SpecTarget, Any]:
    platform = start_platform()
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    return platform, target, target.session.client("stepfunctions")


def test_workflow_applies_an_example_and_a_second_run_changes_nothing(
    start_platform: PlatformFactory,
) -> None:
    platform, target, sfn = setup(start_platform)
    machine = platform.state_machines["ProvisioningStateMachine"]
    spec = example("customer-support-agent")
    mark = len(platform.outbox.messages)
    result = start_and_follow(sfn, machine, spec, 60, approve=False, name="run-1")
    assert result["status"] == "SUCCEEDED", result
    assert [(r["kind"], r["action"]) for r in result["applied"]] == [
        ("bucket", "create"),
        ("ecr_repository", "create"),
        ("ecr_repository", "create"),
        ("policy", "create"),
        ("role", "create"),
    ]
    tags = boto3.client("s3", region_name=REGION).get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {"Key": EXECUTION_TAG, "Value": "run-1"} in tags
    assert {"Key": SPEC_TAG, "Value": spec.name} in tags
    # the plan and the outcome were posted to Slack (the outbox) and by email
    subjects = [m["subject"] for m in platform.outbox.messages[mark:]]
    assert any("Provisioning plan for customer-support-agent" in s for s in subjects), subjects
    assert any("Provisioned customer-support-agent" in s for s in subjects), subjects
    emails = platform._sent_emails()
    assert any("Provisioned customer-support-agent" in json.dumps(e) for e in emails)

    assert not make_plan(target, spec).has_changes
    again = start_and_follow(sfn, machine, spec, 60, approve=False, name="run-2")
    assert again["status"] == "SUCCEEDED" and again["applied"] == []
    assert posture(target, spec) == []


def test_changing_existing_resources_waits_for_approval(start_platform: PlatformFactory) -> None:
    platform, _target, sfn = setup(start_platform)
    machine = platform.state_machines["ProvisioningStateMachine"]
    spec = example("customer-support-agent")
    assert start_and_follow(sfn, machine, spec, 60, approve=False)["status"] == "SUCCEEDED"
    data = spec.model_dump(mode="json")
    data["ecr_repositories"][0]["scan_on_push"] = False
    changed = parse_spec(data)
    waiting = start_and_follow(sfn, machine, changed, 60, approve=False, name="change-1")
    assert waiting["status"] == "WAITING_FOR_APPROVAL"
    ecr = boto3.client("ecr", region_name=REGION)
    repo = ecr.describe_repositories(repositoryNames=["customer-support-agent/api"])
    assert repo["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is True
    token = approval_token(sfn, waiting["execution"])
    assert token
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="no")
    _wait_done(sfn, waiting["execution"])
    assert sfn.describe_execution(executionArn=waiting["execution"])["status"] == "FAILED"
    repo = ecr.describe_repositories(repositoryNames=["customer-support-agent/api"])
    assert repo["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is True

    approved = start_and_follow(sfn, machine, changed, 60, approve=True, name="change-2")
    assert approved["status"] == "SUCCEEDED", approved
    repo = ecr.describe_repositories(repositoryNames=["customer-support-agent/api"])
    assert repo["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is False


def test_a_failure_mid_apply_is_undone(start_platform: PlatformFactory) -> None:
    platform, _target, sfn = setup(start_platform)
    machine = platform.state_machines["ProvisioningStateMachine"]
    # prod: the workflow waits for approval after planning. Meanwhile someone else creates a
    # policy of that name: the apply fails at the policy step, after the key, the log groups
    # and the secrets were created by this execution.
    # (Without the example's PostgreSQL secret, which needs a value and a server:
    # tests/integration/rotation/test_rotation_from_spec.py applies the whole example.)
    data = example("anomaly-detector").model_dump(mode="json")
    data["environment"] = "prod"
    rotated = [s["name"] for s in data["secrets"] if s["rotation_days"]]
    data["secrets"] = [s for s in data["secrets"] if s["name"] not in rotated]
    grants = data["policies"][0]["grants"]
    data["policies"][0]["grants"] = [g for g in grants if g.get("read_secret") not in rotated]
    spec = parse_spec(data)
    iam = boto3.client("iam", region_name=REGION)
    waiting = start_and_follow(sfn, machine, spec, 60, approve=False, name="fails-1")
    assert waiting["status"] == "WAITING_FOR_APPROVAL"
    iam.create_policy(
        PolicyName="anomaly-detector-service",
        Path="/opswire/anomaly-detector/",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::x"}
                ],
            }
        ),
        Tags=[{"Key": SPEC_TAG, "Value": "someone-else"}],
    )
    mark = len(platform.outbox.messages)
    token = approval_token(sfn, waiting["execution"])
    sfn.send_task_success(taskToken=token, output="{}")
    _wait_done(sfn, waiting["execution"])
    result = follow_up(sfn, waiting["execution"])
    assert result["status"] == "FAILED"
    assert result["error"] == "ResourceConflictError"
    assert sorted(result["undone"]["deleted"]) == [
        "kms_key:anomaly-detector",
        "log_group:/anomaly-detector/audit",
        "log_group:/anomaly-detector/service",
        "secret:anomaly-detector/datadog-api-key",
        "secret:anomaly-detector/webhook-signing-key",
    ]
    logs = boto3.client("logs", region_name=REGION)
    assert logs.describe_log_groups(logGroupNamePrefix="/anomaly-detector/")["logGroups"] == []
    secrets = boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"]
    assert not [s for s in secrets if s["Name"].startswith("anomaly-detector/")]
    # the pre-existing policy is untouched
    policies = iam.list_policies(Scope="Local", PathPrefix="/opswire/")["Policies"]
    assert [p["PolicyName"] for p in policies] == ["anomaly-detector-service"]
    subjects = [m["subject"] for m in platform.outbox.messages[mark:]]
    assert any("FAILED and was undone" in s for s in subjects), subjects


def test_invalid_spec_fails_before_anything_changes(start_platform: PlatformFactory) -> None:
    platform, _target, sfn = setup(start_platform)
    machine = platform.state_machines["ProvisioningStateMachine"]
    started = sfn.start_execution(
        stateMachineArn=machine, name="bad", input=json.dumps({"spec": {"name": "Bad Name"}})
    )
    _wait_done(sfn, started["executionArn"])
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    failed = next(e for e in history if "executionFailedEventDetails" in e)
    assert failed["executionFailedEventDetails"]["error"] == "SpecValidationError"


def follow_up(sfn: Any, arn: str) -> dict[str, Any]:
    """The outcome of a finished execution, as ``start_and_follow`` reports it."""
    from opswire_cli.provision_cli import outcome

    return outcome(sfn, arn)


def _wait_done(sfn: Any, arn: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_cli_plan_json_text_and_invalid_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opswire_cli.cli import main

    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))
    # the example next to the database secret it names (plan checks the file's fields)
    example_dir = tmp_path / "examples"
    example_dir.mkdir()
    spec_file = str(example_dir / "anomaly-detector.yaml")
    Path(spec_file).write_text((EXAMPLES / "anomaly-detector.yaml").read_text())
    assert main(["provision", "plan", spec_file, "--local", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["problems"] == [
        "secrets[opswire/rotated/anomaly-detector/db].value_from.file: cannot read "
        f"{example_dir / 'anomaly-detector-db.json'}: No such file or directory"
    ]
    (example_dir / "anomaly-detector-db.json").write_text(json.dumps(
        {"host": "db.internal", "port": 5432, "dbname": "metrics", "username": "detector",
         "password": "not-a-real-one"}))  # fmt: skip
    assert main(["provision", "plan", spec_file, "--local", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["spec"] == "anomaly-detector"
    assert [(i["kind"], i["action"]) for i in made["items"]][:2] == [
        ("kms_key", "create"),
        ("log_group", "create"),
    ]
    assert main(["provision", "plan", spec_file, "--local"]) == 0
    text = capsys.readouterr().out
    assert "plan for anomaly-detector (dev): 7 create, 0 update, 0 unchanged" in text
    assert "+ secret anomaly-detector/datadog-api-key" in text
    assert "+ secret opswire/rotated/anomaly-detector/db" in text

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: demo\nbuckets:\n  - name: Bad_Bucket\n")
    assert main(["provision", "plan", str(bad), "--local", "--json"]) == 2
    assert json.loads(capsys.readouterr().out) == {
        "valid": False,
        "problems": [
            "buckets[Bad_Bucket].name: 'Bad_Bucket' is not a valid S3 bucket name "
            "(3-63 lowercase letters, digits, '.', '-')"
        ],
    }


def test_cli_apply_locally_then_the_plan_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opswire_cli.cli import main

    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))
    spec_file = str(EXAMPLES / "customer-support-agent.yaml")
    assert main(["provision", "apply", spec_file, "--local", "--json", "--wait", "60"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "SUCCEEDED" and len(result["applied"]) == 5
    assert {i["action"] for i in result["plan_after"]["items"]} == {"unchanged"}


def test_log_subscription_alarm_and_rotation_use_the_stack(
    start_platform: PlatformFactory,
) -> None:
    platform, target, sfn = setup(start_platform)
    machine = platform.state_machines["ProvisioningStateMachine"]
    spec = parse_spec(
        {
            "name": "wired",
            "log_groups": [
                {"name": "/wired/app", "retention_days": 7, "subscribe_to_shipper": True}
            ],
            "secrets": [{"name": "opswire/rotated/wired/api-key", "rotation_days": 30}],
            "alarms": [
                {"name": "wired-errors", "namespace": "Wired", "metric": "Errors", "threshold": 1}
            ],
        }
    )
    result = start_and_follow(sfn, machine, spec, 60, approve=False, name="wired-1")
    assert result["status"] == "SUCCEEDED", result
    outputs = local_outputs(platform)
    logs = boto3.client("logs", region_name=REGION)
    filters = logs.describe_subscription_filters(logGroupName="/wired/app")["subscriptionFilters"]
    assert [f["destinationArn"] for f in filters] == [outputs["ShipLogsFunctionArn"]]
    cw = boto3.client("cloudwatch", region_name=REGION)
    stack = platform.options.stack_name  # provisioned alarms are <stack>/<name> (IAM scope)
    alarm = cw.describe_alarms(AlarmNames=[f"{stack}/wired-errors"])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == [outputs["AlarmTopicArn"]]
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert {"Key": "opswire:managed-by", "Value": stack} in tags
    secret = boto3.client("secretsmanager", region_name=REGION).describe_secret(
        SecretId="opswire/rotated/wired/api-key"
    )
    assert secret["RotationLambdaARN"] == outputs["SecretRotationFunctionArn"]
    assert secret["RotationRules"]["AutomaticallyAfterDays"] == 30
    # apply rotated it once: AWSCURRENT is a version the rotation function made
    current = [v for v, s in secret["VersionIdsToStages"].items() if "AWSCURRENT" in s]
    assert secret["VersionIdsToStages"][current[0]] == ["AWSCURRENT"]
    assert any("AWSPREVIOUS" in s for s in secret["VersionIdsToStages"].values())
    assert not make_plan(target, spec).has_changes
