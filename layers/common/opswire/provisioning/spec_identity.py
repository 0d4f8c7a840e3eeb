"""The identity part of ``ProjectSpec`` beyond roles and policies: OpenID Connect identity
providers (GitHub Actions by default)."""

import re

from pydantic import BaseModel, ConfigDict, field_validator

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
_HOST = re.compile(r"^[a-z0-9.-]+(?::\d+)?(?:/[\w./-]*)?$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")


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
