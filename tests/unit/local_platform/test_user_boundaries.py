"""IAM users keep their permissions boundary on the local platform, as on AWS (moto 5.2 alone
drops it): ``opswire_local.moto_patches.iam_user_permissions_boundaries``."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from opswire_local.moto_patches import aws_test_environment, iam_user_permissions_boundaries
from opswire_local.template import ACCOUNT_ID, REGION

BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/opswire-boundary/opswire-local-boundary"
OTHER = f"arn:aws:iam::{ACCOUNT_ID}:policy/org/workload-boundary"
AS_AWS_SAYS = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy"}


@pytest.fixture
def iam() -> Iterator[Any]:
    with aws_test_environment(), mock_aws(), iam_user_permissions_boundaries():
        yield boto3.client("iam", region_name=REGION)


def test_create_user_keeps_the_boundary_and_get_user_answers_it(iam: Any) -> None:
    created = iam.create_user(UserName="smtp", Path="/opswire/mail/", PermissionsBoundary=BOUNDARY)
    expected = {**AS_AWS_SAYS, "PermissionsBoundaryArn": BOUNDARY}
    assert created["User"]["PermissionsBoundary"] == expected
    assert iam.get_user(UserName="smtp")["User"]["PermissionsBoundary"] == expected
    # as AWS: ListUsers does not return the boundary (GetUser does)
    assert [u.get("PermissionsBoundary") for u in iam.list_users()["Users"]] == [None]


def test_a_user_created_without_one_has_none_until_it_is_put_and_deleted(iam: Any) -> None:
    iam.create_user(UserName="smtp")
    assert "PermissionsBoundary" not in iam.get_user(UserName="smtp")["User"]
    iam.put_user_permissions_boundary(UserName="smtp", PermissionsBoundary=BOUNDARY)
    assert iam.get_user(UserName="smtp")["User"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"
    ] == (BOUNDARY)
    iam.put_user_permissions_boundary(UserName="smtp", PermissionsBoundary=OTHER)
    assert iam.get_user(UserName="smtp")["User"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"
    ] == (OTHER)
    iam.delete_user_permissions_boundary(UserName="smtp")
    assert "PermissionsBoundary" not in iam.get_user(UserName="smtp")["User"]


def test_an_invalid_boundary_or_an_unknown_user_is_refused(iam: Any) -> None:
    with pytest.raises(ClientError) as refused:
        iam.create_user(UserName="smtp", PermissionsBoundary="arn:aws:iam::policy-without-account")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert iam.list_users()["Users"] == []  # nothing created
    with pytest.raises(ClientError) as missing:
        iam.put_user_permissions_boundary(UserName="nobody", PermissionsBoundary=BOUNDARY)
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as missing:
        iam.delete_user_permissions_boundary(UserName="nobody")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


def test_moto_is_as_it_was_once_the_patch_is_closed() -> None:
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    with aws_test_environment(), mock_aws():
        with iam_user_permissions_boundaries():
            assert hasattr(IamResponse, "put_user_permissions_boundary")
        assert not hasattr(IamResponse, "put_user_permissions_boundary")
        assert not hasattr(User, "permissions_boundary")
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="smtp", PermissionsBoundary=BOUNDARY)
        assert "PermissionsBoundary" not in iam.get_user(UserName="smtp")["User"]  # moto's own
