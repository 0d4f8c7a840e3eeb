"""The dead-letter bucket in S3 (NDJSON objects; encryption comes from the bucket)."""

from collections.abc import Iterator

from opswire.core.aws import s3_client
from opswire.core.errors import DeadLetterWriteError, PermanentError, RetryableError


class S3DeadLetterStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def write(self, key: str, body: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            s3_client().put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson"
            )
        except (ClientError, BotoCoreError) as exc:
            raise DeadLetterWriteError(
                f"could not write s3://{self._bucket}/{key}: {_code(exc)}"
            ) from exc
        return f"s3://{self._bucket}/{key}"

    def list_keys(self, prefix: str) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = s3_client().get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise RetryableError(
                f"could not list s3://{self._bucket}/{prefix}: {_code(exc)}"
            ) from exc

    def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return s3_client().get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise PermanentError(f"could not read s3://{self._bucket}/{key}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"could not read s3://{self._bucket}/{key}: {exc}") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            s3_client().delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise RetryableError(
                f"could not delete s3://{self._bucket}/{key}: {_code(exc)}"
            ) from exc


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__
