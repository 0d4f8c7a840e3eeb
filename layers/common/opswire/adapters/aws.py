"""Cached boto3 clients: created on first use, never at import time."""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_iam import IAMClient
    from types_boto3_logs import CloudWatchLogsClient
    from types_boto3_s3 import S3Client
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_ses import SESClient
    from types_boto3_stepfunctions import SFNClient


@cache
def sfn_client() -> "SFNClient":
    import boto3

    return boto3.client("stepfunctions")


@cache
def ses_client() -> "SESClient":
    import boto3

    return boto3.client("ses")


@cache
def dynamodb_client() -> "DynamoDBClient":
    import boto3

    return boto3.client("dynamodb")


@cache
def secretsmanager_client() -> "SecretsManagerClient":
    import boto3

    return boto3.client("secretsmanager")


@cache
def iam_client() -> "IAMClient":
    import boto3

    return boto3.client("iam")


@cache
def s3_client() -> "S3Client":
    import boto3

    return boto3.client("s3")


@cache
def logs_client() -> "CloudWatchLogsClient":
    import boto3

    return boto3.client("logs")


def clear_client_cache() -> None:
    """Forget cached clients (the local platform calls this when it starts a new stack)."""
    sfn_client.cache_clear()
    ses_client.cache_clear()
    dynamodb_client.cache_clear()
    secretsmanager_client.cache_clear()
    iam_client.cache_clear()
    s3_client.cache_clear()
    logs_client.cache_clear()
    # Log shipping destinations hold OpenSearch clients (and credentials): per stack too.
    from opswire.adapters.log_destinations import clear_destination_cache

    clear_destination_cache()
    # Provisioning's ECR, KMS and CloudWatch clients (issue 7): per stack too.
    from opswire.adapters.provisioning import clear_provisioning_clients

    clear_provisioning_clients()
    from opswire.adapters.beanstalk import beanstalk_client

    beanstalk_client.cache_clear()
