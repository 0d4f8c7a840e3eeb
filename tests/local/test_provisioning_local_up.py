"""`opswire provision ... --local` and `opswire secrets ... --local` attach to a running
`opswire local up`: a team applies a spec, rotates its secret and inspects both in one local
account; `secrets rotate` refuses at once what could only fail, and a failed apply prints one
line per problem, never Step Functions internals."""

import json
import subprocess
from pathlib import Path

import boto3
import pytest

from opswire_cli.secrets_cli import rotate_secret
from opswire_cli.target import LocalUp
from opswire_local.template import REGION
from tests.local.conftest import PlatformFactory
from tests.local.test_cli import cli_env, json_report, opswire, running_platform, state_dir

__all__ = ["cli_env", "running_platform", "state_dir"]  # fixtures of the local up tests

pytestmark = pytest.mark.local
SECRET = "opswire/rotated/team/api-key"


def test_apply_status_and_secrets_share_the_running_local_up(
    running_platform: tuple[subprocess.Popen[str], str],
    cli_env: dict[str, str],
    state_dir: Path,
    tmp_path: Path,
) -> None:
    spec = tmp_path / "team.yaml"
    spec.write_text(
        "name: team\nsecrets:\n"
        f"  - name: {SECRET}\n    rotation_kind: api-key\n    rotation_days: 30\n"
    )
    before = opswire("provision", "status", str(spec), "--local", "--json", env=cli_env)
    assert before.returncode == 1, before.stderr
    assert json_report(before)["findings"][0]["problem"] == "missing"

    applied = opswire(
        "provision", "apply", str(spec), "--local", "--json", "--wait", "60", env=cli_env
    )
    report = json_report(applied)
    assert applied.returncode == 0 and report["status"] == "SUCCEEDED", report
    assert {i["action"] for i in report["plan_after"]["items"]} == {"unchanged"}

    status = opswire("provision", "status", str(spec), "--local", "--json", env=cli_env)
    assert (status.returncode, json_report(status)["findings"]) == (0, [])
    listed = json_report(opswire("secrets", "status", "--local", "--json", env=cli_env))
    (entry,) = [s for s in listed["secrets"] if s["name"] == SECRET]
    assert entry["kind"] == "api-key" and entry["rotation_enabled"] and entry["last_rotated"]
    rotated = json_report(opswire("secrets", "rotate", SECRET, "--local", "--json", env=cli_env))
    assert rotated["ok"] is True, rotated
    # all of it in the one account of the running local up (its moto server)
    announced = json.loads((state_dir / "local-up.json").read_text())
    client = LocalUp(announced).client("secretsmanager")
    stages = client.describe_secret(SecretId=SECRET)["VersionIdsToStages"]
    assert stages[rotated["version"]] == ["AWSCURRENT"]


def test_rotate_refuses_what_could_only_fail(start_platform: PlatformFactory) -> None:
    platform = start_platform()
    sm = boto3.client("secretsmanager", region_name=REGION)
    generic = platform.functions["SecretRotationFunction"].arn
    stack = {
        "RotatedSecretPrefix": "opswire/rotated/",
        "SecretRotationFunctionArn": generic,
        "DatabaseRotationFunctionArn": platform.functions["DatabaseRotationFunction"].arn,
    }
    outside = sm.create_secret(Name="team/outside", SecretString='{"kind": "generic"}')["ARN"]
    refused = rotate_secret(sm, outside, 0, False, stack=stack)
    assert refused["ok"] is False
    assert refused["error"].startswith("team/outside is not under the stack's rotation prefix")
    wrong = sm.create_secret(
        Name="opswire/rotated/team/db",
        SecretString='{"kind": "postgres"}',
        Tags=[{"Key": "opswire:rotation-kind", "Value": "postgres"}],
    )["ARN"]
    # configured by hand with the generic function (what every spec secret got before)
    from moto.secretsmanager.models import secretsmanager_backends

    from opswire_local.template import ACCOUNT_ID

    entry = secretsmanager_backends[ACCOUNT_ID][REGION].secrets[wrong]
    entry.rotation_lambda_arn, entry.rotation_enabled = generic, True
    entry.rotation_requested = True
    refused = rotate_secret(sm, wrong, 0, False, stack=stack)
    assert refused["ok"] is False
    assert (
        "is of kind postgres, which opswire-local-DatabaseRotationFunction rotates"
        in (refused["error"])
    )
    assert "refuses that kind" in refused["error"]
    assert not [v for v, s in sm.describe_secret(SecretId=wrong)["VersionIdsToStages"].items()
                if "AWSPENDING" in s]  # fmt: skip


def test_a_failed_apply_prints_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from opswire_cli.cli import main

    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ROTATION_WAIT_SECONDS", "1")
    monkeypatch.setenv("BROKEN_API", json.dumps({"value": "v", "test_url": "https://127.0.0.1:9/"}))
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "name: broken\nsecrets:\n"
        f"  - name: {SECRET}\n    rotation_days: 30\n    value_from: {{env: BROKEN_API}}\n"
    )
    code = main(["provision", "apply", str(spec), "--local", "--wait", "60"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("FAILED: arn:aws:states:")
    assert lines[1] == "  ProvisioningError:"
    assert lines[2].startswith(f"  - secret {SECRET}: its first rotation (version ")
    assert "stackTrace" not in out and "Traceback" not in out and len(lines[2]) < 400
