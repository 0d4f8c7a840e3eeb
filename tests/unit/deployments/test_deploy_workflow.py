"""The deployment steps with in-memory collaborators: rollout verdicts, bake, pre-flight,
approval decisions (no AWS)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from opswire.core.errors import AlarmsFiringError, TaskInputError
from opswire.deployments.approval import decide
from opswire.deployments.config import DeployConfig
from opswire.deployments.dispatch import run_step
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.steps import check_bake, check_rollout, finish, preflight, start
from opswire.deployments.webhook import DeployRequest
from tests.fakes.deployments import NEW_TASK_DEFINITION as NEW
from tests.fakes.deployments import OLD_TASK_DEFINITION as OLD
from tests.fakes.deployments import (
    FakeDeploymentStore,
    FakeEcs,
    FakeMailer,
    FakeTaskCallback,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TARGET = {"type": "ecs", "cluster": "c", "service": "web", "container": "web",
          "image_repository": "repo"}  # fmt: skip


def deps(primary: dict[str, Any] | None = None, firing: list[str] | None = None,
         **env: Any) -> Deps:  # fmt: skip
    config = DeployConfig.model_validate({"environments": {"prod": {"target": TARGET, **env}}})
    return Deps(
        store=FakeDeploymentStore(), config=lambda: config, ecs=FakeEcs(primary),
        alarms_in_alarm=lambda names: [n for n in names if n in (firing or [])],
        mailer=FakeMailer(), notify_emails=("ops@example.com",), now=lambda: NOW,
    )  # fmt: skip


REQUEST = DeployRequest(
    deployment_id="gh-1", delivery_id="1", repository="o/r", event="release",
    ref="refs/tags/v1", sha="a" * 40, image_tag="v1", environment="prod", requester="alice",
)  # fmt: skip


def started(d: Deps) -> DeployState:
    return start(DeployState(request=REQUEST), d)


@pytest.mark.parametrize(
    ("primary", "verdict"),
    [
        ({"status": "PRIMARY", "taskDefinition": NEW, "rolloutState": "COMPLETED"}, "COMPLETED"),
        ({"status": "PRIMARY", "taskDefinition": NEW, "rolloutState": "IN_PROGRESS"},
         "IN_PROGRESS"),
        # ECS rolled back on its own: "stable" and COMPLETED, but not on our revision.
        ({"status": "PRIMARY", "taskDefinition": OLD, "rolloutState": "COMPLETED"}, "FAILED"),
        ({"status": "PRIMARY", "taskDefinition": NEW, "rolloutState": "FAILED"}, "FAILED"),
        (None, "IN_PROGRESS"),
    ],
)  # fmt: skip
def test_rollout_verdicts(primary: dict[str, Any] | None, verdict: str) -> None:
    d = deps(primary)
    state = started(d).model_copy(update={"intended_task_definition": NEW, "max_polls": 10})
    assert check_rollout(state, d).rollout == verdict


def test_a_rollout_not_completed_in_time_fails() -> None:
    d = deps({"status": "PRIMARY", "taskDefinition": NEW, "rolloutState": "IN_PROGRESS"})
    state = started(d).model_copy(update={"intended_task_definition": NEW, "polls": 2,
                                          "max_polls": 3})  # fmt: skip
    checked = check_rollout(state, d)
    assert checked.rollout == "FAILED" and "after 3 checks" in checked.rollout_reason


def test_bake_counts_down_and_a_firing_alarm_fails_it() -> None:
    d = deps(bake_seconds=30, poll_seconds=10, alarms=["5xx"])
    state = started(d).model_copy(update={"bake_remaining": 30, "bake_wait": 10})
    assert check_bake(state, d).bake_remaining == 20
    firing = deps(bake_seconds=30, alarms=["5xx"], firing=["5xx"])
    with pytest.raises(AlarmsFiringError, match="while baking: 5xx"):
        check_bake(started(firing).model_copy(update={"bake_remaining": 30}), firing)


def test_preflight_blocks_unless_an_override_is_recorded() -> None:
    d = deps(alarms=["5xx", "latency"], firing=["5xx"])
    with pytest.raises(AlarmsFiringError, match="5xx"):
        preflight(started(d), d)
    override = {"by": "alice", "principal": "", "reason": "hotfix INC-42", "at": "now"}
    checked = preflight(started(d).model_copy(update={"alarm_override": override}), d)
    assert checked.overridden_alarms == ["5xx"]
    # The bake ignores the overridden alarm only: "latency" going off still fails it.
    baking = checked.model_copy(update={"bake_remaining": 5, "bake_wait": 5})
    assert check_bake(baking, d).bake_remaining == 0
    latency = deps(alarms=["5xx", "latency"], firing=["5xx", "latency"])
    with pytest.raises(AlarmsFiringError, match=r"while baking: latency$"):
        check_bake(checked, latency)
    record = d.store.get("gh-1")
    assert record is not None
    assert record["alarm_override"] == {**override, "alarms": ["5xx"]}
    messages = [stage["message"] for stage in record["stages"]]
    assert any("OVERRIDDEN by alice (hotfix INC-42)" in m for m in messages)
    assert messages[-1].endswith("(overridden, not counted: 5xx).")


def test_finish_reports_to_every_recipient_once() -> None:
    d = deps(notify_emails=["team@example.com", "ops@example.com"])
    done = finish(started(d).model_copy(update={"outcome": "rolled_back"}), d)
    assert done.outcome == "rolled_back"
    assert isinstance(d.mailer, FakeMailer)
    assert d.mailer.sent == [(["ops@example.com", "team@example.com"],
                              "[opswire] deployment rolled_back: o/r -> prod")]  # fmt: skip
    record = d.store.get("gh-1")
    assert record is not None and record["status"] == "rolled_back"


def test_decisions_follow_the_allow_list_and_never_the_requester() -> None:
    d = deps(approval_required=True, approvers=["alice", "bob"])
    started(d)
    d.store.put("gh-1", {**(d.store.get("gh-1") or {}), "status": "awaiting_approval",
                         "task_token": "tok"}, 2)  # fmt: skip
    tokens = FakeTaskCallback()
    assert decide("gh-1", "approve", "alice", d.store, tokens, NOW).status == 403  # requester
    assert decide("gh-1", "approve", "eve", d.store, tokens, NOW).status == 403
    assert tokens.outputs == []
    assert decide("gh-1", "reject", "Bob", d.store, tokens, NOW).status == 200
    assert tokens.outputs == [{"approved": False, "by": "Bob", "at": NOW.isoformat()}]
    assert decide("gh-1", "approve", "bob", d.store, tokens, NOW).status == 409  # decided


def test_step_input_is_validated() -> None:
    with pytest.raises(TaskInputError):
        run_step({"step": "register"}, deps())
    with pytest.raises(TaskInputError, match="unknown deployment step"):
        run_step({"step": "nope", "state": {"request": REQUEST.model_dump()}}, deps())
