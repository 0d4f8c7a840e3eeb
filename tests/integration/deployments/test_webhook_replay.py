"""Webhook replay over moto: the real GitHubWebhookFunction and DeployApprovalFunction handlers,
real signed @octokit/webhooks-examples bodies, the deployment table template.yaml declares, a
Step Functions state machine whose executions are what "started" means."""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from opswire.deployments.aws.deployment_store import DeploymentStore
from opswire.deployments.aws.ecs import EcsServices
from opswire.deployments.config import DeployConfig
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.replay import commit_key
from opswire.deployments.steps import finish
from opswire.deployments.webhook import DeployRequest
from opswire_local.lambda_runtime import LambdaContext
from tests.integration.aws_support import REGION, create_table_like, forgotten_caches
from tests.integration.handlers import load_handler_module
from tests.octokit import example, fresh

SECRET = "github-webhook-secret"
TABLE = "opswire-deployments"
REPO = "Codertocat/Hello-World"
TARGET = {"type": "ecs", "cluster": "c", "service": "s", "container": "w", "image_repository": "r"}
CONFIG = {
    "rules": [
        {"repository": REPO, "event": "push", "branch": "master", "environment": "staging",
         "image_tag": "{short_sha}"},
        {"repository": REPO, "event": "release", "environment": "prod", "image_tag": "{tag}"},
    ],
    "environments": {
        "staging": {"target": TARGET},
        "prod": {"target": {**TARGET, "service": "p"}, "approval_required": True,
                 "approvers": ["ops-lead@example.com"]},
    },
    "max_event_age_seconds": 600,
}  # fmt: skip
PUSH = example("push", ref="refs/heads/master")
RELEASE = example("release", action="published")
Handler = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """GitHubWebhookFunction's and DeployApprovalFunction's environment; yields the state
    machine's ARN."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "opswire",
        "DEPLOYMENT_TABLE_NAME": TABLE,
        "GITHUB_WEBHOOK_SECRET_NAME": "opswire/github-webhook",
        "DEPLOY_CONFIG_PARAMETER": "/opswire/deploy-config",
        "ACK_SECRET_NAME": "opswire/ack",
    }.items():
        monkeypatch.setenv(name, value)
    with forgotten_caches(), mock_aws():
        create_table_like("DeploymentTable", TABLE)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name="opswire/github-webhook", SecretString=SECRET)
        secrets.create_secret(Name="opswire/ack", SecretString="ack-key")
        boto3.client("ssm").put_parameter(
            Name="/opswire/deploy-config", Value=json.dumps(CONFIG), Type="String"
        )
        machine = boto3.client("stepfunctions").create_state_machine(
            name="opswire-deployment",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass",
                                                                          "End": True}}}),
            roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/sfn",
        )  # fmt: skip
        monkeypatch.setenv("DEPLOYMENT_STATE_MACHINE_ARN", machine["stateMachineArn"])
        yield str(machine["stateMachineArn"])


def handler(function: str) -> Handler:
    module = load_handler_module(function)
    context = LambdaContext(
        function_name=f"opswire-{function}",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:{function}",
        memory_limit_in_mb=256,
        timeout_seconds=10,
    )
    return lambda event: dict(module.handler(event, context))


def deliver(event: str, payload: dict[str, Any] | bytes, delivery: str) -> tuple[int, Any]:
    """POST /webhooks/github as API Gateway hands it over, signed as GitHub signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = {
        "version": "2.0",
        "routeKey": "POST /webhooks/github",
        "rawPath": "/webhooks/github",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-github-event": event,
            "x-github-delivery": delivery,
            "x-hub-signature-256": f"sha256={signature}",
        },
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/github"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    answer = handler("github_webhook")(request)
    return int(answer["statusCode"]), json.loads(answer["body"])


def executions(machine: str) -> list[str]:
    listed = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)
    return sorted(e["name"] for e in listed["executions"])


def table_keys() -> list[str]:
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return sorted(item["pk"]["S"] for item in items)


def test_a_replayed_body_under_new_delivery_ids_starts_nothing(stack: str) -> None:
    body = json.dumps(PUSH).encode()

    first = deliver("push", body, "d-1")
    replays = [deliver("push", body, f"attacker-{n}") for n in range(3)]
    redelivery = deliver("push", body, "d-1")  # GitHub's "Redeliver" keeps the delivery id

    assert first[0] == 202 and first[1]["deployment_id"] == "gh-d-1"
    assert [r[0] for r in replays] == [409, 409, 409]
    assert {r[1]["message"] for r in replays} == {"duplicate body"}
    assert redelivery == (200, {"message": "duplicate delivery", "delivery": "d-1"})
    assert executions(stack) == ["gh-d-1"]
    digest = hashlib.sha256(body).hexdigest()
    # A refused delivery leaves nothing behind (its own redelivery is refused the same way).
    assert [k for k in table_keys() if not k.startswith("commit#")] == [
        f"body#{digest}",
        "delivery#d-1",
    ]
    assert deliver("push", body, "attacker-0")[0] == 409


def test_a_body_differing_in_one_byte_is_a_new_body(stack: str) -> None:
    body = json.dumps(PUSH).encode()
    assert deliver("push", body, "d-1")[0] == 202
    # Same commit, not yet succeeded (the first deployment still runs): started.
    assert deliver("push", body + b" ", "d-2")[0] == 202
    assert executions(stack) == ["gh-d-1", "gh-d-2"]


def test_a_commit_that_deployed_successfully_is_refused_until_redeployed(stack: str) -> None:
    assert deliver("push", PUSH, "d-1")[0] == 202
    _finish("gh-d-1", PUSH["after"], "succeeded")
    # The same commit in another body (a later push of it, e.g. a force-push back to it).
    again = {**PUSH, "before": "f" * 40}

    status, answer = deliver("push", again, "d-2")

    assert status == 409 and answer["message"] == "already deployed"
    assert answer["deployment_id"] == "gh-d-1"
    assert "opswire deploy redeploy gh-d-1" in answer["reason"]
    assert executions(stack) == ["gh-d-1"]
    assert deliver("push", again, "d-2")[0] == 409  # its redelivery: the same refusal
    # Another commit deploys as usual.
    other = {**PUSH, "after": "1" * 40, "head_commit": {**PUSH["head_commit"], "id": "1" * 40}}
    assert deliver("push", other, "d-3")[0] == 202


def test_a_failed_deployment_of_the_commit_does_not_block_the_next(stack: str) -> None:
    assert deliver("push", PUSH, "d-1")[0] == 202
    _finish("gh-d-1", PUSH["after"], "rolled_back")
    assert deliver("push", {**PUSH, "before": "f" * 40}, "d-2")[0] == 202


def test_prod_refuses_an_old_release_and_takes_a_fresh_one(stack: str) -> None:
    status, answer = deliver("release", RELEASE, "r-old")
    assert status == 422 and answer["message"] == "event too old"
    assert "max_event_age_seconds" in answer["reason"]
    stale = fresh("release", RELEASE, datetime.now(UTC) - timedelta(seconds=700))
    assert deliver("release", stale, "r-stale")[0] == 422
    assert executions(stack) == [] and table_keys() == []

    status, answer = deliver("release", fresh("release", RELEASE), "r-new")

    assert status == 202, answer
    assert executions(stack) == ["gh-r-new"]


def test_an_odd_image_tag_is_refused_before_anything_is_recorded(stack: str) -> None:
    release = fresh("release", RELEASE)
    for tag in ("v1\x00", "v1\u202egpj", "v1 2", "../../etc"):
        odd = {**release, "release": {**release["release"], "tag_name": tag}}
        status, answer = deliver("release", odd, f"odd-{len(tag)}")
        assert status == 422 and answer["message"] == "invalid image tag", answer
        assert "is not a valid Docker tag" in answer["reason"]
    assert executions(stack) == [] and table_keys() == []


def _finish(deployment_id: str, sha: str, outcome: str) -> None:
    """The workflow's Finish step for a deployment of ``sha`` to staging, on moto."""
    store = DeploymentStore(TABLE)
    request = DeployRequest(
        deployment_id=deployment_id, delivery_id=deployment_id.removeprefix("gh-"),
        repository=REPO, event="push", ref="refs/heads/master", sha=sha, image_tag=sha[:12],
        environment="staging", requester="Codertocat",
    )  # fmt: skip
    config = DeployConfig.model_validate(CONFIG)
    document = {**request.model_dump(), "created_at": "2026-12-01T10:00:00+00:00", "stages": []}
    store.put(deployment_id, {**document, "status": "started"}, 0)
    deps = Deps(
        store=store,
        config=lambda: config,
        ecs=EcsServices(),
        alarms_in_alarm=lambda names: [],
        deployed=store,
    )
    state = DeployState(request=request, env=config.environments["staging"], outcome=outcome)
    finish(state, deps)


def test_finish_records_only_a_success_as_deployed(stack: str) -> None:
    _finish("gh-a", "a" * 40, "failed")
    _finish("gh-b", "b" * 40, "succeeded")
    store = DeploymentStore(TABLE)
    assert store.claim_commit(commit_key(REPO, "staging", "a" * 40, "x"), "gh-c") == ""
    assert store.claim_commit(commit_key(REPO, "staging", "b" * 40, "x"), "gh-c") == "gh-b"


# ---- opswire deploy redeploy (DeployApprovalFunction, direct invoke) ----------------------------
def operate(**request: Any) -> dict[str, Any]:
    return handler("deploy_approval")(request)


def test_redeploy_starts_the_same_request_again_audited(stack: str) -> None:
    assert deliver("push", PUSH, "d-1")[0] == 202
    _finish("gh-d-1", PUSH["after"], "succeeded")

    started = operate(operation="redeploy", deployment_id="gh-d-1", by="ann",
                      reason="roll back INC-7", principal="arn:aws:iam::1:user/ann")  # fmt: skip

    assert started["status"] == 202, started
    assert started["deployment_id"] == "gh-d-1-redeploy-1"
    assert executions(stack) == ["gh-d-1", "gh-d-1-redeploy-1"]
    sfn = boto3.client("stepfunctions")
    arn = stack.replace(":stateMachine:", ":execution:") + ":gh-d-1-redeploy-1"
    execution_input = json.loads(sfn.describe_execution(executionArn=arn)["input"])
    assert execution_input["request"]["sha"] == PUSH["after"]
    assert execution_input["request"]["requester"] == "ann"  # ann cannot approve it herself
    assert execution_input["redeploy"]["reason"] == "roll back INC-7"
    original = DeploymentStore(TABLE).get("gh-d-1")
    assert original is not None
    [audit] = original["redeploys"]
    assert (audit["by"], audit["principal"], audit["deployment_id"]) == (
        "ann", "arn:aws:iam::1:user/ann", "gh-d-1-redeploy-1",
    )  # fmt: skip
    second = operate(operation="redeploy", deployment_id="gh-d-1", by="ann", reason="again")
    assert second["deployment_id"] == "gh-d-1-redeploy-2"


def test_redeploy_refusals(stack: str) -> None:
    store = DeploymentStore(TABLE)
    request = {"deployment_id": "gh-p", "delivery_id": "p", "repository": REPO,
               "event": "release", "ref": "refs/tags/v1", "sha": "main", "image_tag": "v1",
               "environment": "prod", "requester": "Codertocat",
               "approvers": ["ops-lead@example.com"], "status": "awaiting_approval"}  # fmt: skip
    store.put("gh-p", request, 0)
    asks = {"operation": "redeploy", "deployment_id": "gh-p", "reason": "why"}

    assert operate(**{**asks, "by": "ops-lead@example.com", "reason": " "})["status"] == 400
    assert operate(**{**asks, "by": "ops-lead@example.com", "deployment_id": "x"})["status"] == 404
    running = operate(**asks, by="ops-lead@example.com")
    assert running["status"] == 409 and "has not finished" in running["message"]
    store.put("gh-p", {**request, "outcome": "succeeded"}, 1)
    assert operate(**asks, by="mallory")["status"] == 403
    store.put("gh-p", {**request, "outcome": "succeeded", "image_tag": "v1\u202e"}, 2)
    odd = operate(**asks, by="ops-lead@example.com")
    assert odd["status"] == 422 and "image_tag" in odd["message"], odd
    assert executions(stack) == []
