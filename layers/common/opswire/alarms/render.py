"""An ``Alarm`` and its incident -> what a Slack message and an email both say. Pure: no I/O.

Without a ``MessageContext`` a message describes the alarm alone. With one it describes the
incident: what kind of message it is (opened, state change, resolved, flapping, reminder), its
id and severity, how long it lasted, escalation, the runbook, recent log lines and the way to
acknowledge it. Slack (``opswire.alarms.render_slack``) and email
(``opswire.alarms.render_email``) show the same facts (``alarm_facts``, ``incident_summary``),
so a fact added here shows up on both.

Every alarm-provided string is untrusted: it is escaped for Slack mrkdwn (``&``, ``<``, ``>``, which
would otherwise allow ``<!channel>`` pings or disguised links) and for HTML. The only mention
opswire writes itself is ``<!here>``, when the route asks for it.
"""

import re

from pydantic import BaseModel, ConfigDict

from opswire.alarms.models.alarm import Alarm, AlarmMetric, AlarmState
from opswire.alarms.models.incident import NotificationKind, Severity

STATE_COLORS: dict[AlarmState, str] = {
    "ALARM": "#D00000",
    "OK": "#2EB886",
    "INSUFFICIENT_DATA": "#DAA038",
}
STATE_EMOJI: dict[AlarmState, str] = {
    "ALARM": ":red_circle:",
    "OK": ":large_green_circle:",
    "INSUFFICIENT_DATA": ":large_yellow_circle:",
}

# A runbook is a link (a Slack button, an email <a>) only up to Slack's button URL limit.
SLACK_BUTTON_URL_MAX = 3000

RESOLVED_COLOR = "#2EB886"
FLAPPING_COLOR = "#E8912D"
_LOG_LINE_MAX = 300

ELLIPSIS = "…"
_COMPARISON_SYMBOLS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_MAX_DATAPOINTS_SHOWN = 10
# Newlines, tabs and every other control / line-separator character.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class MessageContext(BaseModel):
    """What a message says about the incident, beyond the alarm itself."""

    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    incident_id: str
    severity: Severity = "warning"
    reply: bool = False
    """The message follows an earlier one of the same episode (Slack thread reply, email
    "Re:"): it leads with what changed."""
    mention_here: bool = False
    runbook: str | None = None
    duration_seconds: int | None = None
    """Resolved: how long the incident lasted."""
    elapsed_seconds: int | None = None
    """Reminder: how long the incident has been in ALARM."""
    reminder_count: int | None = None
    escalated_to: tuple[str, ...] = ()
    """Reminder: email addresses the incident was escalated to with this message."""
    paged: bool = False
    """Reminder: the workflow paged (escalation topic) with this message."""
    transitions: int = 0
    """Flapping: state changes counted in the flapping window."""
    updates: int = 0
    """Events: reports of the open episode since the one that opened it."""
    acknowledged_by: str | None = None
    log_group: str | None = None
    log_lines: tuple[str, ...] = ()
    """Recent log lines of the log group behind a log-based metric (opened only)."""
    ack_url: str | None = None
    """Email: the signed acknowledgement link (only while in ALARM)."""
    ack_button: bool = False
    """Slack bot mode: show the "Acknowledge" button (only while in ALARM)."""

    @property
    def can_acknowledge(self) -> bool:
        return self.kind != "resolved" and self.acknowledged_by is None


# --- the incident ----------------------------------------------------------------------------


def state_title(alarm: Alarm, context: MessageContext | None) -> tuple[str, str]:
    """(emoji, label) of the message: the state, or what happened to the incident."""
    kind = context.kind if context is not None else None
    if kind == "resolved":
        return ":white_check_mark:", "RESOLVED"
    if kind == "flapping":
        return ":warning:", "FLAPPING"
    if kind == "reminder" and alarm.state == "ALARM":
        return ":rotating_light:", "STILL IN ALARM"
    return STATE_EMOJI[alarm.state], alarm.state


def state_color(alarm: Alarm, context: MessageContext | None) -> str:
    kind = context.kind if context is not None else None
    if kind == "resolved":
        return RESOLVED_COLOR
    if kind == "flapping":
        return FLAPPING_COLOR
    return STATE_COLORS[alarm.state]


def incident_summary(alarm: Alarm, context: MessageContext) -> str:
    """One plain-text sentence: what this message is about."""
    at = alarm.state_changed_at.strftime("%H:%M:%S UTC")
    match context.kind:
        case "opened":
            text = f"Went into {alarm.state} at {at}."
        case "resolved":
            after = (
                f" after {human_duration(context.duration_seconds)}"
                if context.duration_seconds is not None
                else ""
            )
            text = f"Resolved{after}: back to {alarm.state} at {at}."
        case "flapping":
            text = (
                f"Flapping: {context.transitions} state changes in a short time, now "
                f"{alarm.state}. Further changes are recorded but not notified until it settles."
            )
        case "reminder":
            text = reminder_text(context, f"Still in {alarm.state}")
        case _:
            was = alarm.previous_state or "unknown"
            text = f"{was} → {alarm.state} at {at}."
    if context.acknowledged_by and context.kind != "reminder":
        text += f" Acknowledged by {context.acknowledged_by}."
    return one_line(text)


def incident_line(context: MessageContext) -> str:
    line = f"Incident {context.incident_id} · severity {context.severity}"
    if context.acknowledged_by:
        line += f" · acknowledged by {context.acknowledged_by}"
    return line


def reminder_text(context: MessageContext, still: str) -> str:
    """``still`` ("Still in ALARM", "Still open") with how long, acknowledgement, the reminder
    count, escalation and paging: the reminder line of alarms and events alike."""
    elapsed = (
        f" for {human_duration(context.elapsed_seconds)}"
        if context.elapsed_seconds is not None
        else ""
    )
    count = f" (reminder {context.reminder_count})" if context.reminder_count else ""
    ack = "" if context.acknowledged_by else ", not acknowledged"
    text = f"{still}{elapsed}{ack}{count}."
    if context.escalated_to:
        text += f" Escalated to {', '.join(context.escalated_to)}."
    if context.paged:
        text += " On-call paged."
    return text


def human_duration(seconds: int) -> str:
    """``45 s``, ``12 min``, ``1 h 5 min``, ``2 d 3 h``."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def log_line(line: str) -> str:
    return truncate(one_line(line), _LOG_LINE_MAX)


def is_link(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) <= SLACK_BUTTON_URL_MAX


# --- shared facts ----------------------------------------------------------------------------


def headline(alarm: Alarm, context: MessageContext | None = None) -> str:
    if context is None or context.kind in ("opened", "state_change"):
        was = f" (was {alarm.previous_state})" if alarm.previous_state else ""
        return one_line(f"{alarm.state}: {alarm.name} in {alarm.region}{was}")
    _emoji, title = state_title(alarm, context)
    detail = ""
    if context.kind == "resolved" and context.duration_seconds is not None:
        detail = f" after {human_duration(context.duration_seconds)}"
    elif context.kind == "reminder" and context.elapsed_seconds is not None:
        detail = f" for {human_duration(context.elapsed_seconds)}"
    return one_line(f"{title}: {alarm.name} in {alarm.region}{detail}")


def alarm_facts(alarm: Alarm) -> list[tuple[str, str]]:
    """The (label, plain-text value) pairs both channels show, most important first."""
    state: str = alarm.state
    if alarm.previous_state:
        state += f" (was {alarm.previous_state})"
    facts = [
        ("State", state),
        ("Alarm", alarm.name),
        ("Account / region", f"{alarm.account_id} / {alarm.region}"),
        ("Changed at", alarm.state_changed_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    if alarm.kind == "composite":
        facts.append(("Alarm rule", alarm.alarm_rule or "unknown"))
        if alarm.triggering_alarms:
            facts.append(
                (
                    "Triggering alarms",
                    "\n".join(
                        f"• {child.name} ({child.state or 'state unknown'})"
                        for child in alarm.triggering_alarms
                    ),
                )
            )
    elif alarm.kind == "metric_math":
        facts.append(("Expression", alarm.expression or "unknown"))
        inputs = [
            f"{query.id} = {_describe_metric(query.metric)}"
            for query in alarm.metrics
            if query.metric is not None
        ]
        if inputs:
            facts.append(("Inputs", "\n".join(inputs)))
    elif alarm.metric is not None:
        facts.append(("Metric", _describe_metric(alarm.metric)))
    if alarm.kind != "composite":
        facts.append(("Threshold", _describe_condition(alarm)))
    datapoints = _recent_datapoints(alarm)
    if datapoints:
        facts.append(("Recent datapoints", datapoints))
    if alarm.actions_suppressed_by:
        facts.append(
            (
                "Actions suppressed",
                alarm.actions_suppressed_reason or f"by {alarm.actions_suppressed_by}",
            )
        )
    if alarm.tags:
        facts.append(("Tags", ", ".join(f"{k}={v}" for k, v in sorted(alarm.tags.items()))))
    return facts


def _describe_metric(metric: AlarmMetric) -> str:
    text = f"{metric.namespace} {metric.metric_name}"
    if metric.dimensions:
        dims = ", ".join(f"{k}={v}" for k, v in metric.dimensions.items())
        text += f" ({dims})"
    aggregation = metric.statistic or ""
    if metric.period:
        aggregation += f" over {_duration(metric.period)}"
    if aggregation:
        text += f" · {aggregation.strip()}"
    if metric.unit:
        text += f" [{metric.unit}]"
    return text


def _describe_condition(alarm: Alarm) -> str:
    """The threshold and how it is compared; composite alarms show their rule instead."""
    if alarm.kind == "anomaly_detection":
        text = f"anomaly band {alarm.threshold_metric_id or 'unknown'}"
        if alarm.expression:
            text += f" = {alarm.expression}"
        if alarm.comparison_operator:
            text += f" ({alarm.comparison_operator})"
        band = _latest_band(alarm)
        if band:
            text += f"; expected {band}"
        return text
    if alarm.threshold is None:
        text = "unknown"
    else:
        symbol = _COMPARISON_SYMBOLS.get(alarm.comparison_operator or "")
        value = _number(alarm.threshold)
        if symbol:
            text = f"{symbol} {value} ({alarm.comparison_operator})"
        elif alarm.comparison_operator:
            text = f"{alarm.comparison_operator} {value}"
        else:
            text = value
    if alarm.evaluation_periods:
        needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
        text += f", {needed} of {alarm.evaluation_periods} datapoints"
    return text


def _recent_datapoints(alarm: Alarm) -> str | None:
    points = (alarm.reason_data or {}).get("recentDatapoints")
    if not isinstance(points, list) or not points:
        return None
    numbers = [_number(p) for p in points if isinstance(p, int | float) and not isinstance(p, bool)]
    if not numbers:
        return None
    shown = numbers[-_MAX_DATAPOINTS_SHOWN:]
    return ("… " if len(numbers) > len(shown) else "") + ", ".join(shown)


def _latest_band(alarm: Alarm) -> str | None:
    data = alarm.reason_data or {}
    lower, upper = data.get("recentLowerThresholds"), data.get("recentUpperThresholds")
    if isinstance(lower, list) and isinstance(upper, list) and lower and upper:
        low, high = lower[-1], upper[-1]
        if isinstance(low, int | float) and isinstance(high, int | float):
            return f"{_number(low)} to {_number(high)}"
    return None


def _number(value: float) -> str:
    return f"{value:.6g}"


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def one_line(text: str) -> str:
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
