"""A spec's secret as a resource: which of the stack's rotation functions rotates it, what
would make its first rotation fail (refused at plan), and its desired state. The same checks
for a user's access key secret."""

from typing import TYPE_CHECKING, Any

from opswire.provisioning.spec import Secret
from opswire.provisioning.spec_identity import User

if TYPE_CHECKING:
    from opswire.provisioning.resources_base import Context

KIND_TAG = "opswire:rotation-kind"
DATABASE_KINDS = frozenset({"postgres", "postgres-alternating"})


def rotation_function_for(ctx: "Context", kind: str) -> str:
    """The stack's function that rotates ``kind`` (template.yaml ROTATION_KINDS): the
    database one for PostgreSQL, the other for generic secrets, API keys and IAM keys."""
    return (
        ctx.database_rotation_function_arn if kind in DATABASE_KINDS else ctx.rotation_function_arn
    )


def secret_problems(s: Secret, ctx: "Context") -> list[str]:
    """A rotated secret needs the stack's function of its kind, and a name under the prefix
    that function may touch (else its first rotation fails with AccessDenied)."""
    if not s.rotation_days:
        return []
    where = f"secrets[{s.name}]"
    if not rotation_function_for(ctx, s.rotation_kind):
        return [
            f"{where}: rotation_kind {s.rotation_kind} needs the stack's rotation function "
            "of that kind (not configured)"
        ]
    prefix = ctx.rotated_secret_prefix
    if prefix and not s.name.startswith(prefix):
        return [
            f"{where}.name: a rotated secret must be named under the stack's rotation prefix "
            f"{prefix!r}, the only secrets its rotation functions may touch "
            f"(e.g. {prefix + s.name.split('/')[-1]!r})"
        ]
    return []


def user_key_problems(u: User, ctx: "Context") -> list[str]:
    """A user's rotated access key needs the stack's rotation function, a secret under the
    rotation prefix and a RotatedIamUserPath the user can be placed under (``user_path``:
    ``<RotatedIamUserPath><spec>/``, where the write function may create users and the
    rotation function rotate their keys)."""
    if not u.access_key or not u.access_key.rotation_days:
        return []
    where = f"users[{u.name}].access_key"
    if not ctx.rotation_function_arn:
        return [
            f"{where}: rotation_days needs the stack's rotation function "
            "(ROTATION_FUNCTION_ARN is not configured)"
        ]
    problems = []
    prefix, secret = ctx.rotated_secret_prefix, u.access_key.secret
    if prefix and not secret.startswith(prefix):
        problems.append(
            f"{where}.secret: a rotated key's secret must be named under the stack's rotation "
            f"prefix {prefix!r}, the only secrets its rotation function may touch "
            f"(e.g. {prefix + secret.split('/')[-1]!r})"
        )
    path = ctx.rotated_iam_user_path
    if not path:
        problems.append(
            f"{where}.rotation_days: needs the stack's RotatedIamUserPath, the path the user is "
            "placed under (ROTATED_IAM_USER_PATH is not configured)"
        )
    elif path == "/":
        problems.append(
            f"{where}.rotation_days: the stack's RotatedIamUserPath is '/', where the write "
            "function may create no user (it would reach every user of the account): deploy "
            "the stack with a path of its own, such as the default /opswire-rotated/"
        )
    return problems


def secret_desired(
    s: Secret, ctx: "Context", description: str, tags: dict[str, str]
) -> dict[str, Any]:
    """The desired state. The first value is create-only and never read back: the generator,
    or the name of the secret the CLI staged the team's value in (never the value itself)."""
    first: dict[str, Any] = (
        {"supplied": s.value_from.staged or ""}
        if s.value_from is not None
        else {"generate": {**s.generate.model_dump(), "kind": s.rotation_kind}}
    )
    return {
        "description": description,
        "kms_key": f"alias/{s.kms_key}" if s.kms_key else None,
        "rotation_days": s.rotation_days,
        "rotation_function": (
            rotation_function_for(ctx, s.rotation_kind) if s.rotation_days else None
        ),
        **first,
        "tags": {**tags, KIND_TAG: s.rotation_kind},
    }
