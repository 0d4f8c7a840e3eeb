"""Provisioning against moto: plan, idempotent apply, a changed spec, undo after a failure
mid-apply, posture verification and tagging, for both example specs."""

import json
from typing import Any

import boto3
import pytest

from opswire.core.errors import ResourceConflictError
from opswire.provisioning.aws import aws_drivers
from opswire.provisioning.aws.sdk import clear_provisioning_clients
from opswire.provisioning.engine import apply_all, plan, undo, verify
from opswire.provisioning.resources import EXECUTION_TAG, SPEC_TAG, Context
from opswire.provisioning.spec import ProjectSpec, load_spec, parse_spec
from tests.conftest import REPO_ROOT
from tests.integration.aws_support import REGION

EXAMPLES = REPO_ROOT / "examples"
CTX = Context(account="123456789012", region=REGION)
BUCKET = "customer-support-agent-knowledge"


@pytest.fixture
def drivers(aws: None) -> Any:
    from opswire.core.aws import clear_client_cache

    clear_client_cache()
    clear_provisioning_clients()
    yield lambda spec: aws_drivers(CTX, spec.name)
    clear_client_cache()
    clear_provisioning_clients()


def example(name: str) -> ProjectSpec:
    return load_spec((EXAMPLES / f"{name}.yaml").read_text())


def actions(spec: ProjectSpec, d: Any) -> dict[str, str]:
    return {f"{i.kind}:{i.name}": i.action for i in plan(spec, CTX, d(spec)).items}


def test_customer_support_agent_apply_is_complete_then_a_no_op(drivers: Any) -> None:
    spec = example("customer-support-agent")
    first = plan(spec, CTX, drivers(spec))
    assert first.count("create") == 5 and not first.needs_approval
    results = apply_all(spec, CTX, "exec-1", drivers(spec))
    assert [r.action for r in results] == ["create"] * 5

    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(keys) == ["catalogs/", "faqs/", "orders/", "policies/"]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags == {SPEC_TAG: spec.name, EXECUTION_TAG: "exec-1", "team": "support",
                    "cost-center": "cs-042"}  # fmt: skip
    iam = boto3.client("iam", region_name=REGION)
    role = iam.get_role(RoleName="customer-support-agent-ec2-host")["Role"]
    assert role["Path"] == "/opswire/customer-support-agent/"
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["customer-support-agent-read-knowledge"]
    profile = iam.get_instance_profile(InstanceProfileName="customer-support-agent-ec2-host")
    assert [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]] == [role["RoleName"]]
    ecr = boto3.client("ecr", region_name=REGION)
    repos = ecr.describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in repos) == [
        "customer-support-agent/api",
        "customer-support-agent/worker",
    ]
    assert all(r["imageScanningConfiguration"]["scanOnPush"] for r in repos)

    second = plan(spec, CTX, drivers(spec))
    assert not second.has_changes, [i for i in second.items if i.action != "unchanged"]
    again = apply_all(spec, CTX, "exec-2", drivers(spec))
    assert {r.action for r in again} == {"unchanged"}
    assert verify(spec, CTX, drivers(spec)) == []


def test_a_changed_spec_plans_exactly_that_change(drivers: Any) -> None:
    spec = example("customer-support-agent")
    apply_all(spec, CTX, "exec-1", drivers(spec))
    data = spec.model_dump(mode="json")
    data["buckets"][0]["versioning"] = False
    data["ecr_repositories"] = data["ecr_repositories"][:1]
    changed = parse_spec(data)
    p = plan(changed, CTX, drivers(changed))
    touched = {(i.kind, i.name, i.action) for i in p.items if i.action != "unchanged"}
    assert touched == {
        ("bucket", BUCKET, "update"),
        ("ecr_repository", "customer-support-agent/worker", "would-delete"),
    }
    bucket_item = next(i for i in p.items if i.kind == "bucket")
    assert [(c.field, c.current, c.desired) for c in bucket_item.changes] == [
        ("versioning", "Enabled", "Suspended")
    ]
    assert p.needs_approval
    apply_all(changed, CTX, "exec-2", drivers(changed))
    status = boto3.client("s3", region_name=REGION).get_bucket_versioning(Bucket=BUCKET)
    assert status["Status"] == "Suspended"
    # would-delete is reported, never deleted by apply
    assert boto3.client("ecr", region_name=REGION).describe_repositories(
        repositoryNames=["customer-support-agent/worker"]
    )["repositories"]


def test_failure_mid_apply_undo_leaves_nothing_of_it_and_restores_what_existed(
    drivers: Any,
) -> None:
    spec = example("customer-support-agent")
    s3 = boto3.client("s3", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    # existed before: the bucket (plain, with a file) and a role of that name owned elsewhere
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="keep.txt", Body=b"old data")
    iam.create_role(
        RoleName="customer-support-agent-ec2-host",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
        Tags=[{"Key": SPEC_TAG, "Value": "someone-else"}],
    )
    before = {"versioning": s3.get_bucket_versioning(Bucket=BUCKET).get("Status")}
    p = plan(spec.model_copy(update={"roles": ()}), CTX, drivers(spec))
    assert {i.action for i in p.items if i.kind == "bucket"} == {"update"}

    with pytest.raises(ResourceConflictError, match="belongs to spec 'someone-else'"):
        apply_all(spec, CTX, "exec-9", drivers(spec))
    # bucket, both repos and the policy were done when the role step failed
    assert iam.list_policies(Scope="Local", PathPrefix="/opswire/")["Policies"]

    result = undo(spec, CTX, "exec-9", drivers(spec), before=p)
    assert sorted(result.deleted) == [
        "ecr_repository:customer-support-agent/api",
        "ecr_repository:customer-support-agent/worker",
        "policy:customer-support-agent-read-knowledge",
    ]
    assert result.restored == [f"bucket:{BUCKET}"] and not result.failed
    assert "role:customer-support-agent-ec2-host" in result.kept
    assert boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"] == []
    assert iam.list_policies(Scope="Local", PathPrefix="/opswire/")["Policies"] == []
    assert iam.get_role(RoleName="customer-support-agent-ec2-host")["Role"]
    assert s3.get_object(Bucket=BUCKET, Key="keep.txt")["Body"].read() == b"old data"
    # S3 cannot take a bucket back to "never versioned": Suspended is what was read before
    assert before["versioning"] is None
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") == "Suspended"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert not any(block.values())
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket=BUCKET)


def test_posture_catches_public_access_block_turned_off(drivers: Any) -> None:
    spec = example("customer-support-agent")
    apply_all(spec, CTX, "exec-1", drivers(spec))
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.delete_bucket_tagging(Bucket=BUCKET)
    problems = {(f.name, f.problem) for f in verify(spec, CTX, drivers(spec))}
    assert (
        BUCKET,
        "public access not blocked: BlockPublicPolicy, RestrictPublicBuckets off",
    ) in problems
    assert any(name == BUCKET and p.startswith("tags missing") for name, p in problems)
    # applying again repairs it
    apply_all(spec, CTX, "exec-2", drivers(spec))
    assert verify(spec, CTX, drivers(spec)) == []


def without_rotated_secrets(spec: ProjectSpec) -> ProjectSpec:
    """The example without what only the stack's rotation functions can apply (its PostgreSQL
    secret and the key grant to their role: tests/integration/rotation/test_rotation_from_spec.py
    applies all of it against a real server)."""
    data = spec.model_dump(mode="json")
    rotated = [s["name"] for s in data["secrets"] if s["rotation_days"]]
    data["secrets"] = [s for s in data["secrets"] if s["name"] not in rotated]
    for policy in data["policies"]:
        policy["grants"] = [g for g in policy["grants"] if g.get("read_secret") not in rotated]
    for key in data["kms_keys"]:
        key["key_policy"] = [g for g in key["key_policy"] if not g["stack_function"]]
    return parse_spec(data)


def test_anomaly_detector_apply_then_no_op_then_undo(drivers: Any) -> None:
    spec = without_rotated_secrets(example("anomaly-detector"))
    assert [s.name for s in spec.secrets] == [
        "anomaly-detector/datadog-api-key",
        "anomaly-detector/webhook-signing-key",
    ]
    results = apply_all(spec, CTX, "exec-a", drivers(spec))
    assert [(r.kind, r.action) for r in results] == [
        ("kms_key", "create"),
        ("log_group", "create"),
        ("log_group", "create"),
        ("secret", "create"),
        ("secret", "create"),
        ("policy", "create"),
    ]
    sm = boto3.client("secretsmanager", region_name=REGION)
    described = sm.describe_secret(SecretId="anomaly-detector/datadog-api-key")
    assert described["KmsKeyId"].endswith("alias/anomaly-detector") or described["KmsKeyId"]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags[SPEC_TAG] == "anomaly-detector" and tags["data-class"] == "credential"
    assert tags[EXECUTION_TAG] == "exec-a"
    value = sm.get_secret_value(
        SecretId="anomaly-detector/datadog-api-key", VersionStage="AWSCURRENT"
    )
    assert len(__import__("json").loads(value["SecretString"])["value"]) == 40
    logs = boto3.client("logs", region_name=REGION)
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups(
        logGroupNamePrefix="/anomaly-detector/")["logGroups"]}  # fmt: skip
    assert groups == {"/anomaly-detector/audit": 365, "/anomaly-detector/service": 30}

    assert not plan(spec, CTX, drivers(spec)).has_changes
    assert verify(spec, CTX, drivers(spec)) == []

    result = undo(spec, CTX, "exec-a", drivers(spec))
    assert len(result.deleted) == 6 and not result.failed
    assert logs.describe_log_groups(logGroupNamePrefix="/anomaly-detector/")["logGroups"] == []
    assert plan(spec, CTX, drivers(spec)).count("create") == 6


def test_alarms_and_subscriptions_point_at_the_stack(drivers: Any) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="AlarmTopic")["TopicArn"]
    ctx = Context(account="123456789012", region=REGION, alarm_topic_arn=topic)
    spec = parse_spec(
        {
            "name": "demo",
            "log_groups": [{"name": "/demo/app", "retention_days": 14}],
            "alarms": [
                {
                    "name": "demo-errors",
                    "namespace": "Demo",
                    "metric": "Errors",
                    "dimensions": {"Service": "api"},
                    "statistic": "Sum",
                    "threshold": 5,
                    "period": 60,
                }
            ],
        }
    )
    d = aws_drivers(ctx, spec.name)
    apply_all(spec, ctx, "exec-x", d)
    cw = boto3.client("cloudwatch", region_name=REGION)
    alarm = cw.describe_alarms(AlarmNames=["demo-errors"])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == [topic] and alarm["Threshold"] == 5
    assert not plan(spec, ctx, d).has_changes
    changed = parse_spec({**spec.model_dump(mode="json"), "alarms": [
        {**spec.alarms[0].model_dump(mode="json"), "threshold": 10}]})  # fmt: skip
    item = next(i for i in plan(changed, ctx, d).items if i.kind == "alarm")
    assert item.action == "update" and [c.field for c in item.changes] == ["threshold"]
    assert sorted(undo(spec, ctx, "exec-x", d).deleted) == [
        "alarm:demo-errors",
        "log_group:/demo/app",
    ]


def test_sdk_errors_become_typed_errors_with_their_cause(drivers: Any) -> None:
    from botocore.exceptions import ClientError

    from opswire.core.errors import ProvisioningError, ProvisioningRetryableError
    from opswire.provisioning.aws.ecr import EcrDriver
    from opswire.provisioning.aws.sdk import sdk_errors as _errors
    from opswire.provisioning.resources import Resource

    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="taken/repo")
    with pytest.raises(ProvisioningError, match="CreateRepository taken/repo failed") as caught:
        EcrDriver(CTX).create(
            Resource(
                "ecr_repository",
                "taken/repo",
                {"tag_mutability": "IMMUTABLE", "scan_on_push": True, "lifecycle_policy": None},
            ),
            {SPEC_TAG: "demo"},
        )
    assert isinstance(caught.value.__cause__, ClientError)
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "CreateKey")
    with pytest.raises(ProvisioningRetryableError), _errors("CreateKey", "k"):
        raise throttled


def test_a_create_that_fails_halfway_removes_what_it_made(drivers: Any) -> None:
    from opswire.core.errors import ProvisioningError
    from opswire.provisioning.engine import apply_resource, find

    spec = example("customer-support-agent")
    # The role step alone, before its policy exists: CreateRole succeeds, AttachRolePolicy fails.
    role = find(spec, CTX, "role", "customer-support-agent-ec2-host")
    with pytest.raises(ProvisioningError, match="CreateRole customer-support-agent-ec2-host"):
        apply_resource(spec, CTX, role, "exec-h", drivers(spec))
    iam = boto3.client("iam", region_name=REGION)
    assert iam.list_roles(PathPrefix="/opswire/")["Roles"] == []
    # in order it works, and a retried step of the same execution finishes what exists
    results = apply_all(spec, CTX, "exec-h", drivers(spec))
    assert [r.action for r in results][-1] == "create"


def test_a_retried_step_finishes_its_own_half_made_resource(drivers: Any) -> None:
    from opswire.provisioning.engine import apply_resource, find

    spec = example("customer-support-agent")
    for resource in ("bucket", "policy"):
        name = spec.buckets[0].name if resource == "bucket" else spec.policies[0].name
        apply_resource(spec, CTX, find(spec, CTX, resource, name), "exec-r", drivers(spec))
    # what a step that died right after CreateRole leaves: the role, tagged, nothing attached
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(
        RoleName="customer-support-agent-ec2-host",
        Path="/opswire/customer-support-agent/",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                    }
                ],
            }
        ),
        Tags=[{"Key": SPEC_TAG, "Value": spec.name}, {"Key": EXECUTION_TAG, "Value": "exec-r"}],
    )
    role = find(spec, CTX, "role", "customer-support-agent-ec2-host")
    result = apply_resource(spec, CTX, role, "exec-r", drivers(spec))
    assert (result.action, result.created) == ("create", True)
    attached = iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["customer-support-agent-read-knowledge"]
    undone = undo(spec, CTX, "exec-r", drivers(spec))
    assert not undone.failed, undone.failed
    assert sorted(undone.deleted) == [
        f"bucket:{BUCKET}",
        "policy:customer-support-agent-read-knowledge",
        "role:customer-support-agent-ec2-host",
    ]
