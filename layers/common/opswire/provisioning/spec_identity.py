"""The identity part of ``ProjectSpec`` beyond roles and policies: OpenID Connect identity
providers (GitHub Actions by default) and KMS key policy grants."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opswire.provisioning.spec_iam import AwsManagedPolicyNames, iam_name

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
_HOST = re.compile(r"^[a-z0-9.-]+(?::\d+)?(?:/[\w./-]*)?$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SERVICE = re.compile(r"^[a-z0-9-]{2,40}$")
_SECRET_NAME = re.compile(r"^[\w/+=.@-]{1,512}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OidcProvider(_Model):
    """An IAM OpenID Connect identity provider; one per URL and account."""

    url: str = GITHUB_OIDC_URL
    audiences: tuple[str, ...] = (STS_AUDIENCE,)
    """The client ids (``aud``) IAM accepts in this provider's tokens."""
    thumbprints: tuple[str, ...] = ()
    """None for GitHub and other providers IAM trusts by their CA (IAM then keeps its own)."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        host = value.removeprefix("https://")
        if not value.startswith("https://") or not _HOST.match(host):
            raise ValueError(f"{value!r} is not an https:// issuer URL")
        return value.rstrip("/")

    @field_validator("audiences")
    @classmethod
    def _audiences(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not a.strip() for a in value):
            raise ValueError("a provider needs at least one non-empty audience")
        return value

    @field_validator("thumbprints")
    @classmethod
    def _thumbprints(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for thumbprint in value:
            if not _THUMBPRINT.match(thumbprint):
                raise ValueError(f"thumbprint {thumbprint!r} is not 40 hex digits")
        return tuple(t.lower() for t in value)

    @property
    def host(self) -> str:
        """The name IAM gives the provider (its ARN ends in ``oidc-provider/<host>``)."""
        return self.url.removeprefix("https://")


StackFunction = Literal["SecretRotationFunction", "DatabaseRotationFunction"]
"""The stack's functions a key policy may name (template.yaml): they rotate secrets that may
be encrypted with a key of the spec."""


class KeyGrant(_Model):
    """One statement of a KMS key's policy: a role may use the key."""

    role: str | None = None
    """A role of this spec (the statement names it by ``aws:PrincipalArn``: the role may be
    created after the key, and its own policy must allow the use too)."""
    role_arn: str | None = None
    """An existing role outside the spec: named as the principal, the key policy alone lets it
    use the key."""
    stack_function: StackFunction | None = None
    """One of the stack's functions, by its logical id: its execution role is named as the
    principal (the rotation functions have no KMS permission of their own)."""
    use: Literal["decrypt", "encrypt-decrypt"] = "decrypt"
    via: str | None = None
    """Only through this service (``secretsmanager`` -> ``kms:ViaService``)."""

    @model_validator(mode="after")
    def _one(self) -> "KeyGrant":
        named = [n for n in (self.role, self.role_arn, self.stack_function) if n is not None]
        if len(named) != 1:
            raise ValueError("a key grant names exactly one of role, role_arn or stack_function")
        if self.role_arn is not None and not _ROLE_ARN.match(self.role_arn):
            raise ValueError(f"{self.role_arn!r} is not an IAM role ARN (no wildcards)")
        if self.via is not None and not _SERVICE.match(self.via):
            raise ValueError(f"via {self.via!r} is not a service name such as secretsmanager")
        return self

    @property
    def actions(self) -> list[str]:
        actions = ["kms:Decrypt", "kms:DescribeKey"]
        if self.use == "encrypt-decrypt":
            actions += [
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ]
        return actions


class UserAccessKey(_Model):
    """An access key made for the user and written straight into a new secret (never into the
    plan, the output, a log line or the execution's state)."""

    secret: str
    """The secret's name; it is created with the key (do not also declare it in ``secrets``)."""
    kms_key: str | None = None
    """Alias from ``kms_keys``; none = aws/secretsmanager."""
    rotation_days: int | None = Field(default=None, ge=1, le=1000)
    """Rotate through the stack's rotation function (kind ``iam-access-key``)."""

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if not _SECRET_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid secret name")
        return value


class User(_Model):
    """An IAM user for what cannot use a role (SES SMTP credentials): under the spec's IAM path,
    inside the permissions boundary, no console password."""

    name: str
    description: str = ""
    policies: tuple[str, ...] = ()
    """Managed policies from ``policies``."""
    managed_policies: AwsManagedPolicyNames = ()
    """AWS managed policies, from the stack's allow-list (as for roles)."""
    access_key: UserAccessKey | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return iam_name(value, "user")
