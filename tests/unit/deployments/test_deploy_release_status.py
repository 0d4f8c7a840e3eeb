"""Commit statuses of a release: its tag resolved to a commit at Start (no network)."""

from typing import Any

from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.steps import finish, start
from opswire.deployments.webhook import DeployRequest
from tests.fakes.deployments import FakeGitHub
from tests.unit.deployments.test_deploy_workflow import REQUEST, deps

TAGGED = "c" * 40


def with_github(tags: dict[str, str]) -> tuple[Deps, FakeGitHub]:
    d = deps()
    github = FakeGitHub(tags)
    d.github, d.commits = github, github
    return d, github


RELEASE = REQUEST.model_copy(update={"sha": "master"})  # target_commitish: a branch


def test_a_release_gets_statuses_on_the_commit_of_its_tag() -> None:
    d, github = with_github({"tags/v1": TAGGED})
    state = start(DeployState(request=RELEASE), d)
    assert state.commit_sha == TAGGED
    assert github.asked == ["tags/v1"]
    record: dict[str, Any] | None = d.store.get("gh-1")
    assert record is not None and record["commit_sha"] == TAGGED
    finish(state.model_copy(update={"outcome": "succeeded"}), d)
    assert github.statuses == [(TAGGED, "pending"), (TAGGED, "success")]


def test_a_sha_target_commitish_is_not_trusted_over_the_tag() -> None:
    d, github = with_github({"tags/v1": TAGGED})
    state = start(DeployState(request=REQUEST), d)  # target_commitish "a" * 40
    assert state.commit_sha == TAGGED and github.statuses == [(TAGGED, "pending")]


def test_an_unresolved_tag_means_no_status_not_a_failed_deployment() -> None:
    d, github = with_github({})
    state = start(DeployState(request=RELEASE), d)
    assert state.commit_sha == "" and github.statuses == []
    record = d.store.get("gh-1")
    assert record is not None
    assert (
        "No commit status: GitHub commit of o/r tags/v1: HTTP 404"
        in record["stages"][-1]["message"]
    )
    finish(state.model_copy(update={"outcome": "succeeded"}), d)
    assert github.statuses == []


def test_a_push_is_not_resolved() -> None:
    d, github = with_github({})
    push = DeployRequest.model_validate(
        {**REQUEST.model_dump(), "event": "push", "ref": "refs/heads/main", "sha": "d" * 40}
    )
    start(DeployState(request=push), d)
    assert github.asked == [] and github.statuses == [("d" * 40, "pending")]
