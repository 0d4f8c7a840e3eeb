"""moto for every integration test that talks to AWS (fixture registered in conftest.py): test
credentials, one region, and the log shipper's dead-letter bucket already created."""

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from opswire_local.template import load_template
from tests.conftest import REPO_ROOT

DLQ_BUCKET = "opswire-test-log-dead-letters"
REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=DLQ_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield


def create_table_like(logical_id: str, name: str, client: Any = None) -> None:
    """A DynamoDB table named ``name`` with the key schema and indexes of template.yaml's
    ``logical_id`` (so a test's table is the stack's table)."""
    properties: dict[str, Any] = load_template(REPO_ROOT / "template.yaml")["Resources"][
        logical_id
    ]["Properties"]
    arguments: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    if properties.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    (client or boto3.client("dynamodb")).create_table(**arguments)


@contextlib.contextmanager
def forgotten_caches() -> Iterator[None]:
    """Settings, clients and Powertools' parameter cache forgotten before and after: a test's
    environment is read afresh and does not leak into the next test."""
    from aws_lambda_powertools.utilities import parameters

    from opswire.core.reset import forget_stack_caches

    forget_stack_caches()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        forget_stack_caches()
        parameters.clear_caches()  # type: ignore[no-untyped-call]
