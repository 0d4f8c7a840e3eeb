"""Elastic Beanstalk deployments through the local platform: a real @octokit push payload, the
signed webhook, the real deployment state machine (Wait loop), our handlers, moto with the
platform's Elastic Beanstalk extension (opswire_local.moto_beanstalk)."""

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from opswire_local.moto_beanstalk import set_outcome
from opswire_local.template import REGION
from tests.local.conftest import PlatformFactory
from tests.local.test_deployments import (
    PUSH,
    answer,
    deliver,
    emails,
    executions,
    record_of,
    slack_texts,
    status,
)

APP, ENV = "hello-world", "hello-world-staging"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello-world"
SHORT_SHA = PUSH["after"][:12]


def config(tag: str = "{short_sha}") -> str:
    return json.dumps(
        {
            "rules": [
                {"repository": "Codertocat/Hello-World", "event": "push", "branch": "master",
                 "environment": "staging-eb", "image_tag": tag},
            ],
            "environments": {
                "staging-eb": {
                    "target": {"type": "beanstalk", "application": APP, "environment_name": ENV,
                               "image_repository": REPOSITORY, "container_port": 8080},
                    "bake_seconds": 10,
                    "poll_seconds": 5,
                }
            },
        }
    )  # fmt: skip


def environment() -> dict[str, Any]:
    found: dict[str, Any] = boto3.client(
        "elasticbeanstalk", region_name=REGION
    ).describe_environments(ApplicationName=APP, EnvironmentNames=[ENV])["Environments"][0]
    return found


def image_of(label: str) -> str:
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    (version,) = eb.describe_application_versions(ApplicationName=APP, VersionLabels=[label])[
        "ApplicationVersions"
    ]
    bundle = version["SourceBundle"]
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=bundle["S3Bucket"], Key=bundle["S3Key"]
    )["Body"]
    with zipfile.ZipFile(io.BytesIO(body.read())) as archive:
        return str(json.loads(archive.read("Dockerrun.aws.json"))["Image"]["Name"])


def test_a_push_deploys_a_new_version_to_the_eb_environment(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config()})
    assert environment()["VersionLabel"] == "initial"

    report = deliver(platform, "push", PUSH, delivery="eb-push-1")

    assert status(report) == 202
    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["output"]["outcome"] == "succeeded"
    label = f"{SHORT_SHA}-gh-eb-push-1"
    env = environment()
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", label)
    assert image_of(label) == f"{REPOSITORY}:{SHORT_SHA}"
    record = record_of(platform, answer(report)["deployment_id"])
    assert record["previous_task_definition"] == "initial"
    assert record["task_definition"] == label
    stages = [s["status"] for s in record["stages"]]
    assert stages[stages.index("registered") :] == [
        "registered",
        "updating",
        "rollout_completed",
        "baked",
        "succeeded",
    ]
    texts = slack_texts(report)
    assert any(f"runs {label}: Ready, Green" in t for t in texts)
    assert texts[-1].startswith("Deployed ")
    assert [m["subject"] for m in emails(report)] == [
        "[opswire] deployment succeeded: Codertocat/Hello-World -> staging-eb"
    ]


def test_an_eb_rollout_that_goes_red_is_rolled_back_and_the_rollback_verified(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config("fail-{short_sha}")})

    report = deliver(platform, "push", PUSH)

    [execution] = executions(report)
    assert execution["status"] == "FAILED"
    record = record_of(platform, answer(report)["deployment_id"])
    assert record["outcome"] == "rolled_back"
    assert [s["status"] for s in record["stages"]][-5:] == [
        "rollout_failed",
        "failed",
        "rolling_back",
        "rollout_completed",
        "rolled_back",
    ]
    env = environment()
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "initial")
    texts = slack_texts(report)
    assert any("health Red" in t for t in texts)
    assert any(t.startswith(f"Rolling back {APP}/{ENV} to initial") for t in texts)
    assert texts[-1].startswith("Deployment failed and was rolled back (verified)")


@pytest.mark.parametrize(
    ("tag", "other_label"),
    [
        ("revert-{short_sha}", None),  # EB went back to the previous version by itself
        ("{short_sha}", "hotfix-by-hand"),  # someone else deployed meanwhile
    ],
)
def test_an_eb_environment_ready_on_another_label_is_a_failed_deployment(
    start_platform: PlatformFactory, tag: str, other_label: str | None
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(tag)})
    if other_label:
        boto3.client("elasticbeanstalk", region_name=REGION).create_application_version(
            ApplicationName=APP, VersionLabel=other_label
        )
        set_outcome(APP, ENV, other_label)

    report = deliver(platform, "push", PUSH)

    [execution] = executions(report)
    assert execution["status"] == "FAILED"
    record = record_of(platform, answer(report)["deployment_id"])
    assert record["outcome"] == "rolled_back"
    assert "rolled back or another deployment won" in str(record["stages"])
    assert "succeeded" not in [s["status"] for s in record["stages"]]
    env = environment()
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "initial")
