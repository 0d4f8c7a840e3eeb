"""``opswire silence add|list|remove``: durations and tags, the local silences file, and a
deployed stack's incident table (moto CloudFormation + DynamoDB)."""

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from opswire.alarms.aws.incident_store import IncidentStore
from opswire.alarms.models.incident import Silence
from opswire.core.aws import clear_client_cache
from opswire_cli.cli import main
from opswire_cli.silence_cli import (
    SilenceFile,
    new_silence,
    parse_duration,
    parse_tag,
    status,
)

NOW = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1w", 604800), ("90s", 90)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2", "2x", "h", "1h foo", "0m", "91d", "-1h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_tags() -> None:
    assert parse_tag("env=prod") == ("env", "prod")
    assert parse_tag(" team = payments ") == ("team", "payments")
    assert parse_tag("empty=") == ("empty", "")
    for bad in ("env", "=prod"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_tag(bad)


def test_a_new_silence_starts_now_and_matches_like_the_workflow_matches() -> None:
    silence = new_silence("api-*", [("env", "prod")], timedelta(hours=2), "deploy", "ana", NOW)

    assert silence.silence_id.startswith("sil-")
    assert (silence.starts_at, silence.ends_at) == (NOW, NOW + timedelta(hours=2))
    assert silence.matches("api-5xx", {"env": "prod", "team": "x"}, NOW + timedelta(hours=1))
    assert not silence.matches("api-5xx", {"env": "dev"}, NOW)
    assert not silence.matches("db-cpu", {"env": "prod"}, NOW)
    assert [status(silence, NOW + d) for d in (timedelta(0), timedelta(hours=2))] == [
        "active",
        "expired",
    ]
    assert status(silence, NOW - timedelta(seconds=1)) == "scheduled"


def test_a_silence_by_kind_and_resource_matches_only_that_kind_and_resource() -> None:
    silence = new_silence(
        "*", [], timedelta(hours=1), "", "ana", NOW, kind="guardduty_*", resource="i-0b5f*"
    )
    soon = NOW + timedelta(minutes=1)

    assert silence.matches("x", {}, soon, "guardduty_finding", ("i-0b5f8c3b9d1e2a4f6",))
    assert not silence.matches("x", {}, soon, "guardduty_finding", ("i-999",))
    assert not silence.matches("x", {}, soon, "health_event", ("i-0b5f8c3b9d1e2a4f6",))
    assert not silence.matches("i-0b5f-alarm", {}, soon)  # a CloudWatch alarm is another kind


def test_the_silences_file_round_trips_and_removes(tmp_path: Path) -> None:
    store = SilenceFile(tmp_path / "state" / "silences.json")
    one = new_silence("a-*", [], timedelta(hours=1), "", "ana", NOW)
    two = new_silence("b-*", [], timedelta(hours=1), "", "ana", NOW)

    assert store.list_silences() == []
    store.put_silence(one)
    store.put_silence(two)
    assert store.list_silences() == [one, two]
    assert store.delete_silence(one.silence_id) is True
    assert store.delete_silence(one.silence_id) is False
    assert store.list_silences() == [two]
    # What the local platform reads: a JSON list of Silence dumps.
    document = json.loads((tmp_path / "state" / "silences.json").read_text())
    assert [Silence.model_validate(item) for item in document] == [two]


def test_add_list_remove_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))

    add = [
        "silence",
        "add",
        "--pattern",
        "api-*",
        "--tag",
        "env=prod",
        "--duration",
        "2h",
        "--by",
        "ana",
        "--json",
    ]
    assert main([*add, "--reason", "deploy"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert (added["name_pattern"], added["tags"], added["created_by"]) == (
        "api-*",
        {"env": "prod"},
        "ana",
    )

    assert main(["silence", "list"]) == 0
    listing = capsys.readouterr().out
    assert added["silence_id"] in listing and "active" in listing
    assert "name api-* and tags env=prod" in listing and "by ana: deploy" in listing

    assert main(["silence", "remove", added["silence_id"]]) == 0
    assert main(["silence", "remove", added["silence_id"]]) == 1
    assert main(["silence", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1] or "[]") == []


def test_list_hides_expired_silences_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))
    old = new_silence("*", [], timedelta(minutes=5), "old", "ana", NOW - timedelta(days=1))
    SilenceFile(tmp_path / "silences.json").put_silence(old)

    main(["silence", "list"])
    assert "no silences" in capsys.readouterr().out
    main(["silence", "list", "--all", "--json"])
    [shown] = json.loads(capsys.readouterr().out)
    assert (shown["silence_id"], shown["status"]) == (old.silence_id, "expired")


def test_without_a_state_dir_the_file_is_in_the_projects_opswire_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPSWIRE_STATE_DIR", raising=False)
    (tmp_path / "template.yaml").write_text("Resources: {}\n")

    main(["silence", "add", "--duration", "1h", "--root", str(tmp_path)])

    assert "added sil-" in capsys.readouterr().out
    assert len(SilenceFile(tmp_path / ".opswire" / "silences.json").list_silences()) == 1


# ---- a deployed stack ---------------------------------------------------------------------------
STACK_TEMPLATE = {
    "Resources": {
        "IncidentTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "opswire-prod-incidents",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            },
        }
    },
    "Outputs": {"IncidentTableName": {"Value": {"Ref": "IncidentTable"}}},
}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    clear_client_cache()
    with mock_aws():
        boto3.client("cloudformation", region_name="eu-central-1").create_stack(
            StackName="opswire-prod", TemplateBody=json.dumps(STACK_TEMPLATE)
        )
        yield
    clear_client_cache()


def test_add_list_remove_on_a_deployed_stack(
    deployed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--stack", "opswire-prod", "--region", "eu-central-1"]

    main(["silence", "add", "--pattern", "db-*", "--duration", "30m", "--json", *target])
    added = json.loads(capsys.readouterr().out)

    table = IncidentStore(
        "opswire-prod-incidents", client=boto3.client("dynamodb", region_name="eu-central-1")
    )
    [stored] = table.list_silences()
    assert stored.silence_id == added["silence_id"] and stored.name_pattern == "db-*"
    main(["silence", "list", *target])
    assert added["silence_id"] in capsys.readouterr().out
    assert main(["silence", "remove", added["silence_id"], *target]) == 0
    assert table.list_silences() == []


def test_an_unknown_stack_is_a_clear_error(deployed: None) -> None:
    with pytest.raises(SystemExit, match="stack 'nope' could not be described"):
        main(["silence", "list", "--stack", "nope", "--region", "eu-central-1"])


def test_a_stack_without_the_needed_outputs_is_a_clear_error(deployed: None) -> None:
    from opswire_cli.target import stack_outputs

    session = boto3.session.Session(region_name="eu-central-1")
    outputs = stack_outputs("opswire-prod", session, "IncidentTableName")
    assert outputs == {"IncidentTableName": "opswire-prod-incidents"}
    with pytest.raises(SystemExit, match="has no output DeploymentTableName, Deployment"):
        stack_outputs("opswire-prod", session, "DeploymentTableName", "DeploymentStateMachineArn")
