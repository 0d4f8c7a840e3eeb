"""``ProjectSpec``: the declared project, read from YAML, with clear validation errors."""

import difflib
import json
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opswire.core.errors import SpecValidationError
from opswire.provisioning.spec_iam import (
    POSTURE_REFUSES,
    ManagedPolicy,
    PullImages,
    PushImages,
    ReadBucket,
    ReadSecret,
    Role,
    WriteBucket,
    WriteLogs,
)
from opswire.provisioning.spec_identity import KeyGrant, OidcProvider, User
from opswire.provisioning.spec_notify import TAG_SEVERITY, AlarmRoute, Severity, Topic

_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ECR = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_SECRET = re.compile(r"^[\w/+=.@-]{1,512}$")
_LOG_GROUP = re.compile(r"^[\w/.#-]{1,512}$")
_ALIAS = re.compile(r"^[\w/-]{1,250}$")
_SPEC_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")

RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _user_tags(value: dict[str, str]) -> dict[str, str]:
    """aws:* and opswire:* keys are not the spec's (opswire:managed-by decides what the
    workflow may change)."""
    for key in value:
        if key.lower().startswith(("aws:", "opswire:")) or not _TAG_KEY.match(key):
            raise ValueError(f"tag key {key!r} is reserved or invalid")
    return value


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
    key_policy: tuple[KeyGrant, ...] = ()
    """Grants added to the key policy (which always keeps the account's IAM statement)."""

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


RotationKind = Literal["generic", "api-key", "postgres", "postgres-alternating", "iam-access-key"]
"""What the rotation functions rotate (docs/rotation.md); the kind picks the function."""

SUPPLIED_KINDS = frozenset({"postgres", "postgres-alternating", "iam-access-key"})
"""Kinds whose first value only the team can give (where the database or the key is)."""


class ValueFrom(_Model):
    """Where ``opswire provision apply`` reads a value the team supplies: one of ``file``,
    ``env``, ``stdin``. The CLI stages the value in a secret of its own and the workflow gets
    only that secret's name (``staged``, set by the CLI, never by hand)."""

    file: str | None = None
    env: str | None = None
    stdin: bool = False
    staged: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "ValueFrom":
        given = [k for k in ("file", "env", "staged") if getattr(self, k)] + (
            ["stdin"] if self.stdin else []
        )
        if len(given) != 1:
            raise ValueError("value_from takes exactly one of file, env or stdin: true")
        return self


_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "postgres": ("host", "username", "password"),
    "postgres-alternating": ("host", "username", "password", "masterarn"),
    "iam-access-key": ("user_name", "access_key_id", "secret_access_key"),
}


def supplied_secret_json(text: str, kind: str, where: str, rotated_prefix: str = "") -> str:
    """A supplied value as the secret JSON the rotation function of ``kind`` reads: a JSON
    object gets ``"kind"``; plain text (generic and API keys only) becomes ``{"value": text}``.
    ``rotated_prefix`` (a rotated secret: the stack's RotatedSecretPrefix): the master secret
    of ``postgres-alternating`` must be under it, the only secrets the rotation function may
    read. Raises ``SpecValidationError`` naming what is wrong, never the value."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None  # no chaining: the decoder's error would quote the value
    if not isinstance(document, dict):
        if kind in SUPPLIED_KINDS:
            fields = ", ".join(_REQUIRED_FIELDS[kind])
            raise SpecValidationError(
                [f"{where}: rotation_kind {kind} needs a JSON object ({fields})"]
            )
        if not text.strip():
            raise SpecValidationError([f"{where}: the supplied value is empty"])
        return json.dumps({"value": text.rstrip("\n"), "kind": kind})
    if document.get("kind", kind) != kind:
        raise SpecValidationError(
            [f"{where}: the supplied JSON says kind {document['kind']!r}, the spec {kind!r}"]
        )
    missing = [f for f in _REQUIRED_FIELDS.get(kind, ()) if not document.get(f)]
    if missing:
        raise SpecValidationError(
            [f"{where}: the supplied JSON lacks {', '.join(missing)} (rotation_kind {kind})"]
        )
    master = str(document.get("masterarn", "")).split(":secret:")[-1]  # an ARN or a name
    if kind == "postgres-alternating" and rotated_prefix and not master.startswith(rotated_prefix):
        raise SpecValidationError(
            [f"{where}: masterarn must name a secret under the stack's rotation prefix "
             f"{rotated_prefix!r}, the only secrets the rotation function may read"]
        )  # fmt: skip
    return json.dumps({**document, "kind": kind})


class Secret(_Model):
    name: str
    description: str = ""
    kms_key: str | None = None
    """Alias (from ``kms_keys``) of the key that encrypts the secret; none = aws/secretsmanager."""
    tags: dict[str, str] = {}
    generate: Generate = Generate()
    value_from: ValueFrom | None = None
    """The first value, supplied by the team (instead of ``generate``)."""
    rotation_days: int | None = Field(default=None, ge=1, le=1000)
    """Rotate every N days through the stack's rotation function of ``rotation_kind``."""
    rotation_kind: RotationKind = "generic"

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

    @model_validator(mode="after")
    def _value(self) -> "Secret":
        if self.value_from is not None and self.generate != Generate():
            raise ValueError("a secret takes generate or value_from, not both")
        if self.rotation_kind in SUPPLIED_KINDS and self.value_from is None:
            raise ValueError(
                f"rotation_kind {self.rotation_kind} needs value_from (the first value: "
                "where the database or the key is, docs/rotation.md)"
            )
        return self


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
    tags: dict[str, str] = {}
    severity: Severity | None = None
    """``opswire:severity`` on the alarm (overrides the matched route's)."""
    route: AlarmRoute | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _user_tags(value)

    def routing_tags(self) -> dict[str, str]:
        """The ``opswire:*`` tags the alarm workflow routes by (docs/alarms.md)."""
        tags = self.route.tags() if self.route else {}
        return {**tags, TAG_SEVERITY: self.severity} if self.severity else tags


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
    oidc_providers: tuple[OidcProvider, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    users: tuple[User, ...] = ()
    topics: tuple[Topic, ...] = ()
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
            ("oidc_providers", [o.url for o in self.oidc_providers]),
            ("policies", [p.name for p in self.policies]),
            ("roles", [r.name for r in self.roles]),
            ("topics", [t.name for t in self.topics]),
            ("users", [u.name for u in self.users]),
            (
                "secrets and users' access keys",
                [s.name for s in self.secrets]
                + [u.access_key.secret for u in self.users if u.access_key],
            ),
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
        for t in self.topics:
            need(f"topics.{t.name}", "kms key", t.kms_key, keys)
        roles = {r.name for r in self.roles}
        for k in self.kms_keys:
            for key_grant in k.key_policy:
                need(f"kms_keys.{k.alias}.key_policy", "role", key_grant.role, roles)
        for u in self.users:
            for attached in u.policies:
                need(f"users.{u.name}", "policy", attached, policies)
            if u.access_key:
                need(f"users.{u.name}.access_key", "kms key", u.access_key.kms_key, keys)
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
            if error["type"] == "extra_forbidden" and loc:
                message = _unsupported(error["loc"])
                loc = loc[:-1]
            problems.append(f"{_location(loc, data)}: {message}")
        raise SpecValidationError(sorted(set(problems))) from exc


def _models(annotation: Any, found: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``annotation``, by class name."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__name__ not in found:
            found[annotation.__name__] = annotation
            for field in annotation.model_fields.values():
                _models(field.annotation, found)
        return found
    for arg in get_args(annotation):
        _models(arg, found)
    return found


def _unsupported(raw_loc: tuple[int | str, ...]) -> str:
    """One line for a key no model takes: the keys this place does take, or the close one."""
    key = str(raw_loc[-1])
    by_name = _models(ProjectSpec, {})
    model: type[BaseModel] | None = ProjectSpec
    for part in raw_loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if part in by_name:  # a union member (a grant) named by its class
            model = by_name[part]
            continue
        field = model.model_fields.get(part)
        inner = _models(field.annotation, {}) if field else {}
        model = next(iter(inner.values()), None)
    if model is None:
        return f"unsupported key {key!r}"
    known = list(model.model_fields)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"supported: {', '.join(known)}"
    return f"unsupported key {key!r} ({hint})"


def load_spec(text: str) -> ProjectSpec:
    """Parse YAML text into a validated spec."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecValidationError([f"(spec): not valid YAML: {exc}"]) from exc
    return parse_spec(data)
