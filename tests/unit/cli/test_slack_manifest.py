"""``opswire slack manifest``: the bot scopes cover every Slack Web API method the code calls,
the interactivity URL is the stack's OpsApiUrl + the route of template.yaml, and ``--stack``
reads that output from CloudFormation (moto)."""

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opswire_cli.cli import main
from opswire_cli.slack_manifest import (
    INTERACTIONS_PATH,
    WEB_API_SCOPES,
    WEBHOOK_SCOPES,
    build_manifest,
)
from opswire_local.template import load_template
from tests.conftest import REPO_ROOT

API_URL = "https://abc123.execute-api.eu-central-1.amazonaws.com"
# Slack's documentation of each method: the scope a bot token needs for it (independent of the
# module's table, which may add optional scopes such as chat:write.public).
REQUIRED_BY_SLACK = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
}


def methods_called_in_code() -> set[str]:
    """Web API methods the shared package calls, in the modules that use slack_sdk: its client
    methods (``chat_postMessage`` -> ``chat.postMessage``) and the names given to SlackBot._call."""
    methods = set()
    for path in (REPO_ROOT / "layers" / "common" / "opswire").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "slack_sdk" not in source:  # other adapters have a ``self._client`` too
            continue
        for name in re.findall(r"self\._client\.([a-z]+_[A-Za-z_]+)\(", source):
            if name != "send_dict":  # the incoming webhook client, not the Web API
                methods.add(name.replace("_", ".", 1))
        methods.update(re.findall(r"_call\(\s*\"([a-z]+\.[A-Za-z]+)\"", source))
    return methods


def test_the_table_lists_exactly_the_methods_the_code_calls() -> None:
    from opswire_local.sinks import _API_METHODS  # the local Slack fake answers these

    called = methods_called_in_code()

    assert called == {"chat.postMessage", "chat.update", "chat.postEphemeral", "users.info"}
    assert set(WEB_API_SCOPES) == called
    assert set(_API_METHODS) == called


def test_the_manifest_has_the_scopes_of_every_method() -> None:
    bot = build_manifest("prod", API_URL)["oauth_config"]["scopes"]["bot"]

    for method, scopes in WEB_API_SCOPES.items():
        assert set(scopes) <= set(bot), method
        assert REQUIRED_BY_SLACK[method] in bot, method
    assert "users:read.email" in bot  # approvers listed by email (users.info profile.email)
    assert set(WEBHOOK_SCOPES) <= set(bot)
    assert bot == sorted(set(bot))


def test_the_manifest_sets_interactivity_and_the_settings() -> None:
    manifest = build_manifest("prod", API_URL + "/")

    assert manifest["display_information"]["name"] == "opswire (prod)"
    assert manifest["features"]["bot_user"]["display_name"] == "opswire"
    assert manifest["settings"] == {
        "interactivity": {"is_enabled": True, "request_url": API_URL + "/slack/interactions"},
        "org_deploy_enabled": False,
        "socket_mode_enabled": False,
        "token_rotation_enabled": False,
    }
    long_name = build_manifest("opswire-production-eu-central-1-blue", API_URL)
    assert len(long_name["display_information"]["name"]) <= 35


def test_the_interactions_path_is_the_route_of_template_yaml() -> None:
    template = load_template(REPO_ROOT / "template.yaml")
    routes = {
        (props.get("Method"), props.get("Path"))
        for resource in template["Resources"].values()
        for event in (resource.get("Properties", {}).get("Events") or {}).values()
        if event.get("Type") == "HttpApi"
        for props in [event.get("Properties", {})]
    }

    assert ("POST", INTERACTIONS_PATH) in routes


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    template: dict[str, Any] = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "OpsApiUrl": {
                "Value": {"Fn::Sub": "https://abc123.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
            }
        },
    }
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="eu-central-1")
        cfn.create_stack(StackName="opswire-prod", TemplateBody=json.dumps(template))
        template["Outputs"] = {"Other": {"Value": "x"}}
        cfn.create_stack(StackName="no-api", TemplateBody=json.dumps(template))
        yield


def test_stack_reads_ops_api_url_from_cloudformation(
    deployed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["slack", "manifest", "--stack", "opswire-prod", "--region", "eu-central-1"])

    printed = capsys.readouterr()
    manifest = json.loads(printed.out)
    assert code == 0
    assert manifest["display_information"]["name"] == "opswire (opswire-prod)"
    assert manifest["settings"]["interactivity"]["request_url"] == (API_URL + "/slack/interactions")
    assert printed.err == ""


def test_a_stack_without_the_output_exits_with_a_message(deployed: None) -> None:
    with pytest.raises(SystemExit, match="stack 'no-api' has no output OpsApiUrl"):
        main(["slack", "manifest", "--stack", "no-api", "--region", "eu-central-1"])


def test_api_url_needs_no_aws_and_warns_about_http(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["slack", "manifest", "--api-url", "http://127.0.0.1:3000", "--name", "dev"])

    printed = capsys.readouterr()
    manifest = json.loads(printed.out)
    assert code == 0
    assert manifest["display_information"]["name"] == "opswire (dev)"
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "http://127.0.0.1:3000/slack/interactions"
    )
    assert "Slack accepts only https request URLs" in printed.err


def test_local_uses_the_local_gateway(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))  # no `opswire local up` running

    main(["slack", "manifest", "--local"])

    manifest = json.loads(capsys.readouterr().out)
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "http://127.0.0.1:3000/slack/interactions"
    )
    assert manifest["display_information"]["name"] == "opswire (local)"
