"""Platform events: AWS Health, ECS deployments and tasks, CodePipeline, CodeBuild, Backup,
Glue and RDS.

A failure opens an incident keyed on the thing that failed (service, pipeline, project, job,
resource); the next success of the same thing resolves it. Events that are neither (a
deployment in progress, a pipeline started) are one-off information keyed on themselves.
"""

from collections.abc import Mapping
from typing import Any

from opswire.alarms.events.reader import arn_part, at, console, digest, q, tag_map, text, timestamp
from opswire.alarms.models.envelope import AlarmSource
from opswire.alarms.models.event import (
    EventKind,
    EventResource,
    EventSeverity,
    EventStatus,
    OpsEvent,
)

_HEALTH_CATEGORIES: dict[str, EventSeverity] = {
    "issue": "high",
    "investigation": "high",
    "scheduledChange": "medium",
    "accountNotification": "low",
}


def health_severity(category: str) -> EventSeverity:
    """Health's ``eventTypeCategory``; an unknown one counts as medium."""
    return _HEALTH_CATEGORIES.get(category, "medium")


def _base(event: Mapping[str, Any]) -> tuple[str, str]:
    return text(event, "account", "unknown"), text(event, "region", "us-east-1")


def parse_health(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    account, region = _base(event)
    account = text(detail, "affectedAccount") or account
    event_arn = text(detail, "eventArn") or text(event, "id", "unknown")
    category = text(detail, "eventTypeCategory", "unknown")
    status_code = text(detail, "statusCode", "open")
    descriptions = at(detail, "eventDescription")
    description = (
        text(descriptions[0], "latestDescription")
        if isinstance(descriptions, list) and descriptions
        else ""
    )
    entities = at(detail, "affectedEntities")
    resources = tuple(
        EventResource(
            type="affected entity",
            id=text(e, "entityValue", "unknown"),
            tags=tag_map(e.get("tags")),
        )
        for e in (entities if isinstance(entities, list) else [])
        if isinstance(e, Mapping)
    )
    service = text(detail, "service", "AWS")
    type_code = text(detail, "eventTypeCode", "AWS_HEALTH_EVENT")
    readable = type_code.removeprefix("AWS_").removeprefix(f"{service.upper()}_")
    title = f"{service}: {readable.replace('_', ' ').capitalize()}"
    facts = [
        ("Category", category),
        ("Health status", status_code),
        ("Scope", text(detail, "eventScopeCode", "unknown")),
    ]
    if text(detail, "endTime"):
        facts.append(("Ended", text(detail, "endTime")))
    return OpsEvent(
        kind="health_event",
        door=door,
        service="AWS Health",
        event_type=type_code,
        name=title,
        title=title,
        summary=description.split("\n\n", 1)[0] if description else "",
        recommendation=description or None,
        account_id=account,
        region=text(detail, "eventRegion") or region,
        resources=resources,
        severity="info" if status_code == "closed" else health_severity(category),
        source_severity=category,
        status="resolved" if status_code == "closed" else "open",
        dedupe_key=f"health:{account}:{event_arn}",
        occurred_at=timestamp(at(detail, "startTime"), at(event, "time")),
        updated_at=timestamp(at(detail, "lastUpdatedTime"), at(event, "time")),
        console_url=f"https://health.aws.amazon.com/health/home#/account/event-log?eventID={q(event_arn)}",
        facts=tuple(facts),
        raw=dict(event),
    )


def _ecs_names(arn: str) -> tuple[str, str]:
    """(cluster, name) of ``arn:aws:ecs:r:a:service/cluster/name`` (or a task ARN)."""
    parts = arn_part(arn, 5).split("/")
    if len(parts) >= 3:
        return parts[1], parts[2]
    return "default", parts[-1] if parts else "unknown"


_ECS_EVENT_TYPES: dict[str, EventSeverity] = {"ERROR": "high", "WARN": "medium", "INFO": "info"}


def ecs_deployment_severity(event_type: str) -> EventSeverity:
    return _ECS_EVENT_TYPES.get(event_type.upper(), "medium")


def parse_ecs_deployment(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    account, region = _base(event)
    resources = at(event, "resources")
    service_arn = str(resources[0]) if isinstance(resources, list) and resources else ""
    cluster, service = _ecs_names(service_arn) if service_arn else ("unknown", "unknown")
    name = text(detail, "eventName", "SERVICE_DEPLOYMENT_STATE_CHANGE")
    deployment = text(detail, "deploymentId", "unknown")
    status: EventStatus | None = None
    key = f"ecs-deployment:{service_arn}:{deployment}:{name}"
    if name == "SERVICE_DEPLOYMENT_FAILED":
        status, key = "open", f"ecs-deployment:{service_arn}"
    elif name == "SERVICE_DEPLOYMENT_COMPLETED":
        status, key = "resolved", f"ecs-deployment:{service_arn}"
    event_type = text(detail, "eventType", "INFO")
    what = {
        "SERVICE_DEPLOYMENT_FAILED": "deployment failed",
        "SERVICE_DEPLOYMENT_COMPLETED": "deployment completed",
        "SERVICE_DEPLOYMENT_IN_PROGRESS": "deployment in progress",
    }.get(name, name.lower().replace("_", " "))
    url = console(
        region, f"/ecs/v2/clusters/{q(cluster)}/services/{q(service)}/deployments?region={region}"
    )
    return OpsEvent(
        kind="ecs_deployment",
        door=door,
        service="ECS",
        event_type=name,
        name=f"ECS service {service} ({cluster})",
        title=f"ECS {what}: {service} ({cluster})",
        summary=text(detail, "reason"),
        account_id=account,
        region=region,
        resources=(
            EventResource(
                type="ECS service",
                id=f"{cluster}/{service}",
                arn=service_arn or None,
                console_url=url,
            ),
        ),
        severity="info" if status == "resolved" else ecs_deployment_severity(event_type),
        source_severity=event_type,
        status=status,
        dedupe_key=key,
        occurred_at=timestamp(at(detail, "updatedAt"), at(event, "time")),
        updated_at=timestamp(at(detail, "updatedAt"), at(event, "time")),
        console_url=url,
        facts=(("Deployment", deployment), ("Event", name)),
        raw=dict(event),
    )


def ecs_task_severity(stop_code: str, failed_exit: bool) -> EventSeverity:
    """A task that could not start is high, an essential container that failed medium, a Spot
    interruption low, a stop somebody asked for info (medium when a container failed)."""
    if stop_code == "TaskFailedToStart":
        return "high"
    if stop_code in ("SpotInterruption", "TerminationNotice"):
        return "low"
    if stop_code == "EssentialContainerExited" or failed_exit:
        return "medium"
    return "info"


def parse_ecs_task(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    account, region = _base(event)
    task_arn = text(detail, "taskArn", "unknown")
    cluster = arn_part(text(detail, "clusterArn"), 5).rpartition("/")[2] or "default"
    group = (
        text(detail, "group") or arn_part(text(detail, "taskDefinitionArn"), 5).rpartition("/")[2]
    )
    stop_code = text(detail, "stopCode", "unknown")
    containers = [c for c in (at(detail, "containers") or []) if isinstance(c, Mapping)]
    failed = [c for c in containers if c.get("exitCode") not in (None, 0) or text(c, "reason")]
    task_id = task_arn.rpartition("/")[2]
    facts = [("Stop code", stop_code), ("Last status", text(detail, "lastStatus", "unknown"))]
    for container in failed[:3]:
        exit_code = container.get("exitCode")
        detail_text = text(container, "reason") or f"exit code {exit_code}"
        facts.append((f"Container {text(container, 'name', '?')}", detail_text))
    url = console(
        region, f"/ecs/v2/clusters/{q(cluster)}/tasks/{q(task_id)}/configuration?region={region}"
    )
    return OpsEvent(
        kind="ecs_task_stopped",
        door=door,
        service="ECS",
        event_type=stop_code,
        name=f"ECS task stopped: {group} ({cluster})",
        title=f"ECS task stopped: {group} ({cluster})",
        summary=text(detail, "stoppedReason"),
        account_id=account,
        region=region,
        resources=(
            EventResource(
                type="ECS task", id=f"{cluster}/{task_id}", arn=task_arn, console_url=url
            ),
        ),
        severity=ecs_task_severity(stop_code, bool(failed)),
        source_severity=stop_code,
        status=None,
        dedupe_key=f"ecs-task:{task_arn}",
        occurred_at=timestamp(at(detail, "stoppedAt"), at(detail, "createdAt"), at(event, "time")),
        updated_at=timestamp(at(detail, "updatedAt"), at(event, "time")),
        console_url=url,
        facts=tuple(facts),
        raw=dict(event),
    )


def _run_outcome(
    state: str, failed: dict[str, EventSeverity], succeeded: tuple[str, ...]
) -> tuple[EventSeverity, EventStatus | None]:
    if state in failed:
        return failed[state], "open"
    if state in succeeded:
        return "info", "resolved"
    return "info", None


def _job_event(
    event: Mapping[str, Any],
    door: AlarmSource,
    *,
    kind: EventKind,
    service: str,
    thing: str,
    state: str,
    failed: dict[str, EventSeverity],
    succeeded: tuple[str, ...] = ("SUCCEEDED",),
    run_id: str,
    resource: EventResource,
    summary: str,
    url: str | None,
    facts: tuple[tuple[str, str], ...],
    resolves: bool = True,
) -> OpsEvent:
    """A run of something (pipeline, build, job): failures open the thing's incident, a success
    resolves it, anything else is one-off information about this run."""
    account, region = _base(event)
    severity, status = _run_outcome(state, failed, succeeded if resolves else ())
    key = f"{kind}:{account}:{region}:{resource.id}"
    if status is None:
        key = f"{key}:{run_id}:{state}"
    verb = {"open": "failed", "resolved": "succeeded"}.get(status or "", state.lower())
    return OpsEvent(
        kind=kind,
        door=door,
        service=service,
        event_type=state,
        name=f"{thing} {resource.id}",
        title=f"{thing} {resource.id}: {verb}"
        if status != "open"
        else f"{thing} {resource.id} {state.lower().replace('_', ' ')}",
        summary=summary,
        account_id=account,
        region=region,
        resources=(resource,),
        severity=severity,
        source_severity=state,
        status=status,
        dedupe_key=key,
        occurred_at=timestamp(at(event, "time")),
        updated_at=timestamp(at(event, "time")),
        console_url=url,
        facts=facts,
        raw=dict(event),
    )


def parse_codepipeline(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    """Pipeline, stage and action state changes. A failed stage or action threads into the
    pipeline's incident; the pipeline's next SUCCEEDED execution resolves it."""
    detail = at(event, "detail") or {}
    _account, region = _base(event)
    pipeline = text(detail, "pipeline", "unknown")
    execution = text(detail, "execution-id", "unknown")
    stage, action = text(detail, "stage"), text(detail, "action")
    state = text(detail, "state", "UNKNOWN")
    level = "pipeline" if not stage else ("action" if action else "stage")
    where = " / ".join(part for part in (stage, action) if part)
    url = console(
        region,
        f"/codesuite/codepipeline/pipelines/{q(pipeline)}/executions/{q(execution)}/timeline?region={region}",
    )
    facts = [("Execution", execution)] + ([("Failed at", where)] if where else [])
    return _job_event(
        event,
        door,
        kind="codepipeline_execution",
        service="CodePipeline",
        thing="Pipeline",
        state=state,
        failed={"FAILED": "high" if level == "pipeline" else "medium"},
        run_id=f"{execution}:{where}",
        resource=EventResource(type="CodePipeline pipeline", id=pipeline, console_url=url),
        summary=f"{level.title()} {where + ' ' if where else ''}of execution {execution}: {state}.",
        url=url,
        facts=tuple(facts),
        resolves=level == "pipeline",
    )


def parse_codebuild(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    _account, region = _base(event)
    project = text(detail, "project-name", "unknown")
    build_id = text(detail, "build-id", "unknown")
    state = text(detail, "build-status", "UNKNOWN")
    url = text(detail, "additional-information.logs.deep-link") or console(
        region, f"/codesuite/codebuild/projects/{q(project)}/history?region={region}"
    )
    phase = text(detail, "current-phase")
    facts = [("Build", build_id.rpartition(":")[2] or build_id)]
    if phase:
        facts.append(("Phase", f"{phase} {text(detail, 'current-phase-context')}".strip()))
    if text(detail, "additional-information.initiator"):
        facts.append(("Initiator", text(detail, "additional-information.initiator")))
    return _job_event(
        event,
        door,
        kind="codebuild_build",
        service="CodeBuild",
        thing="Build project",
        state=state,
        failed={"FAILED": "medium", "FAULT": "medium", "TIMED_OUT": "medium", "STOPPED": "low"},
        run_id=build_id,
        resource=EventResource(type="CodeBuild project", id=project, console_url=url),
        summary=f"Build {build_id.rpartition(':')[2]} ended {state} in phase {phase or 'unknown'}.",
        url=url,
        facts=tuple(facts),
    )


def parse_backup(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    """Backup, copy and restore job state changes, keyed on the protected resource."""
    detail = at(event, "detail") or {}
    _account, region = _base(event)
    job_type = text(event, "detail-type", "Backup Job State Change").replace(" State Change", "")
    job_id = (
        text(detail, "backupJobId")
        or text(detail, "copyJobId")
        or text(detail, "restoreJobId")
        or "unknown"
    )
    resource_arn = text(detail, "resourceArn") or text(detail, "sourceResourceArn") or "unknown"
    state = text(detail, "state") or text(detail, "status", "UNKNOWN")
    path = {"Copy Job": "copy", "Restore Job": "restore"}.get(job_type, "backup")
    url = console(region, f"/backup/home?region={region}#/jobs/{path}/details/{q(job_id)}")
    facts = [("Job", f"{job_type} {job_id}"), ("Vault", text(detail, "backupVaultName", "unknown"))]
    if text(detail, "resourceType"):
        facts.append(("Resource type", text(detail, "resourceType")))
    return _job_event(
        event,
        door,
        kind="backup_job",
        service="AWS Backup",
        thing=job_type,
        state=state,
        failed={"FAILED": "high", "ABORTED": "high", "EXPIRED": "medium", "PARTIAL": "medium"},
        succeeded=("COMPLETED",),
        run_id=job_id,
        resource=EventResource(
            type=text(detail, "resourceType", "resource"),
            id=resource_arn,
            arn=resource_arn if resource_arn.startswith("arn:") else None,
            console_url=url,
        ),
        summary=text(detail, "statusMessage") or f"{job_type} {job_id}: {state}.",
        url=url,
        facts=tuple(facts),
    )


def parse_glue(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    _account, region = _base(event)
    job = text(detail, "jobName", "unknown")
    run_id = text(detail, "jobRunId", "unknown")
    state = text(detail, "state", "UNKNOWN")
    url = console(region, f"/gluestudio/home?region={region}#/job/{q(job)}/run/{q(run_id)}")
    return _job_event(
        event,
        door,
        kind="glue_job",
        service="Glue",
        thing="Glue job",
        state=state,
        failed={"FAILED": "high", "TIMEOUT": "high", "ERROR": "high", "STOPPED": "low"},
        run_id=run_id,
        resource=EventResource(type="Glue job", id=job, console_url=url),
        summary=text(detail, "message") or f"Run {run_id}: {state}.",
        url=url,
        facts=(("Run", run_id),),
    )


_RDS_CATEGORIES: dict[str, EventSeverity] = {
    "failure": "high",
    "failover": "high",
    "low storage": "high",
    "availability": "medium",
    "recovery": "low",
    "maintenance": "low",
    "read replica": "low",
}


def rds_severity(categories: list[str]) -> EventSeverity:
    """The worst of the event's categories: failure, failover, low storage high; availability
    medium; recovery, maintenance, read replica low; the rest (notification, backup, creation,
    configuration change...) info."""
    ranks = ("info", "low", "medium", "high")
    found = [_RDS_CATEGORIES.get(c.lower(), "info") for c in categories] or ["info"]
    return max(found, key=ranks.index)


def parse_rds(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    account, region = _base(event)
    categories = [str(c) for c in (at(detail, "EventCategories") or []) if c is not None]
    source_id = text(detail, "SourceIdentifier", "unknown")
    source_arn = text(detail, "SourceArn") or source_id
    event_id = text(detail, "EventID") or digest(text(detail, "Message"))
    source_type = text(detail, "SourceType", "DB_INSTANCE")
    url = console(region, f"/rds/home?region={region}#database:id={q(source_id)}")
    message = text(detail, "Message", "RDS event")
    return OpsEvent(
        kind="rds_event",
        door=door,
        service="RDS",
        event_type=event_id,
        name=f"RDS {source_id}: {event_id}",
        title=f"RDS {source_id}: {message}",
        summary=message,
        account_id=account,
        region=region,
        resources=(
            EventResource(
                type=source_type,
                id=source_id,
                arn=source_arn if source_arn.startswith("arn:") else None,
                console_url=url,
            ),
        ),
        severity=rds_severity(categories),
        source_severity=", ".join(categories),
        status=None,
        dedupe_key=f"rds:{source_arn}:{event_id}",
        occurred_at=timestamp(at(detail, "Date"), at(event, "time")),
        updated_at=timestamp(at(detail, "Date"), at(event, "time")),
        console_url=url,
        facts=(("Event", event_id), ("Categories", ", ".join(categories) or "none")),
        raw=dict(event),
    )
