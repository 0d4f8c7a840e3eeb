"""An ``OpsEvent`` (and its incident) -> an email: a one-line subject, a plain-text part and an
HTML part with the same facts; the raw event last (folded in a ``<details>`` element). Pure:
no I/O. Event-provided text is HTML-escaped; links are written for https URLs only."""

import html

from opswire.alarms.models.event import OpsEvent
from opswire.alarms.render import MessageContext, is_link, one_line, truncate
from opswire.alarms.render_email import EMAIL_SUBJECT_MAX
from opswire.alarms.render_event import (
    event_color,
    event_facts,
    event_headline,
    event_summary,
    event_title,
    is_https,
    raw_text,
    resource_lines,
)
from opswire.channels.ports import EmailContent


def render_event_email(event: OpsEvent, context: MessageContext | None = None) -> EmailContent:
    """Subject ``[HIGH] GuardDuty: <name> in <region>`` (``Re: ...`` for a follow-up)."""
    _emoji, label = event_title(event, context)
    prefix = "Re: " if context is not None and context.reply else ""
    suffix = f" in {event.region}"
    head = f"{prefix}[{label}] {event.service}: "
    name = truncate(one_line(event.name), EMAIL_SUBJECT_MAX - len(head) - len(suffix))
    subject = f"{head}{name}{suffix}"
    return EmailContent(
        subject=subject, text=_text(event, context), html=_html(event, context, subject)
    )


def _text(event: OpsEvent, context: MessageContext | None) -> str:
    lines = [event_headline(event, context), ""]
    if context is not None:
        lines += [event_summary(event, context), f"Incident {context.incident_id}", ""]
        if context.ack_url and context.can_acknowledge and event.state == "ALARM":
            lines += [f"Acknowledge (stops reminders): {context.ack_url}", ""]
        if context.runbook:
            lines += [f"Runbook: {context.runbook}", ""]
    if event.summary:
        lines += [event.summary, ""]
    if event.recommendation:
        lines += [f"What to do ({event.service}): {event.recommendation}", ""]
    for kind, resource_id, url in resource_lines(event):
        lines.append(f"Resource: {kind} {resource_id}" + (f" <{url}>" if is_https(url) else ""))
    for label, value in event_facts(event, context):
        lines.append(f"{label}: {value}")
    if event.console_url and is_https(event.console_url):
        lines += ["", f"Open in the console: {event.console_url}"]
    lines += ["", "-- raw event --", raw_text(event), ""]
    return "\n".join(lines)


def _html(event: OpsEvent, context: MessageContext | None, subject: str) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True).replace("\n", "<br>")

    def link(url: str, text: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}" style="color:#0b66c3">{esc(text)}</a>'

    color = event_color(event, context)
    _emoji, label = event_title(event, context)
    parts: list[str] = []
    if context is not None:
        parts.append(
            f"<p><strong>{esc(event_summary(event, context))}</strong><br>"
            f"Incident {esc(context.incident_id)} · severity {esc(context.severity)}</p>"
        )
        if context.ack_url and context.can_acknowledge and event.state == "ALARM":
            parts.append(f"<p>{link(context.ack_url, 'Acknowledge')} (stops reminders)</p>")
        if context.runbook:
            runbook = (
                link(context.runbook, context.runbook)
                if is_link(context.runbook)
                else esc(context.runbook)
            )
            parts.append(f"<p><strong>Runbook:</strong> {runbook}</p>")
    if event.summary:
        parts.append(f"<p>{esc(event.summary)}</p>")
    if event.recommendation:
        parts.append(
            f"<p><strong>What to do</strong> ({esc(event.service)}): "
            f"{esc(event.recommendation)}</p>"
        )
    resources = "".join(
        f"<li>{esc(kind)}: {link(url, resource_id) if url and is_https(url) else esc(resource_id)}"
        "</li>"
        for kind, resource_id, url in resource_lines(event)
    )
    if resources:
        parts.append(f"<p><strong>Where</strong></p><ul>{resources}</ul>")
    rows = "".join(
        f'<tr><th align="left" valign="top" style="padding:4px 12px 4px 0">{esc(k)}</th>'
        f"<td>{esc(v)}</td></tr>"
        for k, v in event_facts(event, context)
    )
    parts.append(f'<table cellspacing="0" cellpadding="0">{rows}</table>')
    if event.console_url and is_https(event.console_url):
        parts.append(f"<p>{link(event.console_url, f'Open in {event.service}')}</p>")
    parts.append(
        "<details><summary>Raw event</summary>"
        f'<pre style="white-space:pre-wrap">{html.escape(raw_text(event))}</pre></details>'
    )
    body = "\n".join(parts)
    heading = f"{esc(label)} · {esc(event.service)}: {esc(event.title)}"
    return f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{esc(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d1c1d">
<div style="border-left:6px solid {color};padding:8px 16px">
<h2 style="margin:0 0 12px;color:{color}">{heading}</h2>
{body}
</div>
</body>
</html>
"""
