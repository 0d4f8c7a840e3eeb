"""What every part of the expanded spec shares: the tags opswire sets, where a spec is applied
(``Context``), one resource's desired state (``Resource``), ARNs and the comparison of JSON
values. ``resources`` re-exports all of it."""

import json
from dataclasses import dataclass, field
from typing import Any

from opswire.provisioning.spec import ProjectSpec
from opswire.provisioning.spec_notify import (
    TAG_EMAIL,
    TAG_MENTION,
    TAG_ROUTE,
    TAG_RUNBOOK,
    TAG_SEVERITY,
    TAG_SLACK_CHANNEL,
)

SPEC_TAG = "opswire:spec"
EXECUTION_TAG = "opswire:execution"
MANAGED_BY_TAG = "opswire:managed-by"
"""Set at creation to the stack's name: the write function's IAM policy lets it tag, change
and delete only resources that carry it (docs/security.md)."""
IAM_PATH_ROOT = "/opswire/"
ROUTING_TAGS = frozenset(
    {TAG_SEVERITY, TAG_ROUTE, TAG_SLACK_CHANNEL, TAG_EMAIL, TAG_RUNBOOK, TAG_MENTION}
)
"""The only ``opswire:*`` keys a spec sets itself (an alarm's ``severity`` and ``route``)."""


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
    rotated_iam_user_path: str = ""
    """The IAM path of the only users whose access keys the rotation function may rotate (the
    stack's RotatedIamUserPath)."""
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


def rotated_path_usable(ctx: Context) -> bool:
    """Whether the stack's RotatedIamUserPath can hold a spec's users: set, and not ``/``
    (template.yaml gives the write function no user under the root: it would reach every
    user of the account)."""
    return ctx.rotated_iam_user_path not in ("", "/")


def user_path(ctx: Context, spec_name: str, rotated: bool) -> str:
    """Where a spec user lives: ``<RotatedIamUserPath><spec>/`` when its access key is rotated
    (the only users whose keys the stack's rotation function may rotate), else
    ``/opswire/<spec>/``. Plan refuses a rotated key when the rotated path is not usable."""
    if rotated and rotated_path_usable(ctx):
        return f"{ctx.rotated_iam_user_path}{spec_name}/"
    return iam_path(spec_name)


def user_paths(ctx: Context, spec_name: str) -> list[str]:
    """Both paths a spec's users may be under (one when they coincide)."""
    paths = [iam_path(spec_name), user_path(ctx, spec_name, rotated=True)]
    return sorted(set(paths))


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


def spec_owns_tag(key: str) -> bool:
    """Whether apply removes the tag ``key`` when the spec does not set it: the spec owns the
    tags of what it manages, hand-added ones included, except AWS's (``aws:*``, which no API
    call may change) and opswire's own (``opswire:spec``, ``opswire:managed-by``,
    ``opswire:execution`` ...: ownership and undo depend on them). The alarm routing tags are
    opswire keys a spec sets: they go when the spec stops setting them."""
    lowered = key.lower()
    if lowered.startswith("aws:"):
        return False
    return not lowered.startswith("opswire:") or key in ROUTING_TAGS


def tag_delta(desired: dict[str, str], current: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """What converges ``current`` tags on ``desired``: the tags to set (new or another value)
    and the keys to remove (``spec_owns_tag``). When something is to set, drivers send the
    whole desired set: the write function may tag only with ``opswire:managed-by`` = its stack
    in the request (template.yaml), and an untag needs none."""
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_remove = sorted(k for k in current if k not in desired and spec_owns_tag(k))
    return to_set, to_remove


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
