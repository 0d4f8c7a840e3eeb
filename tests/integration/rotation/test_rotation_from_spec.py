"""Rotation declared in a project spec really rotates: ``opswire provision apply`` (staging the
value the team supplies, then the provisioning workflow on the local platform) creates a
PostgreSQL secret for a user of the real server, attaches the database rotation function,
rotates it once and proves it (AWSCURRENT logs in); the supplied value is never in the plan,
the Step Functions input or history, a log line or the local state; a first rotation that
fails is one loud line and leaves nothing behind."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire.provisioning.spec import parse_spec
from opswire_cli.provision_cli import (
    SpecTarget,
    execution_name,
    local_outputs,
    make_plan,
    posture,
    start_and_follow,
)
from opswire_cli.secrets_cli import secrets_status
from opswire_cli.supplied_values import stage_supplied_values
from opswire_local.platform import LocalPlatform
from opswire_local.template import ACCOUNT_ID, REGION
from tests.integration.rotation.support import CapturedLogs, PostgresServer, labels, value

PREFIX = "opswire/rotated/"


def _apply(
    platform: LocalPlatform, document: dict[str, Any], base: Path, stdin: str = ""
) -> tuple[dict[str, Any], SpecTarget, str]:
    """What `opswire provision apply --local` does: stage value_from, run the workflow."""
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    spec = parse_spec(document)
    name = execution_name(spec.name)
    sm = target.session.client("secretsmanager")
    staged, _ = stage_supplied_values(
        spec.model_dump(mode="json"), sm, target.context.staging_prefix, name, base,
        io.StringIO(stdin),
    )  # fmt: skip
    sfn = target.session.client("stepfunctions")
    machine = platform.state_machines["ProvisioningStateMachine"]
    return start_and_follow(sfn, machine, staged, 120, approve=False, name=name), target, name


def _history(execution_arn: str) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    described = sfn.describe_execution(executionArn=execution_arn)
    return json.dumps([events, described], default=str)


def _staged_left() -> list[str]:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return [s["Name"] for s in sm.list_secrets()["SecretList"] if "opswire-supplied/" in s["Name"]]


def test_a_postgres_secret_from_a_spec_is_rotated_against_the_real_server(
    platform: LocalPlatform, postgres: PostgresServer, tmp_path: Path, captured_logs: CapturedLogs
) -> None:
    user, password = f"spec_{uuid.uuid4().hex[:8]}", "Initial-" + uuid.uuid4().hex
    postgres.create_role(user, password)
    connection = postgres.secret(user, password)
    del connection["kind"]  # the spec says the kind
    (tmp_path / "db.json").write_text(json.dumps(connection))
    name = f"{PREFIX}orders/{user}"
    document = {
        "name": "orders",
        "secrets": [
            {"name": name, "rotation_kind": "postgres", "rotation_days": 30,
             "value_from": {"file": "db.json"}},
        ],
    }  # fmt: skip

    result, target, _ = _apply(platform, document, tmp_path)

    assert result["status"] == "SUCCEEDED", result
    outputs = local_outputs(platform)
    described = boto3.client("secretsmanager", region_name=REGION).describe_secret(SecretId=name)
    assert described["RotationLambdaARN"] == outputs["DatabaseRotationFunctionArn"]
    # one rotation ran: AWSCURRENT works against the server, the supplied password no more
    current = value(name)
    assert sorted(labels(name).values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert current["kind"] == "postgres" and current["password"] != password
    assert postgres.logs_in(user, current["password"])
    assert not postgres.logs_in(user, password)
    assert value(name, "AWSPREVIOUS")["password"] == password
    # the staged copy is gone; nothing of the value in the history or the logs
    assert _staged_left() == []
    assert password not in _history(result["execution"])
    assert password not in captured_logs.text()
    # posture is clean, `opswire secrets status` lists it, re-applying changes nothing
    spec = parse_spec(document)
    assert posture(target, spec) == []
    (status,) = [s for s in secrets_status(target.session.client("secretsmanager"), PREFIX, 2)
                 if s["name"] == name]  # fmt: skip
    assert status["kind"] == "postgres" and status["rotation_enabled"]
    assert status["last_rotated"] and status["problems"] == []
    assert not make_plan(target, spec).has_changes


def test_a_supplied_value_is_never_in_the_plan_history_logs_or_state(
    platform: LocalPlatform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    captured_logs: CapturedLogs,
) -> None:
    from opswire.provisioning.wiring import plan_report

    api_key, config = "Api-" + uuid.uuid4().hex, {"token": "Cfg-" + uuid.uuid4().hex}
    monkeypatch.setenv("PARTNER_API_KEY", api_key)
    document = {
        "name": "partner",
        "secrets": [
            {"name": "partner/api-key", "rotation_kind": "api-key",
             "value_from": {"env": "PARTNER_API_KEY"}},
            {"name": "partner/config", "value_from": {"stdin": True}},
        ],
    }  # fmt: skip
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    plan_text = plan_report(make_plan(target, parse_spec(document)))

    result, _, _ = _apply(platform, document, tmp_path, stdin=json.dumps(config))

    assert result["status"] == "SUCCEEDED", result
    assert value("partner/api-key") == {"value": api_key, "kind": "api-key"}
    assert value("partner/config") == {**config, "kind": "generic"}
    assert _staged_left() == []
    state_files = "".join(
        p.read_text(errors="replace") for p in platform.options.state_path.rglob("*") if p.is_file()
    )
    searched = {
        "plan": plan_text,
        "execution history": _history(result["execution"]),
        "logs": captured_logs.text(),
        "local state": state_files,
        "apply result": json.dumps(result),
    }
    # the places searched are the real ones: they name the secrets and what was done
    assert "+ secret partner/api-key" in searched["plan"]
    assert "opswire-supplied/" in searched["execution history"]
    assert "provisioning task" in searched["logs"]
    for where, text in searched.items():
        for secret in (api_key, config["token"]):
            assert secret not in text, f"a supplied value reached the {where}"


def test_a_failing_first_rotation_is_one_loud_line_and_leaves_nothing(
    platform: LocalPlatform,
    postgres: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROTATION_WAIT_SECONDS", "1")
    user = f"spec_{uuid.uuid4().hex[:8]}"
    postgres.create_role(user, "Right-" + uuid.uuid4().hex)
    wrong = postgres.secret(user, "Wrong-" + uuid.uuid4().hex)
    monkeypatch.setenv("DB_SECRET", json.dumps(wrong))
    name = f"{PREFIX}broken/{user}"
    document = {
        "name": "broken",
        "secrets": [
            {"name": name, "rotation_kind": "postgres", "rotation_days": 30,
             "value_from": {"env": "DB_SECRET"}},
        ],
    }  # fmt: skip

    result, _, _ = _apply(platform, document, tmp_path)

    assert result["status"] == "FAILED"
    assert result["error"] == "ProvisioningError"
    (problem,) = result["problems"]
    assert problem.startswith(f"secret {name}: its first rotation (version ")
    assert "did not finish within 1s (AWSPENDING stays there): log group /aws/lambda/" in problem
    assert "Traceback" not in json.dumps(result) and "stackTrace" not in json.dumps(result)
    sm = boto3.client("secretsmanager", region_name=REGION)
    assert not [s for s in sm.list_secrets()["SecretList"] if s["Name"] == name]
    assert _staged_left() == []
