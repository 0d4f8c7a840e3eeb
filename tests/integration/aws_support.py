"""moto for every integration test that talks to AWS (fixture registered in conftest.py): test
credentials, one region, and the log shipper's dead-letter bucket already created."""

from collections.abc import Iterator

import boto3
import pytest

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
