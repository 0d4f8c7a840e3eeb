"""Incident state, silences, routing and the decision the alarm workflow acts on.

One incident per alarm (account + region + name). An incident goes through *episodes*: an
episode opens when the alarm enters ALARM and closes when it returns to OK. Notifications,
acknowledgement and re-notification belong to the episode; ``incident_id`` names it.
"""

import fnmatch
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from opswire.alarms.models.alarm import AlarmState, UtcDatetime
from opswire.channels.ports import SlackThread

Severity = Literal["critical", "high", "warning", "medium", "low", "info"]
"""Alarms use critical / warning / info (from the route or the ``opswire:severity`` tag); events
carry their own critical / high / medium / low / info (``opswire.alarms.models.event``)."""
NotificationKind = Literal["opened", "state_change", "resolved", "flapping", "reminder", "updated"]
"""``updated``: an open event's source reported it again (a finding updated); a thread reply."""
NotifyChannel = Literal["slack", "email"]
ALARM_KIND = "cloudwatch_alarm"
"""What routes and silences call a CloudWatch alarm beside the event kinds."""
SuppressReason = Literal["duplicate", "repeat", "silenced", "insufficient_data", "flapping"]


class ChannelFailure(BaseModel):
    """A channel that refused the episode's notifications for good (SES sandbox, a revoked
    Slack token): recorded once per episode, dead-lettered once, until the channel delivers."""

    model_config = ConfigDict(frozen=True)

    error: str
    """The error name, as the workflow's ``Catch`` saw it (``EmailDeliveryError``, ...)."""
    reason: str
    first_at: UtcDatetime


class Incident(BaseModel):
    """The stored state of one alarm's incident (DynamoDB item ``INCIDENT#<key>``)."""

    model_config = ConfigDict(frozen=True)

    key: str
    alarm_name: str
    alarm_arn: str | None = None
    state: AlarmState
    state_changed_at: UtcDatetime
    episode: int = 0
    opened_at: UtcDatetime | None = None
    last_notified_state: AlarmState | None = None
    last_notified_at: UtcDatetime | None = None
    transitions: list[UtcDatetime] = Field(default_factory=list)
    flapping: bool = False
    acknowledged_by: str | None = None
    acknowledged_at: UtcDatetime | None = None
    slack_threads: list[SlackThread] = Field(default_factory=list)
    email_message_id: str | None = None
    channel_failures: dict[NotifyChannel, ChannelFailure] = Field(default_factory=dict)
    """Channels that failed for good in this episode
    (``opswire.alarms.incidents.record_outcome``)."""
    severity: Severity = "warning"
    updates: int = Field(default=0, ge=0)
    """Events: reports of the open episode after the one that opened it."""
    version: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def incident_id(self) -> str:
        """Names the episode: ``<key>-<episode>`` (acknowledge links, Slack buttons, DLQ)."""
        return f"{self.key}-{self.episode}"


class Silence(BaseModel):
    """A time-boxed silence: alarms and events matching the name pattern, the kind pattern, the
    resource pattern (any resource id or ARN of an event; an alarm's name or ARN) and all the
    tags are not notified."""

    model_config = ConfigDict(frozen=True)

    silence_id: str
    name_pattern: str = "*"
    tags: dict[str, str] = Field(default_factory=dict)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    created_by: str
    reason: str
    kind: str = "*"
    """``cloudwatch_alarm`` or an event kind (``guardduty_finding``...), fnmatch pattern."""
    resource_pattern: str = "*"

    def matches(
        self,
        alarm_name: str,
        tags: dict[str, str],
        at: datetime,
        kind: str = ALARM_KIND,
        resources: tuple[str, ...] = (),
    ) -> bool:
        return (
            self.starts_at <= at < self.ends_at
            and fnmatch.fnmatchcase(alarm_name, self.name_pattern)
            and fnmatch.fnmatchcase(kind, self.kind)
            and (
                self.resource_pattern == "*"
                or any(fnmatch.fnmatchcase(r, self.resource_pattern) for r in resources)
            )
            and all(tags.get(key) == value for key, value in self.tags.items())
        )


class EscalationStep(BaseModel):
    """After ``after_minutes`` in ALARM without acknowledgement, also tell these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_minutes: int = Field(ge=1)
    email: list[str] = Field(default_factory=list)
    page: bool = False
    """Publish to the escalation SNS topic (SMS, PagerDuty, Opsgenie subscriptions)."""


class RouteMatch(BaseModel):
    """All given keys must match. Patterns are fnmatch patterns; ``severity`` lists the event
    severities the route takes (an alarm has none, so a route with ``severity`` takes no
    alarm); ``resource`` matches any of an event's resource ids or ARNs (an alarm's name or
    ARN); ``tags`` are the alarm's tags or the event's resource tags."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "*"
    tags: dict[str, str] = Field(default_factory=dict)
    kind: str = "*"
    """``cloudwatch_alarm`` or an event kind: ``guardduty_finding``, ``health_event``, ..."""
    service: str = "*"
    """The source service: ``CloudWatch``, ``GuardDuty``, ``AWS Health``, ``ECS``, ..."""
    severity: list[Literal["critical", "high", "medium", "low", "info"]] = Field(
        default_factory=list
    )
    account: str = "*"
    resource: str = "*"


class Route(BaseModel):
    """Who hears about matching alarms, and how loudly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    match: RouteMatch = Field(default_factory=RouteMatch)
    severity: Severity = "warning"
    slack_channels: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    mention_here: bool = False
    runbook: str | None = None
    renotify_minutes: int = Field(default=0, ge=0)
    """0 = no reminders while the alarm stays in ALARM."""
    escalation: list[EscalationStep] = Field(default_factory=list)
    quiet: bool = False
    """Slack only: no email, no @here, no reminders (low findings to a quiet channel)."""


class RoutingConfig(BaseModel):
    """The routing table (an SSM parameter): first matching route wins, then ``default``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routes: list[Route] = Field(default_factory=list)
    default: Route = Field(default_factory=Route)
    dedupe_window_minutes: int = Field(default=60, ge=0)
    flapping_transitions: int = Field(default=4, ge=2)
    flapping_window_minutes: int = Field(default=30, ge=1)
    notify_insufficient_data: bool = False
    max_reminders: int = Field(default=24, ge=0)


class Decision(BaseModel):
    """What the workflow does with one alarm delivery."""

    model_config = ConfigDict(frozen=True)

    action: Literal["notify", "suppress"]
    reason: SuppressReason | None = None
    kind: NotificationKind | None = None
    incident: Incident
    route: Route
    mention_here: bool = False
    runbook: str | None = None
    duration_seconds: int | None = None
    renotify_seconds: int = 0
    """Seconds the workflow waits before its first reminder (0 = no reminders)."""
    email: bool = True
    """False: the email task sends nothing (a quiet route; an event update whose severity did
    not rise, which the Slack thread records)."""


class Reminder(BaseModel):
    """A reminder while an unacknowledged incident stays in ALARM (from the CheckReminder step)."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(ge=1)
    elapsed_seconds: int = Field(ge=0)
    """Since the alarm entered ALARM (for the message)."""
    since_notice_seconds: int = Field(default=0, ge=0)
    """Since the first notification: escalation steps are timed on this."""
    escalation: list[EscalationStep] = Field(default_factory=list)
    """Escalation steps that became due with this reminder."""
