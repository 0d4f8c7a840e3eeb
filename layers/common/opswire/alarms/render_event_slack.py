"""An ``OpsEvent`` (and its incident) -> a Slack message or thread reply. Pure: no I/O.

The same limits and escaping as alarm messages (``opswire.alarms.render_slack``): every
event-provided string is escaped for mrkdwn, links are written only for https URLs without
delimiters, and the only mention is ``<!here>`` when the route asks for it.
"""

from typing import Any

from opswire.alarms.models.event import OpsEvent
from opswire.alarms.render import MessageContext, is_link, one_line
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
from opswire.alarms.render_slack import (
    acknowledge_buttons,
    escape,
    fields_block,
    footer_block,
    header_block,
    incident_section,
    link_button,
    message,
    reply,
    section,
)


def render_event_slack(event: OpsEvent, context: MessageContext | None = None) -> dict[str, Any]:
    emoji, label = event_title(event, context)
    blocks = [header_block(f"{emoji} {label} · {event.service}: {event.title}")]
    if context is not None:
        blocks.append(incident_section(event_summary(event, context), context))
    if event.summary:
        blocks.append(section(f"*What happened*\n{escape(event.summary)}"))
    where = _where(event)
    if where:
        blocks.append(section(f"*Where*\n{where}"))
    blocks.append(fields_block(event_facts(event, context)))
    blocks.extend(_what_to_do(event, context))
    buttons = _buttons(event, context)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(section(f"*Raw event* (folded)\n```{_raw(event)}```"))
    blocks.append(footer_block(escape(f"opswire · {event.kind} · received via {event.door}")))
    return message(blocks, event_headline(event, context), event_color(event, context), context)


def render_event_slack_reply(event: OpsEvent, context: MessageContext) -> dict[str, Any]:
    """A thread reply: what changed, and for an update the new summary and facts."""
    context = context.model_copy(update={"reply": True})
    emoji, label = event_title(event, context)
    text = f"{emoji} *{escape(label)}*: {escape(event_summary(event, context))}"
    if context.kind == "updated":
        text += f"\nSeverity *{escape(context.severity)}*"
        for fact_label, value in event.facts[:3]:
            text += f" · {escape(fact_label)}: {escape(one_line(value))}"
        if event.summary:
            text += f"\n>{escape(one_line(event.summary))}"
    return reply(text, context)


def _where(event: OpsEvent) -> str:
    lines = []
    for kind, resource_id, url in resource_lines(event):
        shown = escape(resource_id)
        if is_https(url):
            shown = f"<{url}|{shown.replace('|', '¦')}>"
        lines.append(f"• {escape(kind)}: {shown}")
    return "\n".join(lines)


def _what_to_do(event: OpsEvent, context: MessageContext | None) -> list[dict[str, Any]]:
    runbook = context.runbook if context is not None else None
    parts = []
    if runbook and not is_link(runbook):
        parts.append(f"*Runbook*\n{escape(runbook)}")
    if event.recommendation:
        parts.append(f"*What to do* (from {escape(event.service)})\n{escape(event.recommendation)}")
    return [section(part) for part in parts]


def _buttons(event: OpsEvent, context: MessageContext | None) -> list[dict[str, Any]]:
    buttons: list[dict[str, Any]] = []
    if event.console_url and is_https(event.console_url) and len(event.console_url) <= 3000:
        buttons.append(link_button(f"Open in {event.service}"[:75], event.console_url))
    runbook = context.runbook if context is not None else None
    if runbook and is_link(runbook):
        buttons.append(link_button("Runbook", runbook))
    buttons.extend(acknowledge_buttons(context, event.state))
    return buttons


def _raw(event: OpsEvent) -> str:
    # The raw text must not close the code block early.
    return escape(raw_text(event)).replace("```", "` ` `")
