"""The rotation protocol engine and the strategies' own rules, with fakes of the collaborators."""

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from opswire.core.errors import (
    IamRetryableError,
    RotationConfigurationError,
    RotationError,
    RotationNotEnabledError,
    RotationTestFailedError,
    RotationTokenError,
    SecretStoreError,
)
from opswire.rotation.engine import run_step
from opswire.rotation.iam_keys import AccessKey, IamAccessKeyStrategy, NewAccessKey
from opswire.rotation.model import RotationContext, SecretMetadata, SecretValue

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:opswire/rotated/x-AbCdEf"


@dataclass
class FakeStore:
    """Secrets Manager's label rules, in memory."""

    values: dict[str, str]
    stages: dict[str, list[str]]
    rotation_enabled: bool | None = True
    tags: dict[str, str] = field(default_factory=dict)
    fail_put: bool = False
    calls: list[str] = field(default_factory=list)

    def describe(self, secret_id: str) -> SecretMetadata:
        return SecretMetadata(
            arn=ARN, name="opswire/rotated/x", rotation_enabled=self.rotation_enabled,
            versions={v: tuple(s) for v, s in self.stages.items()}, tags=self.tags,
        )  # fmt: skip

    def get_value(self, secret_id: str, stage: str, version_id: str | None = None) -> str | None:
        for version, labels in self.stages.items():
            if stage in labels and version_id in (None, version):
                return self.values.get(version)
        return None

    def put_pending(
        self, secret_id: str, token: str, value: str, rotation_token: str | None = None
    ) -> None:
        self.calls.append(f"put {token} rotation_token={rotation_token}")
        if self.fail_put:
            raise SecretStoreError("refused")
        assert token not in self.values, "AWS refuses a second value for a token"
        self.values[token] = value
        labels = self.stages.setdefault(token, [])
        if "AWSPENDING" not in labels:
            labels.append("AWSPENDING")

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        self.calls.append(f"move {stage} {from_version}->{to_version}")
        if from_version is not None:
            self.stages[from_version].remove(stage)
        if stage == "AWSCURRENT" and from_version is not None:
            for labels in self.stages.values():
                if "AWSPREVIOUS" in labels:
                    labels.remove("AWSPREVIOUS")
            self.stages[from_version].append("AWSPREVIOUS")
        if to_version is not None:
            self.stages[to_version].append(stage)


@dataclass
class FakeStrategy:
    calls: list[str] = field(default_factory=list)
    fail_test: bool = False

    def create(self, ctx: RotationContext) -> SecretValue:
        self.calls.append("create")
        return ctx.current.with_changes(value="new")

    def set(self, ctx: RotationContext) -> str:
        self.calls.append("set")
        return "set"

    def test(self, ctx: RotationContext) -> str:
        self.calls.append("test")
        if self.fail_test:
            raise RotationTestFailedError("refused")
        return "tested"

    def discard(self, ctx: RotationContext, value: SecretValue) -> None:
        self.calls.append("discard")

    def after_promotion(self, ctx: RotationContext) -> str:
        assert ctx.previous is not None
        self.calls.append(f"after {ctx.previous['value']}->{ctx.current['value']}")
        return "retired"


def _store(**overrides: Any) -> FakeStore:
    store = FakeStore(
        values={"v1": json.dumps({"kind": "fake", "value": "old"})},
        stages={"v1": ["AWSCURRENT"], "t": ["AWSPENDING"]},
    )
    for key, value in overrides.items():
        setattr(store, key, value)
    return store


def _run(step: str, store: FakeStore, strategy: FakeStrategy, token: str = "t") -> str:
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


@dataclass
class FakeIam:
    keys: dict[str, str]
    accepted_after: int = 0
    arn: str = "arn:aws:iam::123456789012:user/opswire-rotated/ci"
    sts_calls: list[str] = field(default_factory=list)

    def list_keys(self, user_name: str) -> list[AccessKey]:
        return [AccessKey(k, s) for k, s in self.keys.items()]

    def create_key(self, user_name: str) -> NewAccessKey:
        assert len(self.keys) < 2, "IAM allows two keys"
        key = f"AKIA{len(self.keys) + 10}"
        self.keys[key] = "Active"
        return NewAccessKey(key, "s3cr3t")

    def set_status(self, user_name: str, access_key_id: str, status: str) -> None:
        self.keys[access_key_id] = status

    def delete_key(self, user_name: str, access_key_id: str) -> None:
        self.keys.pop(access_key_id, None)

    def caller_arn(self, access_key_id: str, secret_access_key: str) -> str:
        self.sts_calls.append(access_key_id)
        if len(self.sts_calls) <= self.accepted_after:
            raise IamRetryableError("InvalidClientTokenId")
        return self.arn


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
