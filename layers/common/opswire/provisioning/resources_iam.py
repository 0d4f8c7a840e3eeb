"""The IAM part of the expanded spec: policy documents generated from the spec's references
(``read_bucket`` -> ``s3:GetObject`` on that bucket's objects and ``s3:ListBucket`` on the
bucket, nothing else) and the desired state of managed policies and roles."""

from typing import Any

from opswire.provisioning.resources_base import (
    Context,
    Resource,
    aws_managed_policy_arn,
    iam_path,
    policy_arn,
    spec_tags,
    user_path,
)
from opswire.provisioning.spec import KmsKey, ProjectSpec
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
    condition_block,
)
from opswire.provisioning.spec_identity import GITHUB_OIDC_URL, STS_AUDIENCE, OidcProvider, User


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
            statement: dict[str, Any] = {
                "Effect": "Allow",
                "Action": list(s.actions),
                "Resource": list(s.resources),
            }
            if s.conditions:
                statement["Condition"] = condition_block(s.conditions)
            return [statement]
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


def policy_resource(spec: ProjectSpec, ctx: Context, p: ManagedPolicy) -> Resource:
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


def oidc_provider_arn(ctx: Context, host: str) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account}:oidc-provider/{host}"


def oidc_provider_resource(spec: ProjectSpec, provider: OidcProvider) -> Resource:
    """Named by its host, as IAM names it. Thumbprints are compared only when the spec gives
    some: without, IAM keeps the thumbprint it fetched itself."""
    return Resource(
        "oidc_provider",
        provider.host,
        {
            "url": provider.url,
            "audiences": sorted(provider.audiences),
            **({"thumbprints": sorted(provider.thumbprints)} if provider.thumbprints else {}),
            "tags": spec_tags(spec),
        },
    )


def trust_statement(ctx: Context, role: Role) -> dict[str, Any]:
    trust = role.trust
    if trust.github is not None:
        host = GITHUB_OIDC_URL.removeprefix("https://")
        subjects = trust.github.subjects
        return {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn(ctx, host)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{host}:aud": STS_AUDIENCE,
                    f"{host}:sub": subjects[0] if len(subjects) == 1 else subjects,
                }
            },
        }
    principal = {"Service": trust.service} if trust.service else {"AWS": trust.aws}
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}


def role_resource(spec: ProjectSpec, ctx: Context, role: Role) -> Resource:
    return Resource(
        "role",
        role.name,
        {
            "path": iam_path(spec.name),
            "trust": {"Version": "2012-10-17", "Statement": [trust_statement(ctx, role)]},
            "policies": sorted(
                [policy_arn(ctx, spec.name, n) for n in role.policies]
                + [aws_managed_policy_arn(ctx, n) for n in role.managed_policies]
            ),
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


def role_arn(ctx: Context, spec_name: str, name: str) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account}:role{iam_path(spec_name)}{name}"


def key_policy_document(spec: ProjectSpec, ctx: Context, key: KmsKey) -> dict[str, Any]:
    """KMS's default policy (the account's IAM policies decide: never locked out) plus one
    statement per grant."""
    root = f"arn:{ctx.partition}:iam::{ctx.account}:root"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for index, grant in enumerate(key.key_policy):
        condition: dict[str, Any] = {}
        if grant.role is not None:
            principal = root
            condition["ArnEquals"] = {"aws:PrincipalArn": role_arn(ctx, spec.name, grant.role)}
        elif grant.stack_function is not None:
            principal = ctx.stack_function_role(grant.stack_function)
        else:
            principal = str(grant.role_arn)
        if grant.via:
            via = f"{grant.via}.{ctx.region}.amazonaws.com"
            condition["StringEquals"] = {"kms:ViaService": via}
        statement: dict[str, Any] = {
            "Sid": f"Grant{index}",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": grant.actions,
            "Resource": "*",
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": statements}


def key_grant_problems(spec: ProjectSpec, ctx: Context) -> list[str]:
    """A grant to one of the stack's functions needs that function's role in the context."""
    return [
        f"kms_keys[{key.alias}].key_policy: stack_function {grant.stack_function}: the stack "
        f"does not say that function's role ({grant.stack_function}RoleArn is not configured)"
        for key in spec.kms_keys
        for grant in key.key_policy
        if grant.stack_function and not ctx.stack_function_role(grant.stack_function)
    ]


ACCESS_KEY_KIND = "iam-access-key"
"""The rotation kind (and the secret JSON's ``kind``) of a user's access key secret."""


def user_resource(spec: ProjectSpec, ctx: Context, user: User) -> Resource:
    key = user.access_key
    rotated = bool(key and key.rotation_days)
    desired: dict[str, Any] = {
        "path": user_path(ctx, spec.name, rotated),
        "policies": sorted(
            [policy_arn(ctx, spec.name, n) for n in user.policies]
            + [aws_managed_policy_arn(ctx, n) for n in user.managed_policies]
        ),
        **({"permissions_boundary": ctx.permissions_boundary} if ctx.permissions_boundary else {}),
        "access_key_secret": key.secret if key else None,
        "tags": spec_tags(spec),
    }
    if key:
        desired["access_key"] = {  # create-only input: the driver never reads it back
            "kms_key": f"alias/{key.kms_key}" if key.kms_key else None,
            "description": user.description or f"{spec.name}: access key of {user.name}",
        }
        desired["rotation_days"] = key.rotation_days
        desired["rotation_function"] = ctx.rotation_function_arn if key.rotation_days else None
    return Resource("user", user.name, desired)
