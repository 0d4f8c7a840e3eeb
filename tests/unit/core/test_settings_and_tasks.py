"""Settings from the environment (validated once, cached) and task input validation."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.tasks import AlarmTaskInput, parse_task_input
from opswire.alarms.parse import parse_alarm
from opswire.core.errors import PermanentError, TaskInputError
from opswire.core.settings import (
    AlarmIngestSettings,
    EmailSettings,
    SlackSettings,
    clear_settings_cache,
    load_settings,
)
from tests.conftest import EVENTS

MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:opswire-alarm-handling"
SETTINGS_ENV = (
    "ALARM_STATE_MACHINE_ARN",
    "SLACK_WEBHOOK_SECRET_NAME",
    "SLACK_TIMEOUT_SECONDS",
    "SECRET_MAX_AGE_SECONDS",
    "SENDER_EMAIL",
    "ALERT_EMAIL",
)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    clear_settings_cache()
    yield
    clear_settings_cache()


# ---- load_settings ------------------------------------------------------------------------------
def test_load_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN)
    assert load_settings(AlarmIngestSettings).alarm_state_machine_arn == MACHINE_ARN


def test_load_settings_validates_once_and_caches_until_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN)
    first = load_settings(AlarmIngestSettings)

    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN + "-v2")
    assert load_settings(AlarmIngestSettings) is first

    clear_settings_cache()
    assert load_settings(AlarmIngestSettings).alarm_state_machine_arn == MACHINE_ARN + "-v2"


def test_each_settings_model_is_cached_separately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN)
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_NAME", "opswire/slack-webhook")
    ingest = load_settings(AlarmIngestSettings)
    slack = load_settings(SlackSettings)
    assert isinstance(ingest, AlarmIngestSettings)
    assert isinstance(slack, SlackSettings)
    assert slack.slack_webhook_secret_name == "opswire/slack-webhook"


def test_a_missing_value_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="alarm_state_machine_arn"):
        load_settings(AlarmIngestSettings)


def test_an_empty_value_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", "")
    with pytest.raises(ValidationError, match="alarm_state_machine_arn"):
        load_settings(AlarmIngestSettings)


def test_a_failed_validation_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        load_settings(AlarmIngestSettings)
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN)
    assert load_settings(AlarmIngestSettings).alarm_state_machine_arn == MACHINE_ARN


def test_slack_settings_have_defaults_and_read_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_NAME", "opswire/slack-webhook")
    defaults = load_settings(SlackSettings)
    assert (defaults.slack_timeout_seconds, defaults.secret_max_age_seconds) == (10, 300)

    clear_settings_cache()
    monkeypatch.setenv("SLACK_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "0")
    overridden = load_settings(SlackSettings)
    assert (overridden.slack_timeout_seconds, overridden.secret_max_age_seconds) == (3, 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_TIMEOUT_SECONDS", "0"),
        ("SLACK_TIMEOUT_SECONDS", "61"),
        ("SLACK_TIMEOUT_SECONDS", "soon"),
        ("SECRET_MAX_AGE_SECONDS", "-1"),
    ],
)
def test_slack_settings_reject_out_of_range_numbers(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_NAME", "opswire/slack-webhook")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        load_settings(SlackSettings)


def test_settings_are_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", MACHINE_ARN)
    settings = load_settings(AlarmIngestSettings)
    with pytest.raises(ValidationError):
        settings.alarm_state_machine_arn = "changed"


# ---- EmailSettings.recipients -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("alert_email", "recipients"),
    [
        ("ops@example.com", ["ops@example.com"]),
        ("ops@example.com,sre@example.com", ["ops@example.com", "sre@example.com"]),
        (" ops@example.com ,  sre@example.com , ", ["ops@example.com", "sre@example.com"]),
        ("ops@example.com,,sre@example.com", ["ops@example.com", "sre@example.com"]),
    ],
)
def test_email_recipients_are_split_on_commas_and_stripped(
    monkeypatch: pytest.MonkeyPatch, alert_email: str, recipients: list[str]
) -> None:
    monkeypatch.setenv("SENDER_EMAIL", "opswire@example.com")
    monkeypatch.setenv("ALERT_EMAIL", alert_email)
    settings = load_settings(EmailSettings)
    assert settings.sender_email == "opswire@example.com"
    assert settings.recipients == recipients


def test_email_settings_require_a_sender_and_recipients(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as info:
        load_settings(EmailSettings)
    missing = {str(error["loc"][0]) for error in info.value.errors()}
    assert missing == {"sender_email", "alert_email"}


# ---- parse_task_input ---------------------------------------------------------------------------
def _alarm_json() -> dict[str, Any]:
    payload = json.loads((EVENTS / "sns/alarm-metric-alarm.json").read_text())
    return parse_alarm(AlarmEnvelope(source="sns", payload=payload)).model_dump(mode="json")


def test_parse_task_input_accepts_the_parse_task_output() -> None:
    alarm = _alarm_json()
    task = parse_task_input(AlarmTaskInput, {"alarm": alarm})
    assert task.alarm.name == alarm["name"]
    assert task.alarm.state == "ALARM"


def test_a_missing_field_is_a_task_input_error_naming_it() -> None:
    with pytest.raises(TaskInputError, match=r"AlarmTaskInput is invalid at: alarm$"):
        parse_task_input(AlarmTaskInput, {"envelope": {}})


def test_a_bad_nested_field_is_named_by_its_dotted_path() -> None:
    alarm = _alarm_json()
    alarm["state"] = "ON_FIRE"
    del alarm["account_id"]
    with pytest.raises(TaskInputError) as info:
        parse_task_input(AlarmTaskInput, {"alarm": alarm})
    message = str(info.value)
    assert "alarm.state" in message
    assert "alarm.account_id" in message
    assert "alarm.name" not in message


def test_a_task_input_error_is_permanent_and_chains_the_validation_error() -> None:
    with pytest.raises(TaskInputError) as info:
        parse_task_input(AlarmEnvelope, {"source": "carrier-pigeon", "payload": {}})
    assert isinstance(info.value, PermanentError)
    assert isinstance(info.value.__cause__, ValidationError)
    assert "AlarmEnvelope is invalid at: source" in str(info.value)


def test_at_most_five_bad_fields_are_listed() -> None:
    alarm = _alarm_json()
    for name in ("name", "account_id", "region", "state", "kind", "source", "state_changed_at"):
        alarm[name] = None
    with pytest.raises(TaskInputError) as info:
        parse_task_input(AlarmTaskInput, {"alarm": alarm})
    listed = str(info.value).split("invalid at: ", 1)[1].split(", ")
    assert len(listed) == 5


@pytest.mark.parametrize("event", [None, [], "alarm", 42])
def test_an_input_that_is_not_an_object_is_a_task_input_error(event: Any) -> None:
    with pytest.raises(TaskInputError, match="AlarmTaskInput is invalid"):
        parse_task_input(AlarmTaskInput, event)
