"""The stack's settings document: what functions read from it, and `opswire config` writing it
(deployed, against moto's CloudFormation and SSM, and locally)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from opswire.core.errors import ConfigurationError
from opswire.core.settings import (
    STACK_SETTINGS_ENV,
    LogSubscriberSettings,
    RotationMonitorSettings,
    SlackSettings,
    clear_settings_cache,
    load_settings,
)
from opswire_cli.cli import main
from tests.integration.aws_support import REGION

STACK = "opswire-settings"
TEMPLATE = """
Resources:
  StackSettingsParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /${AWS::StackName}/settings
      Type: String
      Value: "{}"
Outputs:
  StackSettingsParameterName: {Value: !Ref StackSettingsParameter}
"""


@pytest.fixture
def settings_parameter(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deployed stack's settings parameter, named in the functions' environment."""
    from aws_lambda_powertools.utilities import parameters

    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName=STACK, TemplateBody=TEMPLATE)
    outputs = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    name = str(outputs[0]["OutputValue"])
    monkeypatch.setenv(STACK_SETTINGS_ENV, name)
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_NAME", "opswire/slack-webhook")
    parameters.clear_caches()
    clear_settings_cache()
    yield name
    parameters.clear_caches()
    clear_settings_cache()


def put(name: str, document: dict[str, object]) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=name, Value=json.dumps(document), Overwrite=True
    )


def config(*argv: str) -> int:
    return main(["config", *argv])


def test_functions_read_the_keys_they_have_from_the_document(settings_parameter: str) -> None:
    put(settings_parameter, {"slack_default_channel": "#ops", "log_subscription_include": "/x/*"})
    assert load_settings(SlackSettings).slack_default_channel == "#ops"
    assert load_settings(SlackSettings).slack_api_url == "https://slack.com/api/"


def test_an_empty_document_gives_the_documented_defaults(settings_parameter: str) -> None:
    assert load_settings(SlackSettings).slack_default_channel == "#alerts"


def test_an_environment_variable_still_wins(
    settings_parameter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(settings_parameter, {"slack_default_channel": "#ops"})
    monkeypatch.setenv("SLACK_DEFAULT_CHANNEL", "#env")
    assert load_settings(SlackSettings).slack_default_channel == "#env"


def test_a_change_is_read_again_after_the_max_age(
    settings_parameter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities import parameters

    from opswire.core import settings as settings_module

    put(settings_parameter, {"pending_stuck_after_hours": 5})
    monkeypatch.setenv("SENDER_EMAIL", "opswire@example.com")
    monkeypatch.setenv("ALERT_EMAIL", "ops@example.com")
    monkeypatch.setenv("ROTATED_SECRET_PREFIX", "opswire/rotated/")
    assert load_settings(RotationMonitorSettings).pending_stuck_after_hours == 5
    put(settings_parameter, {"pending_stuck_after_hours": 0.5})
    parameters.clear_caches()  # Powertools' own max age, as if it had passed
    assert load_settings(RotationMonitorSettings).pending_stuck_after_hours == 5  # cached
    monkeypatch.setattr(settings_module, "STACK_SETTINGS_MAX_AGE_SECONDS", -1)
    clear_settings_cache()
    load_settings(RotationMonitorSettings)  # cached with an expiry already past
    put(settings_parameter, {"pending_stuck_after_hours": 1})
    parameters.clear_caches()
    assert load_settings(RotationMonitorSettings).pending_stuck_after_hours == 1


def test_a_model_without_such_keys_does_not_read_the_document(
    settings_parameter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opswire.core.settings import AlarmIngestSettings

    put(settings_parameter, {"slack_default_chanel": "typo"})  # would fail validation
    monkeypatch.setenv("ALARM_STATE_MACHINE_ARN", "arn:aws:states:eu-west-1:1:stateMachine:x")
    assert load_settings(AlarmIngestSettings).alarm_state_machine_arn.endswith(":x")


def test_an_invalid_document_is_a_configuration_error(settings_parameter: str) -> None:
    put(settings_parameter, {"slack_default_chanel": "#ops"})
    with pytest.raises(ConfigurationError, match=r"stack settings .* is invalid"):
        load_settings(SlackSettings)


def test_config_set_writes_the_deployed_stacks_document(
    settings_parameter: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_DESTINATION_ARN", "arn:aws:lambda:eu-west-1:1:function:ship")
    stack = ("--stack", STACK, "--region", REGION)
    assert config("set", *stack, "log_subscription_include=/aws/lambda/*",
                  "pending_stuck_after_hours=4") == 0  # fmt: skip
    assert "applies to the functions within 5 minutes" in capsys.readouterr().out
    value = boto3.client("ssm", region_name=REGION).get_parameter(Name=settings_parameter)
    document = json.loads(value["Parameter"]["Value"])
    assert document == {"log_subscription_include": "/aws/lambda/*", "pending_stuck_after_hours": 4}
    assert load_settings(LogSubscriberSettings).include_patterns == ["/aws/lambda/*"]

    assert config("unset", "--stack", STACK, "--region", REGION, "pending_stuck_after_hours") == 0
    assert config("show", "--stack", STACK, "--region", REGION, "--json") == 0
    shown = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert shown["set"] == ["log_subscription_include"]
    assert shown["settings"]["pending_stuck_after_hours"] == 2


def test_config_refuses_unknown_keys_and_bad_values(settings_parameter: str) -> None:
    with pytest.raises(SystemExit, match="slack_default_chanel: Extra inputs are not permitted"):
        config("set", "--stack", STACK, "--region", REGION, "slack_default_chanel=#ops")
    with pytest.raises(SystemExit, match="pending_stuck_after_hours: Input should be"):
        config("set", "--stack", STACK, "--region", REGION, "pending_stuck_after_hours=soon")
    with pytest.raises(SystemExit, match="slack_api_url: String should match"):
        config("set", "--stack", STACK, "--region", REGION, "slack_api_url=slack.com")
    value = boto3.client("ssm", region_name=REGION).get_parameter(Name=settings_parameter)
    assert value["Parameter"]["Value"] == "{}"  # nothing written


def test_config_local_writes_the_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))
    assert config("set", "--local", "slack_default_channel=#ops") == 0
    assert json.loads((tmp_path / "settings.json").read_text()) == {"slack_default_channel": "#ops"}
    assert config("show", "--local") == 0
    out = capsys.readouterr().out
    assert 'slack_default_channel = "#ops"\n' in out
    assert 'github_api_url = "https://api.github.com"  (default)' in out
