"""What the provisioning drivers share: clients ``opswire.core.aws`` does not cache (ECR,
KMS, CloudWatch, SNS, SQS and Lambda; registered with its ``clear_client_cache``), SDK errors as
typed errors, tags in the SDK's shapes."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import register_cache
from opswire.core.errors import ProvisioningError, ProvisioningRetryableError

RETRYABLE = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceFailure",
        "InternalError",
        "InternalFailure",
        "SlowDown",
        "OperationAbortedException",
        "ConcurrentModificationException",
    }
)


@cache
def ecr_client() -> Any:
    import boto3

    return boto3.client("ecr")


@cache
def kms_client() -> Any:
    import boto3

    return boto3.client("kms")


@cache
def cloudwatch_client() -> Any:
    import boto3

    return boto3.client("cloudwatch")


@cache
def sns_client() -> Any:
    import boto3

    return boto3.client("sns")


@cache
def sqs_client(region: str) -> Any:
    """In the region of a queue a topic subscribes (it may be another than the stack's)."""
    import boto3

    return boto3.client("sqs", region_name=region)


@cache
def lambda_client(region: str) -> Any:
    """In the region of a function a topic subscribes."""
    import boto3

    return boto3.client("lambda", region_name=region)


def clear_provisioning_clients() -> None:
    sqs_client.cache_clear()
    lambda_client.cache_clear()
    sns_client.cache_clear()
    ecr_client.cache_clear()
    kms_client.cache_clear()
    cloudwatch_client.cache_clear()


register_cache(clear_provisioning_clients)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def sdk_errors(action: str, subject: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        message = f"{action} {subject} failed: {code}"
        if (
            code in RETRYABLE
            or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
        ):
            raise ProvisioningRetryableError(message) from exc
        raise ProvisioningError(message) from exc


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[Any]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(items: list[Any], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in items}
