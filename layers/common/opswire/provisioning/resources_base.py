"""What every part of the expanded spec shares: the tags opswire sets, where a spec is applied
(``Context``), one resource's desired state (``Resource``), ARNs and the comparison of JSON
values. ``resources`` re-exports all of it."""

import json
from dataclasses import dataclass, field
from typing import Any

from opswire.provisioning.spec import ProjectSpec

SPEC_TAG = "opswire:spec"
EXECUTION_TAG = "opswire:execution"
MANAGED_BY_TAG = "opswire:managed-by"
"""Set at creation to the stack's name: the write function's IAM policy lets it tag, change
and delete only resources that carry it (docs/security.md)."""
IAM_PATH_ROOT = "/opswire/"


@dataclass(frozen=True)
class Context:
    """Where the spec is applied, and the stack's resources it may point at."""

    account: str
    region: str
    partition: str = "aws"
    alarm_topic_arn: str = ""
    log_destination_arn: str = ""
    rotation_function_arn: str = ""
    managed_by: str = ""
    """The stack's name: every resource gets ``opswire:managed-by`` = it; alarms are named
    ``<stack>/<alarm>`` (the only alarm names the write function may touch)."""
    permissions_boundary: str = ""
    """The permissions boundary every role gets (empty: none, e.g. a local run)."""
    allowed_managed_policies: tuple[str, ...] = ()
    """AWS managed policy names roles may get (the stack owner's allow-list)."""
    database_rotation_function_arn: str = ""
    """The stack's rotation function of PostgreSQL secrets (``rotation_function_arn``: the
    one of generic secrets, API keys and IAM access keys)."""
    rotated_secret_prefix: str = ""
    """The only names the rotation functions may touch (the stack's RotatedSecretPrefix)."""
    rotation_function_role_arn: str = ""
    database_rotation_function_role_arn: str = ""
    """The execution roles of the two rotation functions (key policy grants name them)."""
    rotation_wait_seconds: float = 120.0
    """How long apply waits for the first rotation of a secret to finish."""

    def stack_function_role(self, logical_id: str) -> str:
        """The execution role of the stack's function ``logical_id`` ("" when not configured)."""
        return {
            "SecretRotationFunction": self.rotation_function_role_arn,
            "DatabaseRotationFunction": self.database_rotation_function_role_arn,
        }.get(logical_id, "")

    @property
    def staging_prefix(self) -> str:
        """Where ``opswire provision apply`` stages values the team supplies (value_from)."""
        return f"opswire-supplied/{self.managed_by or 'local'}/"

    @property
    def alarm_prefix(self) -> str:
        return f"{self.managed_by}/" if self.managed_by else ""


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    desired: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def iam_path(spec_name: str) -> str:
    return f"{IAM_PATH_ROOT}{spec_name}/"


def policy_arn(ctx: Context, spec_name: str, name: str) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account}:policy{iam_path(spec_name)}{name}"


def aws_managed_policy_arn(ctx: Context, name: str) -> str:
    return f"arn:{ctx.partition}:iam::aws:policy/{name}"


def key_alias_arn(ctx: Context, alias: str) -> str:
    return (
        f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account}:alias/{alias.removeprefix('alias/')}"
    )


def spec_tags(spec: ProjectSpec, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**spec.tags, **(extra or {}), SPEC_TAG: spec.name}


def canonical(value: Any) -> str:
    """A stable text form for comparing JSON values (policies come back reordered)."""
    return json.dumps(_normalize(value), sort_keys=True)


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalize(v) for v in value]
        if len(items) == 1 and not isinstance(items[0], (dict, list)):
            return items[0]  # IAM: "Action": ["x"] == "Action": "x"
        return items
    return value
