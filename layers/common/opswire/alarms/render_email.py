"""An ``Alarm`` (and its incident) -> an email: a one-line subject, a plain-text part and an
HTML part with the same facts. Pure: no I/O. Alarm-provided text is HTML-escaped."""

import html

from opswire.alarms.models.alarm import Alarm
from opswire.alarms.render import (
    MessageContext,
    alarm_facts,
    headline,
    incident_line,
    incident_summary,
    is_link,
    log_line,
    one_line,
    state_color,
    state_title,
    truncate,
)
from opswire.channels.ports import EmailContent

EMAIL_SUBJECT_MAX = 200


def render_alarm_email(alarm: Alarm, context: MessageContext | None = None) -> EmailContent:
    """Subject ``[STATE] <name> in <region>`` (``Re: [ALARM] ...`` for a follow-up of an
    incident), a text part and an HTML part with the same facts."""
    facts = alarm_facts(alarm)
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
    name = truncate(one_line(alarm.name), EMAIL_SUBJECT_MAX - len(prefix) - len(suffix))
    return f"{prefix}{name}{suffix}"


def _email_text(alarm: Alarm, facts: list[tuple[str, str]], context: MessageContext | None) -> str:
    lines = [headline(alarm, context), ""]
    if context is not None:
        lines += [incident_summary(alarm, context), incident_line(context), ""]
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
        lines += [f"    {log_line(line)}" for line in context.log_lines]
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

    color = state_color(alarm, context)
    _emoji, title = state_title(alarm, context)
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
            f'<p style="margin:0 0 12px">'
            f"<strong>{esc(incident_summary(alarm, context))}</strong><br>"
            f"{esc(incident_line(context))}</p>\n"
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
                if is_link(context.runbook)
                else esc(context.runbook)
            )
            incident += f'<p style="margin:0 0 12px"><strong>Runbook:</strong> {runbook}</p>\n'
    logs = ""
    if context is not None and context.log_lines:
        group = f" ({esc(context.log_group)})" if context.log_group else ""
        body = html.escape("\n".join(log_line(line) for line in context.log_lines))
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
