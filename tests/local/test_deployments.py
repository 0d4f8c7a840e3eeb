"""Deployments from signed GitHub webhooks through the local platform (moto ECS, our handlers,
the real deployment state machine), with real payloads from @octokit/webhooks-examples."""

import hashlib
import hmac
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from pytest_httpserver import HTTPServer

from opswire.deployments.models import APPROVE_ACTION_ID, REJECT_ACTION_ID
from opswire_cli.demo import slack_interaction
from opswire_local.deploy_local import LOCAL_GITHUB_WEBHOOK_SECRET
from opswire_local.platform import DeliveryReport, LocalPlatform
from opswire_local.template import REGION
from tests.local.conftest import PlatformFactory
from tests.octokit import example, examples, fresh

ROUTE = "http:POST /webhooks/github"
REPO = "Codertocat/Hello-World"


def sign(body: bytes, secret: str = LOCAL_GITHUB_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    platform: LocalPlatform,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    signature: str | None = "sign",
    extra: dict[str, str] | None = None,
) -> DeliveryReport:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json",
        **(extra or {}),
    }
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return platform.send(ROUTE, body, headers=headers)


def status(report: DeliveryReport) -> int:
    assert report.http is not None
    return int(report.http["status"])


def answer(report: DeliveryReport) -> dict[str, Any]:
    assert report.http is not None
    result: dict[str, Any] = json.loads(report.http["body"])
    return result


def config(**environments: dict[str, Any]) -> str:
    target = {
        "type": "ecs",
        "cluster": "demo",
        "service": "web",
        "container": "web",
        "image_repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
    }
    envs = {
        name: {
            "target": {**target, "service": f"web-{name}"},
            "bake_seconds": 30,
            "poll_seconds": 5,
            **overrides,
        }
        for name, overrides in environments.items()
    }
    rules = [
        {
            "repository": REPO,
            "event": "push",
            "branch": "master",
            "environment": "staging",
            "image_tag": envs["staging"].pop("tag", "{short_sha}"),
        }
        if "staging" in envs
        else None,
        {"repository": REPO, "event": "release", "environment": "prod", "image_tag": "{tag}"}
        if "prod" in envs
        else None,
    ]
    return json.dumps({"rules": [r for r in rules if r], "environments": envs})


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ecs", region_name=REGION).describe_services(
        cluster="demo", services=[name]
    )["services"][0]
    return found


def image_of(task_definition: str) -> str:
    described = boto3.client("ecs", region_name=REGION).describe_task_definition(
        taskDefinition=task_definition
    )
    return str(described["taskDefinition"]["containerDefinitions"][0]["image"])


def slack_texts(report: DeliveryReport) -> list[str]:
    return [str(n.get("text")) for n in report.notifications if n.get("channel") == "slack"]


def emails(report: DeliveryReport) -> list[dict[str, Any]]:
    return [n for n in report.notifications if n.get("channel") == "email"]


def executions(report: DeliveryReport) -> list[dict[str, Any]]:
    return [e for e in report.executions if e["state_machine"] == "DeploymentStateMachine"]


def record_of(platform: LocalPlatform, deployment_id: str) -> dict[str, Any]:
    from opswire.deployments.aws.deployment_store import DeploymentStore

    found = DeploymentStore(platform.resolve({"Ref": "DeploymentTable"})).get(deployment_id)
    assert found is not None
    return found


PUSH = example("push", ref="refs/heads/master")
# Published just now: prod refuses a release older than max_event_age_seconds (the example was
# recorded years ago; test_an_old_release_is_refused_for_prod sends it unchanged).
RELEASE = fresh("release", example("release", action="published"))


# ---- the webhook --------------------------------------------------------------------------------
def test_every_octokit_example_is_answered_without_a_5xx(start_platform: PlatformFactory) -> None:
    platform = start_platform()
    answered: dict[int, int] = {}
    for event, payloads in examples().items():
        for payload in payloads:
            report = deliver(platform, event, payload)
            code = status(report)
            assert code < 500, (event, report.http, report.errors)
            answered[code] = answered.get(code, 0) + 1
            if event == "ping":
                assert code == 200
    assert answered.get(202, 0) > 300  # ignored with a reason, or started
    assert not [e for e in platform.async_errors if "GitHubWebhookFunction" in e]


def test_push_to_the_configured_branch_deploys_to_completion(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    before = service("web-staging")["taskDefinition"]

    report = deliver(platform, "push", PUSH, delivery="d-push-1")

    assert status(report) == 202
    assert answer(report)["deployment_id"] == "gh-d-push-1"
    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["output"]["outcome"] == "succeeded"
    after = service("web-staging")
    assert after["taskDefinition"] != before
    assert image_of(after["taskDefinition"]).endswith(":" + PUSH["after"][:12])
    primary = [d for d in after["deployments"] if d["status"] == "PRIMARY"]
    assert primary[0]["taskDefinition"] == after["taskDefinition"]
    texts = slack_texts(report)
    assert texts[0].startswith("Deployment gh-d-push-1: Codertocat/Hello-World refs/heads/master")
    threads = {n.get("thread_ts") for n in report.notifications[1:] if n.get("channel") == "slack"}
    assert len(threads) == 1 and None not in threads  # one thread, a message per stage
    assert any("is PRIMARY and COMPLETED" in t for t in texts)
    assert texts[-1].startswith("Deployed ")
    assert [m["subject"] for m in emails(report)] == [
        "[opswire] deployment succeeded: Codertocat/Hello-World -> staging"
    ]


@pytest.mark.parametrize(
    ("event", "payload", "reason"),
    [
        ("push", example("push", ref="refs/tags/simple-tag", deleted=False), "is not a branch"),
        ("release", example("release", action="created"), "is not 'published'"),
        ("issues", examples()["issues"][0], "does not deploy"),
        (
            "push",
            {**PUSH, "repository": {**PUSH["repository"], "full_name": "a/b"}},
            "is not in the deploy config",
        ),
    ],
)
def test_events_not_in_the_config_are_ignored_with_the_reason(
    start_platform: PlatformFactory, event: str, payload: dict[str, Any], reason: str
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={}, prod={})})
    report = deliver(platform, event, payload)
    assert status(report) == 202
    assert answer(report)["message"] == "ignored"
    assert reason in answer(report)["reason"]
    assert executions(report) == []


def test_bad_missing_and_sha1_only_signatures_are_refused(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    body = json.dumps(PUSH).encode()
    sha1 = "sha1=" + hmac.new(LOCAL_GITHUB_WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    cases = [
        deliver(platform, "push", body, signature=None),
        deliver(platform, "push", body, signature=sign(body, "not-the-secret")),
        deliver(platform, "push", body, signature=sign(body + b" ")),
        deliver(platform, "push", body, signature="sha256=zz"),
        deliver(platform, "push", body, signature=None, extra={"X-Hub-Signature": sha1}),
        deliver(platform, "push", body, signature=sha1),
    ]
    assert [status(r) for r in cases] == [401] * len(cases)
    assert all(executions(r) == [] for r in cases)


def test_current_and_previous_secret_are_accepted_during_a_change(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="opswire/github-webhook", SecretString="the-new-secret"
    )
    ping = json.dumps(example("ping")).encode()
    old = deliver(platform, "ping", ping, signature=sign(ping))
    new = deliver(platform, "ping", ping, signature=sign(ping, "the-new-secret"))
    other = deliver(platform, "ping", ping, signature=sign(ping, "yet-another"))
    assert [status(old), status(new), status(other)] == [200, 200, 401]


def test_malformed_json_is_400_and_a_large_body_413(start_platform: PlatformFactory) -> None:
    document = json.loads(config(staging={}))
    document["max_body_bytes"] = 2048
    platform = start_platform(ssm_parameters={"DeployConfigParameter": json.dumps(document)})
    assert status(deliver(platform, "push", b'{"ref": ')) == 400
    assert status(deliver(platform, "push", b"[1, 2]")) == 400
    assert status(deliver(platform, "push", b"\xff\xfe")) == 400
    large = json.dumps({**PUSH, "padding": "x" * 4096}).encode()
    assert status(deliver(platform, "push", large)) == 413
    assert status(deliver(platform, "push", large, signature=None)) == 413


def test_a_replayed_delivery_starts_no_second_execution(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    first = deliver(platform, "push", PUSH, delivery="same-delivery")
    replay = deliver(platform, "push", PUSH, delivery="same-delivery")
    assert status(first) == 202 and len(executions(first)) == 1
    assert status(replay) == 200
    assert answer(replay)["message"] == "duplicate delivery"
    assert executions(replay) == []
    sfn = boto3.client("stepfunctions", region_name=REGION)
    listed = sfn.list_executions(stateMachineArn=platform.state_machines["DeploymentStateMachine"])
    assert [e["name"] for e in listed["executions"]] == ["gh-same-delivery"]


def test_a_replayed_body_under_a_new_delivery_id_starts_nothing(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    first = deliver(platform, "push", PUSH, delivery="original")
    replays = [deliver(platform, "push", PUSH, delivery=f"replay-{n}") for n in range(3)]
    assert status(first) == 202 and len(executions(first)) == 1
    assert [status(r) for r in replays] == [409, 409, 409]
    assert {answer(r)["message"] for r in replays} == {"duplicate body"}
    assert all(executions(r) == [] for r in replays)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    listed = sfn.list_executions(stateMachineArn=platform.state_machines["DeploymentStateMachine"])
    assert [e["name"] for e in listed["executions"]] == ["gh-original"]


def test_an_old_release_is_refused_for_prod(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    old = deliver(platform, "release", example("release", action="published"))
    assert status(old) == 422 and answer(old)["message"] == "event too old"
    assert executions(old) == []


def test_an_image_tag_with_odd_characters_deploys_nothing(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    before = service("web-prod")["taskDefinition"]
    odd = {**RELEASE, "release": {**RELEASE["release"], "tag_name": "v1\x00\u202egpj.exe"}}
    report = deliver(platform, "release", odd)
    assert status(report) == 422
    assert "'v1\\x00\\u202egpj.exe' is not a valid Docker tag" in answer(report)["reason"]
    assert executions(report) == [] and service("web-prod")["taskDefinition"] == before


def test_a_deployed_commit_is_refused_until_an_operator_redeploys_it(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging={})})
    assert executions(deliver(platform, "push", PUSH, delivery="c-1"))[0]["status"] == "SUCCEEDED"
    moved_on = {**PUSH, "after": "b" * 40, "head_commit": {**PUSH["head_commit"], "id": "b" * 40}}
    assert executions(deliver(platform, "push", moved_on))[0]["status"] == "SUCCEEDED"
    # A push of the first commit again (a force-push back): a new body, the same commit.
    back = deliver(platform, "push", {**PUSH, "before": "b" * 40}, delivery="c-3")

    assert status(back) == 409 and answer(back)["deployment_id"] == "gh-c-1"
    assert executions(back) == []
    assert image_of(service("web-staging")["taskDefinition"]).endswith(":" + "b" * 12)

    started, report = _operate(
        platform, operation="redeploy", deployment_id="gh-c-1", by="ann", reason="roll back"
    )

    assert started["status"] == 202 and started["deployment_id"] == "gh-c-1-redeploy-1", started
    [execution] = executions(report)
    assert execution["status"] == "SUCCEEDED", execution
    assert image_of(service("web-staging")["taskDefinition"]).endswith(":" + PUSH["after"][:12])
    assert record_of(platform, "gh-c-1")["redeploys"][0]["reason"] == "roll back"
    assert record_of(platform, "gh-c-1-redeploy-1")["requester"] == "ann"


# ---- the workflow -------------------------------------------------------------------------------
def test_a_failed_rollout_is_rolled_back_and_the_rollback_verified(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(
        ssm_parameters={"DeployConfigParameter": config(staging={"tag": "fail-{short_sha}"})}
    )
    before = service("web-staging")["taskDefinition"]

    report = deliver(platform, "push", PUSH)

    [execution] = executions(report)
    assert execution["status"] == "FAILED"
    record = record_of(platform, answer(report)["deployment_id"])
    assert record["outcome"] == "rolled_back"
    assert record["status"] == "rolled_back"
    assert [s["status"] for s in record["stages"]][-5:] == [
        "rollout_failed",
        "failed",
        "rolling_back",
        "rollout_completed",
        "rolled_back",
    ]
    after = service("web-staging")
    assert after["taskDefinition"] == before
    primary = next(d for d in after["deployments"] if d["status"] == "PRIMARY")
    assert primary["taskDefinition"] == before and primary["rolloutState"] == "COMPLETED"
    texts = slack_texts(report)
    assert any("ECS rolled back" in t for t in texts)
    assert any(t.startswith("Rolling back web-staging") for t in texts)
    assert texts[-1].startswith("Deployment failed and was rolled back (verified)")
    assert emails(report)[-1]["subject"].startswith("[opswire] deployment rolled_back")


def test_watched_alarm_in_alarm_blocks_the_deploy(start_platform: PlatformFactory) -> None:
    platform = start_platform(
        ssm_parameters={"DeployConfigParameter": config(staging={"alarms": ["web-5xx"]})}
    )
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="web-5xx", StateValue="ALARM", StateReason="test"
    )
    before = service("web-staging")["taskDefinition"]
    report = deliver(platform, "push", PUSH)
    [execution] = executions(report)
    assert execution["status"] == "FAILED"
    assert service("web-staging")["taskDefinition"] == before
    assert "alarms in ALARM before deploying: web-5xx" in slack_texts(report)[-1]


def _operate(platform: LocalPlatform, **request: Any) -> tuple[dict[str, Any], DeliveryReport]:
    """``opswire deploy ...`` as the CLI sends it to a local stack."""
    report = platform.send("function:DeployApprovalFunction", json.dumps(request).encode())
    assert report.invocation is not None, report.errors
    return dict(report.invocation["payload"]), report


def test_an_audited_override_runs_a_blocked_deployment_again(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(
        ssm_parameters={"DeployConfigParameter": config(staging={"alarms": ["web-5xx"]})}
    )
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="web-5xx", StateValue="ALARM", StateReason="test"
    )
    blocked = answer(deliver(platform, "push", PUSH, delivery="blocked-1"))["deployment_id"]
    assert record_of(platform, blocked)["outcome"] == "blocked"
    no_reason, _ = _operate(platform, operation="override", deployment_id=blocked, by="ann")
    assert no_reason["status"] == 400

    started, report = _operate(
        platform, operation="override", deployment_id=blocked, by="ann", reason="hotfix INC-42"
    )

    assert started["status"] == 202, started
    assert started["deployment_id"] == f"{blocked}-override-1"
    [execution] = executions(report)
    assert execution.get("output", {}).get("outcome") == "succeeded", execution
    assert image_of(service("web-staging")["taskDefinition"]).endswith(":" + PUSH["after"][:12])
    rerun = record_of(platform, started["deployment_id"])
    assert rerun["alarm_override"]["by"] == "ann"
    assert rerun["alarm_override"]["reason"] == "hotfix INC-42"
    assert rerun["alarm_override"]["alarms"] == ["web-5xx"]
    assert any("OVERRIDDEN by ann (hotfix INC-42)" in t for t in slack_texts(report))
    [audit] = record_of(platform, blocked)["overrides"]
    assert (audit["by"], audit["deployment_id"]) == ("ann", started["deployment_id"])
    # Only a blocked deployment can be overridden.
    again, _ = _operate(
        platform, operation="override", deployment_id=started["deployment_id"], by="ann",
        reason="again",
    )  # fmt: skip
    assert again["status"] == 409


PROD = {"approval_required": True, "approvers": ["ops-lead@example.com", "Codertocat"]}


def _approval_links(report: DeliveryReport) -> dict[str, str]:
    [mail] = [m for m in emails(report) if "approve deployment" in m["subject"]]
    return dict(re.findall(r"^(Approve|Reject): (\S+)$", mail["text"], re.MULTILINE))


def _post(platform: LocalPlatform, url: str) -> DeliveryReport:
    parts = urlsplit(url)
    return platform.send(
        f"http:POST {parts.path}?{parts.query}",
        b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_prod_waits_for_approval_and_the_link_resumes_it(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    before = service("web-prod")["taskDefinition"]

    report = deliver(platform, "release", RELEASE, delivery="rel-1")

    [waiting] = executions(report)
    assert waiting["status"] == "RUNNING"
    assert waiting["waiting_in"] == "RequestApproval (task token)"
    assert service("web-prod")["taskDefinition"] == before
    links = _approval_links(report)
    # GET shows a confirmation page and decides nothing.
    page = platform.send(
        "http:GET " + urlsplit(links["Approve"]).path + "?" + urlsplit(links["Approve"]).query, b""
    )
    assert page.http is not None and page.http["status"] == 200
    assert "<form method=post>" in page.http["body"]

    approved = _post(platform, links["Approve"])

    assert approved.http is not None and approved.http["status"] == 200, approved.http
    [done] = executions(approved)
    assert done["status"] == "SUCCEEDED"
    assert done["output"]["approval"]["by"] == "ops-lead@example.com"
    assert image_of(service("web-prod")["taskDefinition"]).endswith(":0.0.1")
    # The link cannot decide twice.
    again = _post(platform, links["Approve"])
    assert again.http is not None and again.http["status"] == 409


def test_a_forged_link_and_the_requester_cannot_approve(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    report = deliver(platform, "release", RELEASE, delivery="rel-2")
    links = _approval_links(report)
    forged = links["Approve"].replace("approver=ops-lead%40example.com", "approver=Codertocat")
    refused = _post(platform, forged)
    assert refused.http is not None and refused.http["status"] == 403
    from datetime import UTC, datetime

    from opswire.deployments.approval import decide
    from opswire.deployments.aws.deploy_workflow import TaskTokens
    from opswire.deployments.aws.deployment_store import DeploymentStore

    table = platform.resolve({"Ref": "DeploymentTable"})
    own = decide(
        "gh-rel-2", "approve", "Codertocat", DeploymentStore(table), TaskTokens(), datetime.now(UTC)
    )
    assert own.status == 403 and "requester" in own.message
    stranger = decide(
        "gh-rel-2", "approve", "mallory", DeploymentStore(table), TaskTokens(), datetime.now(UTC)
    )
    assert stranger.status == 403
    assert platform.wait(0.2).executions == []  # still waiting


def test_an_alarm_that_fires_during_the_approval_wait_blocks_the_deploy(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(
        ssm_parameters={"DeployConfigParameter": config(prod={**PROD, "alarms": ["web-5xx"]})}
    )
    before = service("web-prod")["taskDefinition"]
    report = deliver(platform, "release", RELEASE, delivery="rel-late-alarm")
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="web-5xx", StateValue="ALARM", StateReason="test"
    )

    approved = _post(platform, _approval_links(report)["Approve"])

    [done] = executions(approved)
    assert done["status"] == "FAILED"
    record = record_of(platform, "gh-rel-late-alarm")
    assert record["outcome"] == "blocked"
    assert "alarms in ALARM just before deploying: web-5xx" in slack_texts(approved)[-1]
    assert service("web-prod")["taskDefinition"] == before
    from opswire.deployments.aws.deployment_store import DeploymentStore

    table = DeploymentStore(platform.resolve({"Ref": "DeploymentTable"}))
    assert table.acquire_lock("ecs:demo/web-prod", "next", 2**40, 0)[0] == "next"  # released


def test_a_stopped_execution_releases_its_lock_and_says_so(start_platform: PlatformFactory) -> None:
    from opswire.deployments.aws.deployment_store import DeploymentStore

    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    deliver(platform, "release", RELEASE, delivery="rel-stopped")
    table = DeploymentStore(platform.resolve({"Ref": "DeploymentTable"}))
    assert table.acquire_lock("ecs:demo/web-prod", "gh-rel-stopped", 2**40, 0)[0] == (
        "gh-rel-stopped"
    )
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = platform.state_machines["DeploymentStateMachine"]
    execution_arn = arn.replace(":stateMachine:", ":execution:") + ":gh-rel-stopped"
    sfn.stop_execution(executionArn=execution_arn)
    described = sfn.describe_execution(executionArn=execution_arn)
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-11-25T01:00:00Z",
        "region": REGION,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": arn,
            "name": "gh-rel-stopped",
            "status": "ABORTED",
            "input": described["input"],
        },
    }

    stopped = platform.send("eventbridge", json.dumps(event).encode())
    again = platform.send("eventbridge", json.dumps({**event, "id": "again"}).encode())

    assert stopped.errors == [] and again.errors == []
    record = record_of(platform, "gh-rel-stopped")
    assert record["outcome"] == "aborted"
    assert "ABORTED during 'awaiting_approval'" in slack_texts(stopped)[-1]
    assert "Lock released" in slack_texts(stopped)[-1]
    assert slack_texts(again) == []  # reported once
    assert table.acquire_lock("ecs:demo/web-prod", "next", 2**40, 0)[0] == "next"


def test_rejection_ends_it_without_deploying(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    before = service("web-prod")["taskDefinition"]
    report = deliver(platform, "release", RELEASE, delivery="rel-3")
    rejected = _post(platform, _approval_links(report)["Reject"])
    assert rejected.http is not None and rejected.http["status"] == 200
    # The execution may resume after the POST's report settled: the next report lists what
    # moved since, so the rejection's end is in one of the two.
    later = platform.wait(1)
    [done] = executions(rejected) + executions(later)
    assert done["status"] == "SUCCEEDED"
    assert done["output"]["outcome"] == "rejected"
    assert service("web-prod")["taskDefinition"] == before
    assert "rejected by ops-lead@example.com" in (slack_texts(rejected) + slack_texts(later))[-1]


def _click(
    platform: LocalPlatform, action_id: str, deployment_id: str, user_id: str
) -> DeliveryReport:
    """A signed click on the Approve / Reject button of the deployment's approval message."""
    [message] = [
        m
        for m in platform.outbox.messages
        if m["method"] == "chat.postMessage" and m["payload"].get("blocks")
    ]
    body, headers = slack_interaction(
        deployment_id,
        user_id.lower(),
        action_id=action_id,
        user_id=user_id,
        message={**message, **message["payload"]},
    )
    return platform.send("http:POST /slack/interactions", body, headers=headers)


def _only_for(platform: LocalPlatform, user_id: str) -> list[str]:
    return [
        m["text"]
        for m in platform.outbox.messages
        if m["method"] == "chat.postEphemeral" and m["payload"]["user"] == user_id
    ]


def test_the_slack_approve_button_resumes_it_for_an_approver_only(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(prod=PROD)})
    platform.outbox.add_user("U0LEAD", "ops-lead@example.com")
    platform.outbox.add_user("U0MALLORY", "mallory@example.com")
    before = service("web-prod")["taskDefinition"]
    deliver(platform, "release", RELEASE, delivery="rel-5")
    [message] = [m for m in platform.outbox.messages if m["payload"].get("blocks")]
    [buttons] = [b for b in message["payload"]["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        (APPROVE_ACTION_ID, "gh-rel-5"),
        (REJECT_ACTION_ID, "gh-rel-5"),
    ]

    stranger = _click(platform, APPROVE_ACTION_ID, "gh-rel-5", "U0MALLORY")

    assert stranger.http is not None and stranger.http["status"] == 200
    assert "not an approver of prod" in _only_for(platform, "U0MALLORY")[0]
    assert executions(stranger) == [] and service("web-prod")["taskDefinition"] == before

    approved = _click(platform, APPROVE_ACTION_ID, "gh-rel-5", "U0LEAD")

    [done] = executions(approved)
    assert done["status"] == "SUCCEEDED", done
    assert done["output"]["approval"]["by"] == "ops-lead@example.com"
    assert image_of(service("web-prod")["taskDefinition"]).endswith(":0.0.1")
    [clicked] = [
        r
        for root in platform.outbox.conversation()
        for r in root["replies"]
        if r["ts"] == message["ts"]
    ]
    assert clicked["blocks"] == []  # the buttons are gone
    assert clicked["text"].startswith(":white_check_mark: Approved by <@U0LEAD>")
    again = _click(platform, REJECT_ACTION_ID, "gh-rel-5", "U0LEAD")
    assert executions(again) == []
    assert "is not waiting for approval" in _only_for(platform, "U0LEAD")[-1]


def test_the_pusher_cannot_approve_from_slack_and_reject_ends_it(
    start_platform: PlatformFactory,
) -> None:
    pusher_email = str(PUSH["pusher"]["email"])
    # The pusher is on the allow-list by Slack id; Slack knows their GitHub email.
    staging = {"approval_required": True, "approvers": ["U0PUSHER", "U0LEAD"]}
    platform = start_platform(ssm_parameters={"DeployConfigParameter": config(staging=staging)})
    platform.outbox.add_user("U0PUSHER", pusher_email)
    before = service("web-staging")["taskDefinition"]
    deliver(platform, "push", PUSH, delivery="push-approval")

    own = _click(platform, APPROVE_ACTION_ID, "gh-push-approval", "U0PUSHER")

    assert executions(own) == []
    assert "requester cannot approve" in _only_for(platform, "U0PUSHER")[0]

    rejected = _click(platform, REJECT_ACTION_ID, "gh-push-approval", "U0LEAD")

    [done] = executions(rejected)
    assert done["output"]["outcome"] == "rejected"
    assert done["output"]["approval"]["by"] == "U0LEAD"
    assert service("web-staging")["taskDefinition"] == before
    assert "rejected by U0LEAD" in slack_texts(rejected)[-1]


def test_an_approval_timeout_ends_it_without_deploying(start_platform: PlatformFactory) -> None:
    platform = start_platform(
        ssm_parameters={
            "DeployConfigParameter": config(prod={**PROD, "approval_timeout_seconds": 1})
        }
    )
    before = service("web-prod")["taskDefinition"]
    report = deliver(platform, "release", RELEASE, delivery="rel-4")
    if executions(report) and executions(report)[0]["status"] == "RUNNING":
        report = platform.wait(2.0)
    [done] = executions(report)
    assert done["status"] == "SUCCEEDED"
    assert done["output"]["outcome"] == "rejected"
    assert done["output"]["detail"] == "approval timed out"
    assert service("web-prod")["taskDefinition"] == before


def test_the_commit_status_is_set_through_the_github_api(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(
        f"/repos/{REPO}/statuses/{PUSH['after']}", method="POST"
    ).respond_with_json({"id": 1}, status=201)
    platform = start_platform(
        parameters={"GitHubTokenSecretName": "opswire/github-token"},
        settings={"github_api_url": httpserver.url_for("/")},
        ssm_parameters={"DeployConfigParameter": config(staging={})},
    )  # fmt: skip
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="opswire/github-token", SecretString="ghp_local_token"
    )
    report = deliver(platform, "push", PUSH)
    assert executions(report)[0]["status"] == "SUCCEEDED"
    states = [json.loads(request.get_data())["state"] for request, _ in httpserver.log]
    assert states == ["pending", "success"]
    assert all(r.headers["Authorization"] == "Bearer ghp_local_token" for r, _ in httpserver.log)
