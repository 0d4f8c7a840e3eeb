"""The local platform's ListSecretVersionIds reports when each version was created (moto
reports the time of the call)."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opswire_local.secrets_rotation import rotation_semantics


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws(), rotation_semantics(lambda event: None):
        yield boto3.client(
            "secretsmanager", region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # fmt: skip


def test_a_versions_created_date_is_when_it_was_created(secretsmanager: Any) -> None:
    sm = secretsmanager
    first = sm.create_secret(Name="app/key", SecretString="v1")
    created = int(time.time())
    time.sleep(1.05)  # the listing happens in a later second
    second = sm.put_secret_value(SecretId="app/key", SecretString="v2")
    listed = sm.list_secret_version_ids(SecretId="app/key")["Versions"]
    dates = {v["VersionId"]: int(v["CreatedDate"].timestamp()) for v in listed}
    assert dates[first["VersionId"]] in (created, created - 1)
    assert dates[second["VersionId"]] > dates[first["VersionId"]]
