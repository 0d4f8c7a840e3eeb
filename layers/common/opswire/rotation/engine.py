"""The Secrets Manager rotation protocol, once for every kind of secret.

Secrets Manager calls the rotation function four times per rotation with the same
``ClientRequestToken`` (the id of the new version it created with the AWSPENDING label):

1. ``createSecret``: make the new credential and store it as AWSPENDING under the token;
2. ``setSecret``: install it where it is checked (database role, ...);
3. ``testSecret``: prove it works;
4. ``finishSecret``: move AWSCURRENT to the token's version (AWSPREVIOUS follows the old one),
   remove AWSPENDING, then let the strategy retire the old credential.

Guards, before any step: rotation must not be switched off (``RotationEnabled`` false; an
absent field is not an error, Secrets Manager omits it for secrets whose rotation was never
configured), the token must be a version of the secret, a token that is already AWSCURRENT
means the work is done (no-op; ``finishSecret`` only re-runs its idempotent tail), and the
token's version must carry AWSPENDING. Every step can run twice: what is already done is seen
and skipped.
"""

from collections.abc import Mapping
from typing import Protocol

from opswire.core.errors import (
    RotationConfigurationError,
    RotationError,
    RotationNotEnabledError,
    RotationTokenError,
)
from opswire.rotation.model import (
    CURRENT,
    KIND_TAG,
    PENDING,
    PREVIOUS,
    RotationContext,
    SecretMetadata,
    SecretValue,
    Step,
    StepOutcome,
)


class SecretStore(Protocol):
    """Secrets Manager, as far as the protocol needs it (``rotation.aws.secret_store``)."""

    def describe(self, secret_id: str) -> SecretMetadata: ...

    def get_value(self, secret_id: str, stage: str, version_id: str | None = None) -> str | None:
        """The value of the version with ``stage`` (and ``version_id`` if given); None when
        there is no such version or it has no value yet."""
        ...

    def put_pending(
        self, secret_id: str, token: str, value: str, rotation_token: str | None = None
    ) -> None: ...

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None: ...


class RotationStrategy(Protocol):
    """How one kind of secret makes, installs, tests and retires credentials."""

    def create(self, ctx: RotationContext) -> SecretValue:
        """The new (pending) secret value, derived from ``ctx.current``."""
        ...

    def set(self, ctx: RotationContext) -> str:
        """Install ``ctx.pending``; return what was done. Must be safe to repeat."""
        ...

    def test(self, ctx: RotationContext) -> str:
        """Raise ``RotationTestFailedError`` unless ``ctx.pending`` works."""
        ...

    def discard(self, ctx: RotationContext, value: SecretValue) -> None:
        """``create`` made ``value`` but it could not be stored: undo what ``create`` did."""
        ...

    def after_promotion(self, ctx: RotationContext) -> str:
        """After AWSCURRENT moved: ``ctx.current`` is the new value, ``ctx.previous`` the old.
        Must be safe to repeat (it runs again when finishSecret is retried)."""
        ...


def secret_kind(metadata: SecretMetadata, current: SecretValue) -> str:
    """``"kind"`` in the secret's JSON, else the ``opswire:rotation-kind`` tag."""
    kind = current.get("kind") or metadata.tags.get(KIND_TAG)
    if not isinstance(kind, str) or not kind:
        raise RotationConfigurationError(
            f'{metadata.name}: no rotation kind (set "kind" in the secret JSON or the '
            f"{KIND_TAG!r} tag)"
        )
    return kind


def run_step(
    step: Step,
    secret_id: str,
    token: str,
    store: SecretStore,
    strategies: Mapping[str, RotationStrategy],
    rotation_token: str | None = None,
) -> StepOutcome:
    """Run one rotation step with the protocol guards; return what it did.

    ``rotation_token`` (the event's ``RotationToken``, when Secrets Manager sends one) goes
    with PutSecretValue: Secrets Manager requires it when the function runs under an assumed
    role or in another account."""
    metadata = store.describe(secret_id)
    if metadata.rotation_enabled is False:
        raise RotationNotEnabledError(f"{metadata.name}: rotation is not enabled")
    if token not in metadata.versions:
        raise RotationTokenError(f"{metadata.name}: version {token} is not a version of the secret")
    stages = metadata.stages_of(token)
    arn = metadata.arn

    def outcome(kind: str | None, action: str) -> StepOutcome:
        return StepOutcome(step=step, secret=metadata.name, token=token, kind=kind, action=action)

    if CURRENT in stages:
        if step != "finishSecret":
            return outcome(None, "nothing to do: the version is already AWSCURRENT")
        return _finish_tail(metadata, token, store, strategies, outcome)
    if PENDING not in stages:
        raise RotationTokenError(
            f"{metadata.name}: version {token} is not AWSPENDING (stages: {list(stages)})"
        )

    current = _required_value(store, metadata, CURRENT)
    kind = secret_kind(metadata, current)
    strategy = _strategy(strategies, kind, metadata)
    pending_text = store.get_value(arn, PENDING, version_id=token)
    pending = (
        SecretValue.parse(pending_text, f"{metadata.name} AWSPENDING")
        if pending_text is not None
        else None
    )
    ctx = RotationContext(
        step=step, metadata=metadata, token=token, kind=kind, current=current, pending=pending
    )

    if step == "createSecret":
        if pending is not None:
            return outcome(kind, "nothing to do: AWSPENDING already has a value")
        new_value = strategy.create(ctx)
        try:
            store.put_pending(arn, token, new_value.to_json(), rotation_token)
        except Exception:
            strategy.discard(ctx, new_value)
            raise
        return outcome(kind, "stored the new value as AWSPENDING")
    if step == "setSecret":
        ctx.require_pending()
        return outcome(kind, strategy.set(_with_previous(ctx, store)))
    if step == "testSecret":
        ctx.require_pending()
        return outcome(kind, strategy.test(ctx))
    # finishSecret
    ctx.require_pending()
    current_version = metadata.version_with(CURRENT)
    store.move_stage(arn, CURRENT, to_version=token, from_version=current_version)
    refreshed = store.describe(secret_id)
    return _finish_tail(refreshed, token, store, strategies, outcome, promoted=True)


def _finish_tail(
    metadata: SecretMetadata,
    token: str,
    store: SecretStore,
    strategies: Mapping[str, RotationStrategy],
    outcome: "_OutcomeFactory",
    promoted: bool = False,
) -> StepOutcome:
    """After AWSCURRENT is on the token: drop AWSPENDING, let the strategy retire the old
    credential. Idempotent, so a retried finishSecret completes what a failed one left."""
    actions = ["moved AWSCURRENT to the new version"] if promoted else []
    if PENDING in metadata.stages_of(token):
        store.move_stage(metadata.arn, PENDING, to_version=None, from_version=token)
        actions.append("removed AWSPENDING")
    current = _required_value(store, metadata, CURRENT)
    kind = secret_kind(metadata, current)
    previous_text = store.get_value(metadata.arn, PREVIOUS)
    previous = (
        SecretValue.parse(previous_text, f"{metadata.name} AWSPREVIOUS")
        if previous_text is not None
        else None
    )
    ctx = RotationContext(
        step="finishSecret",
        metadata=metadata,
        token=token,
        kind=kind,
        current=current,
        pending=current,
        previous=previous,
    )
    actions.append(_strategy(strategies, kind, metadata).after_promotion(ctx))
    if not promoted and len(actions) == 1:
        actions.insert(0, "the version is already AWSCURRENT")
    return outcome(kind, "; ".join(a for a in actions if a))


class _OutcomeFactory(Protocol):
    def __call__(self, kind: str | None, action: str) -> StepOutcome: ...


def _required_value(store: SecretStore, metadata: SecretMetadata, stage: str) -> SecretValue:
    text = store.get_value(metadata.arn, stage)
    if text is None:
        raise RotationError(f"{metadata.name}: there is no {stage} value to rotate from")
    return SecretValue.parse(text, f"{metadata.name} {stage}")


def _with_previous(ctx: RotationContext, store: SecretStore) -> RotationContext:
    text = store.get_value(ctx.metadata.arn, PREVIOUS)
    if text is None:
        return ctx
    previous = SecretValue.parse(text, f"{ctx.secret} AWSPREVIOUS")
    return RotationContext(
        step=ctx.step,
        metadata=ctx.metadata,
        token=ctx.token,
        kind=ctx.kind,
        current=ctx.current,
        pending=ctx.pending,
        previous=previous,
    )


def _strategy(
    strategies: Mapping[str, RotationStrategy], kind: str, metadata: SecretMetadata
) -> RotationStrategy:
    strategy = strategies.get(kind)
    if strategy is None:
        raise RotationConfigurationError(
            f"{metadata.name}: kind {kind!r} is not rotated by this function "
            f"(it rotates: {', '.join(sorted(strategies)) or 'nothing'})"
        )
    return strategy
