"""The IAM part of ``ProjectSpec``: managed policies made of grants, roles and their trust, and
the rules the posture check shares with the spec validator (a spec the validator accepts never
fails them after apply)."""

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

_IAM = re.compile(r"^[\w+=,.@-]{1,64}$")
_AWS_MANAGED = re.compile(r"^(?:[\w+=.@-]+/)*[\w+=.@-]{1,128}$")

POSTURE_REFUSES = "the posture check after apply would refuse this: "


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- IAM: statements are generated from what the spec references ------------------------------
class BucketGrant(_Model):
    bucket: str
    prefix: str = ""
    """Restrict object access to this folder (``orders/``); ListBucket gets the same prefix."""


class ReadBucket(_Model):
    read_bucket: BucketGrant


class WriteBucket(_Model):
    write_bucket: BucketGrant


class PullImages(_Model):
    pull_images: str
    """An ECR repository from ``ecr_repositories``."""


class PushImages(_Model):
    push_images: str


class ReadSecret(_Model):
    read_secret: str
    """A secret from ``secrets`` (decrypting with its KMS key is granted too)."""


class WriteLogs(_Model):
    write_logs: str
    """A log group from ``log_groups``."""


class PutMetrics(_Model):
    put_metrics: str
    """A CloudWatch namespace (PutMetricData has no resource; the namespace is a condition)."""


def wildcard_actions(actions: Any) -> list[str]:
    """``*`` and ``service:*`` of a statement's Action (a string or a list)."""
    actions = [actions] if isinstance(actions, str) else list(actions or [])
    return [a for a in actions if a == "*" or a.endswith(":*")]


def any_resource(resources: Any) -> bool:
    """A statement's Resource (a string or a list) holds ``*``: every resource."""
    resources = [resources] if isinstance(resources, str) else list(resources or [])
    return "*" in resources


def wildcard_on_everything(statement: dict[str, Any]) -> str | None:
    """The posture check's rule for a policy statement, shared with the spec validator."""
    wild = wildcard_actions(statement.get("Action"))
    if wild and any_resource(statement.get("Resource")):
        return f"allows {wild} on resource *"
    return None


def anyone_may_assume(principal: Any) -> bool:
    """The posture check's rule for a trust policy principal."""
    return principal in ("*", {"AWS": "*"}, {"AWS": ["*"]})


def web_identity_unscoped(statement: dict[str, Any]) -> str | None:
    """The posture check's rule for a web-identity trust statement: without an exact ``sub``
    condition, every workflow of every repository the provider issues tokens for may assume the
    role (GitHub: all of github.com)."""
    principal = statement.get("Principal")
    if not (isinstance(principal, dict) and "Federated" in principal):
        return None
    conditions = statement.get("Condition") or {}
    subjects = [
        value
        for operator in ("StringEquals", "StringLike")
        for key, value in (conditions.get(operator) or {}).items()
        if key.endswith(":sub")
    ]
    audiences = [key for key in (conditions.get("StringEquals") or {}) if key.endswith(":aud")]
    values = [v for s in subjects for v in ([s] if isinstance(s, str) else s)]
    if not values or any("*" in v or "?" in v for v in values):
        return "web-identity trust without an exact sub condition"
    if not audiences:
        return "web-identity trust without an aud condition"
    return None


_OPERATOR = re.compile(
    r"^(?:ForAnyValue:|ForAllValues:)?(?:"
    r"String(?:Not)?Equals(?:IgnoreCase)?|String(?:Not)?Like|"
    r"Numeric(?:Not)?Equals|Numeric(?:Less|Greater)Than(?:Equals)?|"
    r"Date(?:Not)?Equals|Date(?:Less|Greater)Than(?:Equals)?|"
    r"Bool|BinaryEquals|(?:Not)?IpAddress|Arn(?:Not)?(?:Equals|Like))(?:IfExists)?$|^Null$"
)
_CONDITION_KEY = re.compile(r"^[a-zA-Z0-9-]+:[\w./:${}*?-]{1,200}$")
ConditionValue = str | bool | int | tuple[str | bool | int, ...]


def _condition_text(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_block(conditions: dict[str, dict[str, ConditionValue]]) -> dict[str, Any]:
    """The spec's ``conditions`` as an IAM ``Condition`` (values as strings, one or a list)."""
    block: dict[str, Any] = {}
    for operator, keys in conditions.items():
        block[operator] = {}
        for key, value in keys.items():
            if isinstance(value, tuple):
                texts = [_condition_text(v) for v in value]
                block[operator][key] = texts[0] if len(texts) == 1 else texts
            else:
                block[operator][key] = _condition_text(value)
    return block


class ExplicitStatement(_Model):
    """An escape hatch: written out in full. ``*`` actions or resources are only accepted here,
    and only with ``allow_wildcard: true``; a wildcard action on resource ``*`` never (the
    posture check refuses it after apply)."""

    actions: tuple[str, ...] = Field(min_length=1)
    resources: tuple[str, ...] = Field(min_length=1)
    allow_wildcard: bool = False
    conditions: dict[str, dict[str, ConditionValue]] = {}
    """IAM condition operators -> condition keys -> value(s), e.g.
    ``{StringEquals: {kms:ViaService: s3.eu-west-1.amazonaws.com}}``. A condition never makes a
    wildcard action on resource ``*`` acceptable."""

    @field_validator("conditions")
    @classmethod
    def _conditions(
        cls, value: dict[str, dict[str, ConditionValue]]
    ) -> dict[str, dict[str, ConditionValue]]:
        for operator, keys in value.items():
            if not _OPERATOR.match(operator):
                raise ValueError(f"{operator!r} is not an IAM condition operator")
            if not keys:
                raise ValueError(f"condition {operator} names no key")
            for key, given in keys.items():
                if not _CONDITION_KEY.match(key):
                    raise ValueError(f"{key!r} is not a condition key (service:name)")
                if given == () or given == "":
                    raise ValueError(f"condition {operator} {key} has no value")
        return value

    @model_validator(mode="after")
    def _wildcards(self) -> "ExplicitStatement":
        wild = [a for a in self.actions if a == "*" or a.endswith(":*")]
        if "*" in self.resources:
            wild.append("resource *")
        everything = wildcard_on_everything(
            {"Action": list(self.actions), "Resource": list(self.resources)}
        )
        if everything:
            raise ValueError(POSTURE_REFUSES + f"{everything} (name the resources)")
        if wild and not self.allow_wildcard:
            raise ValueError(
                f"wildcards {wild} need allow_wildcard: true "
                "(prefer a reference such as read_bucket)"
            )
        for action in self.actions:
            if action != "*" and ":" not in action:
                raise ValueError(f"action {action!r} is not service:Action")
        return self


class Explicit(_Model):
    statement: ExplicitStatement


_GRANTS: dict[str, type[_Model]] = {
    "read_bucket": ReadBucket,
    "write_bucket": WriteBucket,
    "pull_images": PullImages,
    "push_images": PushImages,
    "read_secret": ReadSecret,
    "write_logs": WriteLogs,
    "put_metrics": PutMetrics,
    "statement": Explicit,
}


def _grant_kind(value: Any) -> str | None:
    """The grant's class name, from its one key: a bad grant gets its own errors only, not
    those of every kind of grant (the class name is dropped from error locations)."""
    if isinstance(value, dict):
        return next((c.__name__ for k, c in _GRANTS.items() if k in value), None)
    return type(value).__name__


Grant = Annotated[
    Annotated[ReadBucket, Tag("ReadBucket")]
    | Annotated[WriteBucket, Tag("WriteBucket")]
    | Annotated[PullImages, Tag("PullImages")]
    | Annotated[PushImages, Tag("PushImages")]
    | Annotated[ReadSecret, Tag("ReadSecret")]
    | Annotated[WriteLogs, Tag("WriteLogs")]
    | Annotated[PutMetrics, Tag("PutMetrics")]
    | Annotated[Explicit, Tag("Explicit")],
    Discriminator(
        _grant_kind,
        custom_error_type="grant",
        custom_error_message=f"a grant is one of {', '.join(_GRANTS)}",
    ),
]


def iam_name(value: str, kind: str) -> str:
    """The name of a policy, role or user of the spec (``kind``), as IAM accepts it."""
    if not _IAM.match(value):
        raise ValueError(f"{value!r} is not a valid IAM {kind} name")
    return value


def aws_managed_policy_names(value: tuple[str, ...]) -> tuple[str, ...]:
    """A role's or user's ``managed_policies``: AWS managed policies by name, not ARN."""
    for name in value:
        if not _AWS_MANAGED.match(name) or name.startswith("arn:"):
            raise ValueError(f"{name!r} is not an AWS managed policy name (no ARN)")
    return value


AwsManagedPolicyNames = Annotated[tuple[str, ...], AfterValidator(aws_managed_policy_names)]


class ManagedPolicy(_Model):
    name: str
    description: str = ""
    grants: tuple[Grant, ...]

    @field_validator("grants")
    @classmethod
    def _some(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        # Not Field(min_length=1): that one also fires when a grant is invalid.
        if not value:
            raise ValueError("a policy needs at least one grant")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return iam_name(value, "policy")


_GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GIT_REF = re.compile(r"^[\w./-]{1,255}$")


class GitHubTrust(_Model):
    """GitHub Actions workflows of one repository, on these branches or in these deployment
    environments (each becomes one exact ``sub``; no wildcards)."""

    repo: str
    """``owner/name``."""
    branches: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not _GITHUB_REPO.match(value):
            raise ValueError(f"{value!r} is not a GitHub owner/name")
        return value

    @field_validator("branches", "environments")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _GIT_REF.match(name) or ".." in name:
                raise ValueError(f"{name!r} is not a branch or environment name (no wildcards)")
        return value

    @model_validator(mode="after")
    def _some(self) -> "GitHubTrust":
        if not (self.branches or self.environments):
            raise ValueError(
                POSTURE_REFUSES + "trust github needs branches or environments "
                "(a repository alone lets every workflow run of it assume the role)"
            )
        return self

    @property
    def subjects(self) -> list[str]:
        """The ``token.actions.githubusercontent.com:sub`` values GitHub puts in the token."""
        return [f"repo:{self.repo}:ref:refs/heads/{b}" for b in self.branches] + [
            f"repo:{self.repo}:environment:{e}" for e in self.environments
        ]


class Trust(_Model):
    service: str | None = None
    """e.g. ``ec2.amazonaws.com``."""
    aws: str | None = None
    """An account id or role ARN."""
    github: GitHubTrust | None = None
    """GitHub Actions OIDC (``sts:AssumeRoleWithWebIdentity``)."""

    @model_validator(mode="after")
    def _one(self) -> "Trust":
        if [self.service, self.aws, self.github].count(None) != 2:
            raise ValueError("trust needs exactly one of service, aws or github")
        if self.service is not None and not self.service.endswith(".amazonaws.com"):
            raise ValueError(f"trust service {self.service!r} is not *.amazonaws.com")
        if anyone_may_assume({"AWS": self.aws}):
            raise ValueError(POSTURE_REFUSES + "trust aws '*' lets anyone assume the role")
        return self


class Role(_Model):
    name: str
    description: str = ""
    trust: Trust
    policies: tuple[str, ...] = ()
    """Managed policies from ``policies``."""
    managed_policies: AwsManagedPolicyNames = ()
    """AWS managed policies by name (``AmazonEC2ContainerRegistryReadOnly``,
    ``service-role/AmazonECSTaskExecutionRolePolicy``): only those on the stack's allow-list
    (template parameter ``ProvisioningManagedPolicies``)."""
    max_session_seconds: int = Field(default=3600, ge=3600, le=43200)
    instance_profile: bool | None = None
    """An instance profile of the same name holding the role (what EC2 needs); default: yes
    when the trusted service is ec2.amazonaws.com."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return iam_name(value, "role")

    @field_validator("managed_policies")
    @classmethod
    def _managed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("managed_policies are listed twice")
        return value

    @property
    def wants_instance_profile(self) -> bool:
        if self.instance_profile is not None:
            return self.instance_profile
        return self.trust.service == "ec2.amazonaws.com"
