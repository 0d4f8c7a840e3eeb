"""The public HTTP API after the SAM transform (issue 13 part 4), for every gate case with the
case's parameters: an access log with retention that holds no signature, the stage's throttles
and the public functions' reserved concurrency from PublicApiLimits, and 4xx / 5xx rate alarms
that publish to the stack's own AlarmTopic (so the alarm workflow handles them).

And part 5: the notifiers may read only the log groups of AlarmLogGroupArns, and nothing of
CloudWatch Logs when it is empty.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from opswire_local.template import PhysicalResource, Resolver, Template
from tools import deploy_gate

PUBLIC_FUNCTIONS = {"GitHubWebhookFunction", "IncidentAckFunction", "DeployApprovalFunction"}
NOTIFIERS = {"NotifySlackFunctionRole", "NotifyEmailFunctionRole"}


class _Attributes(dict[str, str]):
    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self.logical_id = logical_id

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return f"getatt:{self.logical_id}.{key}"


def _resolved(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The case's resources with conditions decided and intrinsics resolved (``ref:<id>`` for a
    Ref to a resource), and the case's parameters."""
    template = deploy_gate.resolve_conditions(result["template"], result["parameters"])
    defaults = Template(path=Path("t"), document=dict(result["template"])).parameter_defaults()
    parameters = {**defaults, **result["parameters"]}
    resolver = Resolver(parameters, "opswire", {})
    for logical_id in template["Resources"]:
        resolver.resources[logical_id] = PhysicalResource(
            ref=f"ref:{logical_id}", attributes=_Attributes(logical_id)
        )
    return resolver.resolve(template["Resources"]), parameters


@pytest.fixture(scope="module")
def cases(translated: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [_resolved(result) for result in translated.values()]


def _of_type(resources: dict[str, Any], type_name: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == type_name}


def test_the_gate_covers_reserved_concurrency_on_and_off(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    reserved = {parameters["PublicApiLimits"].split(",")[2] for _, parameters in cases}
    assert "0" in reserved and reserved - {"0"}


def test_access_log_goes_to_a_log_group_with_retention_and_holds_no_secret(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    for resources, parameters in cases:
        [stage] = _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
        settings = stage["Properties"]["AccessLogSettings"]
        group = resources["OpsHttpApiAccessLogGroup"]["Properties"]
        assert group["RetentionInDays"] == parameters["LogRetentionDays"]
        assert settings["DestinationArn"] == (
            "arn:aws:logs:us-east-1:123456789012:log-group:ref:OpsHttpApiAccessLogGroup"
        )
        # One JSON object per request once API Gateway fills in the $context variables.
        line = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", settings["Format"]))
        assert {"requestId", "sourceIp", "routeKey", "status", "integrationError"} <= set(line)
        # Signatures travel in headers (Slack, GitHub) and in the query string (links).
        variables = set(re.findall(r"\$context\.[A-Za-z.]+", settings["Format"]))
        assert not {v for v in variables if re.search(r"header|query|body|authorizer", v, re.I)}


def test_every_route_is_throttled_by_the_parameter(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    for resources, parameters in cases:
        rate, burst, _ = parameters["PublicApiLimits"].split(",")
        [stage] = _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
        assert stage["Properties"]["DefaultRouteSettings"] == {
            "ThrottlingRateLimit": rate,
            "ThrottlingBurstLimit": burst,
        }
        assert "RouteSettings" not in stage["Properties"]  # no route escapes the default


def test_public_functions_reserve_concurrency_only_when_asked(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    for resources, parameters in cases:
        reserved = parameters["PublicApiLimits"].split(",")[2]
        functions = _of_type(resources, "AWS::Lambda::Function")
        with_reservation = {
            name: f["Properties"]["ReservedConcurrentExecutions"]
            for name, f in functions.items()
            if "ReservedConcurrentExecutions" in f["Properties"]
        }
        expected = {} if reserved == "0" else dict.fromkeys(PUBLIC_FUNCTIONS, reserved)
        assert with_reservation == expected
        # The functions API Gateway may invoke (its routes) are exactly the public ones.
        permissions = {
            p["Properties"]["FunctionName"].removeprefix("ref:")
            for p in _of_type(resources, "AWS::Lambda::Permission").values()
            if p["Properties"].get("Principal") == "apigateway.amazonaws.com"
        }
        assert permissions == PUBLIC_FUNCTIONS


def test_error_rate_alarms_feed_the_alarm_workflow(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    for resources, _ in cases:
        alarms = {
            name: a["Properties"]
            for name, a in _of_type(resources, "AWS::CloudWatch::Alarm").items()
            if any(
                m.get("MetricStat", {}).get("Metric", {}).get("Namespace") == "AWS/ApiGateway"
                for m in a["Properties"].get("Metrics", [])
            )
        }
        measured = set()
        for properties in alarms.values():
            stats = {m["Id"]: m["MetricStat"] for m in properties["Metrics"] if "MetricStat" in m}
            assert {s["Metric"]["Dimensions"][0]["Value"] for s in stats.values()} == {
                "ref:OpsHttpApi"
            }
            assert stats["requests"]["Metric"]["MetricName"] == "Count"
            [returned] = [m for m in properties["Metrics"] if m["ReturnData"]]
            assert "errors" in returned["Expression"] and "requests" in returned["Expression"]
            assert properties["AlarmActions"] == properties["OKActions"] == ["ref:AlarmTopic"]
            measured.add(stats["errors"]["Metric"]["MetricName"])
        assert measured == {"4xx", "5xx"}
        # AlarmTopic: CloudWatch of this account may publish, the alarm workflow's intake listens.
        [subscription] = [
            s["Properties"]
            for s in _of_type(resources, "AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == "ref:AlarmTopic"
        ]
        assert subscription["Endpoint"] == "getatt:AlarmIngestFunction.Arn"
        [statement] = resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def _logs_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources[role]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if any(str(action).startswith("logs:") for action in statement["Action"])
        and statement["Effect"] == "Allow"
    ]


def test_notifiers_read_only_the_allowed_log_groups(
    cases: list[tuple[dict[str, Any], dict[str, str]]],
) -> None:
    seen = set()
    for resources, parameters in cases:
        arns = [arn for arn in parameters["AlarmLogGroupArns"].split(",") if arn]
        seen.add(bool(arns))
        for role in NOTIFIERS:
            statements = _logs_statements(resources, role)
            if not arns:
                assert statements == [], role
                continue
            [statement] = statements
            assert sorted(statement["Action"]) == [
                "logs:DescribeMetricFilters",
                "logs:FilterLogEvents",
            ]
            assert sorted(statement["Resource"]) == sorted(arns + [f"{arn}:*" for arn in arns])
        for role in NOTIFIERS:
            function = role.removesuffix("Role")
            environment = resources[function]["Properties"]["Environment"]["Variables"]
            assert environment["ALARM_LOG_GROUP_ARNS"] == parameters["AlarmLogGroupArns"]
    assert seen == {True, False}
