"""An ``Alarm`` (and its incident) -> a Slack message or thread reply. Pure: no I/O.

Every alarm-provided string is escaped for mrkdwn (``&``, ``<``, ``>``) and cut to Block Kit's
limits without splitting an entity; the only mention written is ``<!here>``, when the route asks
for it.
"""

from typing import Any

from opswire.alarms.models.alarm import Alarm
from opswire.alarms.render import (
    ELLIPSIS,
    SLACK_BUTTON_URL_MAX,
    MessageContext,
    alarm_facts,
    headline,
    incident_summary,
    is_link,
    log_line,
    one_line,
    state_color,
    state_title,
    truncate,
)
from opswire.channels.signed_links import ACK_ACTION_ID

# Slack Block Kit limits (characters).
SLACK_HEADER_MAX = 150
SLACK_SECTION_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_MAX_FIELDS = 10
SLACK_FALLBACK_TEXT_MAX = 3000

HERE_MENTION = "<!here>"


def render_slack_message(alarm: Alarm, context: MessageContext | None = None) -> dict[str, Any]:
    """A message payload (incoming webhook, ``chat.postMessage`` or ``chat.update``): fallback
    ``text`` plus one coloured attachment of blocks."""
    emoji, title = state_title(alarm, context)
    blocks = [header_block(f"{emoji} {title}: {alarm.name}")]
    if context is not None:
        blocks.append(incident_section(incident_summary(alarm, context), context))
    if alarm.description:
        blocks.append(section(f"*Description*\n{escape(alarm.description)}"))
    blocks.append(section(f"*Reason*\n{escape(alarm.reason or 'No reason given.')}"))
    blocks.append(fields_block(alarm_facts(alarm)))
    if context is not None and context.log_lines:
        blocks.append(section(_slack_log_lines(context)))
    runbook = context.runbook if context is not None else None
    if runbook and not is_link(runbook):
        blocks.append(section(f"*Runbook*\n{escape(runbook)}"))
    buttons: list[dict[str, Any]] = []
    if len(alarm.console_url) <= SLACK_BUTTON_URL_MAX:
        buttons.append(link_button("Open in CloudWatch", alarm.console_url))
    if runbook and is_link(runbook):
        buttons.append(link_button("Runbook", runbook))
    buttons.extend(acknowledge_buttons(context, alarm.state))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(footer_block(f"opswire · received via {alarm.source}"))
    return message(blocks, headline(alarm, context), state_color(alarm, context), context)


def render_slack_reply(alarm: Alarm, context: MessageContext) -> dict[str, Any]:
    """A thread reply (bot mode): one mrkdwn line saying what changed."""
    emoji, title = state_title(alarm, context)
    text = f"{emoji} *{escape(title)}*: {escape(incident_summary(alarm, context))}"
    if context.kind in ("state_change", "flapping") and alarm.reason:
        text += f"\n>{escape(one_line(alarm.reason))}"
    return reply(text, context)


# --- blocks shared by alarm and event messages (``opswire.alarms.render_event_slack``) -------


def message(
    blocks: list[dict[str, Any]], fallback: str, color: str, context: MessageContext | None
) -> dict[str, Any]:
    """The message payload: escaped ``fallback`` text (after ``<!here>`` when the route asks
    for it) and one attachment of ``blocks`` in ``color``."""
    text = escape(fallback)
    if context is not None and context.mention_here:
        text = f"{HERE_MENTION} {text}"
    return {
        "text": truncate_escaped(text, SLACK_FALLBACK_TEXT_MAX),
        "attachments": [{"color": color, "blocks": blocks}],
    }


def reply(text: str, context: MessageContext) -> dict[str, Any]:
    """A thread reply of already-escaped mrkdwn ``text`` (after ``<!here>`` when asked for)."""
    if context.mention_here:
        text = f"{HERE_MENTION} {text}"
    return {"text": truncate_escaped(text, SLACK_SECTION_TEXT_MAX)}


def header_block(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate(one_line(text), SLACK_HEADER_MAX),
            "emoji": True,
        },
    }


def incident_section(summary: str, context: MessageContext) -> dict[str, Any]:
    """The incident's summary line, then its id, severity and who acknowledged it."""
    line = f"Incident `{escape(context.incident_id)}` · severity *{context.severity}*"
    if context.acknowledged_by:
        line += f" · acknowledged by {escape(context.acknowledged_by)}"
    return section(f"{escape(summary)}\n{line}")


def fields_block(facts: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": slack_field(label, value)}
            for label, value in facts[:SLACK_MAX_FIELDS]
        ],
    }


def acknowledge_buttons(context: MessageContext | None, state: str) -> list[dict[str, Any]]:
    """The "Acknowledge" button (bot mode), while the incident is open, unacknowledged and in
    ALARM; else none."""
    if context is None or not (context.ack_button and context.can_acknowledge):
        return []
    if state != "ALARM":
        return []
    return [
        {
            "type": "button",
            "action_id": ACK_ACTION_ID,
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "value": context.incident_id,
            "style": "primary",
        }
    ]


def footer_block(text: str) -> dict[str, Any]:
    """The closing context block; ``text`` is mrkdwn, already escaped."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _slack_log_lines(context: MessageContext) -> str:
    group = f" (`{escape(context.log_group)}`)" if context.log_group else ""
    # A log line must not close the code block early.
    lines = "\n".join(escape(log_line(line)).replace("```", "` ` `") for line in context.log_lines)
    return f"*Recent log lines*{group}\n```{lines}```"


def link_button(text: str, url: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}


def section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate_escaped(text, SLACK_SECTION_TEXT_MAX)},
    }


def slack_field(label: str, value: str) -> str:
    return truncate_escaped(f"*{escape(label)}*\n{escape(value)}", SLACK_FIELD_MAX)


def escape(text: str) -> str:
    """Slack's three control characters; everything else is left to mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate_escaped(text: str, limit: int) -> str:
    """Truncate already-escaped text without cutting an entity (``&amp;``) in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS
