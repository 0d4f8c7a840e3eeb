"""IAM access keys and STS identity checks for access-key rotation.

The secret access key of a new key is returned to the caller and never logged; messages name
users, key ids and SDK error codes only.
"""

from botocore.exceptions import ClientError

from opswire.core.aws import iam_client
from opswire.core.errors import IamError, IamRetryableError
from opswire.rotation.iam_keys import AccessKey, NewAccessKey

_RETRYABLE = frozenset(
    {"Throttling", "ThrottlingException", "ServiceFailure", "ServiceUnavailable"}
)
# What STS answers while a brand-new key has not reached every endpoint yet.
_NOT_YET_VALID = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"})


def _error(action: str, subject: str, exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    message = f"IAM {action} for {subject} failed: {code}"
    return IamRetryableError(message) if code in _RETRYABLE else IamError(message)


class IamAccessKeys:
    """``IamKeys`` of ``opswire.rotation.iam_keys`` over boto3."""

    def __init__(self, region: str | None = None, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url

    def list_keys(self, user_name: str) -> list[AccessKey]:
        try:
            paginator = iam_client().get_paginator("list_access_keys")
            return [
                AccessKey(access_key_id=k["AccessKeyId"], status=k["Status"])
                for page in paginator.paginate(UserName=user_name)
                for k in page["AccessKeyMetadata"]
            ]
        except ClientError as exc:
            raise _error("ListAccessKeys", user_name, exc) from exc

    def create_key(self, user_name: str) -> NewAccessKey:
        try:
            key = iam_client().create_access_key(UserName=user_name)["AccessKey"]
        except ClientError as exc:
            raise _error("CreateAccessKey", user_name, exc) from exc
        return NewAccessKey(key["AccessKeyId"], key["SecretAccessKey"])

    def set_status(self, user_name: str, access_key_id: str, status: str) -> None:
        try:
            iam_client().update_access_key(
                UserName=user_name,
                AccessKeyId=access_key_id,
                Status=status,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            raise _error("UpdateAccessKey", f"{user_name} {access_key_id}", exc) from exc

    def delete_key(self, user_name: str, access_key_id: str) -> None:
        try:
            iam_client().delete_access_key(UserName=user_name, AccessKeyId=access_key_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchEntity":
                return  # already gone: deleting twice is fine
            raise _error("DeleteAccessKey", f"{user_name} {access_key_id}", exc) from exc

    def caller_arn(self, access_key_id: str, secret_access_key: str) -> str:
        import boto3

        # A client of its own, signed with the key under test (never the function's role).
        sts = boto3.client(
            "sts",
            region_name=self._region,
            endpoint_url=self._endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=None,
        )
        try:
            return str(sts.get_caller_identity()["Arn"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = f"STS GetCallerIdentity with key {access_key_id} failed: {code}"
            if code in _NOT_YET_VALID or code in _RETRYABLE:
                raise IamRetryableError(message) from exc
            raise IamError(message) from exc
