"""The deployment steps on an Elastic Beanstalk target, against moto with the local platform's
Elastic Beanstalk extension (opswire_local.moto_beanstalk): register, update, the rollout
verdicts, the rollback and its verification."""

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from opswire.core.errors import DeploymentError
from opswire.deployments.aws.beanstalk import BeanstalkEnvironments
from opswire.deployments.config import DeployConfig
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.steps import check_rollout, register, start, start_rollback, update
from opswire.deployments.webhook import DeployRequest
from opswire_local.moto_beanstalk import Behaviour, beanstalk_semantics, set_outcome, settle
from tests.fakes.deployments import FakeDeploymentStore, FakeEcs

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "opswire-test-deploy-artifacts"
APP, ENV = "shop", "shop-staging"
TARGET = {"type": "beanstalk", "application": APP, "environment_name": ENV,
          "image_repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop",
          "container_port": 8080}  # fmt: skip


@pytest.fixture
def behaviour(aws: None) -> Iterator[Behaviour]:
    with beanstalk_semantics(Behaviour(processing_polls=1, update_polls=1)) as rules:
        eb = boto3.client("elasticbeanstalk", region_name=REGION)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        eb.create_application(ApplicationName=APP)
        eb.create_application_version(ApplicationName=APP, VersionLabel="v1")
        eb.create_environment(ApplicationName=APP, EnvironmentName=ENV, VersionLabel="v1")
        settle(APP, ENV, version_label="v1", account_id=ACCOUNT, region=REGION)
        yield rules


def deps(**env: Any) -> Deps:
    config = DeployConfig.model_validate(
        {"environments": {"staging": {"target": TARGET, "poll_seconds": 5, **env}}}
    )
    return Deps(
        store=FakeDeploymentStore(),
        config=lambda: config,
        ecs=FakeEcs(refuse=True),  # an EB deployment must never touch ECS
        alarms_in_alarm=lambda names: [],
        now=lambda: datetime(2026, 11, 25, tzinfo=UTC),
        beanstalk=BeanstalkEnvironments(
            BUCKET,
            client=boto3.client("elasticbeanstalk", region_name=REGION),
            s3=boto3.client("s3", region_name=REGION),
        ),
    )


def request(tag: str = "abc1234") -> DeployRequest:
    return DeployRequest(
        deployment_id="gh-42", delivery_id="42", repository="o/shop", event="push",
        ref="refs/heads/main", sha="b" * 40, image_tag=tag, environment="staging",
        requester="alice",
    )  # fmt: skip


def environment() -> dict[str, Any]:
    found: dict[str, Any] = boto3.client(
        "elasticbeanstalk", region_name=REGION
    ).describe_environments(ApplicationName=APP, EnvironmentNames=[ENV])["Environments"][0]
    return found


def checks(state: DeployState, d: Deps, limit: int = 10) -> list[DeployState]:
    """CheckRollout until the verdict (what the Wait loop of the state machine does)."""
    seen = []
    for _ in range(limit):
        state = check_rollout(state, d)
        seen.append(state)
        if state.rollout != "IN_PROGRESS":
            break
    return seen


def deployed(d: Deps, tag: str = "abc1234") -> DeployState:
    state = start(DeployState(request=request(tag)), d)
    return update(register(state, d), d)


def test_register_writes_a_dockerrun_bundle_and_keeps_the_current_label(
    behaviour: Behaviour,
) -> None:
    d = deps()
    state = register(start(DeployState(request=request()), d), d)
    assert state.previous_task_definition == "v1"
    assert state.task_definition == "abc1234-gh-42"
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    (version,) = eb.describe_application_versions(
        ApplicationName=APP, VersionLabels=["abc1234-gh-42"]
    )["ApplicationVersions"]
    source = version["SourceBundle"]
    body = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=source["S3Bucket"], Key=source["S3Key"])["Body"]
        .read()
    )
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        dockerrun = json.loads(archive.read("Dockerrun.aws.json"))
    assert dockerrun["Image"]["Name"] == f"{TARGET['image_repository']}:abc1234"
    assert dockerrun["Ports"] == [{"ContainerPort": 8080}]
    # A retried Register finds its version again instead of failing on "already exists".
    assert register(state, d).task_definition == "abc1234-gh-42"
    assert environment()["VersionLabel"] == "v1"  # nothing deployed yet


def test_update_waits_for_processing_and_completes_only_ready_green_on_the_new_label(
    behaviour: Behaviour,
) -> None:
    d = deps()
    state = deployed(d)
    # The version was still PROCESSING: EB refuses it, so the update is left to the check.
    assert state.update_pending
    assert environment()["Status"] == "Ready"
    seen = checks(state, d)
    assert [s.rollout for s in seen] == ["IN_PROGRESS", "COMPLETED"]
    assert not seen[-1].update_pending
    assert "Updating" in seen[0].rollout_reason
    env = environment()
    assert (env["Status"], env["Health"], env["VersionLabel"]) == (
        "Ready",
        "Green",
        "abc1234-gh-42",
    )


def test_yellow_is_still_in_progress_until_the_timeout(behaviour: Behaviour) -> None:
    d = deps(rollout_timeout_seconds=15)  # 3 checks of 5 s
    behaviour.processing_polls = 0
    state = deployed(d)
    assert not state.update_pending
    settle(APP, ENV, version_label=state.task_definition, health="Yellow", region=REGION)
    seen = checks(state, d)
    assert [s.rollout for s in seen] == ["IN_PROGRESS", "IN_PROGRESS", "FAILED"]
    assert "not COMPLETED after 3 checks" in seen[-1].rollout_reason


def test_red_fails_the_rollout_and_the_rollback_is_verified_the_same_way(
    behaviour: Behaviour,
) -> None:
    d = deps()
    set_outcome(APP, ENV, "red")
    seen = checks(deployed(d), d)
    assert seen[-1].rollout == "FAILED"
    assert "health Red" in seen[-1].rollout_reason
    failed = seen[-1].model_copy(
        update={"error": {"Error": "RolloutFailedError", "Cause": seen[-1].rollout_reason}}
    )
    rolling_back = update(start_rollback(failed, d), d)
    assert rolling_back.phase == "rollback"
    assert rolling_back.intended_task_definition == "v1"
    assert environment()["Status"] == "Updating"
    verdicts = checks(rolling_back, d)
    assert verdicts[-1].rollout == "COMPLETED"
    env = environment()
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "v1")


@pytest.mark.parametrize("other", ["revert", "someone-else-v9"])
def test_ready_on_another_label_is_a_failure_not_a_success(
    behaviour: Behaviour, other: str
) -> None:
    d = deps()
    boto3.client("elasticbeanstalk", region_name=REGION).create_application_version(
        ApplicationName=APP, VersionLabel="someone-else-v9"
    )
    set_outcome(APP, ENV, other)
    seen = checks(deployed(d), d)
    assert seen[-1].rollout == "FAILED"
    assert "rolled back or another deployment" in seen[-1].rollout_reason
    rolling_back = update(start_rollback(seen[-1], d), d)
    verdicts = checks(rolling_back, d)
    assert verdicts[-1].rollout == "COMPLETED"
    assert environment()["VersionLabel"] == "v1"


def test_a_version_whose_processing_failed_fails_the_rollout(behaviour: Behaviour) -> None:
    d = deps()
    state = deployed(d, tag="unprocessable-1")
    assert state.update_pending
    seen = checks(state, d)
    assert seen[-1].rollout == "FAILED"
    assert "processing FAILED" in seen[-1].rollout_reason
    assert environment()["VersionLabel"] == "v1"


def test_without_the_artifact_bucket_setting_eb_targets_are_refused(behaviour: Behaviour) -> None:
    d = deps()
    d.beanstalk = None
    state = start(DeployState(request=request()), d)
    with pytest.raises(DeploymentError, match="not enabled"):
        register(state, d)


def test_red_while_deploying_fails_at_once_but_a_rollback_waits_for_ready(
    behaviour: Behaviour,
) -> None:
    d = deps()
    behaviour.processing_polls = 0
    behaviour.keep_health_while_updating = True  # EB's health lags behind the update
    behaviour.update_polls = 2
    state = deployed(d)
    new = state.task_definition
    # The new version's instances fail while EB is still Updating: a deployment fails at once.
    settle(APP, ENV, version_label=new, status="Updating", health="Red", region=REGION)
    (verdict,) = checks(state, d)
    assert verdict.rollout == "FAILED"
    # EB finishes its (failed) deployment, Ready and Red; the rollback starts from there.
    settle(APP, ENV, version_label=new, health="Red", region=REGION)
    rolling_back = update(start_rollback(verdict, d), d)
    seen = checks(rolling_back, d)
    # Red while the rollback is Updating is the old version's health: in progress, not failed.
    assert [s.rollout for s in seen] == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    assert "health Red" in seen[0].rollout_reason
    assert environment()["VersionLabel"] == "v1"
