"""One normalized operational event: a GuardDuty finding, an AWS Health event, a failed ECS
deployment, a plain-text SNS message... everything that is not a CloudWatch alarm.

``opswire.alarms.events`` builds it from an EventBridge event (directly or forwarded through
SNS), an AWS service notification in its own JSON, or plain text. The incident engine serves it
beside ``Alarm``: it exposes the same few attributes the engine reads (``name``, ``state``,
``state_changed_at``, ``account_id``, ``region``, ``tags``, ``reason``, ``arn``), so dedupe,
routing, silences, acknowledgement and reminders work on both.
"""

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from opswire.alarms.models.alarm import Alarm, AlarmState, UtcDatetime
from opswire.alarms.models.envelope import AlarmSource

EventKind = Literal[
    "guardduty_finding",
    "securityhub_finding",
    "health_event",
    "ecs_deployment",
    "ecs_task_stopped",
    "codepipeline_execution",
    "codebuild_build",
    "backup_job",
    "glue_job",
    "rds_event",
    "console_signin",
    "cost_anomaly",
    "service_notification",
    "notification",
]
"""``service_notification``: an AWS service's own SNS JSON or text (DMS, RDS, Elastic
Beanstalk, Backup); ``notification``: anything else (the generic fallback)."""

EVENT_KINDS: tuple[EventKind, ...] = EventKind.__args__  # type: ignore[attr-defined]

EventSeverity = Literal["critical", "high", "medium", "low", "info"]
SEVERITY_ORDER: tuple[EventSeverity, ...] = ("info", "low", "medium", "high", "critical")

EventStatus = Literal["open", "resolved"]

RAW_KEPT = 32_000


def severity_rank(severity: str) -> int:
    """0 (info) .. 4 (critical); an unknown label ranks as medium."""
    ranks: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITY_ORDER)}
    return ranks.get(severity, 2)


class EventResource(BaseModel):
    """One resource an event is about."""

    model_config = ConfigDict(frozen=True)

    type: str
    id: str
    arn: str | None = None
    console_url: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class OpsEvent(BaseModel):
    """An operational event, normalized.

    ``status`` is "open" or "resolved" where the source has such a state (Security Hub workflow
    status, Health ``statusCode``, a later successful deployment/build/job of the same thing);
    None for one-off events (a console sign-in, an RDS event, a plain-text message), which open
    an incident that only acknowledgement closes.
    """

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    door: AlarmSource
    """How it reached opswire: EventBridge rule or SNS topic."""
    service: str
    """The source service, as a person reads it ("GuardDuty", "AWS Health", "ECS")."""
    event_type: str = ""
    """The source's own type ("Recon:EC2/PortProbeUnprotectedPort", "SERVICE_DEPLOYMENT_FAILED")."""
    name: str = Field(min_length=1)
    """A short stable name of what the event is about (incident name, silences' name pattern)."""
    title: str = Field(min_length=1)
    summary: str = ""
    recommendation: str | None = None
    """What to do, when the source says so (Security Hub remediation, Health description)."""
    account_id: str = Field(min_length=1)
    region: str = Field(min_length=1)
    resources: tuple[EventResource, ...] = ()
    severity: EventSeverity
    source_severity: str = ""
    """The source's own rating ("8.0", "HIGH", "issue", "ERROR"), shown beside ours."""
    status: EventStatus | None = None
    dedupe_key: str = Field(min_length=1)
    occurred_at: UtcDatetime
    """When it first happened (a finding's createdAt, a Health event's startTime)."""
    updated_at: UtcDatetime
    """This report of it (a finding's updatedAt, the event time): orders the updates."""
    console_url: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    """Per-kind facts worth a line each ("Count", "Exit code", "Stage"...), most useful first."""
    raw: dict[str, Any] | str
    """The event as received (JSON object or plain text); beyond ``RAW_KEPT`` characters of
    JSON, the start of it as text (the workflow state must stay under Step Functions' 256 KB,
    and messages show 2,500 characters of it)."""

    @field_validator("raw")
    @classmethod
    def _keep_raw_small(cls, value: dict[str, Any] | str) -> dict[str, Any] | str:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(text) <= RAW_KEPT:
            return value
        return text[:RAW_KEPT] + f"… (cut: {len(text)} characters in all)"

    # ---- what the incident engine reads (the same names as on ``Alarm``) ----------------------
    @property
    def state(self) -> AlarmState:
        """An incident is in ALARM while the event is open (or has no state), OK once resolved."""
        return "OK" if self.status == "resolved" else "ALARM"

    @property
    def state_changed_at(self) -> UtcDatetime:
        return self.updated_at

    @property
    def previous_state(self) -> AlarmState | None:
        return None

    @property
    def arn(self) -> str | None:
        """No CloudWatch alarm ARN: the engine reads no alarm tags for an event."""
        return None

    @property
    def reason(self) -> str:
        return self.summary

    @property
    def description(self) -> str | None:
        return None

    @property
    def tags(self) -> dict[str, str]:
        """The tags of the event's resources, first resource first on a conflict."""
        merged: dict[str, str] = {}
        for resource in reversed(self.resources):
            merged.update(resource.tags)
        return merged


def _subject_tag(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return "event" if kind in EVENT_KINDS else "alarm"


Subject = Annotated[
    Annotated[Alarm, Tag("alarm")] | Annotated[OpsEvent, Tag("event")],
    Discriminator(_subject_tag),
]
"""What the alarm workflow carries in its ``alarm`` field: a CloudWatch alarm or an event."""
