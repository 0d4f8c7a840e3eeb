"""The operational-event rules, read from the template as CloudFormation receives it.

Each kind in ``OpsEventKinds`` is one EventBridge rule into the alarm workflow: enabled when the
kind is listed, disabled otherwise; its pattern matches the event AWS sends and not its quiet
siblings (moto's own EventBridge pattern matcher decides).
"""

from __future__ import annotations

from typing import Any

import pytest

from opswire_local.event_patterns import pattern_matches
from tools import deploy_gate

ALL_KINDS = (
    "guardduty,health,securityhub,ecs-deployments,ecs-tasks,codepipeline,codebuild,backup,glue,"
    "rds,cost-anomaly,console-signin"
)


def _event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-30T18:43:48Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


# (kind, an event its rule must deliver, an event of the same source it must not deliver)
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    ("guardduty", _event("aws.guardduty", "GuardDuty Finding", {"severity": 8}), None),
    ("health", _event("aws.health", "AWS Health Event", {"service": "EC2"}), None),
    (
        "securityhub",
        _event(
            "aws.securityhub",
            "Security Hub Findings - Imported",
            {"findings": [{"Severity": {"Label": "CRITICAL"}}]},
        ),
        _event(
            "aws.securityhub",
            "Security Hub Findings - Imported",
            {"findings": [{"Severity": {"Label": "LOW"}}]},
        ),
    ),
    (
        "ecs-deployments",
        _event(
            "aws.ecs", "ECS Deployment State Change", {"eventName": "SERVICE_DEPLOYMENT_FAILED"}
        ),
        _event(
            "aws.ecs",
            "ECS Deployment State Change",
            {"eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS"},
        ),
    ),
    (
        "ecs-tasks",
        _event(
            "aws.ecs",
            "ECS Task State Change",
            {"lastStatus": "STOPPED", "stopCode": "TaskFailedToStart"},
        ),
        _event(
            "aws.ecs",
            "ECS Task State Change",
            {"lastStatus": "STOPPED", "stopCode": "UserInitiated"},
        ),
    ),
    (
        "codepipeline",
        _event(
            "aws.codepipeline",
            "CodePipeline Pipeline Execution State Change",
            {"state": "FAILED"},
        ),
        _event(
            "aws.codepipeline",
            "CodePipeline Pipeline Execution State Change",
            {"state": "STARTED"},
        ),
    ),
    (
        "codebuild",
        _event("aws.codebuild", "CodeBuild Build State Change", {"build-status": "FAILED"}),
        _event("aws.codebuild", "CodeBuild Build State Change", {"build-status": "IN_PROGRESS"}),
    ),
    (
        "backup",
        _event("aws.backup", "Backup Job State Change", {"state": "FAILED"}),
        _event("aws.backup", "Backup Job State Change", {"state": "RUNNING"}),
    ),
    (
        "glue",
        _event("aws.glue", "Glue Job State Change", {"state": "TIMEOUT"}),
        _event("aws.glue", "Glue Job State Change", {"state": "RUNNING"}),
    ),
    (
        "rds",
        _event("aws.rds", "RDS DB Instance Event", {"EventCategories": ["failover"]}),
        _event("aws.rds", "RDS DB Instance Event", {"EventCategories": ["backup"]}),
    ),
    ("cost-anomaly", _event("aws.ce", "Anomaly Detected", {"anomalyId": "a-1"}), None),
    (
        "console-signin",
        _event(
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            {"userIdentity": {"type": "Root"}, "additionalEventData": {"MFAUsed": "Yes"}},
        ),
        _event(
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            {"userIdentity": {"type": "IAMUser"}, "additionalEventData": {"MFAUsed": "Yes"}},
        ),
    ),
    (
        "console-signin",
        _event(
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            {"userIdentity": {"type": "IAMUser"}, "additionalEventData": {"MFAUsed": "No"}},
        ),
        None,
    ),
]


def _rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule"
    }


def _delivering(rules: dict[str, dict[str, Any]], event: dict[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id, rule in rules.items()
        if "EventPattern" in rule
        and rule.get("State", "ENABLED") == "ENABLED"
        and pattern_matches(rule["EventPattern"], event)
    ]


@pytest.fixture(scope="module")
def template(translated: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return next(iter(translated.values()))["template"]


@pytest.mark.parametrize(("kind", "wanted", "unwanted"), CASES)
def test_a_listed_kind_delivers_its_event_into_the_alarm_workflow_and_only_it(
    template: dict[str, Any], kind: str, wanted: dict[str, Any], unwanted: dict[str, Any] | None
) -> None:
    rules = _rules(deploy_gate.resolve_conditions(template, {"OpsEventKinds": kind}))
    (delivering,) = _delivering(rules, wanted)
    (target,) = rules[delivering]["Targets"]
    assert target["Arn"] == {"Ref": "AlarmHandlingStateMachine"}
    assert "<aws.events.event.json>" in target["InputTransformer"]["InputTemplate"]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    if unwanted is not None:
        assert _delivering(rules, unwanted) == []


@pytest.mark.parametrize(("kind", "wanted", "unwanted"), CASES)
def test_an_unlisted_kind_delivers_nothing(
    template: dict[str, Any], kind: str, wanted: dict[str, Any], unwanted: dict[str, Any] | None
) -> None:
    others = ",".join(k for k in ALL_KINDS.split(",") if k != kind)
    assert (
        _delivering(_rules(deploy_gate.resolve_conditions(template, {"OpsEventKinds": ""})), wanted)
        == []
    )
    assert (
        _delivering(
            _rules(deploy_gate.resolve_conditions(template, {"OpsEventKinds": others})), wanted
        )
        == []
    )


def test_the_default_kinds_are_the_ones_the_docs_name(template: dict[str, Any]) -> None:
    default = template["Parameters"]["OpsEventKinds"]["Default"]
    assert default == "guardduty,health,securityhub,ecs-deployments"
    rules = _rules(deploy_gate.resolve_conditions(template, {}))
    enabled = [case for case in CASES if _delivering(rules, case[1])]
    assert {case[0] for case in enabled} == set(default.split(","))
