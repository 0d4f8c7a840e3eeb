"""The drivers against moto, as the deployed stack runs them: every resource created carries
opswire:managed-by = the stack, every role the permissions boundary, alarms are <stack>/<name>;
a role without the boundary fails verification and the plan shows putting it back; so does a
user (moto 5.2 keeps no boundary on users: the local platform's patch, entered here, keeps it as
AWS does). The write calls the drivers make are the ones the IAM tests prove the write role may
make."""

from collections.abc import Iterator
from dataclasses import replace
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


TAGGED: dict[str, Any] = {
    **SPEC,
    "tags": {"team": "shop", "stage": "beta"},
    "buckets": [{"name": "opswire-prod-shop-assets"}],
    "oidc_providers": [{}],
    "users": [{"name": "shop-smtp"}],
    "topics": [{"name": "shop-releases"}],
    "secrets": [{"name": "shop/api-key", "kms_key": "shop", "tags": {"rotation": "manual"}}],
    "alarms": [{**SPEC["alarms"][0], "severity": "critical", "tags": {"oncall": "shop"}}],
}


# This test is about tags: no boundary here (users' boundaries are tested above).
UNBOUNDED = replace(CTX, permissions_boundary="")


def tags_of_every_kind() -> dict[str, dict[str, str]]:
    """The tags of each resource of ``TAGGED``, by kind."""
    iam = boto3.client("iam", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    ecr = boto3.client("ecr", region_name=REGION)
    cw = boto3.client("cloudwatch", region_name=REGION)
    key_id = kms.describe_key(KeyId="alias/shop")["KeyMetadata"]["KeyId"]
    repo = ecr.describe_repositories(repositoryNames=["shop/api"])["repositories"][0]
    alarm = cw.describe_alarms(AlarmNames=[f"{STACK}/shop-errors"])["MetricAlarms"][0]
    oidc = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    pairs: dict[str, list[Any]] = {
        "kms_key": [{"Key": t["TagKey"], "Value": t["TagValue"]}
                    for t in kms.list_resource_tags(KeyId=key_id)["Tags"]],
        "bucket": boto3.client("s3", region_name=REGION).get_bucket_tagging(
            Bucket="opswire-prod-shop-assets")["TagSet"],
        "ecr_repository": ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"],
        "secret": boto3.client("secretsmanager", region_name=REGION).describe_secret(
            SecretId="shop/api-key")["Tags"],
        "oidc_provider": iam.list_open_id_connect_provider_tags(
            OpenIDConnectProviderArn=oidc)["Tags"],
        "policy": iam.list_policy_tags(
            PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/opswire/shop/shop-read")["Tags"],
        "role": iam.list_role_tags(RoleName="shop-host")["Tags"],
        "user": iam.list_user_tags(UserName="shop-smtp")["Tags"],
        "topic": boto3.client("sns", region_name=REGION).list_tags_for_resource(
            ResourceArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:shop-releases")["Tags"],
        "alarm": cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"],
    }  # fmt: skip
    tags = {kind: {t["Key"]: t["Value"] for t in found} for kind, found in pairs.items()}
    group = boto3.client("logs", region_name=REGION).list_tags_log_group(
        logGroupName="/shop/service"
    )["tags"]
    return {**tags, "log_group": dict(group)}


def test_tags_the_spec_stops_setting_are_removed_from_every_kind_and_undo_puts_them_back(
    calls: set[str],
) -> None:
    tagged = parse_spec(TAGGED)
    apply_all(tagged, UNBOUNDED, "exec-1", aws_drivers(UNBOUNDED, "shop"))
    assert {k: t["stage"] for k, t in tags_of_every_kind().items()} == {
        k: "beta" for k in tags_of_every_kind()
    }
    # an operator's own tag on the repository: the spec owns the tags of what it manages
    ecr = boto3.client("ecr", region_name=REGION)
    repo = ecr.describe_repositories(repositoryNames=["shop/api"])["repositories"][0]
    ecr.tag_resource(resourceArn=repo["repositoryArn"], tags=[{"Key": "owner", "Value": "me"}])

    alarm = {k: v for k, v in TAGGED["alarms"][0].items() if k not in ("severity", "tags")}
    secret = {k: v for k, v in TAGGED["secrets"][0].items() if k != "tags"}
    fewer = parse_spec({**TAGGED, "tags": {"team": "shop"}, "alarms": [alarm],
                        "secrets": [secret]})  # fmt: skip
    made = plan(fewer, UNBOUNDED, aws_drivers(UNBOUNDED, "shop"))
    removed = {
        i.kind: sorted(
            k for c in i.changes if c.field == "tags" for k, v in c.desired.items() if v is None
        )
        for i in made.items
        if i.action == "update"
    }
    assert removed == {
        **{kind: ["stage"] for kind in tags_of_every_kind()},
        "ecr_repository": ["owner", "stage"],
        "secret": ["rotation", "stage"],
        "alarm": ["oncall", "opswire:severity", "stage"],
    }
    before = tags_of_every_kind()
    apply_all(fewer, UNBOUNDED, "exec-2", aws_drivers(UNBOUNDED, "shop"))
    after = tags_of_every_kind()
    for kind, tags in after.items():
        gone = sorted(set(before[kind]) - set(tags))
        assert gone == removed[kind], kind
        assert tags[MANAGED_BY_TAG] == STACK and tags["opswire:spec"] == "shop", kind
        assert tags["opswire:execution"] == "exec-1" and tags["team"] == "shop", kind
    assert not plan(fewer, UNBOUNDED, aws_drivers(UNBOUNDED, "shop")).has_changes
    assert verify(fewer, UNBOUNDED, aws_drivers(UNBOUNDED, "shop")) == []
    allowed = {r.action for r in OWN_RESOURCE_REQUESTS}
    assert sorted(a for a in calls - allowed if not a.startswith("s3:")) == []

    # a failed execution's undo puts the removed keys back (made = the plan it applied)
    undone = undo(fewer, UNBOUNDED, "exec-9", aws_drivers(UNBOUNDED, "shop"), before=made)
    assert not undone.failed and len(undone.restored) == len(removed)
    assert tags_of_every_kind() == before
