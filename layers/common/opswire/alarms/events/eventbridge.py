"""EventBridge events (directly, or forwarded through SNS) -> ``OpsEvent``, by source and
detail type. An event no parser knows, or one a parser cannot read, becomes a generic
notification naming its source and detail type: never an error."""

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from opswire.alarms.events import platform, security
from opswire.alarms.events.reader import digest, excerpt, text, timestamp
from opswire.alarms.models.envelope import AlarmSource
from opswire.alarms.models.event import OpsEvent

Parser = Callable[[Mapping[str, Any], AlarmSource], OpsEvent]

PARSERS: dict[tuple[str, str], Parser] = {
    ("aws.guardduty", "GuardDuty Finding"): security.parse_guardduty,
    ("aws.securityhub", "Security Hub Findings - Imported"): security.parse_securityhub,
    ("aws.signin", "AWS Console Sign In via CloudTrail"): security.parse_console_signin,
    ("aws.ce", "Anomaly Detected"): security.parse_cost_anomaly,
    ("aws.health", "AWS Health Event"): platform.parse_health,
    ("aws.ecs", "ECS Deployment State Change"): platform.parse_ecs_deployment,
    ("aws.ecs", "ECS Task State Change"): platform.parse_ecs_task,
    (
        "aws.codepipeline",
        "CodePipeline Pipeline Execution State Change",
    ): platform.parse_codepipeline,
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"): platform.parse_codepipeline,
    ("aws.codepipeline", "CodePipeline Action Execution State Change"): platform.parse_codepipeline,
    ("aws.codebuild", "CodeBuild Build State Change"): platform.parse_codebuild,
    ("aws.backup", "Backup Job State Change"): platform.parse_backup,
    ("aws.backup", "Copy Job State Change"): platform.parse_backup,
    ("aws.backup", "Restore Job State Change"): platform.parse_backup,
    ("aws.glue", "Glue Job State Change"): platform.parse_glue,
}
"""(source, detail-type) -> parser. RDS events ("RDS DB Instance Event", "RDS DB Cluster
Event", ...) are matched by prefix."""


def is_eventbridge_event(payload: Mapping[str, Any]) -> bool:
    return isinstance(payload.get("detail-type"), str) and isinstance(payload.get("source"), str)


def parser_for(event: Mapping[str, Any]) -> Parser | None:
    source, detail_type = text(event, "source"), text(event, "detail-type")
    if source == "aws.rds" and detail_type.startswith("RDS "):
        return platform.parse_rds
    return PARSERS.get((source, detail_type))


def parse_eventbridge_event(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    parser = parser_for(event)
    if parser is not None:
        try:
            return parser(event, door)
        except (ValidationError, ValueError, TypeError, AttributeError, IndexError) as exc:
            return unknown_event(event, door, f"{type(exc).__name__} while reading it: {exc}")
    return unknown_event(event, door)


def unknown_event(event: Mapping[str, Any], door: AlarmSource, problem: str = "") -> OpsEvent:
    """An EventBridge event opswire has no parser for (or could not read): its source, detail
    type, resources and an excerpt of its detail."""
    import json

    source, detail_type = text(event, "source", "unknown"), text(event, "detail-type", "event")
    detail = json.dumps(event.get("detail"), sort_keys=True, default=str)
    resources = event.get("resources")
    facts = [("Source", source), ("Detail type", detail_type)]
    if isinstance(resources, list) and resources:
        facts.append(("Resources", ", ".join(str(r) for r in resources[:5])))
    if problem:
        facts.append(("Note", excerpt(problem, 300)))
    at = timestamp(event.get("time"))
    return OpsEvent(
        kind="notification",
        door=door,
        service=source.removeprefix("aws."),
        event_type=detail_type,
        name=f"{source}: {detail_type}",
        title=f"{detail_type} ({source})",
        summary=excerpt(detail, 1500),
        account_id=text(event, "account", "unknown"),
        region=text(event, "region", "us-east-1"),
        severity="info",
        source_severity="none",
        dedupe_key=f"event:{text(event, 'id') or digest(detail)}",
        occurred_at=at,
        updated_at=at,
        facts=tuple(facts),
        raw=dict(event),
    )
