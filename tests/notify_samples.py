"""Notify task inputs built the way the workflow builds them: sample alarms through decide()."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from opswire.alarms.incidents import decide, next_reminder
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope, AlarmSource
from opswire.alarms.models.incident import Decision, EscalationStep, Incident, Route, RoutingConfig
from opswire.alarms.models.tasks import NotifyTaskInput
from opswire.alarms.parse import parse_alarm
from opswire.channels.ports import SlackThread
from tests.conftest import EVENTS

OPENED_AT = datetime(2026, 3, 14, 9, 21, 7, 412000, tzinfo=UTC)  # sns/alarm-metric-alarm.json
RESOLVED_AT = datetime(2026, 3, 14, 9, 43, 7, 208000, tzinfo=UTC)  # eventbridge/alarm-metric-ok


def sample_alarm(relative: str = "sns/alarm-metric-alarm.json") -> Alarm:
    source: AlarmSource = relative.split("/", 1)[0]  # type: ignore[assignment]
    payload = json.loads((EVENTS / relative).read_text())
    return parse_alarm(AlarmEnvelope(source=source, payload=payload))


def route(**changes: Any) -> Route:
    fields: dict[str, Any] = {
        "severity": "critical",
        "slack_channels": ["#alerts"],
        "email": ["oncall@example.com"],
        "mention_here": True,
        "runbook": "https://wiki.example.com/runbooks/orders-api-5xx",
        "renotify_minutes": 15,
        "escalation": [
            EscalationStep(after_minutes=30, email=["lead@example.com"]),
            EscalationStep(after_minutes=60, email=["cto@example.com"], page=True),
        ],
    }
    fields.update(changes)
    return Route(**fields)


def config(**route_changes: Any) -> RoutingConfig:
    return RoutingConfig(default=route(**route_changes))


def opened(alarm: Alarm | None = None, routing: RoutingConfig | None = None) -> NotifyTaskInput:
    alarm = alarm or sample_alarm()
    decision = decide(alarm, None, [], routing or config(), alarm.state_changed_at)
    assert decision.kind == "opened", decision
    return NotifyTaskInput(alarm=alarm, decision=decision)


def delivered(
    task: NotifyTaskInput,
    threads: list[SlackThread] | None = None,
    email_message_id: str | None = None,
) -> Incident:
    """The incident as stored after the workflow recorded the first message's delivery."""
    return task.decision.incident.model_copy(
        update={
            "slack_threads": threads or [],
            "email_message_id": email_message_id,
            "version": task.decision.incident.version + 1,
        }
    )


def resolved(
    stored: Incident, routing: RoutingConfig | None = None, alarm: Alarm | None = None
) -> NotifyTaskInput:
    alarm = alarm or sample_alarm("eventbridge/alarm-metric-ok.json")
    decision = decide(alarm, stored, [], routing or config(), alarm.state_changed_at)
    assert decision.kind == "resolved", decision
    return NotifyTaskInput(alarm=alarm, decision=decision)


def state_change(stored: Incident, state: str = "INSUFFICIENT_DATA") -> NotifyTaskInput:
    alarm = sample_alarm().model_copy(
        update={
            "state": state,
            "previous_state": "ALARM",
            "reason": "Insufficient Data: 1 datapoint was unknown.",
            "state_changed_at": OPENED_AT + timedelta(minutes=5),
        }
    )
    decision = decide(alarm, stored, [], config(), alarm.state_changed_at)
    assert decision.kind == "state_change", decision
    return NotifyTaskInput(alarm=alarm, decision=decision)


def reminder(
    opened_task: NotifyTaskInput, stored: Incident, minutes: int, count: int
) -> NotifyTaskInput:
    """The workflow's re-notification ``minutes`` after the incident opened."""
    reminder = next_reminder(
        stored,
        stored.episode,
        count - 1,
        opened_task.decision.route,
        config(),
        OPENED_AT + timedelta(minutes=minutes),
    )
    assert reminder is not None
    decision: Decision = opened_task.decision.model_copy(update={"incident": stored})
    return NotifyTaskInput(alarm=opened_task.alarm, decision=decision, reminder=reminder)
