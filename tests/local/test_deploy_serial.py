"""One deployment per target at a time, through the local platform: the lock in the deployment
table, the Wait loop of a queued deployment, its release by Finish for every outcome."""

import json
import time
from typing import Any

import boto3

from opswire_local.platform import LocalPlatform
from opswire_local.template import REGION
from tests.local.conftest import PlatformFactory
from tests.local.test_deployments import (
    PUSH,
    answer,
    config,
    deliver,
    executions,
    image_of,
    record_of,
    service,
    slack_texts,
)

KEY = "ecs:demo/web-staging"


def lock_owner(platform: LocalPlatform, key: str = KEY) -> str | None:
    item = (
        boto3.client("dynamodb", region_name=REGION)
        .get_item(
            TableName=platform.resolve({"Ref": "DeploymentTable"}),
            Key={"pk": {"S": f"lock#{key}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return item["owner"]["S"] if item else None


def hold_lock(platform: LocalPlatform, owner: str, expires_at: float) -> None:
    from opswire.deployments.aws.deployment_store import DeploymentStore

    store = DeploymentStore(platform.resolve({"Ref": "DeploymentTable"}))
    now = int(time.time())
    assert store.acquire_lock(KEY, owner, int(expires_at), min(now, int(expires_at) - 1))[0] == (
        owner
    )


def outcome_of(platform: LocalPlatform, execution_name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = platform.state_machines["DeploymentStateMachine"].replace(":stateMachine:", ":execution:")
    described = sfn.describe_execution(executionArn=f"{arn}:{execution_name}")
    if "output" in described:
        described["output"] = json.loads(described["output"])
    return dict(described)


def test_a_second_deployment_to_the_same_service_waits_for_the_first(
    start_platform: PlatformFactory,
) -> None:
    # Long Waits (in template seconds; time_scale 0.001): A parks in its rollout and bake
    # loops holding the lock while B arrives.
    staging = {"poll_seconds": 600, "bake_seconds": 4200, "rollout_timeout_seconds": 3600,
               "queue_timeout_seconds": 86400}  # fmt: skip
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging=staging)})
    second = {**PUSH, "after": "b" * 40}

    first_report = deliver(platform, "push", PUSH, delivery="serial-a")
    assert [e["status"] for e in executions(first_report)] == ["RUNNING"]
    assert lock_owner(platform) == "gh-serial-a"
    second_report = deliver(platform, "push", second, delivery="serial-b")
    assert answer(second_report)["deployment_id"] == "gh-serial-b"
    assert any(
        t == f"Waiting for deployment gh-serial-a to finish (it holds {KEY})."
        for t in slack_texts(second_report)
    )

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        platform.wait(0.5)
        names = ("gh-serial-a", "gh-serial-b")
        if all(outcome_of(platform, n)["status"] != "RUNNING" for n in names):
            break
    a, b = outcome_of(platform, "gh-serial-a"), outcome_of(platform, "gh-serial-b")
    assert (a["status"], b["status"]) == ("SUCCEEDED", "SUCCEEDED"), (a, b)
    first, queued = record_of(platform, "gh-serial-a"), record_of(platform, "gh-serial-b")
    statuses = [s["status"] for s in queued["stages"]]
    assert statuses.count("queued") == 1  # once, not per poll
    assert statuses.index("queued") < statuses.index("locked") < statuses.index("registered")
    finished_a = first["stages"][-1]["at"]
    assert first["stages"][-1]["status"] == "succeeded"
    registered_b = next(s["at"] for s in queued["stages"] if s["status"] == "registered")
    assert registered_b > finished_a  # no overlap: B changed nothing before A finished
    assert image_of(service("web-staging")["taskDefinition"]).endswith(":" + "b" * 12)
    assert lock_owner(platform) is None

    # The history index the local platform created from template.yaml: records only, newest
    # first (the lock item and the delivery items stay out of it).
    from opswire.deployments.aws.deployment_store import DeploymentStore

    table = platform.resolve({"Ref": "DeploymentTable"})
    described = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table)
    assert [i["IndexName"] for i in described["Table"]["GlobalSecondaryIndexes"]] == ["history"]
    listed = DeploymentStore(table).history(10)
    assert [d["deployment_id"] for d in listed] == ["gh-serial-b", "gh-serial-a"]


def test_the_lock_is_released_after_success_rollback_and_failure(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(
        ssm_parameters={"DeployConfigParameter": config(staging={"tag": "fail-{short_sha}"})}
    )
    rolled_back = deliver(platform, "push", PUSH)
    assert record_of(platform, answer(rolled_back)["deployment_id"])["outcome"] == "rolled_back"
    assert lock_owner(platform) is None

    # Register fails (the service's task definition lost the configured container): failed.
    ecs = boto3.client("ecs", region_name=REGION)
    other = ecs.register_task_definition(
        family="other",
        containerDefinitions=[{"name": "sidecar", "image": "busybox", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="demo", service="web-staging", taskDefinition=other)
    # The same commit again (it was rolled back, so not deployed): another body of it.
    failed = deliver(platform, "push", {**PUSH, "before": "f" * 40})
    record = record_of(platform, answer(failed)["deployment_id"])
    assert record["outcome"] == "failed" and "has no container 'web'" in slack_texts(failed)[-1]
    assert lock_owner(platform) is None


def test_success_releases_the_lock_and_an_expired_lock_is_taken_over(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    hold_lock(platform, "gh-crashed", expires_at=time.time() - 60)
    report = deliver(platform, "push", PUSH)
    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED"
    record = record_of(platform, answer(report)["deployment_id"])
    assert any(
        s["status"] == "locked" and "the lock of deployment gh-crashed had expired" in s["message"]
        for s in record["stages"]
    )
    assert lock_owner(platform) is None


def test_a_deployment_queued_past_its_timeout_is_blocked_without_deploying(
    start_platform: PlatformFactory,
) -> None:
    staging = {"poll_seconds": 5, "queue_timeout_seconds": 20}
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging=staging)})
    hold_lock(platform, "gh-other", expires_at=time.time() + 3600)
    before = service("web-staging")["taskDefinition"]
    report = deliver(platform, "push", PUSH)
    [execution] = executions(report)
    assert execution["status"] == "FAILED"
    record = record_of(platform, answer(report)["deployment_id"])
    assert record["outcome"] == "blocked"
    assert [s["status"] for s in record["stages"]].count("queued") == 1
    assert "gh-other still held ecs:demo/web-staging after 20s" in slack_texts(report)[-1]
    assert service("web-staging")["taskDefinition"] == before
    assert lock_owner(platform) == "gh-other"  # Finish never deletes another's lock
