"""Fakes of the rotation ports: Secrets Manager's version labels, a strategy, IAM and STS."""

from dataclasses import dataclass, field

from opswire.core.errors import IamRetryableError, RotationTestFailedError, SecretStoreError
from opswire.rotation.engine import RotationStrategy, SecretStore
from opswire.rotation.iam_keys import AccessKey, IamKeys, NewAccessKey
from opswire.rotation.model import RotationContext, SecretMetadata, SecretValue

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:opswire/rotated/x-AbCdEf"


@dataclass
class FakeSecretStore(SecretStore):
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
class FakeStrategy(RotationStrategy):
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


@dataclass
class FakeIam(IamKeys):
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
