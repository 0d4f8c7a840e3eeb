"""An ``Alarm`` -> a Slack incoming-webhook payload or an email. Pure: no I/O.

Slack and email show the same facts (``_facts``), so a fact added here shows up on both.
Every alarm-provided string is untrusted: it is escaped for Slack mrkdwn (``&``, ``<``, ``>``, which
would otherwise allow ``<!channel>`` pings or disguised links) and for HTML.
"""

import html
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from opswire.models.alarm import Alarm, AlarmMetric, AlarmState

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


# --- Slack -----------------------------------------------------------------------------------


def render_slack_message(alarm: Alarm) -> dict[str, Any]:
    """An incoming-webhook payload: fallback ``text`` plus one coloured attachment of blocks."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _truncate(
                    _one_line(f"{STATE_EMOJI[alarm.state]} {alarm.state}: {alarm.name}"),
                    SLACK_HEADER_MAX,
                ),
                "emoji": True,
            },
        }
    ]
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
    if len(alarm.console_url) <= SLACK_BUTTON_URL_MAX:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in CloudWatch"},
                        "url": alarm.console_url,
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"opswire · received via {alarm.source}"}],
        }
    )
    return {
        "text": _truncate_escaped(_escape(_headline(alarm)), SLACK_FALLBACK_TEXT_MAX),
        "attachments": [{"color": STATE_COLORS[alarm.state], "blocks": blocks}],
    }


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


def render_alarm_email(alarm: Alarm) -> EmailContent:
    """Subject ``[STATE] <name> in <region>``, a text part and an HTML part with the same facts."""
    facts = _facts(alarm)
    return EmailContent(
        subject=_email_subject(alarm),
        text=_email_text(alarm, facts),
        html=_email_html(alarm, facts),
    )


def _email_subject(alarm: Alarm) -> str:
    prefix = f"[{alarm.state}] "
    suffix = f" in {alarm.region}"
    name = _truncate(_one_line(alarm.name), EMAIL_SUBJECT_MAX - len(prefix) - len(suffix))
    return f"{prefix}{name}{suffix}"


def _email_text(alarm: Alarm, facts: list[tuple[str, str]]) -> str:
    lines = [_headline(alarm), ""]
    if alarm.description:
        lines += [alarm.description, ""]
    lines += [f"Reason: {alarm.reason or 'No reason given.'}", ""]
    for label, value in facts:
        indented = value.replace("\n", "\n    ")
        lines.append(f"{label}: {indented}")
    lines += ["", f"Open in the CloudWatch console: {alarm.console_url}", ""]
    return "\n".join(lines)


def _email_html(alarm: Alarm, facts: list[tuple[str, str]]) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True).replace("\n", "<br>")

    color = STATE_COLORS[alarm.state]
    rows = "\n".join(
        f'<tr><th align="left" valign="top" style="padding:4px 12px 4px 0;white-space:nowrap">'
        f'{esc(label)}</th><td style="padding:4px 0">{esc(value)}</td></tr>'
        for label, value in facts
    )
    description = (
        f'<p style="margin:0 0 12px">{esc(alarm.description)}</p>' if alarm.description else ""
    )
    return f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{esc(_email_subject(alarm))}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d1c1d">
<div style="border-left:6px solid {color};padding:8px 16px">
<h2 style="margin:0 0 12px;color:{color}">{esc(alarm.state)}: {esc(alarm.name)}</h2>
{description}
<p style="margin:0 0 12px"><strong>Reason:</strong> {esc(alarm.reason or "No reason given.")}</p>
<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">
{rows}
</table>
<p style="margin:16px 0 0"><a href="{html.escape(alarm.console_url, quote=True)}"
 style="color:#0b66c3">Open in the CloudWatch console</a></p>
</div>
</body>
</html>
"""


# --- shared facts ----------------------------------------------------------------------------


def _headline(alarm: Alarm) -> str:
    was = f" (was {alarm.previous_state})" if alarm.previous_state else ""
    return _one_line(f"{alarm.state}: {alarm.name} in {alarm.region}{was}")


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
