"""Secrets Manager for the rotation protocol: metadata, versions by stage, stage moves.

Every read names its stage explicitly (``VersionStage``): moto can answer a read without one
with the previous version after a stage move. Values are never logged or put in a message.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opswire.core.aws import secretsmanager_client
from opswire.core.errors import SecretStoreError, SecretStoreRetryableError
from opswire.rotation.model import SecretMetadata

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient

_RETRYABLE = frozenset(
    {"ThrottlingException", "Throttling", "InternalServiceError", "ServiceUnavailable"}
)


def _error(action: str, secret_id: str, exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    message = f"Secrets Manager {action} on {secret_id} failed: {code}"
    if code in _RETRYABLE:
        return SecretStoreRetryableError(message)
    return SecretStoreError(message)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


class SecretsManagerStore:
    """``SecretStore`` and ``PasswordGenerator`` of ``opswire.rotation`` over boto3."""

    def __init__(self, client: "SecretsManagerClient | None" = None) -> None:
        self._client = client

    @property
    def client(self) -> "SecretsManagerClient":
        return self._client or secretsmanager_client()

    def describe(self, secret_id: str) -> SecretMetadata:
        return metadata_from_description(self.describe_entry(secret_id))

    def describe_entry(self, secret_id: str) -> dict[str, Any]:
        """The DescribeSecret response (what ``rotation.status.secret_status`` reads)."""
        try:
            response = self.client.describe_secret(SecretId=secret_id)
        except ClientError as exc:
            raise _error("DescribeSecret", secret_id, exc) from exc
        return dict(response)

    def get_value(self, secret_id: str, stage: str, version_id: str | None = None) -> str | None:
        kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
        if version_id is not None:
            kwargs["VersionId"] = version_id
        try:
            response = self.client.get_secret_value(**kwargs)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise _error(f"GetSecretValue ({stage})", secret_id, exc) from exc
        value = response.get("SecretString")
        return value if isinstance(value, str) else None

    def put_pending(
        self, secret_id: str, token: str, value: str, rotation_token: str | None = None
    ) -> None:
        kwargs: dict[str, Any] = {
            "SecretId": secret_id,
            "ClientRequestToken": token,
            "SecretString": value,
            "VersionStages": ["AWSPENDING"],
        }
        if rotation_token:
            kwargs["RotationToken"] = rotation_token
        try:
            self.client.put_secret_value(**kwargs)
        except ClientError as exc:
            raise _error("PutSecretValue (AWSPENDING)", secret_id, exc) from exc

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
        if to_version is not None:
            kwargs["MoveToVersionId"] = to_version
        if from_version is not None:
            kwargs["RemoveFromVersionId"] = from_version
        try:
            self.client.update_secret_version_stage(**kwargs)
        except ClientError as exc:
            raise _error(f"UpdateSecretVersionStage ({stage})", secret_id, exc) from exc

    def random_password(
        self, length: int, exclude_characters: str, exclude_punctuation: bool
    ) -> str:
        kwargs: dict[str, Any] = {
            "PasswordLength": length,
            "ExcludePunctuation": exclude_punctuation,
        }
        if exclude_characters:
            kwargs["ExcludeCharacters"] = exclude_characters
        try:
            response = self.client.get_random_password(**kwargs)
        except ClientError as exc:
            raise _error("GetRandomPassword", "-", exc) from exc
        return response["RandomPassword"]

    # ---- listing (monitor sweep, CLI status) ------------------------------------------------
    def list_secrets(self, name_prefix: str) -> Iterator[dict[str, Any]]:
        """ListSecrets entries whose name starts with ``name_prefix``."""
        paginator = self.client.get_paginator("list_secrets")
        try:
            for page in paginator.paginate(Filters=[{"Key": "name", "Values": [name_prefix]}]):
                for entry in page.get("SecretList", []):
                    # The name filter matches prefixes of words too: keep true prefixes only.
                    if str(entry.get("Name", "")).startswith(name_prefix):
                        yield dict(entry)
        except ClientError as exc:
            raise _error("ListSecrets", name_prefix, exc) from exc

    def version_dates(self, secret_id: str) -> dict[str, datetime]:
        """Creation date of every version that has a staging label."""
        dates: dict[str, datetime] = {}
        token: str | None = None
        try:
            while True:
                kwargs: dict[str, Any] = {"SecretId": secret_id}
                if token:
                    kwargs["NextToken"] = token
                page = self.client.list_secret_version_ids(**kwargs)
                for version in page.get("Versions", []):
                    created = version.get("CreatedDate")
                    if isinstance(created, datetime) and "VersionId" in version:
                        dates[version["VersionId"]] = created
                token = page.get("NextToken")
                if not token:
                    return dates
        except ClientError as exc:
            raise _error("ListSecretVersionIds", secret_id, exc) from exc


def metadata_from_description(response: dict[str, Any]) -> SecretMetadata:
    """DescribeSecret (or a ListSecrets entry) -> ``SecretMetadata``."""
    versions = response.get("VersionIdsToStages") or response.get("SecretVersionsToStages") or {}
    enabled = response.get("RotationEnabled")
    return SecretMetadata(
        arn=str(response["ARN"]),
        name=str(response.get("Name") or response["ARN"]),
        rotation_enabled=enabled if isinstance(enabled, bool) else None,
        versions={str(k): tuple(v) for k, v in versions.items()},
        tags={str(t["Key"]): str(t.get("Value", "")) for t in response.get("Tags") or []},
    )
