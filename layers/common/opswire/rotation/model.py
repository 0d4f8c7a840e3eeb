"""Values the rotation code passes around: secret metadata, secret values, step outcomes."""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from opswire.core.errors import RotationConfigurationError

Step = Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
STEPS: tuple[Step, ...] = ("createSecret", "setSecret", "testSecret", "finishSecret")

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"

KIND_TAG = "opswire:rotation-kind"


@dataclass(frozen=True)
class SecretMetadata:
    """What ``DescribeSecret`` says about a secret (no value)."""

    arn: str
    name: str
    rotation_enabled: bool | None
    """None when Secrets Manager omits ``RotationEnabled`` (rotation never configured)."""
    versions: Mapping[str, tuple[str, ...]]
    """VersionIdsToStages."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def version_with(self, stage: str) -> str | None:
        return next((v for v, stages in self.versions.items() if stage in stages), None)

    def stages_of(self, version_id: str) -> tuple[str, ...]:
        return tuple(self.versions.get(version_id, ()))


class SecretValue(Mapping[str, Any]):
    """A secret's JSON object. Its repr never shows a value, so it cannot leak into a log line
    or an error message by accident."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    @classmethod
    def parse(cls, text: str, what: str) -> "SecretValue":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            # No chaining: the decoder's exception keeps the document.
            raise RotationConfigurationError(f"{what} is not JSON") from None
        if not isinstance(data, dict):
            raise RotationConfigurationError(f"{what} is not a JSON object")
        return cls(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"SecretValue(keys={sorted(self._data)})"

    __str__ = __repr__

    def with_changes(self, **changes: Any) -> "SecretValue":
        return SecretValue({**self._data, **changes})

    def to_json(self) -> str:
        return json.dumps(self._data)

    def text(self, key: str, what: str) -> str:
        """A required non-empty string field."""
        value = self._data.get(key)
        if not isinstance(value, str) or not value:
            raise RotationConfigurationError(f"{what}: field {key!r} is missing or not a string")
        return value


@dataclass(frozen=True)
class RotationContext:
    """Everything a strategy sees during one step."""

    step: Step
    metadata: SecretMetadata
    token: str
    kind: str
    current: SecretValue
    pending: SecretValue | None = None
    previous: SecretValue | None = None

    @property
    def secret(self) -> str:
        """The secret's name, for messages."""
        return self.metadata.name

    def require_pending(self) -> SecretValue:
        if self.pending is None:
            from opswire.core.errors import RotationError

            raise RotationError(
                f"{self.step} of {self.secret}: version {self.token} has no AWSPENDING value "
                "(createSecret has not run)"
            )
        return self.pending


class StepOutcome(BaseModel):
    """What one invocation did (returned by the rotation function, logged without values)."""

    model_config = ConfigDict(frozen=True)

    step: Step
    secret: str
    token: str
    kind: str | None
    action: str
