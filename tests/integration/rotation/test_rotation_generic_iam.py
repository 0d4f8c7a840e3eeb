"""Generic/API-key and IAM access-key rotation through the local platform (moto for Secrets
Manager, IAM and STS; the functions in-process), failure notifications included."""

import json
from typing import Any

import boto3
import pytest
from werkzeug import Request, Response

from opswire_local.platform import LocalPlatform
from opswire_local.template import REGION
from tests.integration.rotation.support import (
    begin_rotation,
    create_secret,
    function_arn,
    invoke_step,
    labels,
    rotate,
    value,
)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def test_generic_secret_steps_reruns_and_two_rotations(platform: LocalPlatform) -> None:
    arn = create_secret(
        "api/generic",
        {"value": "initial", "length": 24, "exclude_characters": "abcdef", "owner": "team-a"},
        tags={"opswire:rotation-kind": "generic"},  # the kind may come from a tag
    )
    function = function_arn(platform, "SecretRotationFunction")
    original = next(iter(labels(arn)))
    token = begin_rotation(arn, function)
    for step in STEPS[:3]:
        first = invoke_step(function, step, arn, token)
        assert "error" not in first, first
        snapshot = (labels(arn), value(arn, "AWSPENDING"))
        assert "error" not in invoke_step(function, step, arn, token)
        assert (labels(arn), value(arn, "AWSPENDING")) == snapshot  # the rerun changed nothing
    new = value(arn, "AWSPENDING")
    assert len(new["value"]) == 24 and not set("abcdef") & set(new["value"])
    assert new["owner"] == "team-a"
    invoke_step(function, "finishSecret", arn, token)
    invoke_step(function, "finishSecret", arn, token)
    assert labels(arn) == {token: ["AWSCURRENT"], original: ["AWSPREVIOUS"]}

    rotate(arn)
    rotate(arn)
    stages = labels(arn)
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert value(arn)["value"] != new["value"] != value(arn, "AWSPREVIOUS")["value"]


def test_the_https_test_endpoint_receives_the_new_value(
    platform: LocalPlatform, https_server: Any
) -> None:
    seen: list[str] = []

    def answer(request: Request) -> Response:
        seen.append(request.headers.get("X-Api-Key", ""))
        return Response("ok", status=200)

    https_server.expect_request("/ping").respond_with_handler(answer)
    arn = create_secret(
        "api/tested",
        {
            "kind": "api-key", "value": "old", "test_url": https_server.url_for("/ping"),
            "test_header": "X-Api-Key", "test_header_prefix": "",
        },
    )  # fmt: skip
    rotate(arn, function_arn(platform, "SecretRotationFunction"))
    assert seen == [value(arn)["value"]]


def test_a_rotation_failing_in_test_secret_keeps_current_and_notifies(
    platform: LocalPlatform, https_server: Any
) -> None:
    https_server.expect_request("/ping").respond_with_data("nope", status=401)
    arn = create_secret(
        "api/refused",
        {"kind": "generic", "value": "still-good", "test_url": https_server.url_for("/ping")},
    )
    current_version = next(iter(labels(arn)))

    rotate(arn, function_arn(platform, "SecretRotationFunction"))

    # AWSCURRENT did not move and still holds the working value; AWSPENDING is left behind.
    stages = labels(arn)
    assert stages[current_version] == ["AWSCURRENT"]
    assert value(arn)["value"] == "still-good"
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPENDING"]]
    slack = [m for m in platform.outbox.messages if "rotation failed" in m["text"]]
    assert len(slack) == 1 and "api/refused" in slack[0]["text"]
    assert "testSecret" in json.dumps(slack[0]["payload"])
    emails = [e for e in platform._sent_emails() if "rotation failed" in e["subject"]]
    assert len(emails) == 1 and emails[0]["recipient"] == "ops@example.com"
    assert "testSecret" in emails[0]["text"]
    assert not platform.async_errors

    # AWS refuses a new rotation while this one is unfinished; the daily sweep reports it.
    with pytest.raises(boto3.client("secretsmanager").exceptions.InvalidRequestException):
        rotate(arn)
    report = platform.send("schedule:RotationMonitorFunctionDailySweep", None)
    assert report.errors == []
    sweep = [m for m in platform.outbox.messages if "needs attention" in m["text"]]
    assert len(sweep) == 1 and "api/refused" in json.dumps(sweep[0]["payload"])
    assert "AWSPENDING stuck" in json.dumps(sweep[0]["payload"])


def _iam_user(name: str) -> tuple[str, str, str]:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=name, Path="/opswire-rotated/")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]


def _keys(user: str) -> dict[str, str]:
    iam = boto3.client("iam", region_name=REGION)
    return {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    }


def test_iam_access_keys_rotate_twice_never_more_than_two(platform: LocalPlatform) -> None:
    user, key_id, secret_key = _iam_user("ci-deployer")
    arn = create_secret(
        "iam/ci-deployer",
        {"kind": "iam-access-key", "user_name": user, "access_key_id": key_id,
         "secret_access_key": secret_key},
    )  # fmt: skip
    function = function_arn(platform, "SecretRotationFunction")
    token = begin_rotation(arn, function)
    counts = []
    for step in STEPS:
        assert "error" not in (result := invoke_step(function, step, arn, token)), result
        counts.append(len(_keys(user)))
        assert "error" not in invoke_step(function, step, arn, token)  # rerun
        counts.append(len(_keys(user)))
    first = value(arn)
    assert first["access_key_id"] != key_id
    assert _keys(user) == {key_id: "Inactive", first["access_key_id"]: "Active"}

    rotate(arn)
    counts.append(len(_keys(user)))
    second = value(arn)
    assert _keys(user) == {first["access_key_id"]: "Inactive", second["access_key_id"]: "Active"}
    assert max(counts) == 2
    sts = boto3.client(
        "sts", region_name=REGION, aws_access_key_id=second["access_key_id"],
        aws_secret_access_key=second["secret_access_key"],
    )  # fmt: skip
    assert sts.get_caller_identity()["Arn"].endswith(":user/opswire-rotated/ci-deployer")


def test_iam_test_secret_signs_with_the_new_key(platform: LocalPlatform) -> None:
    """If the new key is gone, STS does not know it (moto answers as an unknown caller) and
    testSecret fails; with the old key it would have passed."""
    user, key_id, secret_key = _iam_user("ci-other")
    arn = create_secret(
        "iam/ci-other",
        {"kind": "iam-access-key", "user_name": user, "access_key_id": key_id,
         "secret_access_key": secret_key},
    )  # fmt: skip
    function = function_arn(platform, "SecretRotationFunction")
    token = begin_rotation(arn, function)
    invoke_step(function, "createSecret", arn, token)
    pending = value(arn, "AWSPENDING")
    boto3.client("iam", region_name=REGION).delete_access_key(
        UserName=user, AccessKeyId=pending["access_key_id"]
    )
    failed = invoke_step(function, "testSecret", arn, token)
    assert failed["error"]["errorType"] == "RotationTestFailedError"
    assert pending["access_key_id"] in failed["error"]["errorMessage"]
    assert value(arn)["access_key_id"] == key_id


def test_iam_refuses_an_unknown_active_key(platform: LocalPlatform) -> None:
    user, key_id, secret_key = _iam_user("ci-third")
    stray = boto3.client("iam", region_name=REGION).create_access_key(UserName=user)
    arn = create_secret(
        "iam/ci-third",
        {"kind": "iam-access-key", "user_name": user, "access_key_id": key_id,
         "secret_access_key": secret_key},
    )  # fmt: skip
    function = function_arn(platform, "SecretRotationFunction")
    token = begin_rotation(arn, function)
    failed = invoke_step(function, "createSecret", arn, token)
    assert failed["error"]["errorType"] == "RotationError"
    assert stray["AccessKey"]["AccessKeyId"] in failed["error"]["errorMessage"]
    assert len(_keys(user)) == 2
