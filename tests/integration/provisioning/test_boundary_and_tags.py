"""The drivers against moto, as the deployed stack runs them: every resource created carries
opswire:managed-by = the stack, every role the permissions boundary, alarms are <stack>/<name>;
a role without the boundary fails verification and the plan shows putting it back; so does a
user (moto 5.2 keeps no boundary on users: the local platform's patch, entered here, keeps it as
AWS does). The write calls the drivers make are the ones the IAM tests prove the write role may
make."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from opswire.provisioning.aws import aws_drivers
from opswire.provisioning.aws.sdk import clear_provisioning_clients
from opswire.provisioning.engine import apply_all, plan, undo, verify
from opswire.provisioning.resources import MANAGED_BY_TAG, Context
from opswire.provisioning.spec import ProjectSpec, parse_spec
from opswire_local.moto_patches import iam_user_permissions_boundaries
from tests.integration.aws_support import REGION
from tests.unit.provisioning.test_write_role_policy import OWN_RESOURCE_REQUESTS

STACK = "opswire-prod"
ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/opswire-boundary/{STACK}-provisioning-boundary"
CTX = Context(
    account=ACCOUNT,
    region=REGION,
    alarm_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-AlarmTopic",
    managed_by=STACK,
    permissions_boundary=BOUNDARY,
)
SPEC: dict[str, Any] = {
    "name": "shop",
    "kms_keys": [{"alias": "shop"}],
    "ecr_repositories": [{"name": "shop/api", "lifecycle": {"keep_last": 5}}],
    "log_groups": [{"name": "/shop/service", "retention_days": 7}],
    "secrets": [{"name": "shop/api-key", "kms_key": "shop"}],
    "policies": [{"name": "shop-read", "grants": [{"read_secret": "shop/api-key"}]}],
    "roles": [
        {"name": "shop-host", "trust": {"service": "ec2.amazonaws.com"}, "policies": ["shop-read"]}
    ],
    "alarms": [{"name": "shop-errors", "namespace": "Shop", "metric": "Errors", "threshold": 1}],
}
# The IAM action prefix of a client whose signing name differs.
PREFIX = {"monitoring": "cloudwatch"}
READS = ("Describe", "List", "Get")


@pytest.fixture
def calls(aws: None) -> Iterator[set[str]]:
    """The write calls the drivers make (IAM action names), seen by botocore."""
    from opswire.core.aws import clear_client_cache

    seen: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        service = model.service_model.signing_name
        if not model.name.startswith(READS) or model.name == "GetRandomPassword":
            seen.add(f"{PREFIX.get(service, service)}:{model.name}")

    clear_client_cache()
    clear_provisioning_clients()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.*.*", record)  # type: ignore[union-attr]
    yield seen
    clear_client_cache()
    clear_provisioning_clients()


def spec() -> ProjectSpec:
    return parse_spec(SPEC)


def test_everything_created_carries_the_stacks_tag_and_every_role_the_boundary(
    calls: set[str],
) -> None:
    made = plan(spec(), CTX, aws_drivers(CTX, "shop"))
    role_item = next(i for i in made.items if i.kind == "role")
    assert {c.field: c.desired for c in role_item.changes}["permissions_boundary"] == BOUNDARY
    apply_all(spec(), CTX, "exec-1", aws_drivers(CTX, "shop"))

    iam = boto3.client("iam", region_name=REGION)
    role = iam.get_role(RoleName="shop-host")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
    tags: dict[str, Any] = {
        "role": iam.list_role_tags(RoleName="shop-host")["Tags"],
        "policy": iam.list_policy_tags(
            PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/opswire/shop/shop-read"
        )["Tags"],
        "instance profile": iam.get_instance_profile(InstanceProfileName="shop-host")[
            "InstanceProfile"
        ]["Tags"],
        "secret": boto3.client("secretsmanager", region_name=REGION).describe_secret(
            SecretId="shop/api-key"
        )["Tags"],
    }
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.describe_key(KeyId="alias/shop")["KeyMetadata"]["KeyId"]
    tags["key"] = [
        {"Key": t["TagKey"], "Value": t["TagValue"]}
        for t in kms.list_resource_tags(KeyId=key_id)["Tags"]
    ]
    ecr = boto3.client("ecr", region_name=REGION)
    repo = ecr.describe_repositories(repositoryNames=["shop/api"])["repositories"][0]
    tags["repository"] = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    group = boto3.client("logs", region_name=REGION).list_tags_log_group(
        logGroupName="/shop/service"
    )["tags"]
    tags["log group"] = [{"Key": k, "Value": v} for k, v in group.items()]
    cw = boto3.client("cloudwatch", region_name=REGION)
    alarm = cw.describe_alarms(AlarmNames=[f"{STACK}/shop-errors"])["MetricAlarms"][0]
    tags["alarm"] = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    missing = [k for k, v in tags.items() if {"Key": MANAGED_BY_TAG, "Value": STACK} not in v]
    assert missing == []
    assert verify(spec(), CTX, aws_drivers(CTX, "shop")) == []

    undo(spec(), CTX, "exec-1", aws_drivers(CTX, "shop"))
    allowed = {r.action for r in OWN_RESOURCE_REQUESTS}
    assert sorted(a for a in calls - allowed if not a.startswith("s3:")) == []


def test_a_role_without_the_boundary_fails_verification_and_the_plan_puts_it_back(
    calls: set[str],
) -> None:
    apply_all(spec(), CTX, "exec-1", aws_drivers(CTX, "shop"))
    boto3.client("iam", region_name=REGION).delete_role_permissions_boundary(RoleName="shop-host")

    findings = verify(spec(), CTX, aws_drivers(CTX, "shop"))
    assert f"permissions boundary is none, not {BOUNDARY}" in [f.problem for f in findings]
    item = next(i for i in plan(spec(), CTX, aws_drivers(CTX, "shop")).items if i.kind == "role")
    assert item.action == "update"
    assert [(c.field, c.current, c.desired) for c in item.changes] == [
        ("permissions_boundary", None, BOUNDARY)
    ]
    apply_all(spec(), CTX, "exec-2", aws_drivers(CTX, "shop"))
    assert verify(spec(), CTX, aws_drivers(CTX, "shop")) == []


USER_SPEC: dict[str, Any] = {
    "name": "shop",
    "policies": [{"name": "shop-send", "grants": [{"put_metrics": "Shop"}]}],
    "users": [
        {"name": "shop-smtp", "policies": ["shop-send"], "access_key": {"secret": "shop/smtp"}}
    ],
}


def test_a_user_gets_the_boundary_and_without_it_fails_verification_until_put_back(
    calls: set[str],
) -> None:
    spec = parse_spec(USER_SPEC)
    iam = boto3.client("iam", region_name=REGION)
    with iam_user_permissions_boundaries():
        apply_all(spec, CTX, "exec-1", aws_drivers(CTX, "shop"))
        user = iam.get_user(UserName="shop-smtp")["User"]
        assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
        assert verify(spec, CTX, aws_drivers(CTX, "shop")) == []

        iam.delete_user_permissions_boundary(UserName="shop-smtp")  # by hand, outside opswire
        findings = verify(spec, CTX, aws_drivers(CTX, "shop"))
        assert f"permissions boundary is none, not {BOUNDARY}" in [f.problem for f in findings]
        made = plan(spec, CTX, aws_drivers(CTX, "shop"))
        item = next(i for i in made.items if i.kind == "user")
        assert [(c.field, c.current, c.desired) for c in item.changes] == [
            ("permissions_boundary", None, BOUNDARY)
        ]
        apply_all(spec, CTX, "exec-2", aws_drivers(CTX, "shop"))  # PutUserPermissionsBoundary
        assert verify(spec, CTX, aws_drivers(CTX, "shop")) == []
        undo(spec, CTX, "exec-1", aws_drivers(CTX, "shop"))
    assert iam.list_users(PathPrefix="/opswire/")["Users"] == []
    allowed = {r.action for r in OWN_RESOURCE_REQUESTS}
    assert "iam:PutUserPermissionsBoundary" in calls
    assert sorted(calls - allowed) == ["iam:DeleteUserPermissionsBoundary"]  # the test's own
