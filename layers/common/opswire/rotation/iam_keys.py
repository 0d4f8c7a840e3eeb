"""IAM access keys (for example of a CI user): never more than two keys on the user.

Secret JSON::

    {"kind": "iam-access-key", "user_name": "ci-deployer",
     "access_key_id": "AKIA...", "secret_access_key": "..."}

- createSecret: delete the user's inactive keys other than the current one (the key retired by
  the last rotation), refuse if another *active* key is there (nobody knows its secret: a human
  decides), create the second key, store it as AWSPENDING (if storing fails, the new key is
  deleted again).
- testSecret: STS ``GetCallerIdentity`` signed with the NEW key, retried a bounded number of
  times while IAM propagates it; the caller must be the user.
- finishSecret (after AWSCURRENT moved): deactivate the previous key. It is deleted by the next
  rotation's createSecret, so a consumer still on the old key can be reactivated meanwhile.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from opswire.core.errors import (
    IamRetryableError,
    RotationConfigurationError,
    RotationError,
    RotationTestFailedError,
)
from opswire.rotation.model import RotationContext, SecretValue

MAX_KEYS = 2


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    status: str  # "Active" | "Inactive"


@dataclass(frozen=True)
class NewAccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)


class IamKeys(Protocol):
    """IAM and STS (``opswire.rotation.aws.iam_access_keys``)."""

    def list_keys(self, user_name: str) -> list[AccessKey]: ...

    def create_key(self, user_name: str) -> NewAccessKey: ...

    def set_status(self, user_name: str, access_key_id: str, status: str) -> None: ...

    def delete_key(self, user_name: str, access_key_id: str) -> None: ...

    def caller_arn(self, access_key_id: str, secret_access_key: str) -> str:
        """STS GetCallerIdentity signed with these credentials; ``IamRetryableError`` while the
        key is not valid yet."""
        ...


class PendingStore(Protocol):
    def put_pending(self, secret_id: str, token: str, value: str) -> None: ...


class IamAccessKeyStrategy:
    """``iam-access-key``."""

    def __init__(
        self,
        iam: IamKeys,
        attempts: int = 6,
        retry_seconds: float = 2.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        import time

        self._iam = iam
        self._attempts = attempts
        self._retry_seconds = retry_seconds
        self._sleep = sleep or time.sleep

    def create(self, ctx: RotationContext) -> SecretValue:
        user, current_id = _user_and_key(ctx.current, ctx.secret)
        keys = self._iam.list_keys(user)
        for key in keys:
            if key.access_key_id != current_id and key.status == "Inactive":
                self._iam.delete_key(user, key.access_key_id)
        others = [
            k
            for k in self._iam.list_keys(user)
            if k.access_key_id != current_id and k.status != "Inactive"
        ]
        if others:
            raise RotationError(
                f"{ctx.secret}: {user} has another active access key "
                f"({', '.join(k.access_key_id for k in others)}) that is not in the secret; "
                "deactivate or delete it, then rotate again"
            )
        new = self._iam.create_key(user)
        return ctx.current.with_changes(
            access_key_id=new.access_key_id, secret_access_key=new.secret_access_key
        )

    def discard(self, ctx: RotationContext, value: SecretValue) -> None:
        """Delete a key created by ``create`` that could not be stored."""
        user, key_id = _user_and_key(value, ctx.secret)
        self._iam.delete_key(user, key_id)

    def set(self, ctx: RotationContext) -> str:
        return "nothing to install: IAM made the key active when it created it"

    def test(self, ctx: RotationContext) -> str:
        pending = ctx.require_pending()
        user, key_id = _user_and_key(pending, ctx.secret)
        secret_key = pending.text("secret_access_key", f"{ctx.secret} AWSPENDING")
        delay = self._retry_seconds
        for attempt in range(1, self._attempts + 1):
            try:
                arn = self._iam.caller_arn(key_id, secret_key)
            except IamRetryableError:
                if attempt == self._attempts:
                    raise RotationTestFailedError(
                        f"{ctx.secret}: the new key {key_id} was not accepted by STS after "
                        f"{self._attempts} attempts"
                    ) from None
                self._sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if arn.rsplit("/", 1)[-1] != user or ":user/" not in arn:
                raise RotationTestFailedError(
                    f"{ctx.secret}: the new key {key_id} signs as {arn}, not as user {user}"
                )
            return f"STS accepted the new key {key_id} as {arn} (attempt {attempt})"
        raise AssertionError("unreachable")  # pragma: no cover

    def after_promotion(self, ctx: RotationContext) -> str:
        if ctx.previous is None:
            return "no AWSPREVIOUS key to deactivate"
        user, current_id = _user_and_key(ctx.current, ctx.secret)
        _, previous_id = _user_and_key(ctx.previous, ctx.secret)
        if previous_id == current_id:
            return ""
        for key in self._iam.list_keys(user):
            if key.access_key_id == previous_id and key.status == "Active":
                self._iam.set_status(user, previous_id, "Inactive")
                return f"deactivated the previous key {previous_id}"
        return f"the previous key {previous_id} is already inactive or gone"


def _user_and_key(value: SecretValue, what: str) -> tuple[str, str]:
    user = value.text("user_name", what)
    key_id = value.text("access_key_id", what)
    if "/" in user:
        raise RotationConfigurationError(f"{what}: 'user_name' is a name, not a path")
    return user, key_id
