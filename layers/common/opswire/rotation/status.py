"""Rotation status of secrets: last and next rotation, overdue, stuck AWSPENDING.

Shared by the monitor's scheduled sweep and ``opswire secrets status``. Reads metadata only
(ListSecrets, ListSecretVersionIds), never a secret value.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from opswire.rotation.model import CURRENT, KIND_TAG, PENDING


class SecretLister(Protocol):
    def list_secrets(self, name_prefix: str) -> Iterable[dict[str, Any]]: ...

    def version_dates(self, secret_id: str) -> dict[str, datetime]: ...


class SecretReader(SecretLister, Protocol):
    """The lister, and one secret's DescribeSecret entry (the monitor's RotationFailed notice)."""

    def describe_entry(self, secret_id: str) -> dict[str, Any]: ...


class SecretStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    arn: str
    kind: str | None = None
    rotation_enabled: bool = False
    rotation_function: str | None = None
    rotation_days: int | None = None
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    pending_version: str | None = None
    pending_since: datetime | None = None
    overdue: bool = False
    stuck_pending: bool = False

    @property
    def problems(self) -> list[str]:
        found = []
        if self.overdue:
            due = self.next_rotation.strftime("%Y-%m-%d %H:%M UTC") if self.next_rotation else "?"
            found.append(f"rotation overdue (was due {due})")
        if self.stuck_pending:
            since = self.pending_since.strftime("%Y-%m-%d %H:%M UTC") if self.pending_since else "?"
            found.append(f"AWSPENDING stuck on version {self.pending_version} since {since}")
        return found


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def secret_status(
    entry: dict[str, Any],
    version_dates: dict[str, datetime] | None,
    now: datetime,
    overdue_grace: timedelta,
    pending_stuck_after: timedelta,
) -> SecretStatus:
    """Status of one ListSecrets/DescribeSecret entry; ``version_dates`` from
    ListSecretVersionIds (needed only when a version is AWSPENDING without AWSCURRENT)."""
    versions = entry.get("SecretVersionsToStages") or entry.get("VersionIdsToStages") or {}
    tags = {t["Key"]: t.get("Value", "") for t in entry.get("Tags") or []}
    rules = entry.get("RotationRules") or {}
    days = rules.get("AutomaticallyAfterDays")
    enabled = entry.get("RotationEnabled") is True
    last = _utc(entry.get("LastRotatedDate"))
    next_rotation = _utc(entry.get("NextRotationDate"))
    if next_rotation is None and enabled and isinstance(days, int) and days > 0:
        start = last or _utc(entry.get("CreatedDate"))
        next_rotation = start + timedelta(days=days) if start else None
    pending = next(
        (v for v, stages in versions.items() if PENDING in stages and CURRENT not in stages), None
    )
    pending_since = _utc((version_dates or {}).get(pending)) if pending else None
    stuck = pending is not None and (
        pending_since is None or now - pending_since >= pending_stuck_after
    )
    return SecretStatus(
        name=str(entry.get("Name") or entry["ARN"]),
        arn=str(entry["ARN"]),
        kind=tags.get(KIND_TAG),
        rotation_enabled=enabled,
        rotation_function=entry.get("RotationLambdaARN") or None,
        rotation_days=days if isinstance(days, int) else None,
        last_rotated=last,
        next_rotation=next_rotation,
        pending_version=pending,
        pending_since=pending_since,
        overdue=bool(enabled and next_rotation and now > next_rotation + overdue_grace),
        stuck_pending=stuck,
    )


def rotation_statuses(
    lister: SecretLister,
    name_prefix: str,
    now: datetime,
    overdue_grace: timedelta,
    pending_stuck_after: timedelta,
) -> Iterator[SecretStatus]:
    for entry in lister.list_secrets(name_prefix):
        versions = entry.get("SecretVersionsToStages") or {}
        has_pending = any(
            PENDING in stages and CURRENT not in stages for stages in versions.values()
        )
        dates = lister.version_dates(str(entry["ARN"])) if has_pending else None
        yield secret_status(entry, dates, now, overdue_grace, pending_stuck_after)
