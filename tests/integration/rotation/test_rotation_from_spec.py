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

from opswire.provisioning.spec import load_spec, parse_spec
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
from tests.conftest import REPO_ROOT
from tests.integration.rotation.support import CapturedLogs, PostgresServer, labels, value

PREFIX = "opswire/rotated/"
ANOMALY_DETECTOR = REPO_ROOT / "examples" / "anomaly-detector.yaml"


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


def test_the_anomaly_detector_example_rotates_its_database_secret_and_re_applies_as_a_no_op(
    platform: LocalPlatform, postgres: PostgresServer, tmp_path: Path, captured_logs: CapturedLogs
) -> None:
    from opswire.provisioning.wiring import plan_report

    spec = load_spec(ANOMALY_DETECTOR.read_text())
    (db,) = [s for s in spec.secrets if s.rotation_days]
    assert (db.rotation_kind, db.rotation_days, db.kms_key) == ("postgres", 30, "anomaly-detector")
    assert db.value_from is not None and db.value_from.file
    # the file the example names, in the spec's directory: the real server and a role of its own
    user, password = f"detector_{uuid.uuid4().hex[:8]}", "Initial-" + uuid.uuid4().hex
    postgres.create_role(user, password)
    connection = postgres.secret(user, password)
    del connection["kind"], connection["engine"]  # what the example's comment asks for
    (tmp_path / db.value_from.file).write_text(json.dumps(connection))
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    plan_text = plan_report(make_plan(target, spec))

    result, target, _ = _apply(platform, spec.model_dump(mode="json"), tmp_path)

    assert result["status"] == "SUCCEEDED", result
    created = [f"{r['kind']}:{r['name']}" for r in result["applied"] if r["action"] == "create"]
    assert sorted(created) == [
        "kms_key:anomaly-detector",
        "log_group:/anomaly-detector/audit",
        "log_group:/anomaly-detector/service",
        "policy:anomaly-detector-service",
        "secret:anomaly-detector/datadog-api-key",
        "secret:anomaly-detector/webhook-signing-key",
        f"secret:{db.name}",
    ]  # fmt: skip
    outputs = local_outputs(platform)
    sm = boto3.client("secretsmanager", region_name=REGION)
    described = sm.describe_secret(SecretId=db.name)
    assert described["RotationLambdaARN"] == outputs["DatabaseRotationFunctionArn"]
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.describe_key(KeyId="alias/anomaly-detector")["KeyMetadata"]["KeyId"]
    assert described["KmsKeyId"] in (key_id, "alias/anomaly-detector")
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["data-class"] == "credential" and tags["team"] == "data-platform"
    # the key policy lets the role the database rotation function runs with use the key
    role = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=outputs["DatabaseRotationFunctionArn"]
    )["Role"]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    (grant,) = [s for s in policy["Statement"] if s["Principal"] == {"AWS": role}]
    assert "kms:GenerateDataKey" in grant["Action"] and "kms:Decrypt" in grant["Action"]
    assert grant["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    }
    # one rotation ran: AWSCURRENT logs in to the real server, the supplied password no more
    current = value(db.name)
    assert sorted(labels(db.name).values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert current["username"] == user and current["password"] != password
    assert postgres.logs_in(user, current["password"])
    assert not postgres.logs_in(user, password)
    assert _staged_left() == []
    # posture passes; the plan is empty and a second run applies nothing
    assert posture(target, spec) == []
    again = make_plan(target, spec)
    assert not again.has_changes, [i for i in again.items if i.action != "unchanged"]
    second, _, _ = _apply(platform, spec.model_dump(mode="json"), tmp_path)
    assert second["status"] == "SUCCEEDED" and second["applied"] == [], second
    assert value(db.name)["password"] == current["password"]
    # the supplied password is nowhere: plans, histories, log lines
    searched = {
        "plan": plan_text + plan_report(again),
        "execution history": _history(result["execution"]) + _history(second["execution"]),
        "logs": captured_logs.text(),
    }
    assert f"+ secret {db.name}" in searched["plan"]
    assert "opswire-supplied/" in searched["execution history"]
    assert "provisioning task" in searched["logs"]
    for where, text in searched.items():
        assert password not in text, f"the supplied password reached the {where}"


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
