"""The webhook domain: signatures, rule matching, requests; approval links."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from opswire.deployments.approval import ApprovalAnswer, approval_link, verify_link
from opswire.deployments.config import DeployConfig
from opswire.deployments.webhook import (
    deploy_request,
    execution_name,
    match_rule,
    signature_is_valid,
)
from tests.octokit import example, examples

BODY = b'{"zen": "Keep it logically awesome."}'
CONFIG = DeployConfig.model_validate(
    {
        "rules": [
            {"repository": "Codertocat/Hello-World", "event": "push", "branch": "master",
             "environment": "staging", "image_tag": "{branch}-{short_sha}"},
            {"repository": "octo-org/octo-repo", "event": "workflow_run", "branch": "master",
             "environment": "staging"},
        ],
        "environments": {
            "staging": {"target": {"type": "ecs", "cluster": "c", "service": "s",
                                   "container": "web", "image_repository": "r"}}
        },
    }
)  # fmt: skip


def signature(secret: str, body: bytes = BODY) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_current_or_previous_secret() -> None:
    assert signature_is_valid(BODY, signature("new"), ["new", "old"])
    assert signature_is_valid(BODY, signature("old"), ["new", "old"])
    assert signature_is_valid(BODY, signature("old").upper().replace("SHA256=", "sha256="),
                              ["old"])  # fmt: skip
    assert not signature_is_valid(BODY, signature("other"), ["new", "old"])
    assert not signature_is_valid(BODY + b" ", signature("new"), ["new"])
    assert not signature_is_valid(BODY, None, ["new"])
    assert not signature_is_valid(BODY, signature("new"), [])
    assert not signature_is_valid(BODY, signature("new"), [""])
    sha1 = "sha1=" + hmac.new(b"new", BODY, hashlib.sha1).hexdigest()
    assert not signature_is_valid(BODY, sha1, ["new"])


def test_push_to_the_branch_matches_and_names_the_image_tag() -> None:
    payload = example("push", ref="refs/heads/master")
    rule = match_rule("push", payload, CONFIG)
    assert not isinstance(rule, str)
    request = deploy_request("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push", payload, rule)
    assert request.image_tag == f"master-{payload['after'][:12]}"
    assert request.deployment_id == "gh-72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert request.requester == payload["pusher"]["name"]


def test_workflow_run_must_be_completed_with_success() -> None:
    runs = examples()["workflow_run"]
    requested = next(p for p in runs if p["action"] == "requested")
    assert "not completed with success" in str(match_rule("workflow_run", requested, CONFIG))
    ok = next(p for p in runs if (p.get("workflow_run") or {}).get("conclusion") == "success")
    rule = match_rule("workflow_run", ok, CONFIG)
    assert not isinstance(rule, str)
    assert deploy_request("d", "workflow_run", ok, rule).sha == ok["workflow_run"]["head_sha"]


def test_execution_names_are_bounded() -> None:
    assert len(execution_name("a" * 64)) <= 80


def test_config_rejects_unknown_environments_and_approval_without_approvers() -> None:
    with pytest.raises(ValidationError):
        DeployConfig.model_validate(
            {"rules": [{"repository": "a/b", "event": "push", "environment": "x"}]}
        )
    target = {"type": "ecs", "cluster": "c", "service": "s", "container": "w",
              "image_repository": "r"}  # fmt: skip
    with pytest.raises(ValidationError):
        DeployConfig.model_validate(
            {"environments": {"prod": {"target": target, "approval_required": True}}}
        )


def test_approval_links_are_signed_for_one_approver_and_expire() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    link = approval_link("https://api", "gh-1", "approve", "ops@example.com", "k", now, 60)
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    params = {**query, "approver": "ops@example.com"}
    assert verify_link("gh-1", "approve", params, "k", now) == "ops@example.com"
    assert verify_link("gh-1", "reject", params, "k", now) == ApprovalAnswer(
        403, "the link is not valid"
    )
    assert verify_link("gh-1", "approve", {**params, "approver": "eve"}, "k", now).status == 403  # type: ignore[union-attr]
    later = now + timedelta(seconds=61)
    assert verify_link("gh-1", "approve", params, "k", later) == ApprovalAnswer(
        410, "the link has expired"
    )
