"""The rotation protocol engine and the strategies' own rules, with fakes of the collaborators."""

import json
from typing import Any

import pytest

from opswire.core.errors import (
    RotationConfigurationError,
    RotationError,
    RotationNotEnabledError,
    RotationTestFailedError,
    RotationTokenError,
    SecretStoreError,
)
from opswire.rotation.engine import run_step
from opswire.rotation.iam_keys import IamAccessKeyStrategy
from opswire.rotation.model import RotationContext, SecretValue
from tests.fakes.rotation import ARN, FakeIam, FakeSecretStore, FakeStrategy


def _store(**overrides: Any) -> FakeSecretStore:
    store = FakeSecretStore(
        values={"v1": json.dumps({"kind": "fake", "value": "old"})},
        stages={"v1": ["AWSCURRENT"], "t": ["AWSPENDING"]},
    )
    for key, value in overrides.items():
        setattr(store, key, value)
    return store


def _run(step: str, store: FakeSecretStore, strategy: FakeStrategy, token: str = "t") -> str:
    return run_step(step, ARN, token, store, {"fake": strategy}, "rt").action  # type: ignore[arg-type]


def test_the_four_steps_move_the_labels_like_aws() -> None:
    store, strategy = _store(), FakeStrategy()
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        _run(step, store, strategy)
    assert store.stages == {"v1": ["AWSPREVIOUS"], "t": ["AWSCURRENT"]}
    assert strategy.calls == ["create", "set", "test", "after old->new"]
    assert "put t rotation_token=rt" in store.calls


def test_rotation_switched_off_is_refused_but_an_absent_flag_is_not() -> None:
    with pytest.raises(RotationNotEnabledError):
        _run("createSecret", _store(rotation_enabled=False), FakeStrategy())
    assert "stored" in _run("createSecret", _store(rotation_enabled=None), FakeStrategy())


def test_unknown_and_non_pending_tokens_are_refused() -> None:
    with pytest.raises(RotationTokenError, match="not a version"):
        _run("createSecret", _store(), FakeStrategy(), token="other")
    store = _store(stages={"v1": ["AWSCURRENT"], "t": []})
    with pytest.raises(RotationTokenError, match="not AWSPENDING"):
        _run("setSecret", store, FakeStrategy())


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret"])
def test_an_already_current_token_is_a_no_op(step: str) -> None:
    store = _store(stages={"v1": ["AWSPREVIOUS"], "t": ["AWSCURRENT"]})
    strategy = FakeStrategy()
    assert _run(step, store, strategy).startswith("nothing to do")
    assert strategy.calls == [] and store.calls == []


def test_create_twice_makes_one_value_and_a_failed_put_is_undone() -> None:
    store, strategy = _store(), FakeStrategy()
    _run("createSecret", store, strategy)
    assert _run("createSecret", store, strategy).startswith("nothing to do")
    assert strategy.calls == ["create"]
    failing, strategy = _store(fail_put=True), FakeStrategy()
    with pytest.raises(SecretStoreError):
        _run("createSecret", failing, strategy)
    assert strategy.calls == ["create", "discard"]


def test_set_and_test_need_the_pending_value() -> None:
    with pytest.raises(RotationError, match="createSecret has not run"):
        _run("setSecret", _store(), FakeStrategy())


def test_a_retried_finish_completes_its_tail_without_moving_anything() -> None:
    store, strategy = _store(), FakeStrategy()
    for step in ("createSecret", "finishSecret"):
        _run(step, store, strategy)
    moves = list(store.calls)
    assert "already AWSCURRENT" in _run("finishSecret", store, strategy)
    assert store.calls == moves  # no label moved
    assert strategy.calls[-1] == "after old->new"  # the idempotent tail ran again


def test_kind_comes_from_the_json_or_the_tag() -> None:
    store = _store(
        values={"v1": json.dumps({"value": "old"})}, tags={"opswire:rotation-kind": "fake"}
    )
    assert "stored" in _run("createSecret", store, FakeStrategy())
    with pytest.raises(RotationConfigurationError, match="no rotation kind"):
        _run("createSecret", _store(values={"v1": "{}"}), FakeStrategy())
    with pytest.raises(RotationConfigurationError, match="not rotated by this function"):
        run_step("createSecret", ARN, "t", _store(), {"other": FakeStrategy()})


def test_a_secret_that_is_not_json_is_named_without_its_content() -> None:
    store = _store(values={"v1": "hunter2-not-json"})
    with pytest.raises(RotationConfigurationError) as caught:
        _run("createSecret", store, FakeStrategy())
    assert "hunter2" not in str(caught.value) and caught.value.__cause__ is None
    assert "hunter2" not in repr(SecretValue({"password": "hunter2"}))


def _ctx(current: dict[str, Any], pending: dict[str, Any] | None = None) -> RotationContext:
    return RotationContext(
        step="createSecret", metadata=_store().describe(ARN), token="t", kind="iam-access-key",
        current=SecretValue(current), pending=SecretValue(pending) if pending else None,
    )  # fmt: skip


CURRENT_KEY = {"user_name": "ci", "access_key_id": "AKIA1", "secret_access_key": "x"}


def test_iam_deletes_the_retired_key_and_refuses_an_unknown_active_one() -> None:
    iam = FakeIam({"AKIA1": "Active", "AKIA0": "Inactive"})
    new = IamAccessKeyStrategy(iam, sleep=lambda _: None).create(_ctx(CURRENT_KEY))
    assert set(iam.keys) == {"AKIA1", new["access_key_id"]}
    iam = FakeIam({"AKIA1": "Active", "AKIA9": "Active"})
    with pytest.raises(RotationError, match="AKIA9"):
        IamAccessKeyStrategy(iam, sleep=lambda _: None).create(_ctx(CURRENT_KEY))


def test_iam_test_retries_a_bounded_number_of_times_with_the_new_key() -> None:
    pending = {**CURRENT_KEY, "access_key_id": "AKIA2", "secret_access_key": "new"}
    sleeps: list[float] = []
    iam = FakeIam({"AKIA1": "Active", "AKIA2": "Active"}, accepted_after=2)
    result = IamAccessKeyStrategy(iam, attempts=4, retry_seconds=1, sleep=sleeps.append).test(
        _ctx(CURRENT_KEY, pending)
    )
    assert "attempt 3" in result and iam.sts_calls == ["AKIA2"] * 3 and sleeps == [1, 2]
    never = FakeIam({}, accepted_after=99)
    with pytest.raises(RotationTestFailedError, match="after 4 attempts"):
        IamAccessKeyStrategy(never, attempts=4, sleep=lambda _: None).test(
            _ctx(CURRENT_KEY, pending)
        )
    assert len(never.sts_calls) == 4
    stranger = FakeIam({}, arn="arn:aws:sts::123456789012:user/moto")
    with pytest.raises(RotationTestFailedError, match="not as user ci"):
        IamAccessKeyStrategy(stranger, sleep=lambda _: None).test(_ctx(CURRENT_KEY, pending))


def test_the_sample_rotation_failed_event_becomes_a_failure_notice(repo_root: Any) -> None:
    from opswire.channels.notice import render_notice_email, render_notice_slack
    from opswire.rotation.monitor import failure_notice

    event = json.loads(
        (repo_root / "events/eventbridge/secretsmanager-rotation-failed.json").read_text()
    )
    notice = failure_notice(event, None)
    assert notice.title == "Secret rotation failed: opswire/rotated/example-api-key"
    assert dict(notice.facts)["Failed step"] == "testSecret"
    assert notice.link is not None and "name=opswire%2Frotated%2Fexample-api-key&" in notice.link
    slack = render_notice_slack(notice.model_copy(update={"summary": "<!channel> & co"}))
    assert "&lt;!channel&gt; &amp; co" in json.dumps(slack)
    assert "[FAILURE]" in render_notice_email(notice).subject
