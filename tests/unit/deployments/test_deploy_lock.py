"""One deployment per target: the lock steps with an in-memory lock table (no AWS)."""

from typing import Any

import pytest

from opswire.core.errors import DeploymentError
from opswire.deployments.config import BeanstalkTarget, EcsTarget
from opswire.deployments.dispatch import run_step
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.steps import acquire_lock, finish
from opswire.deployments.targets import lock_seconds, target_key
from tests.fakes.deployments import FakeLocks
from tests.unit.deployments.test_deploy_workflow import NOW, deps, started


def locked_deps(**env: Any) -> tuple[Deps, FakeLocks]:
    d = deps(**env)
    d.locks = FakeLocks()
    return d, d.locks


def stages(d: Deps, deployment_id: str = "gh-1") -> list[str]:
    record = d.store.get(deployment_id)
    assert record is not None
    return [s["status"] for s in record["stages"]]


KEY = "ecs:c/web"


def test_target_keys() -> None:
    ecs = EcsTarget(cluster="arn:aws:ecs:us-east-1:1:cluster/c",
                    service="arn:aws:ecs:us-east-1:1:service/c/web", container="web",
                    image_repository="r")  # fmt: skip
    assert target_key(ecs) == KEY
    beanstalk = BeanstalkTarget(
        application="shop", environment_name="shop-prod", image_repository="r"
    )
    assert target_key(beanstalk) == "beanstalk:shop/shop-prod"


def test_a_free_target_is_locked_quietly_and_a_retry_keeps_it() -> None:
    d, locks = locked_deps()
    state = acquire_lock(started(d), d)
    assert (state.lock, state.lock_key) == ("acquired", KEY)
    assert locks.items[KEY]["owner"] == "gh-1"
    assert locks.items[KEY]["expires_at"] == int(NOW.timestamp()) + lock_seconds(state.env)  # type: ignore[arg-type]
    record = d.store.get("gh-1")
    assert record is not None and record["lock"]["key"] == KEY
    assert stages(d) == ["started"]  # no Slack message when nothing was in the way
    assert acquire_lock(started(d), d).lock == "acquired"  # a Lambda retry: same owner


def test_a_held_target_waits_with_one_stage_then_deploys() -> None:
    d, locks = locked_deps(poll_seconds=10, queue_timeout_seconds=60)
    locks.items[KEY] = {"owner": "gh-0", "expires_at": int(NOW.timestamp()) + 600}
    state = started(d)
    for waits in (1, 2, 3):
        state = acquire_lock(state, d)
        assert (state.lock, state.lock_holder, state.lock_waits) == ("waiting", "gh-0", waits)
    assert stages(d) == ["started", "queued"]  # recorded once, not per poll
    record = d.store.get("gh-1")
    assert record is not None
    assert (
        record["stages"][-1]["message"]
        == f"Waiting for deployment gh-0 to finish (it holds {KEY})."
    )
    assert locks.release_lock(KEY, "gh-0")
    state = acquire_lock(state, d)
    assert state.lock == "acquired" and stages(d)[-1] == "locked"


def test_the_queue_timeout_blocks_without_taking_the_lock() -> None:
    d, locks = locked_deps(poll_seconds=10, queue_timeout_seconds=20)
    locks.items[KEY] = {"owner": "gh-0", "expires_at": int(NOW.timestamp()) + 600}
    state = started(d)
    state = acquire_lock(acquire_lock(state, d), d)
    assert state.lock_waits == 2
    state = acquire_lock(state, d)
    assert state.lock == "timed_out"
    assert "gh-0 still held ecs:c/web after 20s" in state.detail
    done = finish(state.model_copy(update={"outcome": "blocked"}), d)
    assert done.outcome == "blocked"
    assert locks.items[KEY]["owner"] == "gh-0"  # never another deployment's lock


def test_an_expired_lock_is_taken_over() -> None:
    d, locks = locked_deps()
    locks.items[KEY] = {"owner": "gh-crashed", "expires_at": int(NOW.timestamp()) - 1}
    state = acquire_lock(started(d), d)
    assert state.lock == "acquired" and locks.items[KEY]["owner"] == "gh-1"
    record = d.store.get("gh-1")
    assert record is not None
    assert "the lock of deployment gh-crashed had expired" in record["stages"][-1]["message"]


@pytest.mark.parametrize("outcome", ["succeeded", "rolled_back", "rollback_failed", "failed"])
def test_finish_releases_the_lock_for_every_outcome(outcome: str) -> None:
    d, locks = locked_deps()
    state = acquire_lock(started(d), d)
    finish(state.model_copy(update={"outcome": outcome}), d)
    assert locks.items == {}
    finish(state.model_copy(update={"outcome": outcome}), d)  # a retried finish: no error


def test_finish_releases_even_when_the_lock_step_failed_after_taking_it() -> None:
    d, locks = locked_deps()
    state = started(d)
    locks.acquire_lock(KEY, "gh-1", int(NOW.timestamp()) + 60, int(NOW.timestamp()))
    finish(state.model_copy(update={"outcome": "blocked"}), d)  # the Catch keeps the old state
    assert locks.items == {}


def test_lock_needs_a_lock_store_and_is_a_step() -> None:
    d = deps()
    with pytest.raises(DeploymentError, match="no lock store"):
        acquire_lock(started(d), d)
    d, _ = locked_deps()
    state = started(d)
    result = run_step({"step": "acquire_lock", "state": state.model_dump(mode="json")}, d)
    assert DeployState.model_validate(result).lock == "acquired"
