"""The spec expanded into resources: each one's kind, name and desired state (plain JSON).

Desired states are what the drivers compare with what they read, field by field; IAM policy
documents are generated in ``resources_iam`` from the spec's references. The shared types live
in ``resources_base`` and are re-exported here.
"""

from typing import Any

from opswire.core.errors import SpecValidationError
from opswire.provisioning.resources_base import (
    EXECUTION_TAG,
    IAM_PATH_ROOT,
    MANAGED_BY_TAG,
    SPEC_TAG,
    Context,
    Resource,
    canonical,
    iam_path,
    key_alias_arn,
    policy_arn,
    spec_owns_tag,
    spec_tags,
    tag_delta,
)
from opswire.provisioning.resources_iam import (
    grant_statements,
    key_grant_problems,
    key_policy_document,
    oidc_provider_resource,
    policy_document,
    policy_resource,
    role_resource,
    user_resource,
)
from opswire.provisioning.secret_resources import (
    secret_desired,
    secret_problems,
    user_key_problems,
)
from opswire.provisioning.spec import (
    Alarm,
    Bucket,
    EcrLifecycle,
    EcrRepository,
    KmsKey,
    LogGroup,
    ProjectSpec,
    Secret,
)
from opswire.provisioning.spec_notify import Topic

__all__ = [
    "EXECUTION_TAG",
    "IAM_PATH_ROOT",
    "KINDS",
    "MANAGED_BY_TAG",
    "SPEC_TAG",
    "Context",
    "Resource",
    "canonical",
    "expand",
    "grant_statements",
    "iam_path",
    "key_alias_arn",
    "policy_arn",
    "policy_document",
    "spec_owns_tag",
    "spec_tags",
    "tag_delta",
]

# Apply order; undo goes backwards (roles before the policies they attach, keys last).
KINDS = (
    "kms_key",
    "bucket",
    "ecr_repository",
    "log_group",
    "secret",
    "oidc_provider",
    "policy",
    "role",
    "user",
    "topic",
    "alarm",
)


def _bucket_policy(ctx: Context, name: str, deny_tls: bool, deny_unencrypted: str | None) -> Any:
    bucket = f"arn:{ctx.partition}:s3:::{name}"
    statements: list[dict[str, Any]] = []
    if deny_tls:
        statements.append(
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket, f"{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    if deny_unencrypted:
        statements += [
            {
                "Sid": "DenyUploadsWithoutEncryptionHeader",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{bucket}/*",
                "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
            },
            {
                "Sid": "DenyUploadsWithOtherEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{bucket}/*",
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": deny_unencrypted}
                },
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def expand(spec: ProjectSpec, ctx: Context) -> list[Resource]:
    """Every resource of the spec with its desired state, in apply order."""
    out = [
        *(_kms_key(spec, ctx, key) for key in spec.kms_keys),
        *(_bucket(spec, ctx, b) for b in spec.buckets),
        *(_ecr_repository(spec, r) for r in spec.ecr_repositories),
        *(_log_group(spec, ctx, g) for g in spec.log_groups),
        *(_secret(spec, ctx, s) for s in spec.secrets),
        *(oidc_provider_resource(spec, o) for o in spec.oidc_providers),
        *(policy_resource(spec, ctx, p) for p in spec.policies),
        *(role_resource(spec, ctx, role) for role in spec.roles),
        *(user_resource(spec, ctx, u) for u in spec.users),
        *(_topic(spec, t) for t in spec.topics),
        *(_alarm(spec, ctx, a) for a in spec.alarms),
    ]
    problems = _missing_stack_resources(spec, ctx)
    if problems:
        raise SpecValidationError(problems)
    if ctx.managed_by:
        for resource in out:
            resource.desired["tags"][MANAGED_BY_TAG] = ctx.managed_by
    return out


def _missing_stack_resources(spec: ProjectSpec, ctx: Context) -> list[str]:
    """What the spec points at in the stack that the context does not configure."""
    problems = key_grant_problems(spec, ctx)
    for g in spec.log_groups:
        if g.subscribe_to_shipper and not ctx.log_destination_arn:
            problems.append(
                f"log_groups[{g.name}]: subscribe_to_shipper needs the stack's log shipper "
                "(LOG_DESTINATION_ARN is not configured)"
            )
    for s in spec.secrets:
        problems += secret_problems(s, ctx)
    allowed = set(ctx.allowed_managed_policies)
    for kind, who in (("roles", spec.roles), ("users", spec.users)):
        for r in who:
            for name in r.managed_policies:
                if name not in allowed:
                    problems.append(
                        f"{kind}[{r.name}].managed_policies: {name!r} is not on the stack's "
                        f"allow-list (ProvisioningManagedPolicies: "
                        f"{', '.join(sorted(allowed)) or 'empty'})"
                    )
    for u in spec.users:
        problems += user_key_problems(u, ctx)
    for a in spec.alarms:
        if not ctx.alarm_topic_arn:
            problems.append(f"alarms[{a.name}]: needs the stack's AlarmTopic (not configured)")
    return problems


def _kms_key(spec: ProjectSpec, ctx: Context, key: KmsKey) -> Resource:
    return Resource(
        "kms_key",
        key.alias,
        {
            "description": key.description or f"{spec.name}: {key.alias}",
            "rotation": key.rotation,
            "key_policy": key_policy_document(spec, ctx, key),
            "tags": spec_tags(spec),
        },
    )


def _bucket(spec: ProjectSpec, ctx: Context, b: Bucket) -> Resource:
    encryption: dict[str, Any] = {"algorithm": "AES256", "kms_key": None}
    if b.encryption.type == "kms" and b.encryption.kms_key:
        encryption = {
            "algorithm": "aws:kms",
            "kms_key": key_alias_arn(ctx, b.encryption.kms_key),
        }
    header = encryption["algorithm"] if b.deny_unencrypted_uploads else None
    return Resource(
        "bucket",
        b.name,
        {
            "encryption": encryption,
            "versioning": "Enabled" if b.versioning else "Suspended",
            "public_access_block": {
                flag: b.block_public_access
                for flag in (
                    "BlockPublicAcls",
                    "IgnorePublicAcls",
                    "BlockPublicPolicy",
                    "RestrictPublicBuckets",
                )
            },
            "ownership": b.object_ownership,
            "policy": _bucket_policy(ctx, b.name, b.deny_insecure_transport, header),
            "folders": list(b.folders),
            "tags": spec_tags(spec),
        },
    )


def _ecr_repository(spec: ProjectSpec, r: EcrRepository) -> Resource:
    return Resource(
        "ecr_repository",
        r.name,
        {
            "scan_on_push": r.scan_on_push,
            "tag_mutability": r.tag_mutability,
            "lifecycle_policy": _lifecycle_policy(r.lifecycle),
            "tags": spec_tags(spec),
        },
    )


def _lifecycle_policy(lifecycle: EcrLifecycle | None) -> dict[str, Any] | None:
    if not (lifecycle and (lifecycle.keep_last or lifecycle.expire_untagged_days)):
        return None
    rules: list[dict[str, Any]] = []
    if lifecycle.expire_untagged_days:
        rules.append(
            {
                "rulePriority": 1,
                "description": "expire untagged images",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": lifecycle.expire_untagged_days,
                },
                "action": {"type": "expire"},
            }
        )
    if lifecycle.keep_last:
        rules.append(
            {
                "rulePriority": len(rules) + 1,
                "description": f"keep the newest {lifecycle.keep_last} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": lifecycle.keep_last,
                },
                "action": {"type": "expire"},
            }
        )
    return {"rules": rules}


def _log_group(spec: ProjectSpec, ctx: Context, g: LogGroup) -> Resource:
    return Resource(
        "log_group",
        g.name,
        {
            "retention_days": g.retention_days,
            "kms_key": key_alias_arn(ctx, g.kms_key) if g.kms_key else None,
            "subscription": ctx.log_destination_arn if g.subscribe_to_shipper else None,
            "tags": spec_tags(spec),
        },
    )


def _secret(spec: ProjectSpec, ctx: Context, s: Secret) -> Resource:
    description = s.description or f"{spec.name}: {s.name}"
    return Resource("secret", s.name, secret_desired(s, ctx, description, spec_tags(spec, s.tags)))


def _topic(spec: ProjectSpec, t: Topic) -> Resource:
    return Resource(
        "topic",
        t.name,
        {
            "kms_key": f"alias/{t.kms_key}" if t.kms_key else "alias/aws/sns",
            "subscriptions": sorted(s.key for s in t.subscriptions),
            "tags": spec_tags(spec),
        },
    )


def _alarm(spec: ProjectSpec, ctx: Context, a: Alarm) -> Resource:
    return Resource(
        "alarm",
        f"{ctx.alarm_prefix}{a.name}",
        {
            "namespace": a.namespace,
            "metric": a.metric,
            "dimensions": dict(sorted(a.dimensions.items())),
            "statistic": a.statistic,
            "period": a.period,
            "evaluation_periods": a.evaluation_periods,
            "threshold": a.threshold,
            "comparison": a.comparison,
            "treat_missing_data": a.treat_missing_data,
            "description": a.description or f"{spec.name}: {a.name}",
            "actions": [ctx.alarm_topic_arn] if ctx.alarm_topic_arn else [],
            "tags": spec_tags(spec, {**a.tags, **a.routing_tags()}),
        },
    )
