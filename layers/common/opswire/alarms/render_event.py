"""An ``OpsEvent`` and its incident -> what a Slack message and an email say. Pure: no I/O.

Read in five seconds, top to bottom: what happened (severity, service, title), where (account,
region, resources with their console links), how bad (our severity and the source's own rating),
what to do (the runbook from the route or an ``opswire:runbook`` tag, the source's
recommendation), the kind's own facts, and last the raw event, folded away (a collapsed block
at the end of the Slack message, a ``<details>`` element in the email).

Event text is untrusted like alarm text: the Slack renderer escapes it for mrkdwn and the email
renderer for HTML (``render_event_slack``, ``render_event_email``).
"""

import json

from opswire.alarms.models.event import EventSeverity, OpsEvent
from opswire.alarms.render import (
    RESOLVED_COLOR,
    MessageContext,
    human_duration,
    one_line,
    reminder_text,
)

SEVERITY_COLORS: dict[str, str] = {
    "critical": "#7A0000",
    "high": "#D00000",
    "medium": "#E8912D",
    "low": "#DAA038",
    "info": "#439FE0",
}
SEVERITY_EMOJI: dict[str, str] = {
    "critical": ":rotating_light:",
    "high": ":red_circle:",
    "medium": ":large_orange_circle:",
    "low": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}
RAW_MAX = 2500
"""Characters of the raw event shown (Slack and email); the rest is cut."""


def event_severity(event: OpsEvent, context: MessageContext | None) -> str:
    """The incident's severity when there is one (it may come from a tag), else the event's."""
    return context.severity if context is not None else event.severity


def event_title(event: OpsEvent, context: MessageContext | None) -> tuple[str, str]:
    """(emoji, label): RESOLVED, UPDATED, STILL OPEN, or the severity."""
    kind = context.kind if context is not None else None
    if kind == "resolved" or (kind is None and event.status == "resolved"):
        return ":white_check_mark:", "RESOLVED"
    if kind == "updated" and context is not None and context.reply:
        # The thread reply (and the mail) say what happened; the root shows the severity now.
        return ":arrows_counterclockwise:", "UPDATED"
    if kind == "reminder":
        return ":rotating_light:", "STILL OPEN"
    severity = event_severity(event, context)
    return SEVERITY_EMOJI.get(severity, ":large_blue_circle:"), severity.upper()


def event_color(event: OpsEvent, context: MessageContext | None) -> str:
    if event.status == "resolved" or (context is not None and context.kind == "resolved"):
        return RESOLVED_COLOR
    return SEVERITY_COLORS.get(event_severity(event, context), SEVERITY_COLORS["info"])


def event_headline(event: OpsEvent, context: MessageContext | None = None) -> str:
    """``HIGH · GuardDuty: <title> (eu-west-1, account 123456789012)``."""
    _emoji, label = event_title(event, context)
    detail = ""
    if context is not None and context.kind == "resolved" and context.duration_seconds:
        detail = f" after {human_duration(context.duration_seconds)}"
    elif context is not None and context.kind == "reminder" and context.elapsed_seconds:
        detail = f" for {human_duration(context.elapsed_seconds)}"
    return one_line(
        f"{label} · {event.service}: {event.title}{detail} "
        f"({event.region}, account {event.account_id})"
    )


def event_summary(event: OpsEvent, context: MessageContext) -> str:
    """One sentence: what this message is about."""
    at = event.updated_at.strftime("%H:%M:%S UTC")
    match context.kind:
        case "opened":
            text = f"Opened at {at}."
        case "updated":
            text = f"Reported again at {at} (update {max(context.updates, 1)}), still open."
        case "resolved":
            after = (
                f" after {human_duration(context.duration_seconds)}"
                if context.duration_seconds is not None
                else ""
            )
            text = f"Resolved by {event.service}{after} at {at}."
        case "reminder":
            text = reminder_text(context, "Still open")
        case _:
            text = f"Reported at {at}."
    if context.acknowledged_by and context.kind != "reminder":
        text += f" Acknowledged by {context.acknowledged_by}."
    return one_line(text)


def how_bad(event: OpsEvent, context: MessageContext | None) -> str:
    severity: EventSeverity | str = event_severity(event, context)
    own = f" ({event.service}: {event.source_severity})" if event.source_severity else ""
    return f"{severity}{own}"


def event_facts(event: OpsEvent, context: MessageContext | None) -> list[tuple[str, str]]:
    """(label, plain text) pairs, most important first: where, how bad, then the kind's own."""
    facts: list[tuple[str, str]] = [
        ("Severity", how_bad(event, context)),
        ("Account", event.account_id),
        ("Region", event.region),
    ]
    if event.status is not None:
        facts.append(("Status", event.status))
    own_values = {value for _label, value in event.facts}
    if event.event_type and event.event_type not in own_values | {event.title}:
        facts.append(("Type", event.event_type))
    facts.extend(event.facts)
    facts.append(("First reported", event.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")))
    return facts


def resource_lines(event: OpsEvent) -> list[tuple[str, str, str | None]]:
    """(type, id, console link) of each resource (at most 5)."""
    return [(r.type, r.id, r.console_url) for r in event.resources[:5]]


def raw_text(event: OpsEvent) -> str:
    """The raw event as indented JSON (or the text), cut to ``RAW_MAX`` characters."""
    text = (
        event.raw
        if isinstance(event.raw, str)
        else json.dumps(event.raw, indent=2, sort_keys=True, default=str)
    )
    return text if len(text) <= RAW_MAX else text[: RAW_MAX - 1] + "…"


def is_https(url: str | None) -> bool:
    """A link opswire writes into a message: https, no whitespace or mrkdwn/HTML delimiters."""
    return (
        bool(url)
        and str(url).startswith("https://")
        and not any(ch in str(url) for ch in " \t\n<>|\"'")
    )
