"""A published release (an @octokit/webhooks-examples payload) deploys and gets commit statuses
on the commit its tag points at, resolved through the GitHub API (pytest-httpserver)."""

import json

import boto3
from pytest_httpserver import HTTPServer

from opswire_local.template import REGION
from tests.local.conftest import PlatformFactory
from tests.local.test_deployments import (
    RELEASE,
    REPO,
    answer,
    config,
    deliver,
    executions,
    record_of,
)

TAGGED = "f" * 40


def test_a_release_sets_statuses_on_the_commit_of_its_tag(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    tag = RELEASE["release"]["tag_name"]
    httpserver.expect_request(f"/repos/{REPO}/commits/tags/{tag}", method="GET").respond_with_data(
        TAGGED, content_type="application/vnd.github.sha"
    )
    httpserver.expect_request(f"/repos/{REPO}/statuses/{TAGGED}", method="POST").respond_with_json(
        {"id": 1}, status=201
    )
    platform = start_platform(
        parameters={"GitHubTokenSecretName": "opswire/github-token"},
        settings={"github_api_url": httpserver.url_for("/")},
        ssm_parameters={"DeployConfigParameter": config(prod={})},
    )  # fmt: skip
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="opswire/github-token", SecretString="ghp_local_token"
    )

    report = deliver(platform, "release", RELEASE)

    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["output"]["commit_sha"] == TAGGED
    assert record_of(platform, answer(report)["deployment_id"])["commit_sha"] == TAGGED
    calls = [(r.method, r.path) for r, _ in httpserver.log]
    assert calls == [
        ("GET", f"/repos/{REPO}/commits/tags/{tag}"),
        ("POST", f"/repos/{REPO}/statuses/{TAGGED}"),
        ("POST", f"/repos/{REPO}/statuses/{TAGGED}"),
    ]
    states = [json.loads(r.get_data())["state"] for r, _ in httpserver.log if r.method == "POST"]
    assert states == ["pending", "success"]
    assert all(r.headers["Authorization"] == "Bearer ghp_local_token" for r, _ in httpserver.log)


def test_a_tag_github_does_not_know_deploys_without_a_status(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/repos/{REPO}/commits/tags/0.0.1").respond_with_json(
        {"message": "No commit found for SHA: 0.0.1"}, status=422
    )
    platform = start_platform(
        parameters={"GitHubTokenSecretName": "opswire/github-token"},
        settings={"github_api_url": httpserver.url_for("/")},
        ssm_parameters={"DeployConfigParameter": config(prod={})},
    )  # fmt: skip
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="opswire/github-token", SecretString="ghp_local_token"
    )
    report = deliver(platform, "release", RELEASE)
    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED", execution
    record = record_of(platform, answer(report)["deployment_id"])
    assert any("No commit status" in s["message"] and "HTTP 422" in s["message"]
               for s in record["stages"])  # fmt: skip
    assert [r.method for r, _ in httpserver.log] == ["GET"]
