"""``opswire secrets``: local rotate/status through the CLI, and the rotate/status logic over a
Secrets Manager client (what runs against a deployed stack) on the local platform."""

import json
from pathlib import Path

import boto3
import pytest

from opswire_cli.cli import main
from opswire_cli.secrets_cli import rotate_secret, secrets_status
from opswire_local.platform import REGION
from tests.local.conftest import PlatformFactory


def test_local_rotate_and_status_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))
    secret = "opswire/rotated/opswire-local/example-api-key"
    assert main(["secrets", "rotate", secret, "--local", "--json"]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["ok"] is True and rotated["notifications"] == []
    assert rotated["stages"][rotated["version"]] == ["AWSCURRENT"]
    assert rotated["stages"][rotated["previous"]] == ["AWSPREVIOUS"]

    assert main(["secrets", "status", "--local", "--json"]) == 0
    (status,) = json.loads(capsys.readouterr().out)["secrets"]
    assert status["name"] == "opswire/rotated/opswire-local/example-api-key"
    assert status["kind"] == "generic" and status["rotation_days"] == 30
    assert status["problems"] == [] and status["last_rotated"]


def test_a_failed_rotation_is_reported_then_abandoned_and_redone(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform()
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(
        Name="opswire/rotated/api/unreachable",
        SecretString=json.dumps(
            {"kind": "generic", "value": "v1", "test_url": "https://127.0.0.1:9/ping"}
        ),
    )["ARN"]
    function = platform.functions["SecretRotationFunction"].arn

    sm.rotate_secret(
        SecretId=arn, RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": 7}
    )
    (status,) = secrets_status(sm, "opswire/rotated/", pending_hours=0)
    assert status["stuck_pending"] and not status["overdue"]
    assert any("AWSPENDING stuck" in p for p in status["problems"])
    assert any("rotation failed" in m["text"] for m in platform.outbox.messages)

    refused = rotate_secret(sm, arn, wait_seconds=0, abandon_pending=False)
    assert refused["ok"] is False and "--abandon-pending" in refused["error"]

    # The endpoint is "fixed" (the test is dropped from the secret), then the rotation redone.
    fixed = {"kind": "generic", "value": "v1"}
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps(fixed))
    redone = rotate_secret(sm, arn, wait_seconds=5, abandon_pending=True)
    assert redone["ok"] is True, redone
    assert redone["abandoned"] == [status["pending_version"]]
    (after,) = secrets_status(sm, "opswire/rotated/", pending_hours=0)
    assert after["problems"] == []
