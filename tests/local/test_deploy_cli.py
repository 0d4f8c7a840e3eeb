"""``opswire local send`` of a signed GitHub webhook, and ``opswire deploy ...`` against a running
``opswire local up``, as a user runs them (subprocesses, the example deploy config)."""

import hashlib
import hmac
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opswire_cli.cli import main
from opswire_cli.target import DeployedStack
from opswire_local.deploy_local import LOCAL_GITHUB_WEBHOOK_SECRET
from tests.local import test_cli
from tests.local.test_cli import json_report, opswire
from tests.octokit import example, fresh

pytestmark = pytest.mark.local
# The fixtures of test_cli: a state dir, the CLI environment, a running `opswire local up`.
state_dir = test_cli.state_dir
cli_env = test_cli.cli_env
running_platform = test_cli.running_platform
ROUTE = "http:POST /webhooks/github"


def signed_file(tmp_path: Path, name: str, payload: dict[str, object]) -> tuple[Path, str]:
    body = json.dumps(payload).encode()
    path = tmp_path / name
    path.write_bytes(body)
    digest = hmac.new(LOCAL_GITHUB_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return path, f"X-Hub-Signature-256: sha256={digest}"


def send_webhook(
    env: dict[str, str], path: Path, signature: str, event: str, delivery: str
) -> subprocess.CompletedProcess[str]:
    return opswire(
        "local", "send", ROUTE, "-e", str(path), "--json",
        "--header", f"X-GitHub-Event: {event}", "--header", signature,
        "--header", f"X-GitHub-Delivery: {delivery}",
        env=env,
    )  # fmt: skip


def test_local_send_runs_a_configured_push_to_a_completed_deployment(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    path, signature = signed_file(tmp_path, "push.json", example("push", ref="refs/heads/master"))
    result = send_webhook(cli_env, path, signature, "push", "cli-push-1")
    assert result.returncode == 0, result.stderr
    report = json_report(result)
    assert report["http"]["status"] == 202
    [execution] = report["executions"]
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["outcome"] == "succeeded"
    slack = [n for n in report["notifications"] if n["channel"] == "slack"]
    assert len(slack) >= 6 and len({n.get("thread_ts") for n in slack[1:]}) == 1
    assert slack[-1]["text"].startswith("Deployed ")
    assert [n["subject"] for n in report["notifications"] if n["channel"] == "email"] == [
        "[opswire] deployment succeeded: Codertocat/Hello-World -> staging"
    ]


def test_deploy_cli_history_status_and_approval_in_a_running_local_up(
    running_platform: tuple[subprocess.Popen[str], str],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    release = fresh("release", example("release", action="published"))
    path, signature = signed_file(tmp_path, "release.json", release)
    sent = json_report(send_webhook(cli_env, path, signature, "release", "cli-rel-1"))
    [waiting] = sent["executions"]
    assert waiting["waiting_in"] == "RequestApproval (task token)"

    history = opswire("deploy", "history", "--json", env=cli_env)
    assert history.returncode == 0, history.stdout + history.stderr
    [listed] = json.loads(history.stdout)["deployments"]
    assert listed["deployment_id"] == "gh-cli-rel-1"
    assert listed["status"] == "awaiting_approval"

    status = opswire("deploy", "status", "gh-cli-rel-1", env=cli_env)
    assert status.returncode == 0
    assert "awaiting_approval" in status.stdout and "task_token" not in status.stdout

    own = opswire("deploy", "approve", "gh-cli-rel-1", "--as", "Codertocat", env=cli_env)
    assert own.returncode == 1
    assert "Codertocat is not an approver of prod" in own.stdout

    approved = opswire("deploy", "approve", "gh-cli-rel-1", "--as", "monalisa", "--json",
                       env=cli_env)  # fmt: skip
    assert approved.returncode == 0, approved.stdout
    answer = json.loads(approved.stdout)
    assert answer["status"] == 200
    [done] = answer["executions"]
    assert done["status"] == "SUCCEEDED" and done["output"]["outcome"] == "succeeded"

    final = json.loads(opswire("deploy", "status", "gh-cli-rel-1", "--json", env=cli_env).stdout)
    assert final["deployment"]["status"] == "succeeded"
    assert final["deployment"]["decided_by"] == "monalisa"

    # Only a deployment blocked before any change can be run again with an alarm override.
    override = opswire("deploy", "override", "gh-cli-rel-1", "--as", "monalisa", "--reason",
                       "hotfix", env=cli_env)  # fmt: skip
    assert override.returncode == 1
    assert "was not blocked before deploying (outcome succeeded)" in override.stdout

    # The same release again under another delivery id: the body was seen, nothing starts.
    replay = json_report(send_webhook(cli_env, path, signature, "release", "cli-rel-2"))
    assert replay["http"]["status"] == 409 and replay["executions"] == []
    # Asked for explicitly, it deploys again: a new deployment, approved by someone else.
    redeploy = opswire("deploy", "redeploy", "gh-cli-rel-1", "--as", "monalisa", "--reason",
                       "INC-9 roll back", "--json", env=cli_env)  # fmt: skip
    assert redeploy.returncode == 0, redeploy.stdout + redeploy.stderr
    started = json.loads(redeploy.stdout)
    assert started["deployment_id"] == "gh-cli-rel-1-redeploy-1"
    [again] = started["executions"]
    assert again["waiting_in"] == "RequestApproval (task token)"
    own = opswire("deploy", "approve", "gh-cli-rel-1-redeploy-1", "--as", "monalisa", env=cli_env)
    assert own.returncode == 1 and "requester cannot approve" in own.stdout


class _DeployedApproval:
    """The AWS a deployed stack's ``opswire deploy`` talks to: CloudFormation (the function's
    physical name), Lambda (the invoke) and STS (the caller)."""

    def __init__(self, answer: dict[str, Any], error: bool = False) -> None:
        self.answer, self.error = answer, error
        self.calls: list[tuple[Any, ...]] = []

    def client(self, service: str) -> Any:
        return self

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        self.calls.append(("describe", StackName, LogicalResourceId))
        return {"StackResourceDetail": {"PhysicalResourceId": "opswire-prod-DeployApproval-x1"}}

    def invoke(self, FunctionName: str, InvocationType: str, Payload: str) -> dict[str, Any]:
        self.calls.append(("invoke", FunctionName, InvocationType, json.loads(Payload)))
        response = {"Payload": io.BytesIO(json.dumps(self.answer).encode())}
        return response | ({"FunctionError": "Unhandled"} if self.error else {})

    def get_caller_identity(self) -> dict[str, str]:
        return {"Arn": "arn:aws:iam::111122223333:user/ana", "Account": "111122223333"}


def test_deploy_on_a_deployed_stack_invokes_its_approval_function(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = _DeployedApproval({"status": 202, "message": "override started: d-1-override-1"})
    monkeypatch.setattr(DeployedStack, "client", lambda self, service: aws.client(service))
    stack = ["--stack", "opswire-prod", "--region", "eu-west-1"]

    code = main(["deploy", "override", "d-1", "--reason", "hotfix", "--as", "ana", *stack])

    assert code == 0
    assert capsys.readouterr().out == "override started: d-1-override-1\n"
    request = {
        "operation": "override",
        "deployment_id": "d-1",
        "by": "ana",
        "reason": "hotfix",
        "principal": "arn:aws:iam::111122223333:user/ana",
    }
    assert aws.calls == [
        ("describe", "opswire-prod", "DeployApprovalFunction"),
        ("invoke", "opswire-prod-DeployApproval-x1", "RequestResponse", request),
    ]


def test_redeploy_on_a_deployed_stack_sends_who_why_and_the_caller(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = _DeployedApproval({"status": 403, "message": "ana is not an approver of prod"})
    monkeypatch.setattr(DeployedStack, "client", lambda self, service: aws.client(service))
    stack = ["--stack", "opswire-prod", "--region", "eu-west-1"]

    code = main(["deploy", "redeploy", "d-1", "--reason", "roll back", "--as", "ana", *stack])

    assert code == 1  # the function's 403 is a failed command
    assert capsys.readouterr().out == "ana is not an approver of prod\n"
    request = {
        "operation": "redeploy",
        "deployment_id": "d-1",
        "by": "ana",
        "reason": "roll back",
        "principal": "arn:aws:iam::111122223333:user/ana",
    }
    assert aws.calls[-1] == ("invoke", "opswire-prod-DeployApproval-x1", "RequestResponse", request)
    with pytest.raises(SystemExit):  # a redeploy needs a reason
        main(["deploy", "redeploy", "d-1", *stack])


def test_a_failing_approval_function_is_a_failed_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = _DeployedApproval({"errorMessage": "AccessDenied", "errorType": "ClientError"}, True)
    monkeypatch.setattr(DeployedStack, "client", lambda self, service: aws.client(service))

    assert main(["deploy", "history", "--stack", "opswire-prod", "--region", "eu-west-1"]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": "AccessDenied"}
