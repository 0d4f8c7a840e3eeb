"""Cached boto3 clients: created on first use, never at import time.

Cached clients (and whatever holds clients or credentials) belong to one stack. Every module
that caches them registers how to forget them, when it is imported: ``cached_client`` for a
client factory, ``register_cache`` for anything else. ``clear_client_cache`` forgets all that
was registered (the local platform calls it when it starts a new stack). A module not imported
yet has nothing cached, so this module imports none of the modules that use it.
"""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_iam import IAMClient
    from types_boto3_logs import CloudWatchLogsClient
    from types_boto3_s3 import S3Client
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_ses import SESClient
    from types_boto3_stepfunctions import SFNClient

_registered: list[Callable[[], object]] = []


def register_cache(clear: Callable[[], object]) -> None:
    """Have ``clear_client_cache`` call ``clear`` (once, however often it is registered)."""
    if clear not in _registered:
        _registered.append(clear)


def cached_client[T](factory: Callable[[], T]) -> "_lru_cache_wrapper[T]":
    """``functools.cache`` for a client factory, registered with ``clear_client_cache``."""
    cached = cache(factory)
    register_cache(cached.cache_clear)
    return cached


@cached_client
def sfn_client() -> "SFNClient":
    import boto3

    return boto3.client("stepfunctions")


@cached_client
def ses_client() -> "SESClient":
    import boto3

    return boto3.client("ses")


@cached_client
def dynamodb_client() -> "DynamoDBClient":
    import boto3

    return boto3.client("dynamodb")


@cached_client
def secretsmanager_client() -> "SecretsManagerClient":
    import boto3

    return boto3.client("secretsmanager")


@cached_client
def iam_client() -> "IAMClient":
    import boto3

    return boto3.client("iam")


@cached_client
def s3_client() -> "S3Client":
    import boto3

    return boto3.client("s3")


@cached_client
def logs_client() -> "CloudWatchLogsClient":
    import boto3

    return boto3.client("logs")


def clear_client_cache() -> None:
    """Forget every registered cache (the local platform calls this when it starts a new stack):
    these clients, log shipping's destinations, provisioning's and Elastic Beanstalk's clients."""
    for clear in _registered:
        clear()
