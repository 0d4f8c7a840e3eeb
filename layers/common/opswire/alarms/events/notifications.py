"""SNS messages that are neither CloudWatch alarms nor EventBridge events: AWS services' own
notifications (RDS and DMS event JSON, Elastic Beanstalk and AWS Backup text), plain text, and
any other JSON (the generic fallback: the subject and a readable excerpt).

These messages carry no severity: it is read from the words of the message ("failed", "error",
"failover" -> high; "stopped", "warning", "degraded" -> medium; else info), and the message
says so in its "Severity" fact.
"""

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opswire.alarms.events.reader import arn_part, digest, excerpt, text, timestamp
from opswire.alarms.models.envelope import AlarmSource, SnsDelivery
from opswire.alarms.models.event import EventResource, EventSeverity, EventStatus, OpsEvent

_HIGH_WORDS = re.compile(
    r"\b(fail(ed|ing|ure|s)?|error|fatal|severe|critical|aborted|failover)\b", re.I
)
_MEDIUM_WORDS = re.compile(
    r"\b(stopp(ed|ing)|warn(ing)?|degraded|shutdown|low storage|expired)\b", re.I
)


def severity_from_words(message: str) -> EventSeverity:
    if _HIGH_WORDS.search(message):
        return "high"
    if _MEDIUM_WORDS.search(message):
        return "medium"
    return "info"


def _where(sns: SnsDelivery | None) -> tuple[str, str]:
    """(account, region) of the topic the message came through."""
    topic = sns.topic_arn if sns is not None else ""
    return arn_part(topic, 4) or "unknown", arn_part(topic, 3) or "us-east-1"


def _received(sns: SnsDelivery | None) -> datetime:
    return timestamp(sns.timestamp if sns is not None else None)


def is_service_event_json(payload: Mapping[str, Any]) -> bool:
    """RDS and DMS publish ``{"Event Source", "Event Time", "Event Message", ...}``."""
    return "Event Message" in payload and ("Event Source" in payload or "Event ID" in payload)


def parse_service_event_json(payload: Mapping[str, Any], sns: SnsDelivery | None) -> OpsEvent:
    account, region = _where(sns)
    source_type = text(payload, "Event Source", "resource")
    source_id = text(payload, "Source ID") or text(payload, "SourceId") or "unknown"
    source_arn = text(payload, "Source ARN")
    event_id = text(payload, "Event ID").rpartition("#")[2] or digest(
        text(payload, "Event Message")
    )
    link = text(payload, "Identifier Link")
    message = text(payload, "Event Message", "")
    service = "DMS" if "dms" in (link + text(payload, "Event ID")).lower() else "RDS"
    at = timestamp(payload.get("Event Time"), default=_received(sns))
    return OpsEvent(
        kind="service_notification",
        door="sns",
        service=service,
        event_type=event_id,
        name=f"{service} {source_id}: {event_id}",
        title=f"{service} {source_id}: {excerpt(message, 120)}",
        summary=message,
        account_id=arn_part(source_arn, 4) or account,
        region=arn_part(source_arn, 3) or region,
        resources=(
            EventResource(
                type=source_type, id=source_id, arn=source_arn or None, console_url=link or None
            ),
        ),
        severity=severity_from_words(message),
        source_severity="from the message's words",
        dedupe_key=f"{service.lower()}-notification:{source_arn or source_id}:{event_id}",
        occurred_at=at,
        updated_at=at,
        console_url=link if link.startswith("https://") else None,
        facts=(("Event", event_id), ("Source type", source_type)),
        raw=dict(payload),
    )


_EB_TRANSITION = re.compile(r"transitioned from (\w+) to (\w+)", re.I)
_EB_FIELD = re.compile(
    r"^(Timestamp|Message|Environment|Application|Environment URL):\s*(.*)$", re.M
)
_BACKUP_FIELD = re.compile(
    r"(Resource ARN|BackupJob ID|Recovery point ARN|Backup Job ID)\s*:\s*(\S+)", re.I
)


def parse_text(message: str, sns: SnsDelivery | None) -> OpsEvent:
    """Plain text: Elastic Beanstalk and AWS Backup notifications are recognised, anything else
    is a generic notification."""
    fields = dict(_EB_FIELD.findall(message))
    if "Environment" in fields and "Message" in fields:
        return _elastic_beanstalk(message, fields, sns)
    if (
        "AWS Backup" in message
        or "BackupJob ID" in message
        or (sns and sns.subject and "AWS Backup" in sns.subject)
    ):
        return _backup_text(message, sns)
    return generic(message, sns)


def _elastic_beanstalk(message: str, fields: dict[str, str], sns: SnsDelivery | None) -> OpsEvent:
    account, region = _where(sns)
    environment = fields["Environment"].strip()
    said = fields["Message"].strip()
    transition = _EB_TRANSITION.search(said)
    status: EventStatus | None = None
    severity = severity_from_words(said)
    key = f"beanstalk:{account}:{region}:{environment}:{digest(said)}"
    if transition is not None:
        key = f"beanstalk-health:{account}:{region}:{environment}"
        to = transition.group(2).lower()
        status = "resolved" if to in ("ok", "info") else "open"
        severity = {"severe": "high", "degraded": "high", "warning": "medium"}.get(to, "info")  # type: ignore[assignment]
    at = timestamp(fields.get("Timestamp"), default=_received(sns))
    url = f"https://{region}.console.aws.amazon.com/elasticbeanstalk/home?region={region}#/environments"
    return OpsEvent(
        kind="service_notification",
        door="sns",
        service="Elastic Beanstalk",
        event_type="health transition" if transition else "notification",
        name=f"Elastic Beanstalk {environment}",
        title=f"Elastic Beanstalk {environment}: {excerpt(said, 120)}",
        summary=said,
        account_id=account,
        region=region,
        resources=(
            EventResource(type="Elastic Beanstalk environment", id=environment, console_url=url),
        ),
        severity=severity,
        source_severity=transition.group(2) if transition else "from the message's words",
        status=status,
        dedupe_key=key,
        occurred_at=at,
        updated_at=at,
        console_url=url,
        facts=(
            ("Application", fields.get("Application", "unknown").strip()),
            ("Environment URL", fields.get("Environment URL", "").strip() or "none"),
        ),
        raw=message,
    )


def _backup_text(message: str, sns: SnsDelivery | None) -> OpsEvent:
    account, region = _where(sns)
    found = {
        k.lower().replace("backup job id", "backupjob id"): v
        for k, v in _BACKUP_FIELD.findall(message)
    }
    resource = found.get("resource arn", "unknown").rstrip(".,")
    job = found.get("backupjob id", "unknown").rstrip(".,")
    first = excerpt(message.strip().split(".")[0] + ".", 160)
    status: EventStatus | None = None
    if re.search(r"complet\w* successfully", message, re.I):
        status = "resolved"
    elif _HIGH_WORDS.search(message):
        status = "open"
    at = _received(sns)
    url = f"https://{region}.console.aws.amazon.com/backup/home?region={region}#/jobs/backup/details/{job}"
    return OpsEvent(
        kind="service_notification",
        door="sns",
        service="AWS Backup",
        event_type="backup job",
        name=f"AWS Backup {resource}",
        title=f"AWS Backup: {first}",
        summary=excerpt(message),
        account_id=arn_part(resource, 4) or account,
        region=arn_part(resource, 3) or region,
        resources=(
            EventResource(
                type="backed-up resource",
                id=resource,
                arn=resource if resource.startswith("arn:") else None,
            ),
        ),
        severity="info" if status == "resolved" else severity_from_words(message),
        source_severity="from the message's words",
        status=status,
        dedupe_key=f"backup-notification:{resource}" if status else f"backup-notification:{job}",
        occurred_at=at,
        updated_at=at,
        console_url=url if job != "unknown" else None,
        facts=(("Backup job", job),),
        raw=message,
    )


def generic(
    body: str | Mapping[str, Any],
    sns: SnsDelivery | None,
    note: str = "",
    door: AlarmSource | None = None,
) -> OpsEvent:
    """Anything opswire does not recognise: the subject (or the first line) and a readable
    excerpt. Identical messages on one topic are one incident (later ones thread onto it)."""
    account, region = _where(sns)
    raw: str | dict[str, Any]
    if isinstance(body, str):
        readable, raw = body, body
    else:
        readable = json.dumps(body, indent=1, sort_keys=True, default=str)
        raw = dict(body)
    first_line = next((line.strip() for line in readable.splitlines() if line.strip()), "")
    subject = (
        (sns.subject if sns is not None else None) or excerpt(first_line, 100) or "Notification"
    )
    at = _received(sns)
    topic = sns.topic_arn if sns is not None else ""
    facts = [("Topic", arn_part(topic, 5) or "none")]
    if note:
        facts.append(("Note", note))
    return OpsEvent(
        kind="notification",
        door=door or ("sns" if sns is not None else "eventbridge"),
        service=arn_part(topic, 5) or "SNS",
        event_type="text" if isinstance(body, str) else "json",
        name=excerpt(subject, 200),
        title=excerpt(subject, 200),
        summary=excerpt(readable, 1500),
        account_id=account,
        region=region,
        severity=severity_from_words(f"{subject} {readable[:2000]}"),
        source_severity="from the message's words",
        dedupe_key=f"notification:{digest(topic, subject, readable)}",
        occurred_at=at,
        updated_at=at,
        facts=tuple(facts),
        raw=raw,
    )
