"""Incident decisions for operational events (``OpsEvent``): the same incidents, silences,
routing, acknowledgement and reminders as alarms, with an event's own rules.

- One incident per dedupe key (a GuardDuty finding id, a Health event ARN, a failing ECS
  service...). An episode opens with the first open report; later reports of the open episode
  are ``updated`` messages (Slack thread replies; an email only when the severity rose); a
  report no newer than the last one is a duplicate.
- The source's resolution (Health ``closed``, Security Hub RESOLVED / ARCHIVED, GuardDuty
  archived, the next successful deployment / build / job) resolves the episode; a resolution of
  nothing open is not told.
- The event's severity is the incident's (an ``opswire:severity`` resource tag overrides it);
  the route decides who hears it, and routes can match on severity (e.g. low GuardDuty findings
  to a quiet channel). Reminders are for high and critical events only.
"""

from datetime import datetime

from opswire.alarms.incidents import (
    SEVERITIES,
    TAG_SEVERITY,
    incident_key,
    resolve_route,
    silenced,
    suppress,
)
from opswire.alarms.models.event import OpsEvent, severity_rank
from opswire.alarms.models.incident import (
    Decision,
    Incident,
    NotificationKind,
    Route,
    RoutingConfig,
    Silence,
)

REMINDED_SEVERITIES = ("critical", "high")


def event_route(event: OpsEvent, config: RoutingConfig) -> Route:
    """The route for ``event``, carrying the event's severity (or its resources' tag's)."""
    route = resolve_route(event, config)
    tagged = event.tags.get(TAG_SEVERITY)
    severity = tagged if tagged in SEVERITIES else event.severity
    return route.model_copy(update={"severity": severity})


def decide_event(
    event: OpsEvent,
    current: Incident | None,
    silences: list[Silence],
    config: RoutingConfig,
    now: datetime,
) -> Decision:
    """Decide what one report of ``event`` means for its incident."""
    route = event_route(event, config)
    if current is not None and event.updated_at <= current.state_changed_at:
        return suppress("duplicate", current, route)
    is_open = current is not None and current.opened_at is not None
    opening = event.state == "ALARM" and not is_open
    updated = _next_incident(event, current, route, opening=opening)
    if silenced(event, silences, now):
        return suppress("silenced", updated, route)
    if event.state == "OK":
        if current is None or current.opened_at is None:
            return suppress("repeat", updated, route)  # nothing open to resolve
        duration = int((event.updated_at - current.opened_at).total_seconds())
        return _notify("resolved", updated, route, now, duration=duration)
    if opening:
        return _notify("opened", updated, route, now)
    assert current is not None
    rose = severity_rank(updated.severity) > severity_rank(current.severity)
    return _notify("updated", updated, route, now, email=rose)


def _next_incident(
    event: OpsEvent, current: Incident | None, route: Route, *, opening: bool
) -> Incident:
    at = event.updated_at
    keep = current is not None and not opening
    incident = Incident(
        key=incident_key(event),
        alarm_name=event.name,
        state=event.state,
        state_changed_at=at,
        episode=(current.episode if current else 0) + (1 if opening else 0),
        opened_at=at if opening else (current.opened_at if current else None),
        last_notified_state=current.last_notified_state if current else None,
        last_notified_at=current.last_notified_at if current else None,
        acknowledged_by=current.acknowledged_by if keep and current else None,
        acknowledged_at=current.acknowledged_at if keep and current else None,
        slack_threads=current.slack_threads if keep and current else [],
        email_message_id=current.email_message_id if keep and current else None,
        channel_failures=current.channel_failures if keep and current else {},
        severity=route.severity,
        updates=current.updates + 1 if keep and current and event.state == "ALARM" else 0,
        version=current.version if current else 0,
    )
    if event.state == "OK":
        incident = incident.model_copy(update={"opened_at": None})
    return incident


def _notify(
    kind: NotificationKind,
    incident: Incident,
    route: Route,
    now: datetime,
    *,
    duration: int | None = None,
    email: bool = True,
) -> Decision:
    incident = incident.model_copy(
        update={"last_notified_state": incident.state, "last_notified_at": now}
    )
    remind = kind == "opened" and route.severity in REMINDED_SEVERITIES and not route.quiet
    return Decision(
        action="notify",
        kind=kind,
        incident=incident,
        route=route,
        mention_here=route.mention_here and kind == "opened" and not route.quiet,
        runbook=route.runbook,
        duration_seconds=duration,
        renotify_seconds=route.renotify_minutes * 60 if remind else 0,
        email=email and not route.quiet,
    )
