"""``ProjectSpec``: the declared project, read from YAML, with clear validation errors."""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opswire.core.errors import SpecValidationError

_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ECR = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_IAM = re.compile(r"^[\w+=,.@-]{1,64}$")
_SECRET = re.compile(r"^[\w/+=.@-]{1,512}$")
_LOG_GROUP = re.compile(r"^[\w/.#-]{1,512}$")
_ALIAS = re.compile(r"^[\w/-]{1,250}$")
_SPEC_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")

POSTURE_REFUSES = "the posture check after apply would refuse this: "

RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip


def _user_tags(value: dict[str, str]) -> dict[str, str]:
    """aws:* and opswire:* keys are not the spec's (opswire:managed-by decides what the
    workflow may change)."""
    for key in value:
        if key.lower().startswith(("aws:", "opswire:")) or not _TAG_KEY.match(key):
            raise ValueError(f"tag key {key!r} is reserved or invalid")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Encryption(_Model):
    type: Literal["sse-s3", "kms"] = "sse-s3"
    kms_key: str | None = None
    """``kms``: the alias (without ``alias/``) of a key declared under ``kms_keys``."""

    @model_validator(mode="after")
    def _key(self) -> "Encryption":
        if self.type == "kms" and not self.kms_key:
            raise ValueError("encryption type kms needs kms_key (an alias from kms_keys)")
        if self.type == "sse-s3" and self.kms_key:
            raise ValueError("kms_key is only for encryption type kms")
        return self


class Bucket(_Model):
    name: str
    folders: tuple[str, ...] = ()
    encryption: Encryption = Encryption()
    versioning: bool = True
    block_public_access: bool = True
    object_ownership: Literal["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"] = (
        "BucketOwnerEnforced"
    )
    deny_insecure_transport: bool = True
    deny_unencrypted_uploads: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError(
                f"{value!r} is not a valid S3 bucket name "
                "(3-63 lowercase letters, digits, '.', '-')"
            )
        return value

    @field_validator("folders")
    @classmethod
    def _folders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for folder in value:
            clean = folder.strip().strip("/")
            if not clean or clean.startswith(".") or "//" in clean:
                raise ValueError(f"folder {folder!r} is not a valid prefix")
            out.append(clean + "/")
        if len(set(out)) != len(out):
            raise ValueError("folders are listed twice")
        return tuple(out)


class EcrLifecycle(_Model):
    keep_last: int | None = Field(default=None, ge=1, le=10000)
    """Keep only the newest N images."""
    expire_untagged_days: int | None = Field(default=None, ge=1, le=3650)


class EcrRepository(_Model):
    name: str
    scan_on_push: bool = True
    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "IMMUTABLE"
    lifecycle: EcrLifecycle | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not (2 <= len(value) <= 256 and _ECR.match(value)):
            raise ValueError(f"{value!r} is not a valid ECR repository name")
        return value


class KmsKey(_Model):
    alias: str
    description: str = ""
    rotation: bool = True
    """Must stay on: the posture check refuses a key without rotation."""

    @field_validator("rotation")
    @classmethod
    def _rotation(cls, value: bool) -> bool:
        if not value:
            raise ValueError(POSTURE_REFUSES + "key rotation off (leave rotation: true)")
        return value

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        value = value.removeprefix("alias/")
        if not _ALIAS.match(value) or value.startswith("aws/"):
            raise ValueError(f"{value!r} is not a valid KMS alias name (and aws/ is reserved)")
        return value


class Generate(_Model):
    length: int = Field(default=32, ge=8, le=4096)
    exclude_punctuation: bool = True
    key: str = "value"
    """The JSON key the generated value is stored under."""


class Secret(_Model):
    name: str
    description: str = ""
    kms_key: str | None = None
    """Alias (from ``kms_keys``) of the key that encrypts the secret; none = aws/secretsmanager."""
    tags: dict[str, str] = {}
    generate: Generate = Generate()
    rotation_days: int | None = Field(default=None, ge=1, le=1000)
    """Rotate every N days through the stack's rotation function (when it is deployed)."""
    rotation_kind: str = "generic"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SECRET.match(value):
            raise ValueError(f"{value!r} is not a valid secret name")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _user_tags(value)


class LogGroup(_Model):
    name: str
    retention_days: int = 30
    subscribe_to_shipper: bool = False
    kms_key: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _LOG_GROUP.match(value):
            raise ValueError(f"{value!r} is not a valid log group name")
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(
                f"retention_days {value} is not one CloudWatch Logs accepts "
                f"({', '.join(str(d) for d in sorted(RETENTION_DAYS))})"
            )
        return value


class Alarm(_Model):
    name: str
    namespace: str
    metric: str
    dimensions: dict[str, str] = {}
    statistic: Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"] = "Average"
    period: int = Field(default=300, ge=10)
    evaluation_periods: int = Field(default=1, ge=1)
    threshold: float
    comparison: Literal[
        "GreaterThanThreshold",
        "GreaterThanOrEqualToThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
    ] = "GreaterThanThreshold"
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "missing"
    description: str = ""


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


class ExplicitStatement(_Model):
    """An escape hatch: written out in full. ``*`` actions or resources are only accepted here,
    and only with ``allow_wildcard: true``; a wildcard action on resource ``*`` never (the
    posture check refuses it after apply)."""

    actions: tuple[str, ...] = Field(min_length=1)
    resources: tuple[str, ...] = Field(min_length=1)
    allow_wildcard: bool = False

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


Grant = (
    ReadBucket
    | WriteBucket
    | PullImages
    | PushImages
    | ReadSecret
    | WriteLogs
    | PutMetrics
    | Explicit
)


class ManagedPolicy(_Model):
    name: str
    description: str = ""
    grants: tuple[Grant, ...] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IAM.match(value):
            raise ValueError(f"{value!r} is not a valid IAM policy name")
        return value


class Trust(_Model):
    service: str | None = None
    """e.g. ``ec2.amazonaws.com``."""
    aws: str | None = None
    """An account id or role ARN."""

    @model_validator(mode="after")
    def _one(self) -> "Trust":
        if (self.service is None) == (self.aws is None):
            raise ValueError("trust needs exactly one of service or aws")
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
    max_session_seconds: int = Field(default=3600, ge=3600, le=43200)
    instance_profile: bool | None = None
    """An instance profile of the same name holding the role (what EC2 needs); default: yes
    when the trusted service is ec2.amazonaws.com."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IAM.match(value):
            raise ValueError(f"{value!r} is not a valid IAM role name")
        return value

    @property
    def wants_instance_profile(self) -> bool:
        if self.instance_profile is not None:
            return self.instance_profile
        return self.trust.service == "ec2.amazonaws.com"


class ProjectSpec(_Model):
    name: str
    environment: Literal["dev", "staging", "prod"] = "dev"
    description: str = ""
    tags: dict[str, str] = {}
    kms_keys: tuple[KmsKey, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    ecr_repositories: tuple[EcrRepository, ...] = ()
    log_groups: tuple[LogGroup, ...] = ()
    secrets: tuple[Secret, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    alarms: tuple[Alarm, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SPEC_NAME.match(value):
            raise ValueError(f"{value!r}: use lowercase letters, digits and '-' (max 63)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _user_tags(value)

    @model_validator(mode="after")
    def _references(self) -> "ProjectSpec":
        problems: list[str] = []
        for kind, names in (
            ("kms_keys", [k.alias for k in self.kms_keys]),
            ("buckets", [b.name for b in self.buckets]),
            ("ecr_repositories", [r.name for r in self.ecr_repositories]),
            ("log_groups", [g.name for g in self.log_groups]),
            ("secrets", [s.name for s in self.secrets]),
            ("policies", [p.name for p in self.policies]),
            ("roles", [r.name for r in self.roles]),
            ("alarms", [a.name for a in self.alarms]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                problems.append(f"{kind}: declared twice: {', '.join(dupes)}")
        keys = {k.alias for k in self.kms_keys}
        buckets = {b.name for b in self.buckets}
        repos = {r.name for r in self.ecr_repositories}
        groups = {g.name for g in self.log_groups}
        secrets = {s.name for s in self.secrets}
        policies = {p.name for p in self.policies}

        def need(where: str, what: str, name: str | None, known: set[str]) -> None:
            if name is not None and name.removeprefix("alias/") not in known:
                problems.append(f"{where}: {what} {name!r} is not declared in this spec")

        for b in self.buckets:
            need(f"buckets.{b.name}.encryption", "kms key", b.encryption.kms_key, keys)
        for s in self.secrets:
            need(f"secrets.{s.name}", "kms key", s.kms_key, keys)
        for g in self.log_groups:
            need(f"log_groups.{g.name}", "kms key", g.kms_key, keys)
        for r in self.roles:
            for attached in r.policies:
                need(f"roles.{r.name}", "policy", attached, policies)
        for p in self.policies:
            where = f"policies.{p.name}"
            for grant in p.grants:
                match grant:
                    case ReadBucket(read_bucket=bg) | WriteBucket(write_bucket=bg):
                        need(where, "bucket", bg.bucket, buckets)
                    case PullImages(pull_images=n) | PushImages(push_images=n):
                        need(where, "ECR repository", n, repos)
                    case ReadSecret(read_secret=n):
                        need(where, "secret", n, secrets)
                    case WriteLogs(write_logs=n):
                        need(where, "log group", n, groups)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """``buckets[0].name`` -> ``buckets[csa-kb].name``: name list items, not index them."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = str(item)
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = node["name"]
            parts[-1:] = [f"{parts[-1] if parts else ''}[{label}]"]
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(spec)"


def parse_spec(data: Any) -> ProjectSpec:
    """Validate a mapping; every problem is listed in one ``SpecValidationError``."""
    if not isinstance(data, dict):
        raise SpecValidationError(["(spec): a project spec is a mapping (name, buckets, ...)"])
    try:
        return ProjectSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not str(p).startswith(("function-", "tagged-")))
            # union members (grants) repeat the member class name in loc: drop it
            loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{_location(loc, data)}: {message}")
        raise SpecValidationError(sorted(set(problems))) from exc


def load_spec(text: str) -> ProjectSpec:
    """Parse YAML text into a validated spec."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecValidationError([f"(spec): not valid YAML: {exc}"]) from exc
    return parse_spec(data)
