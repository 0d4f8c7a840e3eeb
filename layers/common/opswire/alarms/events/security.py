"""Security events: GuardDuty findings, Security Hub findings, console sign-ins (CloudTrail)."""

from collections.abc import Mapping
from typing import Any

from opswire.alarms.events.reader import at, console, digest, number, q, tag_map, text, timestamp
from opswire.alarms.models.envelope import AlarmSource
from opswire.alarms.models.event import EventResource, EventSeverity, OpsEvent


def guardduty_severity(score: float | None) -> EventSeverity:
    """GuardDuty's 0-10 scale: 9+ critical, 7-8.9 high, 4-6.9 medium, 1-3.9 low, below 1 info
    (an unreadable score counts as medium)."""
    if score is None:
        return "medium"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    if score >= 1:
        return "low"
    return "info"


def _guardduty_resource(resource: Mapping[str, Any], region: str) -> EventResource | None:
    kind = text(resource, "resourceType")
    instance = at(resource, "instanceDetails")
    if kind == "Instance" and isinstance(instance, Mapping):
        instance_id = text(instance, "instanceId", "unknown")
        return EventResource(
            type="EC2 instance",
            id=instance_id,
            console_url=console(
                region, f"/ec2/home?region={region}#InstanceDetails:instanceId={q(instance_id)}"
            ),
            tags=tag_map(instance.get("tags")),
        )
    if kind == "AccessKey":
        user = text(resource, "accessKeyDetails.userName", "unknown")
        key = text(resource, "accessKeyDetails.accessKeyId")
        return EventResource(type="IAM access key", id=f"{user} ({key})" if key else user)
    if kind == "S3Bucket":
        buckets = at(resource, "s3BucketDetails")
        name = (
            text(buckets[0], "name", "unknown")
            if isinstance(buckets, list) and buckets
            else "unknown"
        )
        return EventResource(
            type="S3 bucket",
            id=name,
            console_url=f"https://s3.console.aws.amazon.com/s3/buckets/{q(name)}",
        )
    if kind == "EKSCluster":
        return EventResource(
            type="EKS cluster", id=text(resource, "eksClusterDetails.name", "unknown")
        )
    return (
        EventResource(type=kind or "resource", id=text(resource, "resourceType", "unknown"))
        if kind
        else None
    )


def parse_guardduty(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    detail = at(event, "detail") or {}
    region = text(detail, "region") or text(event, "region", "us-east-1")
    finding_id = text(detail, "id") or text(event, "id", "unknown")
    score = number(at(detail, "severity"))
    resource = _guardduty_resource(at(detail, "resource") or {}, region)
    finding_type = text(detail, "type", "unknown finding type")
    facts = [("Finding type", finding_type), ("Count", text(detail, "service.count", "1"))]
    for label, path in (
        ("Activity first seen", "service.eventFirstSeen"),
        ("Activity last seen", "service.eventLastSeen"),
        ("Action", "service.action.actionType"),
    ):
        if text(detail, path):
            facts.append((label, text(detail, path)))
    return OpsEvent(
        kind="guardduty_finding",
        door=door,
        service="GuardDuty",
        event_type=finding_type,
        name=text(detail, "title") or finding_type,
        title=text(detail, "title") or finding_type,
        summary=text(detail, "description"),
        account_id=text(detail, "accountId") or text(event, "account", "unknown"),
        region=region,
        resources=(resource,) if resource else (),
        severity=guardduty_severity(score),
        source_severity="" if score is None else f"{score:g}",
        status="resolved" if at(detail, "service.archived") is True else "open",
        dedupe_key=f"guardduty:{finding_id}",
        occurred_at=timestamp(at(detail, "createdAt"), at(event, "time")),
        updated_at=timestamp(at(detail, "updatedAt"), at(event, "time")),
        console_url=console(
            region, f"/guardduty/home?region={region}#/findings?macros=current&fId={q(finding_id)}"
        ),
        facts=tuple(facts),
        raw=dict(event),
    )


_SECURITY_HUB_LABELS: dict[str, EventSeverity] = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MEDIUM": "medium",
    "LOW": "low",
    "INFORMATIONAL": "info",
}
_SECURITY_HUB_CLOSED = ("RESOLVED", "SUPPRESSED")


def securityhub_severity(label: str) -> EventSeverity:
    """Security Hub's ``Severity.Label``; an unknown label counts as medium."""
    return _SECURITY_HUB_LABELS.get(label.upper(), "medium")


def parse_securityhub(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    """The first finding of the event (Security Hub sends one finding per event; more are
    counted in the facts)."""
    findings = at(event, "detail.findings")
    finding: Mapping[str, Any] = (
        findings[0]
        if isinstance(findings, list) and findings and isinstance(findings[0], Mapping)
        else {}
    )
    region = text(finding, "Region") or text(event, "region", "us-east-1")
    finding_id = text(finding, "Id") or text(event, "id", "unknown")
    label = text(finding, "Severity.Label") or text(finding, "Severity.Original")
    workflow = text(finding, "Workflow.Status") or text(finding, "WorkflowState")
    archived = text(finding, "RecordState") == "ARCHIVED"
    resources = tuple(
        EventResource(
            type=text(r, "Type", "resource"),
            id=text(r, "Id", "unknown"),
            arn=text(r, "Id") if text(r, "Id").startswith("arn:") else None,
            tags=tag_map(r.get("Tags")),
        )
        for r in (finding.get("Resources") or [])
        if isinstance(r, Mapping)
    )
    recommendation = " ".join(
        part
        for part in (
            text(finding, "Remediation.Recommendation.Text"),
            text(finding, "Remediation.Recommendation.Url"),
        )
        if part
    )
    facts = [
        ("Product", text(finding, "ProductName") or text(finding, "ProductArn", "Security Hub"))
    ]
    if text(finding, "Compliance.Status"):
        facts.append(("Compliance", text(finding, "Compliance.Status")))
    facts.append(
        ("Workflow", f"{workflow or 'NEW'} · record {text(finding, 'RecordState', 'ACTIVE')}")
    )
    if isinstance(findings, list) and len(findings) > 1:
        facts.append(("Findings in this event", f"{len(findings)} (the first is shown)"))
    title = text(finding, "Title") or "Security Hub finding"
    return OpsEvent(
        kind="securityhub_finding",
        door=door,
        service="Security Hub",
        event_type=text(finding, "GeneratorId") or title,
        name=title,
        title=title,
        summary=text(finding, "Description"),
        recommendation=recommendation or None,
        account_id=text(finding, "AwsAccountId") or text(event, "account", "unknown"),
        region=region,
        resources=resources,
        severity=securityhub_severity(label),
        source_severity=label,
        status="resolved" if archived or workflow in _SECURITY_HUB_CLOSED else "open",
        dedupe_key=f"securityhub:{finding_id}",
        occurred_at=timestamp(
            at(finding, "FirstObservedAt"), at(finding, "CreatedAt"), at(event, "time")
        ),
        updated_at=timestamp(at(finding, "UpdatedAt"), at(event, "time")),
        console_url=console(
            region, f"/securityhub/home?region={region}#/findings?search=Id%3D{q(finding_id)}"
        ),
        facts=tuple(facts),
        raw=dict(event),
    )


def parse_console_signin(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    """CloudTrail's ``ConsoleLogin``: a root sign-in is critical, an IAM user's without MFA high,
    a failed sign-in medium, anything else info."""
    detail = at(event, "detail") or {}
    identity_type = text(detail, "userIdentity.type", "unknown")
    user = (
        text(detail, "userIdentity.userName") or text(detail, "userIdentity.arn") or identity_type
    )
    outcome = text(detail, "responseElements.ConsoleLogin", "unknown")
    mfa = text(detail, "additionalEventData.MFAUsed", "unknown")
    severity: EventSeverity
    if identity_type == "Root":
        severity, what = "critical", "Root user signed in to the console"
    elif outcome == "Failure":
        severity, what = "medium", f"Failed console sign-in of {user}"
    elif mfa == "No":
        severity, what = "high", f"Console sign-in without MFA: {user}"
    else:
        severity, what = "info", f"Console sign-in: {user}"
    if identity_type == "Root" and outcome == "Failure":
        what = "Failed root user sign-in to the console"
    region = text(detail, "awsRegion") or text(event, "region", "us-east-1")
    event_id = text(detail, "eventID") or text(event, "id") or digest(str(event))
    source_ip = text(detail, "sourceIPAddress", "unknown")
    return OpsEvent(
        kind="console_signin",
        door=door,
        service="CloudTrail",
        event_type=text(detail, "eventName", "ConsoleLogin"),
        name=what,
        title=what,
        summary=f"{outcome} sign-in of {user} ({identity_type}) from {source_ip}, MFA used: {mfa}.",
        account_id=text(detail, "recipientAccountId") or text(event, "account", "unknown"),
        region=region,
        resources=(
            EventResource(
                type="IAM identity", id=user, arn=text(detail, "userIdentity.arn") or None
            ),
        ),
        severity=severity,
        source_severity=f"{identity_type}/{outcome}/MFA {mfa}",
        status=None,
        dedupe_key=f"signin:{event_id}",
        occurred_at=timestamp(at(detail, "eventTime"), at(event, "time")),
        updated_at=timestamp(at(detail, "eventTime"), at(event, "time")),
        console_url=console(region, f"/cloudtrailv2/home?region={region}#/events/{q(event_id)}"),
        facts=(
            ("Source IP", source_ip),
            ("User agent", text(detail, "userAgent", "unknown")),
            ("Result", outcome),
            ("MFA used", mfa),
        ),
        raw=dict(event),
    )


def cost_anomaly_severity(total_impact: float | None) -> EventSeverity:
    """By the anomaly's total impact in USD: 1000 and more high, 100 and more medium, else low."""
    if total_impact is None:
        return "medium"
    if total_impact >= 1000:
        return "high"
    return "medium" if total_impact >= 100 else "low"


def parse_cost_anomaly(event: Mapping[str, Any], door: AlarmSource) -> OpsEvent:
    """Cost Anomaly Detection's "Anomaly Detected": one incident per anomaly id, updated while
    the anomaly grows (AWS sends no end of an anomaly: acknowledge it)."""
    detail = at(event, "detail") or {}
    anomaly_id = text(detail, "anomalyId") or text(event, "id") or digest(str(event))
    impact = number(at(detail, "impact.totalImpact"))
    causes = at(detail, "rootCauses") or []
    cause = causes[0] if isinstance(causes, list) and causes and isinstance(causes[0], dict) else {}
    service = text(cause, "service") or text(detail, "dimensionalValue", "unknown service")
    region = text(cause, "region") or text(event, "region", "us-east-1")
    spend = f"${impact:,.2f}" if impact is not None else "an unknown amount"
    title = f"Cost anomaly: {service} spent {spend} more than expected"
    link = text(detail, "anomalyDetailsLink") or (
        "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/overview"
    )
    expected = number(at(detail, "impact.totalExpectedSpend"))
    actual = number(at(detail, "impact.totalActualSpend"))
    return OpsEvent(
        kind="cost_anomaly",
        door=door,
        service="Cost Anomaly Detection",
        event_type="Anomaly Detected",
        name=title,
        title=title,
        summary=(
            f"From {text(detail, 'anomalyStartDate', 'unknown')}: actual spend "
            f"{'unknown' if actual is None else f'${actual:,.2f}'}, expected "
            f"{'unknown' if expected is None else f'${expected:,.2f}'}."
        ),
        account_id=text(detail, "accountId") or text(event, "account", "unknown"),
        region=region,
        resources=(
            EventResource(
                type="Cost monitor",
                id=text(detail, "monitorName") or text(detail, "monitorArn", "unknown"),
                arn=text(detail, "monitorArn") or None,
                console_url=link,
            ),
        ),
        severity=cost_anomaly_severity(impact),
        source_severity=f"impact {spend}",
        status="open",
        dedupe_key=f"cost-anomaly:{anomaly_id}",
        occurred_at=timestamp(at(detail, "anomalyStartDate"), at(event, "time")),
        updated_at=timestamp(at(event, "time")),
        console_url=link,
        facts=(
            ("Service", service),
            ("Usage type", text(cause, "usageType", "unknown")),
            ("Linked account", text(cause, "linkedAccount", "unknown")),
            ("Total impact", spend),
        ),
        raw=dict(event),
    )
