"""The spec expanded into resources: each one's kind, name and desired state (plain JSON).

Desired states are what the drivers compare with what they read, field by field; IAM policy
documents are generated here from the spec's references (``read_bucket`` -> ``s3:GetObject`` on
that bucket's objects and ``s3:ListBucket`` on the bucket, nothing else).
"""

import json
from dataclasses import dataclass, field
from typing import Any

from opswire.core.errors import SpecValidationError
from opswire.provisioning.secret_resources import secret_desired, secret_problems, staging_prefix
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
from opswire.provisioning.spec_iam import (
    Explicit,
    Grant,
    ManagedPolicy,
    PullImages,
    PushImages,
    PutMetrics,
    ReadBucket,
    ReadSecret,
    Role,
    WriteBucket,
    WriteLogs,
)

SPEC_TAG = "opswire:spec"
EXECUTION_TAG = "opswire:execution"
MANAGED_BY_TAG = "opswire:managed-by"
"""Set at creation to the stack's name: the write function's IAM policy lets it tag, change
and delete only resources that carry it (docs/security.md)."""
IAM_PATH_ROOT = "/opswire/"

# Apply order; undo goes backwards (roles before the policies they attach, keys last).
KINDS = ("kms_key", "bucket", "ecr_repository", "log_group", "secret", "policy", "role", "alarm")


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
    database_rotation_function_arn: str = ""
    """The stack's rotation function of PostgreSQL secrets (``rotation_function_arn``: the
    one of generic secrets, API keys and IAM access keys)."""
    rotated_secret_prefix: str = ""
    """The only names the rotation functions may touch (the stack's RotatedSecretPrefix)."""
    rotation_wait_seconds: float = 120.0
    """How long apply waits for the first rotation of a secret to finish."""

    @property
    def staging_prefix(self) -> str:
        """Where ``opswire provision apply`` stages values the team supplies (value_from)."""
        return staging_prefix(self)

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


def key_alias_arn(ctx: Context, alias: str) -> str:
    return (
        f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account}:alias/{alias.removeprefix('alias/')}"
    )


def spec_tags(spec: ProjectSpec, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**spec.tags, **(extra or {}), SPEC_TAG: spec.name}


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


def grant_statements(spec: ProjectSpec, ctx: Context, grant: Grant) -> list[dict[str, Any]]:
    """The least statements that give exactly what one reference means."""
    p, region, account = ctx.partition, ctx.region, ctx.account
    match grant:
        case ReadBucket(read_bucket=g) | WriteBucket(write_bucket=g):
            bucket = f"arn:{p}:s3:::{g.bucket}"
            objects = f"{bucket}/{g.prefix.strip('/') + '/' if g.prefix else ''}*"
            write = isinstance(grant, WriteBucket)
            listing: dict[str, Any] = {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
            }
            if g.prefix:
                prefix = g.prefix.strip("/") + "/"
                listing["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}
            actions = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if write else [])
            statements = [
                {"Effect": "Allow", "Action": actions, "Resource": [objects]},
                listing,
            ]
            bucket_spec = next(b for b in spec.buckets if b.name == g.bucket)
            if bucket_spec.encryption.kms_key:
                kms_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if write else [])
                statements.append(_kms_via(ctx, bucket_spec.encryption.kms_key, kms_actions, "s3"))
            return statements
        case PullImages(pull_images=repo) | PushImages(push_images=repo):
            arn = f"arn:{p}:ecr:{region}:{account}:repository/{repo}"
            actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
            if isinstance(grant, PushImages):
                actions += [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:CompleteLayerUpload",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ]
            return [
                {"Effect": "Allow", "Action": actions, "Resource": [arn]},
                # GetAuthorizationToken has no resource: AWS accepts only "*" here.
                {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
            ]
        case ReadSecret(read_secret=name):
            arn = f"arn:{p}:secretsmanager:{region}:{account}:secret:{name}-??????"
            statements = [
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": [arn],
                }
            ]
            secret = next(s for s in spec.secrets if s.name == name)
            if secret.kms_key:
                statements.append(_kms_via(ctx, secret.kms_key, ["kms:Decrypt"], "secretsmanager"))
            return statements
        case WriteLogs(write_logs=group):
            arn = f"arn:{p}:logs:{region}:{account}:log-group:{group}"
            return [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [f"{arn}:log-stream:*"],
                }
            ]
        case PutMetrics(put_metrics=namespace):
            return [
                {
                    "Effect": "Allow",
                    "Action": ["cloudwatch:PutMetricData"],
                    "Resource": ["*"],  # PutMetricData has no resource type
                    "Condition": {"StringEquals": {"cloudwatch:namespace": namespace}},
                }
            ]
        case Explicit(statement=s):
            return [{"Effect": "Allow", "Action": list(s.actions), "Resource": list(s.resources)}]
    raise AssertionError(f"unknown grant {grant!r}")  # pragma: no cover


def _kms_via(ctx: Context, alias: str, actions: list[str], service: str) -> dict[str, Any]:
    """Use of a spec key, only through the service that encrypted with it. The policy names the
    key by its alias: IAM matches a key ARN, so the alias goes in a condition instead."""
    return {
        "Effect": "Allow",
        "Action": actions,
        "Resource": [f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account}:key/*"],
        "Condition": {
            "StringEquals": {
                "kms:ViaService": f"{service}.{ctx.region}.amazonaws.com",
            },
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{alias}"},
        },
    }


def policy_document(spec: ProjectSpec, ctx: Context, policy: ManagedPolicy) -> dict[str, Any]:
    statements: list[dict[str, Any]] = []
    for grant in policy.grants:
        for statement in grant_statements(spec, ctx, grant):
            if statement not in statements:
                statements.append(statement)
    for index, statement in enumerate(statements):
        statement["Sid"] = f"S{index}"
    return {"Version": "2012-10-17", "Statement": statements}


def expand(spec: ProjectSpec, ctx: Context) -> list[Resource]:
    """Every resource of the spec with its desired state, in apply order."""
    out = [
        *(_kms_key(spec, key) for key in spec.kms_keys),
        *(_bucket(spec, ctx, b) for b in spec.buckets),
        *(_ecr_repository(spec, r) for r in spec.ecr_repositories),
        *(_log_group(spec, ctx, g) for g in spec.log_groups),
        *(_secret(spec, ctx, s) for s in spec.secrets),
        *(_policy(spec, ctx, p) for p in spec.policies),
        *(_role(spec, ctx, role) for role in spec.roles),
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
    problems: list[str] = []
    for g in spec.log_groups:
        if g.subscribe_to_shipper and not ctx.log_destination_arn:
            problems.append(
                f"log_groups[{g.name}]: subscribe_to_shipper needs the stack's log shipper "
                "(LOG_DESTINATION_ARN is not configured)"
            )
    for s in spec.secrets:
        problems += secret_problems(s, ctx)
    for a in spec.alarms:
        if not ctx.alarm_topic_arn:
            problems.append(f"alarms[{a.name}]: needs the stack's AlarmTopic (not configured)")
    return problems


def _kms_key(spec: ProjectSpec, key: KmsKey) -> Resource:
    return Resource(
        "kms_key",
        key.alias,
        {
            "description": key.description or f"{spec.name}: {key.alias}",
            "rotation": key.rotation,
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


def _policy(spec: ProjectSpec, ctx: Context, p: ManagedPolicy) -> Resource:
    return Resource(
        "policy",
        p.name,
        {
            "path": iam_path(spec.name),
            "description": p.description or f"{spec.name}: {p.name}",
            "document": policy_document(spec, ctx, p),
            "tags": spec_tags(spec),
        },
    )


def _role(spec: ProjectSpec, ctx: Context, role: Role) -> Resource:
    principal = {"Service": role.trust.service} if role.trust.service else {"AWS": role.trust.aws}
    return Resource(
        "role",
        role.name,
        {
            "path": iam_path(spec.name),
            "trust": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
                ],
            },
            "policies": sorted(policy_arn(ctx, spec.name, n) for n in role.policies),
            "max_session_seconds": role.max_session_seconds,
            "instance_profile": role.wants_instance_profile,
            "description": role.description or f"{spec.name}: {role.name}",
            **(
                {"permissions_boundary": ctx.permissions_boundary}
                if ctx.permissions_boundary
                else {}
            ),
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
            "tags": spec_tags(spec),
        },
    )


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
