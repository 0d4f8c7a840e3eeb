"""Incident decisions: from one alarm delivery and the stored incident to notify-or-suppress.

Pure functions: the caller loads the incident, silences and routing table, calls ``decide`` and
writes the returned incident back with a conditional write (``opswire.alarms.aws.incident_store``),
so two concurrent deliveries of the same change cannot both notify.
"""

import fnmatch
import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import (
    ALARM_KIND,
    ChannelFailure,
    Decision,
    Incident,
    NotificationKind,
    NotifyChannel,
    Reminder,
    Route,
    RouteMatch,
    RoutingConfig,
    Silence,
    SuppressReason,
)
from opswire.channels.ports import Delivery

# Alarm tags that override the routing table for one alarm.
TAG_SEVERITY = "opswire:severity"
TAG_SLACK_CHANNEL = "opswire:slack-channel"
TAG_EMAIL = "opswire:email"
TAG_RUNBOOK = "opswire:runbook"
TAG_MENTION = "opswire:mention"

SEVERITIES = ("critical", "high", "medium", "low", "info")


def incident_key(alarm: Alarm | OpsEvent) -> str:
    """One incident per alarm (account + region + name, whatever door the alarm came through),
    one per event dedupe key (a finding, a Health event, a failing service or pipeline)."""
    if isinstance(alarm, OpsEvent):
        identity = alarm.dedupe_key
    else:
        identity = f"{alarm.account_id}:{alarm.region}:{alarm.name}"
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def subject_kind(subject: Alarm | OpsEvent) -> str:
    """``cloudwatch_alarm`` or the event's kind: what routes and silences match ``kind`` on."""
    return subject.kind if isinstance(subject, OpsEvent) else ALARM_KIND


def subject_resources(subject: Alarm | OpsEvent) -> tuple[str, ...]:
    """The ids and ARNs routes and silences match ``resource`` on."""
    if isinstance(subject, OpsEvent):
        return tuple(v for r in subject.resources for v in (r.id, r.arn) if v)
    return tuple(v for v in (subject.name, subject.arn) if v)


def route_matches(match: RouteMatch, subject: Alarm | OpsEvent) -> bool:
    event = subject if isinstance(subject, OpsEvent) else None
    resources = subject_resources(subject)
    return (
        fnmatch.fnmatchcase(subject.name, match.name)
        and fnmatch.fnmatchcase(subject_kind(subject), match.kind)
        and fnmatch.fnmatchcase(event.service if event else "CloudWatch", match.service)
        and fnmatch.fnmatchcase(subject.account_id, match.account)
        and (not match.severity or (event is not None and event.severity in match.severity))
        and (
            match.resource == "*" or any(fnmatch.fnmatchcase(r, match.resource) for r in resources)
        )
        and all(subject.tags.get(k) == v for k, v in match.tags.items())
    )


def silenced(subject: Alarm | OpsEvent, silences: list[Silence], now: datetime) -> bool:
    kind, resources = subject_kind(subject), subject_resources(subject)
    return any(s.matches(subject.name, subject.tags, now, kind, resources) for s in silences)


def resolve_route(alarm: Alarm | OpsEvent, config: RoutingConfig) -> Route:
    """The first route whose match keys all match, else the default; then the subject's own
    ``opswire:*`` tags (alarm tags, event resource tags) override severity, channels,
    recipients, runbook and mention."""
    route = next(
        (candidate for candidate in config.routes if route_matches(candidate.match, alarm)),
        config.default,
    )
    overrides: dict[str, object] = {}
    tags = alarm.tags
    allowed = SEVERITIES if isinstance(alarm, OpsEvent) else ("critical", "warning", "info")
    if tags.get(TAG_SEVERITY) in allowed:
        overrides["severity"] = tags[TAG_SEVERITY]
    if tags.get(TAG_SLACK_CHANNEL):
        overrides["slack_channels"] = _split(tags[TAG_SLACK_CHANNEL])
    if tags.get(TAG_EMAIL):
        overrides["email"] = _split(tags[TAG_EMAIL])
    if tags.get(TAG_RUNBOOK):
        overrides["runbook"] = tags[TAG_RUNBOOK]
    if TAG_MENTION in tags:
        overrides["mention_here"] = tags[TAG_MENTION].lower() in ("here", "true", "yes")
    return route.model_copy(update=overrides) if overrides else route


def decide(
    alarm: Alarm,
    current: Incident | None,
    silences: list[Silence],
    config: RoutingConfig,
    now: datetime,
) -> Decision:
    """Decide what one delivery of ``alarm`` means for its incident.

    - the same state change again (same state and timestamp, or an older one) -> duplicate;
    - the same state again within the dedupe window -> repeat;
    - more than ``flapping_transitions`` state changes in the flapping window -> one "flapping"
      notification, then silence until it calms down;
    - INSUFFICIENT_DATA is noise unless it comes from ALARM (or the config says otherwise);
    - an active silence records the change but notifies nobody.
    """
    route = resolve_route(alarm, config)
    if current is not None and alarm.state_changed_at <= current.state_changed_at:
        return suppress("duplicate", current, route)

    is_transition = current is None or current.state != alarm.state
    transitions = _recent_transitions(alarm, current, config, is_transition=is_transition)
    opening = alarm.state == "ALARM" and (current is None or current.opened_at is None)
    updated = _next_incident(alarm, current, route, config, transitions, opening=opening)

    if not is_transition:
        assert current is not None
        if _is_repeat(alarm, current, config, now):
            return suppress("repeat", updated, route)

    if silenced(alarm, silences, now):
        return suppress("silenced", updated, route)

    if len(transitions) > config.flapping_transitions:
        if updated.flapping:
            return suppress("flapping", updated, route)
        return _notify("flapping", alarm, updated.model_copy(update={"flapping": True}), route, now)
    updated = updated.model_copy(update={"flapping": False})

    noise = _noise(alarm, current, config)
    if noise is not None:
        return suppress(noise, updated, route)

    kind = _notification_kind(alarm, current, opening=opening, is_transition=is_transition)
    duration = None
    if kind == "resolved" and current is not None and current.opened_at is not None:
        duration = int((alarm.state_changed_at - current.opened_at).total_seconds())
    return _notify(kind, alarm, updated, route, now, duration)


def _recent_transitions(
    alarm: Alarm, current: Incident | None, config: RoutingConfig, *, is_transition: bool
) -> list[datetime]:
    """The state changes inside the flapping window, this one included if it is one."""
    at = alarm.state_changed_at
    window_start = at - timedelta(minutes=config.flapping_window_minutes)
    transitions = [t for t in (current.transitions if current else []) if t >= window_start]
    if is_transition:
        transitions.append(at)
    return transitions


def _next_incident(
    alarm: Alarm,
    current: Incident | None,
    route: Route,
    config: RoutingConfig,
    transitions: list[datetime],
    *,
    opening: bool,
) -> Incident:
    """The incident after this delivery, before deciding whom to tell. A new episode (the alarm
    opens) starts without acknowledgement, threads or channel failures; OK closes it."""
    at = alarm.state_changed_at
    updated = Incident(
        key=incident_key(alarm),
        alarm_name=alarm.name,
        alarm_arn=alarm.arn,
        state=alarm.state,
        state_changed_at=at,
        episode=(current.episode if current else 0) + (1 if opening else 0),
        opened_at=at if opening else (current.opened_at if current else None),
        last_notified_state=current.last_notified_state if current else None,
        last_notified_at=current.last_notified_at if current else None,
        transitions=transitions[-(config.flapping_transitions + 1) :],
        flapping=current.flapping if current else False,
        acknowledged_by=None if opening else (current.acknowledged_by if current else None),
        acknowledged_at=None if opening else (current.acknowledged_at if current else None),
        slack_threads=[] if opening or current is None else current.slack_threads,
        email_message_id=None if opening or current is None else current.email_message_id,
        channel_failures={} if opening or current is None else current.channel_failures,
        severity=route.severity,
        version=current.version if current else 0,
    )
    if alarm.state == "OK":
        updated = updated.model_copy(update={"opened_at": None})
    return updated


def _is_repeat(alarm: Alarm, current: Incident, config: RoutingConfig, now: datetime) -> bool:
    """The same state again: told too recently, or never told in this state."""
    recent = current.last_notified_at is not None and now - current.last_notified_at < (
        timedelta(minutes=config.dedupe_window_minutes)
    )
    return recent or current.last_notified_state != alarm.state


def _noise(alarm: Alarm, current: Incident | None, config: RoutingConfig) -> SuppressReason | None:
    """Why this state is not worth telling anyone about, if it is not."""
    previous_notified = current.last_notified_state if current else None
    if (
        alarm.state == "INSUFFICIENT_DATA"
        and not config.notify_insufficient_data
        and previous_notified != "ALARM"
    ):
        return "insufficient_data"
    if alarm.state == "OK" and previous_notified in (None, "OK"):
        # Nothing was ever raised for this alarm (or it was already resolved): nothing to resolve.
        return "repeat"
    return None


def _notification_kind(
    alarm: Alarm, current: Incident | None, *, opening: bool, is_transition: bool
) -> NotificationKind:
    if opening:
        return "opened"
    if alarm.state == "OK" and current is not None and current.opened_at is not None:
        return "resolved"
    if not is_transition:
        return "reminder"
    return "state_change"


def next_reminder(
    incident: Incident | None,
    episode: int,
    reminders_sent: int,
    route: Route,
    config: RoutingConfig,
    now: datetime,
) -> Reminder | None:
    """The reminder due now for ``episode``, or None when the incident was resolved, acknowledged,
    replaced by a newer episode, or has had its maximum number of reminders.

    Escalation steps are timed from the first notification, in reminder intervals: reminder n
    comes n x ``renotify_minutes`` after it and brings the steps that fell due meanwhile."""
    if (
        incident is None
        or incident.episode != episode
        or incident.state != "ALARM"
        or incident.opened_at is None
        or incident.acknowledged_at is not None
        or reminders_sent >= config.max_reminders
        or route.renotify_minutes <= 0
    ):
        return None
    interval = route.renotify_minutes * 60
    since_notice = (reminders_sent + 1) * interval
    due = [
        step
        for step in route.escalation
        if since_notice - interval < step.after_minutes * 60 <= since_notice
    ]
    return Reminder(
        count=reminders_sent + 1,
        elapsed_seconds=max(0, int((now - incident.opened_at).total_seconds())),
        since_notice_seconds=since_notice,
        escalation=due,
    )


def record_outcome(
    incident: Incident,
    delivery: Delivery,
    failures: Mapping[NotifyChannel, ChannelFailure],
    delivered: Collection[NotifyChannel],
) -> tuple[Incident, list[NotifyChannel]]:
    """The incident after one round of notifications of its episode, and the channels whose
    permanent failure is new (the ones to dead-letter and raise).

    - the episode's first Slack threads and email Message-ID stay (later ones are replies);
    - a channel that failed for good is recorded once: the same error again (every reminder of
      an account whose SES is in the sandbox) changes nothing; another error replaces the record
      and is new;
    - a channel that delivered is no longer failed (a later failure is new again).
    """
    channel_failures = dict(incident.channel_failures)
    new: list[NotifyChannel] = []
    for channel, failure in failures.items():
        known = channel_failures.get(channel)
        if known is None or known.error != failure.error:
            channel_failures[channel] = failure
            new.append(channel)
    for channel in delivered:
        channel_failures.pop(channel, None)
    updated = incident.model_copy(
        update={
            "slack_threads": incident.slack_threads or delivery.slack_threads,
            "email_message_id": incident.email_message_id or delivery.email_message_id,
            "channel_failures": channel_failures,
        }
    )
    return updated, new


def _notify(
    kind: NotificationKind,
    alarm: Alarm,
    incident: Incident,
    route: Route,
    now: datetime,
    duration: int | None = None,
) -> Decision:
    incident = incident.model_copy(
        update={"last_notified_state": alarm.state, "last_notified_at": now}
    )
    # A flapping alarm is told once; reminding about it would be the stream flapping suppresses.
    remind = alarm.state == "ALARM" and kind in ("opened", "state_change") and not route.quiet
    return Decision(
        action="notify",
        kind=kind,
        incident=incident,
        route=route,
        mention_here=route.mention_here and alarm.state == "ALARM" and not route.quiet,
        runbook=route.runbook,
        duration_seconds=duration,
        renotify_seconds=route.renotify_minutes * 60 if remind else 0,
        email=not route.quiet,
    )


def suppress(reason: SuppressReason, incident: Incident, route: Route) -> Decision:
    return Decision(action="suppress", reason=reason, incident=incident, route=route)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]
