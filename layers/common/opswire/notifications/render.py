"""An ``Alarm`` -> a Slack message or an email. Pure: no I/O.

Without a ``MessageContext`` a message describes the alarm alone. With one it describes the
incident: what kind of message it is (opened, state change, resolved, flapping, reminder), its
id and severity, how long it lasted, escalation, the runbook, recent log lines and the way to
acknowledge it. Slack and email show the same facts (``_facts``, ``_summary``), so a fact added
here shows up on both.

Every alarm-provided string is untrusted: it is escaped for Slack mrkdwn (``&``, ``<``, ``>``, which
would otherwise allow ``<!channel>`` pings or disguised links) and for HTML. The only mention
opswire writes itself is ``<!here>``, when the route asks for it.
"""

import html
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from opswire.ack_links import ACK_ACTION_ID
from opswire.models.alarm import Alarm, AlarmMetric, AlarmState
from opswire.models.incident import NotificationKind, Severity

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

# Slack Block Kit limits (characters).
SLACK_HEADER_MAX = 150
SLACK_SECTION_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_MAX_FIELDS = 10
SLACK_BUTTON_URL_MAX = 3000
SLACK_FALLBACK_TEXT_MAX = 3000

EMAIL_SUBJECT_MAX = 200

RESOLVED_COLOR = "#2EB886"
FLAPPING_COLOR = "#E8912D"
HERE_MENTION = "<!here>"
_LOG_LINE_MAX = 300

_ELLIPSIS = "…"
_COMPARISON_SYMBOLS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_MAX_DATAPOINTS_SHOWN = 10
# Newlines, tabs and every other control / line-separator character.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class EmailContent(BaseModel):
    """A rendered email: one-line subject, plain-text part and HTML part."""

    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    html: str


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


# --- Slack -----------------------------------------------------------------------------------


def render_slack_message(alarm: Alarm, context: MessageContext | None = None) -> dict[str, Any]:
    """A message payload (incoming webhook, ``chat.postMessage`` or ``chat.update``): fallback
    ``text`` plus one coloured attachment of blocks."""
    emoji, title = _title(alarm, context)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _truncate(_one_line(f"{emoji} {title}: {alarm.name}"), SLACK_HEADER_MAX),
                "emoji": True,
            },
        }
    ]
    if context is not None:
        status = f"{_escape(_summary(alarm, context))}\n{_slack_incident_line(context)}"
        blocks.append(_section(status))
    if alarm.description:
        blocks.append(_section(f"*Description*\n{_escape(alarm.description)}"))
    blocks.append(_section(f"*Reason*\n{_escape(alarm.reason or 'No reason given.')}"))
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _slack_field(label, value)}
                for label, value in _facts(alarm)[:SLACK_MAX_FIELDS]
            ],
        }
    )
    if context is not None and context.log_lines:
        blocks.append(_section(_slack_log_lines(context)))
    runbook = context.runbook if context is not None else None
    if runbook and not _is_link(runbook):
        blocks.append(_section(f"*Runbook*\n{_escape(runbook)}"))
    buttons: list[dict[str, Any]] = []
    if len(alarm.console_url) <= SLACK_BUTTON_URL_MAX:
        buttons.append(_link_button("Open in CloudWatch", alarm.console_url))
    if runbook and _is_link(runbook):
        buttons.append(_link_button("Runbook", runbook))
    if (
        context is not None
        and context.ack_button
        and context.can_acknowledge
        and alarm.state == "ALARM"
    ):
        buttons.append(
            {
                "type": "button",
                "action_id": ACK_ACTION_ID,
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": context.incident_id,
                "style": "primary",
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"opswire · received via {alarm.source}"}],
        }
    )
    text = _escape(_headline(alarm, context))
    if context is not None and context.mention_here:
        text = f"{HERE_MENTION} {text}"
    return {
        "text": _truncate_escaped(text, SLACK_FALLBACK_TEXT_MAX),
        "attachments": [{"color": _color(alarm, context), "blocks": blocks}],
    }


def render_slack_reply(alarm: Alarm, context: MessageContext) -> dict[str, Any]:
    """A thread reply (bot mode): one mrkdwn line saying what changed."""
    emoji, title = _title(alarm, context)
    text = f"{emoji} *{_escape(title)}*: {_escape(_summary(alarm, context))}"
    if context.kind in ("state_change", "flapping") and alarm.reason:
        text += f"\n>{_escape(_one_line(alarm.reason))}"
    if context.mention_here:
        text = f"{HERE_MENTION} {text}"
    return {"text": _truncate_escaped(text, SLACK_SECTION_TEXT_MAX)}


def _slack_incident_line(context: MessageContext) -> str:
    line = f"Incident `{_escape(context.incident_id)}` · severity *{context.severity}*"
    if context.acknowledged_by:
        line += f" · acknowledged by {_escape(context.acknowledged_by)}"
    return line


def _slack_log_lines(context: MessageContext) -> str:
    group = f" (`{_escape(context.log_group)}`)" if context.log_group else ""
    # A log line must not close the code block early.
    lines = "\n".join(
        _escape(_log_line(line)).replace("```", "` ` `") for line in context.log_lines
    )
    return f"*Recent log lines*{group}\n```{lines}```"


def _link_button(text: str, url: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _truncate_escaped(text, SLACK_SECTION_TEXT_MAX)},
    }


def _slack_field(label: str, value: str) -> str:
    return _truncate_escaped(f"*{_escape(label)}*\n{_escape(value)}", SLACK_FIELD_MAX)


def _escape(text: str) -> str:
    """Slack's three control characters; everything else is left to mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate_escaped(text: str, limit: int) -> str:
    """Truncate already-escaped text without cutting an entity (``&amp;``) in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(_ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + _ELLIPSIS


# --- email -----------------------------------------------------------------------------------


def render_alarm_email(alarm: Alarm, context: MessageContext | None = None) -> EmailContent:
    """Subject ``[STATE] <name> in <region>`` (``Re: [ALARM] ...`` for a follow-up of an
    incident), a text part and an HTML part with the same facts."""
    facts = _facts(alarm)
    subject = _email_subject(alarm, context)
    return EmailContent(
        subject=subject,
        text=_email_text(alarm, facts, context),
        html=_email_html(alarm, facts, context, subject),
    )


def _email_subject(alarm: Alarm, context: MessageContext | None = None) -> str:
    """Follow-ups keep the subject of the episode's first mail (which always opens in ALARM),
    so that mail clients that thread by subject agree with the References header."""
    if context is not None and context.reply:
        prefix = "Re: [ALARM] "
    elif context is not None and context.kind in ("opened", "flapping", "reminder"):
        prefix = "[ALARM] "
    elif context is not None and context.kind == "resolved":
        prefix = "[RESOLVED] "
    else:
        prefix = f"[{alarm.state}] "
    suffix = f" in {alarm.region}"
    name = _truncate(_one_line(alarm.name), EMAIL_SUBJECT_MAX - len(prefix) - len(suffix))
    return f"{prefix}{name}{suffix}"


def _email_text(alarm: Alarm, facts: list[tuple[str, str]], context: MessageContext | None) -> str:
    lines = [_headline(alarm, context), ""]
    if context is not None:
        lines += [_summary(alarm, context), _incident_line(context), ""]
        if context.ack_url and context.can_acknowledge and alarm.state == "ALARM":
            lines += [f"Acknowledge (stops reminders): {context.ack_url}", ""]
        if context.runbook:
            lines += [f"Runbook: {context.runbook}", ""]
    if alarm.description:
        lines += [alarm.description, ""]
    lines += [f"Reason: {alarm.reason or 'No reason given.'}", ""]
    for label, value in facts:
        indented = value.replace("\n", "\n    ")
        lines.append(f"{label}: {indented}")
    if context is not None and context.log_lines:
        group = f" ({context.log_group})" if context.log_group else ""
        lines += ["", f"Recent log lines{group}:"]
        lines += [f"    {_log_line(line)}" for line in context.log_lines]
    lines += ["", f"Open in the CloudWatch console: {alarm.console_url}", ""]
    return "\n".join(lines)


def _email_html(
    alarm: Alarm,
    facts: list[tuple[str, str]],
    context: MessageContext | None,
    subject: str,
) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True).replace("\n", "<br>")

    def link(url: str, text: str, style: str = "color:#0b66c3") -> str:
        return f'<a href="{html.escape(url, quote=True)}" style="{style}">{esc(text)}</a>'

    color = _color(alarm, context)
    _emoji, title = _title(alarm, context)
    rows = "\n".join(
        f'<tr><th align="left" valign="top" style="padding:4px 12px 4px 0;white-space:nowrap">'
        f'{esc(label)}</th><td style="padding:4px 0">{esc(value)}</td></tr>'
        for label, value in facts
    )
    description = (
        f'<p style="margin:0 0 12px">{esc(alarm.description)}</p>' if alarm.description else ""
    )
    incident = ""
    if context is not None:
        incident = (
            f'<p style="margin:0 0 12px"><strong>{esc(_summary(alarm, context))}</strong><br>'
            f"{esc(_incident_line(context))}</p>\n"
        )
        if context.ack_url and context.can_acknowledge and alarm.state == "ALARM":
            button = (
                "display:inline-block;padding:8px 16px;background:#1264a3;color:#ffffff;"
                "text-decoration:none;border-radius:4px"
            )
            incident += (
                f'<p style="margin:0 0 12px">{link(context.ack_url, "Acknowledge", button)}'
                " (stops reminders)</p>\n"
            )
        if context.runbook:
            runbook = (
                link(context.runbook, context.runbook)
                if _is_link(context.runbook)
                else esc(context.runbook)
            )
            incident += f'<p style="margin:0 0 12px"><strong>Runbook:</strong> {runbook}</p>\n'
    logs = ""
    if context is not None and context.log_lines:
        group = f" ({esc(context.log_group)})" if context.log_group else ""
        body = html.escape("\n".join(_log_line(line) for line in context.log_lines))
        logs = (
            f'<p style="margin:16px 0 4px"><strong>Recent log lines</strong>{group}</p>\n'
            f'<pre style="margin:0;padding:8px;background:#f4f4f4;white-space:pre-wrap">'
            f"{body}</pre>\n"
        )
    return f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{esc(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d1c1d">
<div style="border-left:6px solid {color};padding:8px 16px">
<h2 style="margin:0 0 12px;color:{color}">{esc(title)}: {esc(alarm.name)}</h2>
{incident}{description}
<p style="margin:0 0 12px"><strong>Reason:</strong> {esc(alarm.reason or "No reason given.")}</p>
<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">
{rows}
</table>
{logs}<p style="margin:16px 0 0"><a href="{html.escape(alarm.console_url, quote=True)}"
 style="color:#0b66c3">Open in the CloudWatch console</a></p>
</div>
</body>
</html>
"""


# --- the incident ----------------------------------------------------------------------------


def _title(alarm: Alarm, context: MessageContext | None) -> tuple[str, str]:
    """(emoji, label) of the message: the state, or what happened to the incident."""
    kind = context.kind if context is not None else None
    if kind == "resolved":
        return ":white_check_mark:", "RESOLVED"
    if kind == "flapping":
        return ":warning:", "FLAPPING"
    if kind == "reminder" and alarm.state == "ALARM":
        return ":rotating_light:", "STILL IN ALARM"
    return STATE_EMOJI[alarm.state], alarm.state


def _color(alarm: Alarm, context: MessageContext | None) -> str:
    kind = context.kind if context is not None else None
    if kind == "resolved":
        return RESOLVED_COLOR
    if kind == "flapping":
        return FLAPPING_COLOR
    return STATE_COLORS[alarm.state]


def _summary(alarm: Alarm, context: MessageContext) -> str:
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
            elapsed = (
                f" for {human_duration(context.elapsed_seconds)}"
                if context.elapsed_seconds is not None
                else ""
            )
            count = f" (reminder {context.reminder_count})" if context.reminder_count else ""
            ack = "" if context.acknowledged_by else ", not acknowledged"
            text = f"Still in {alarm.state}{elapsed}{ack}{count}."
            if context.escalated_to:
                text += f" Escalated to {', '.join(context.escalated_to)}."
            if context.paged:
                text += " On-call paged."
        case _:
            was = alarm.previous_state or "unknown"
            text = f"{was} → {alarm.state} at {at}."
    if context.acknowledged_by and context.kind != "reminder":
        text += f" Acknowledged by {context.acknowledged_by}."
    return _one_line(text)


def _incident_line(context: MessageContext) -> str:
    line = f"Incident {context.incident_id} · severity {context.severity}"
    if context.acknowledged_by:
        line += f" · acknowledged by {context.acknowledged_by}"
    return line


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


def _log_line(line: str) -> str:
    return _truncate(_one_line(line), _LOG_LINE_MAX)


def _is_link(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) <= SLACK_BUTTON_URL_MAX


# --- shared facts ----------------------------------------------------------------------------


def _headline(alarm: Alarm, context: MessageContext | None = None) -> str:
    if context is None or context.kind in ("opened", "state_change"):
        was = f" (was {alarm.previous_state})" if alarm.previous_state else ""
        return _one_line(f"{alarm.state}: {alarm.name} in {alarm.region}{was}")
    _emoji, title = _title(alarm, context)
    detail = ""
    if context.kind == "resolved" and context.duration_seconds is not None:
        detail = f" after {human_duration(context.duration_seconds)}"
    elif context.kind == "reminder" and context.elapsed_seconds is not None:
        detail = f" for {human_duration(context.elapsed_seconds)}"
    return _one_line(f"{title}: {alarm.name} in {alarm.region}{detail}")


def _facts(alarm: Alarm) -> list[tuple[str, str]]:
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


def _one_line(text: str) -> str:
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS
