"""The platform's AWS clients and boto3 session: one of each per process.

Creating a boto3 client costs tens of milliseconds (service model, endpoint rules, event hooks);
creating the stack alone made about a hundred. moto answers every client created in the process
while it runs, so one client per service serves every call of every platform the process starts.
``platform_session`` keeps one boto3 session for them (moto replaces boto3's default session at
each start, and a new session reads every service model from disk again: a process that starts
many platforms, as the tests do, paid that at each start). (The overloads keep each client's
type for mypy, as ``boto3.client`` has them.)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

from opswire_local.template import REGION

if TYPE_CHECKING:
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_ecs import ECSClient
    from types_boto3_elasticbeanstalk import ElasticBeanstalkClient
    from types_boto3_iam import IAMClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_logs import CloudWatchLogsClient
    from types_boto3_s3 import S3Client
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_ses import SESClient
    from types_boto3_sns import SNSClient
    from types_boto3_sqs import SQSClient
    from types_boto3_ssm import SSMClient
    from types_boto3_stepfunctions import SFNClient

_clients: dict[str, Any] = {}
_lock = threading.Lock()


@overload
def aws_client(service: Literal["cloudwatch"]) -> CloudWatchClient: ...


@overload
def aws_client(service: Literal["dynamodb"]) -> DynamoDBClient: ...


@overload
def aws_client(service: Literal["ecs"]) -> ECSClient: ...


@overload
def aws_client(service: Literal["elasticbeanstalk"]) -> ElasticBeanstalkClient: ...


@overload
def aws_client(service: Literal["iam"]) -> IAMClient: ...


@overload
def aws_client(service: Literal["lambda"]) -> LambdaClient: ...


@overload
def aws_client(service: Literal["logs"]) -> CloudWatchLogsClient: ...


@overload
def aws_client(service: Literal["s3"]) -> S3Client: ...


@overload
def aws_client(service: Literal["secretsmanager"]) -> SecretsManagerClient: ...


@overload
def aws_client(service: Literal["ses"]) -> SESClient: ...


@overload
def aws_client(service: Literal["sns"]) -> SNSClient: ...


@overload
def aws_client(service: Literal["sqs"]) -> SQSClient: ...


@overload
def aws_client(service: Literal["ssm"]) -> SSMClient: ...


@overload
def aws_client(service: Literal["stepfunctions"]) -> SFNClient: ...


def aws_client(service: str) -> Any:
    """The platform's client for ``service`` in the local region."""
    client = _clients.get(service)
    if client is None:
        import boto3

        with _lock:  # boto3's default session is not safe to create clients from in parallel
            client = _clients.get(service)
            if client is None:
                client = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
                _clients[service] = client
    return client


_session: Any = None


@contextlib.contextmanager
def platform_session() -> Iterator[None]:
    """While open, boto3's default session is the process's platform session (created at the
    first start, with the platform's fake credentials and region)."""
    global _session
    import boto3

    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        saved, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, _session
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved
