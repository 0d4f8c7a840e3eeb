"""The replay rules: Docker tag grammar, a production event's age from the payload's own
timestamps, what "the same commit" means, body digests."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from opswire.deployments.config import DeployConfig, EnvironmentConfig
from opswire.deployments.replay import (
    ImageTagError,
    age_problem,
    body_digest,
    commit_key,
    event_time,
    image_tag_problem,
    is_production,
)
from opswire.deployments.webhook import DeployRequest, deploy_request, match_rule
from tests.octokit import example

TARGET = {"type": "ecs", "cluster": "c", "service": "s", "container": "w", "image_repository": "r"}
ENV = EnvironmentConfig.model_validate({"target": TARGET})
PUSH = example("push", ref="refs/heads/master")
RELEASE = example("release", action="published")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "tag", ["v1.4.0", "latest", "_x", "a" * 128, "master-0d1a26e67d8f", "1.0.0-rc.1_build"]
)
def test_docker_tags_are_accepted(tag: str) -> None:
    assert image_tag_problem(tag) is None


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "a" * 129,
        ".hidden",
        "-flag",
        "v1\x00evil",
        "v1\u202egpj.exe",  # right-to-left override
        "v1\u200b",  # zero-width space
        "caf\u00e9",  # non-ASCII letter
        "\uff56\uff11",  # fullwidth "v1"
        "feature/x",
        "v1\n",
        "v1 ",
        "v1:latest",
    ],
)
def test_odd_tags_are_refused_and_shown_escaped(tag: str) -> None:
    problem = image_tag_problem(tag)
    assert problem is not None and "is not a valid Docker tag" in problem
    assert problem.isascii() and "\x00" not in problem and "\n" not in problem


@given(st.text(max_size=140))
def test_a_tag_is_accepted_only_within_the_ascii_grammar(tag: str) -> None:
    valid = (
        0 < len(tag) <= 128
        and tag.isascii()
        and (tag[0].isalnum() or tag[0] == "_")
        and all(c.isalnum() or c in "_.-" for c in tag)
    )
    assert (image_tag_problem(tag) is None) == valid


def test_a_rule_rendering_an_odd_tag_raises_and_the_request_model_refuses_one() -> None:
    config = DeployConfig.model_validate(
        {
            "rules": [{"repository": "Codertocat/Hello-World", "event": "release",
                       "environment": "prod", "image_tag": "{tag}"}],
            "environments": {"prod": {"target": TARGET}},
        }
    )  # fmt: skip
    payload = {**RELEASE, "release": {**RELEASE["release"], "tag_name": "v1\u202e\x00"}}
    rule = match_rule("release", payload, config)
    assert not isinstance(rule, str)
    with pytest.raises(ImageTagError, match=r"'v1\\u202e\\x00' is not a valid Docker tag"):
        deploy_request("d-1", "release", payload, rule)
    fields = deploy_request("d-1", "release", RELEASE, rule).model_dump()
    with pytest.raises(ValidationError):
        DeployRequest.model_validate({**fields, "image_tag": "v1\x00"})


def test_push_age_comes_from_the_push_time_not_the_commit_time() -> None:
    pushed = int((NOW - timedelta(minutes=5)).timestamp())
    authored = (NOW - timedelta(days=3)).isoformat()
    payload = {
        **PUSH,
        "repository": {**PUSH["repository"], "pushed_at": pushed},
        "head_commit": {**PUSH["head_commit"], "timestamp": authored},
    }
    assert event_time("push", payload) == NOW - timedelta(minutes=5)
    assert age_problem("push", payload, "prod", ENV, 3600, NOW) is None
    without_push_time = {**payload, "repository": {"full_name": "Codertocat/Hello-World"}}
    assert event_time("push", without_push_time) == NOW - timedelta(days=3)
    problem = age_problem("push", without_push_time, "prod", ENV, 3600, NOW)
    assert problem is not None and "happened 259200s ago" in problem


def test_the_real_examples_are_old_for_prod_and_fine_elsewhere() -> None:
    # @octokit/webhooks-examples were recorded years ago: exactly a replayed old body.
    assert event_time("release", RELEASE) == datetime.fromisoformat(
        RELEASE["release"]["published_at"]
    )
    problem = age_problem("release", RELEASE, "prod", ENV, 3600, NOW)
    assert problem is not None and "max_event_age_seconds" in problem
    assert age_problem("release", RELEASE, "staging", ENV, 3600, NOW) is None
    flagged = ENV.model_copy(update={"production": True})
    assert age_problem("release", RELEASE, "live", flagged, 3600, NOW) is not None
    unflagged = ENV.model_copy(update={"production": False})
    assert age_problem("release", RELEASE, "prod", unflagged, 3600, NOW) is None


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("release", {"release": {"published_at": None}}),
        ("release", {"release": "2026-12-01T11:59:00Z"}),
        ("push", {"repository": {"pushed_at": True}, "head_commit": None}),
        ("push", {"repository": {"pushed_at": "yesterday"}}),
        ("push", {"repository": {"pushed_at": 10**20}}),
        ("issues", {"issue": {"created_at": "2026-12-01T11:59:00Z"}}),
    ],
)
def test_prod_refuses_a_payload_without_a_usable_timestamp(
    event: str, payload: dict[str, Any]
) -> None:
    problem = age_problem(event, payload, "prod", ENV, 3600, NOW)
    assert problem is not None and "no timestamp" in problem


def test_workflow_runs_are_judged_by_their_update_time() -> None:
    run = {"workflow_run": {"updated_at": (NOW - timedelta(minutes=59)).isoformat()}}
    assert age_problem("workflow_run", run, "production", ENV, 3600, NOW) is None
    naive = {"workflow_run": {"updated_at": "2026-12-01T10:00:00"}}  # taken as UTC
    assert age_problem("workflow_run", naive, "production", ENV, 3600, NOW) is not None


def test_production_is_the_flag_or_the_name() -> None:
    assert is_production("prod", ENV) and is_production("Production", ENV)
    assert not is_production("staging", ENV) and not is_production("prod-eu", ENV)


def test_the_age_limit_has_a_default_and_bounds() -> None:
    assert DeployConfig().max_event_age_seconds == 3600
    with pytest.raises(ValidationError):
        DeployConfig.model_validate({"max_event_age_seconds": 10})


def test_the_same_commit_is_keyed_by_sha_or_for_a_release_by_its_tag() -> None:
    sha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
    assert commit_key("Codertocat/Hello-World", "prod", sha, "refs/heads/master") == (
        f"codertocat/hello-world#prod#{sha}"
    )
    assert commit_key("a/b", "prod", "master", "refs/tags/v1.4.0") == "a/b#prod#refs/tags/v1.4.0"
    assert commit_key("a/b", "staging", sha, "x") != commit_key("a/b", "prod", sha, "x")


def test_the_body_digest_is_the_sha256_of_the_raw_bytes() -> None:
    assert body_digest(b"{}") == hashlib.sha256(b"{}").hexdigest()
    assert body_digest(b"{}") != body_digest(b"{ }")
