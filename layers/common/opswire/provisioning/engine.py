"""Plan, idempotent apply, undo and posture over resource drivers.

A driver handles one kind of AWS resource (``opswire.provisioning.aws``; tests may pass
their own). ``read`` returns the current state in the shape of ``Resource.desired`` (or None when
the resource does not exist); ``create``/``update`` converge to the desired state; ``owned``
lists the names tagged with a spec, for the would-delete part of the plan; ``refusals`` says
what outside the resource would keep it from working as the spec says (a queue that does not let
a topic deliver): plan refuses the spec with those lines, before anything changes.

Tracking per execution: every resource an execution creates carries ``opswire:execution`` =
the execution id, and the plan (kept in the execution's state) holds the state of everything
that existed before. Undo deletes what carries this execution's tag and puts updated resources
back to the state the plan recorded; it never deletes anything else.
"""

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from opswire.core.errors import ResourceConflictError, SpecValidationError
from opswire.provisioning.resources import (
    EXECUTION_TAG,
    KINDS,
    SPEC_TAG,
    Context,
    Resource,
    canonical,
    expand,
    spec_owns_tag,
    tag_delta,
)
from opswire.provisioning.spec import ProjectSpec

Action = Literal["create", "update", "unchanged", "would-delete"]

CREATE_ONLY = frozenset({"generate", "supplied"})
"""Inputs of a create that are never read back nor shown in a plan (a secret's first value)."""


class Driver(Protocol):
    def read(self, resource: Resource) -> dict[str, Any] | None: ...

    def create(self, resource: Resource, tags: dict[str, str]) -> None: ...

    def update(self, resource: Resource, current: dict[str, Any]) -> None: ...

    def delete(self, resource: Resource) -> None: ...

    def owned(self, spec_name: str) -> list[str]: ...

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]: ...

    def refusals(self, resource: Resource) -> list[str]: ...


Drivers = Mapping[str, Driver]


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    current: Any = None
    desired: Any = None


class PlanItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    name: str
    action: Action
    changes: tuple[Change, ...] = ()
    before: dict[str, Any] | None = None
    """The state read when planning (updates only): what undo restores."""


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec: str
    environment: str
    items: tuple[PlanItem, ...]

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action == action)

    @property
    def has_changes(self) -> bool:
        return any(item.action != "unchanged" for item in self.items)

    @property
    def touches_existing(self) -> bool:
        """Updates or would-deletes: something that exists would change."""
        return any(item.action in ("update", "would-delete") for item in self.items)

    @property
    def needs_approval(self) -> bool:
        return self.touches_existing or self.environment == "prod"

    @property
    def summary(self) -> str:
        return ", ".join(
            f"{self.count(a)} {a}" for a in ("create", "update", "unchanged", "would-delete")
        )


class ApplyResult(BaseModel):
    kind: str
    name: str
    action: Action
    created: bool = False


class UndoResult(BaseModel):
    deleted: list[str] = []
    restored: list[str] = []
    kept: list[str] = []
    failed: list[str] = []


class PostureFinding(BaseModel):
    kind: str
    name: str
    problem: str


def diff(resource: Resource, current: dict[str, Any]) -> list[Change]:
    """Fields whose current value is not the desired one. Tags converge on the spec's: the
    desired ones must be present with these values, and every other key the spec owns
    (``spec_owns_tag``: not ``aws:*`` nor opswire's own) is removed. The tags change holds only
    the keys that change; a key to remove has the desired value None."""
    changes: list[Change] = []
    for field, desired in resource.desired.items():
        if field not in current or field in CREATE_ONLY:
            continue  # create-only input (a secret's first value), never read back
        value = current[field]
        if field == "tags":
            to_set, to_remove = tag_delta(desired, value)
            if to_set or to_remove:
                have = {k: value[k] for k in [*to_set, *to_remove] if k in value}
                wanted: dict[str, str | None] = {**to_set, **dict.fromkeys(to_remove)}
                changes.append(Change(field="tags", current=have, desired=wanted))
        elif canonical(value) != canonical(desired):
            changes.append(Change(field=field, current=value, desired=desired))
    return changes


def _check_owner(spec: ProjectSpec, resource: Resource, current: dict[str, Any]) -> None:
    owner = current.get("tags", {}).get(SPEC_TAG)
    if owner is not None and owner != spec.name:
        raise ResourceConflictError(
            f"{resource.key} belongs to spec {owner!r}, not {spec.name!r}: not taken over"
        )


def plan(spec: ProjectSpec, ctx: Context, drivers: Drivers) -> Plan:
    items: list[PlanItem] = []
    resources = expand(spec, ctx)
    refused = [line for r in resources for line in drivers[r.kind].refusals(r)]
    if refused:
        raise SpecValidationError(refused)
    declared = {r.key for r in resources}
    for resource in resources:
        current = drivers[resource.kind].read(resource)
        if current is None:
            items.append(
                PlanItem(
                    kind=resource.kind,
                    name=resource.name,
                    action="create",
                    changes=tuple(
                        Change(field=k, desired=v)
                        for k, v in resource.desired.items()
                        if k not in CREATE_ONLY
                    ),
                )
            )
            continue
        _check_owner(spec, resource, current)
        changes = diff(resource, current)
        items.append(
            PlanItem(
                kind=resource.kind,
                name=resource.name,
                action="update" if changes else "unchanged",
                changes=tuple(changes),
                before=current if changes else None,
            )
        )
    for kind in KINDS:
        for name in sorted(drivers[kind].owned(spec.name)):
            if f"{kind}:{name}" not in declared:
                items.append(PlanItem(kind=kind, name=name, action="would-delete"))
    return Plan(spec=spec.name, environment=spec.environment, items=tuple(items))


def find(spec: ProjectSpec, ctx: Context, kind: str, name: str) -> Resource:
    for resource in expand(spec, ctx):
        if resource.kind == kind and resource.name == name:
            return resource
    raise KeyError(f"{kind}:{name} is not in spec {spec.name}")


def apply_resource(
    spec: ProjectSpec, ctx: Context, resource: Resource, execution_id: str, drivers: Drivers
) -> ApplyResult:
    """Converge one resource; idempotent (a retry after a partial create finishes it)."""
    driver = drivers[resource.kind]
    current = driver.read(resource)
    if current is None:
        tags = {**resource.desired.get("tags", {}), EXECUTION_TAG: execution_id}
        try:
            driver.create(resource, tags)
        except Exception:
            # Remove what this step left half-made, then report the failure.
            left = driver.read(resource)
            if left is not None and left.get("tags", {}).get(EXECUTION_TAG) == execution_id:
                driver.delete(resource)
            raise
        return ApplyResult(kind=resource.kind, name=resource.name, action="create", created=True)
    _check_owner(spec, resource, current)
    if not diff(resource, current):
        return ApplyResult(kind=resource.kind, name=resource.name, action="unchanged")
    driver.update(resource, current)
    created = current.get("tags", {}).get(EXECUTION_TAG) == execution_id
    return ApplyResult(
        kind=resource.kind,
        name=resource.name,
        action="create" if created else "update",
        created=created,
    )


def apply_all(
    spec: ProjectSpec, ctx: Context, execution_id: str, drivers: Drivers
) -> list[ApplyResult]:
    """Every resource in order (what the state machine's Map does one item at a time)."""
    return [apply_resource(spec, ctx, r, execution_id, drivers) for r in expand(spec, ctx)]


def undo(
    spec: ProjectSpec,
    ctx: Context,
    execution_id: str,
    drivers: Drivers,
    before: Plan | None = None,
) -> UndoResult:
    """Delete what this execution created (tagged with its id), newest kind first; put updated
    resources back to the state recorded in ``before`` (the plan of this execution)."""
    result = UndoResult()
    previous = {
        f"{item.kind}:{item.name}": item.before
        for item in (before.items if before else ())
        if item.action == "update" and item.before is not None
    }
    for resource in reversed(expand(spec, ctx)):
        driver = drivers[resource.kind]
        try:
            current = driver.read(resource)
            if current is None:
                continue
            if current.get("tags", {}).get(EXECUTION_TAG) == execution_id:
                driver.delete(resource)
                result.deleted.append(resource.key)
            elif resource.key in previous:
                old = previous[resource.key]
                back = _restoring(resource, old, current)
                if diff(back, current):
                    driver.update(back, current)
                    result.restored.append(resource.key)
                else:
                    result.kept.append(resource.key)
            else:
                result.kept.append(resource.key)
        except Exception as exc:  # undo goes on: one stuck resource must not keep the rest
            result.failed.append(f"{resource.key}: {type(exc).__name__}: {exc}")
    return result


def _restoring(resource: Resource, old: dict[str, Any], current: dict[str, Any]) -> Resource:
    """``resource`` with the state the plan read as its desired state: the spec's tag keys as
    they were, opswire's own as they are now (``spec_owns_tag``)."""
    back = {k: v for k, v in old.items() if k in resource.desired and k != "tags"}
    if "tags" in old and "tags" in resource.desired:
        theirs = {k: v for k, v in old["tags"].items() if spec_owns_tag(k)}
        ours = {k: v for k, v in current.get("tags", {}).items() if not spec_owns_tag(k)}
        back["tags"] = {**theirs, **ours}
    return Resource(resource.kind, resource.name, back)


def verify(spec: ProjectSpec, ctx: Context, drivers: Drivers) -> list[PostureFinding]:
    """Posture of every resource: present, as the spec says (no drift), driver checks (public
    access blocked, encryption on, policy scoped), tags present."""
    findings: list[PostureFinding] = []
    for resource in expand(spec, ctx):
        driver = drivers[resource.kind]
        current = driver.read(resource)
        if current is None:
            findings.append(
                PostureFinding(kind=resource.kind, name=resource.name, problem="missing")
            )
            continue
        problems = list(driver.posture(resource, current))
        for change in diff(resource, current):
            if change.field == "tags":
                problems.append(_tag_problem(change))
            else:
                problems.append(f"{change.field} drifted from the spec")
        findings += [
            PostureFinding(kind=resource.kind, name=resource.name, problem=p) for p in problems
        ]
    return findings


def _tag_problem(change: Change) -> str:
    wrong = sorted(k for k, v in change.desired.items() if v is not None)
    extra = sorted(k for k, v in change.desired.items() if v is None)
    parts = ([f"missing or different: {wrong}"] if wrong else []) + (
        [f"not in the spec: {extra}"] if extra else []
    )
    return "tags " + "; ".join(parts)
