"""`opswire provision plan|apply` check what `value_from` points at before anything starts
(exit 2, one line per problem, the value never quoted); the staging helpers over moto."""

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opswire.core.errors import SpecValidationError
from opswire_cli.cli import main
from opswire_cli.supplied_values import discard_staged, stage_supplied_values

VALUE = "Pg-" + "5" * 20


def _spec(tmp_path: Path, value_from: str) -> Path:
    spec = tmp_path / "team.yaml"
    spec.write_text(
        "name: team\nsecrets:\n  - name: opswire/rotated/team/db\n    rotation_kind: postgres\n"
        f"    rotation_days: 30\n    value_from: {value_from}\n"
    )
    return spec


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_bad_value_from_is_refused_before_anything_starts(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("TEAM_DB", raising=False)
    (tmp_path / "db.json").write_text(json.dumps({"host": "db", "password": VALUE}))
    for value_from, problem in (
        ("{file: missing.json}", "value_from.file: cannot read "),
        ("{env: TEAM_DB}", "value_from.env: $TEAM_DB is not set"),
        (
            "{file: db.json}",
            "value_from: the supplied JSON lacks username (rotation_kind postgres)",
        ),
    ):
        code = main(["provision", command, str(_spec(tmp_path, value_from)), "--local", "--json"])
        out = json.loads(capsys.readouterr().out)
        assert code == 2 and out["valid"] is False
        (line,) = out["problems"]
        assert line.startswith("secrets[opswire/rotated/team/db]." + problem.split(".")[0])
        assert problem in line and VALUE not in line


@mock_aws
def test_staging_passes_only_a_name_and_discard_removes_what_is_left(tmp_path: Path) -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="exists/already", SecretString="{}")
    document: dict[str, Any] = {
        "name": "team",
        "secrets": [
            {"name": "team/api", "rotation_kind": "api-key", "value_from": {"stdin": True}},
            {"name": "exists/already", "value_from": {"stdin": True}},
        ],
    }
    with pytest.raises(SpecValidationError, match="stdin is for one secret only"):
        stage_supplied_values(document, sm, "opswire-supplied/s/", "run-1", tmp_path)
    document["secrets"].pop()
    document["secrets"].append({"name": "exists/already", "value_from": {"env": "UNSET_X"}})
    staged_document, staged = stage_supplied_values(
        document, sm, "opswire-supplied/s/", "run-1", tmp_path, io.StringIO(VALUE)
    )
    assert staged == ["opswire-supplied/s/run-1/team/api"]
    assert staged_document["secrets"][0]["value_from"] == {"staged": staged[0]}
    # an existing secret keeps its value: nothing read (the variable is not even set)
    assert staged_document["secrets"][1]["value_from"] == {"env": "UNSET_X"}
    assert VALUE not in json.dumps(staged_document)
    stored = sm.get_secret_value(SecretId=staged[0])["SecretString"]
    assert json.loads(stored) == {"value": VALUE, "kind": "api-key"}
    assert discard_staged(sm, "opswire-supplied/s/", "run-1") == staged
    assert discard_staged(sm, "opswire-supplied/s/", "run-1") == []


def test_plan_refuses_a_master_secret_the_rotation_function_may_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The master secret of a rotated postgres-alternating user is named in the supplied value:
    `plan` reads it and checks it against the stack's RotatedSecretPrefix (the local stack's
    is the template's default, opswire/rotated/)."""
    spec = tmp_path / "team.yaml"
    spec.write_text(
        "name: team\nsecrets:\n  - name: opswire/rotated/team/app\n"
        "    rotation_kind: postgres-alternating\n    rotation_days: 30\n"
        "    value_from: {env: TEAM_APP}\n"
    )
    login = {"host": "db", "username": "app", "password": VALUE}
    master = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
    monkeypatch.setenv("TEAM_APP", json.dumps({**login, "masterarn": master}))
    code = main(["provision", "plan", str(spec), "--local", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and out["problems"] == [
        "secrets[opswire/rotated/team/app].value_from: masterarn must name a secret under the "
        "stack's rotation prefix 'opswire/rotated/', the only secrets the rotation function "
        "may read"
    ]
    assert VALUE not in json.dumps(out)


@mock_aws
def test_a_secret_that_exists_needs_no_supplied_value_any_more(tmp_path: Path) -> None:
    """A secret's value is set once, when it is created: after that, plan does not read the file
    (the team need not keep a password file around to plan again)."""
    from opswire_cli.supplied_values import check_supplied_values

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    document = {
        "name": "team",
        "secrets": [{"name": "opswire/rotated/team/db", "rotation_kind": "postgres",
                     "rotation_days": 30, "value_from": {"file": "gone.json"}}],
    }  # fmt: skip
    with pytest.raises(SpecValidationError, match=r"value_from\.file: cannot read"):
        check_supplied_values(document, tmp_path, "opswire/rotated/", sm)
    sm.create_secret(Name="opswire/rotated/team/db", SecretString=json.dumps({"password": VALUE}))
    check_supplied_values(document, tmp_path, "opswire/rotated/", sm)  # the file is not read
