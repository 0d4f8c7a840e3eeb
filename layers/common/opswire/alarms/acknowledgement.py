"""Acknowledge an incident from a signed email link or the Slack "Acknowledge" button.

An acknowledged incident gets no more reminders or escalation. Every request is authenticated:
an email link by its HMAC signature and expiry (``opswire.channels.signed_links``), a Slack
click by Slack's request signature over the raw body (checked by the interactivity router,
``opswire.channels.interactions``, before the click is routed here). Answers are
``HttpAnswer``s: bad input is a 4xx with a short explanation (401 bad or missing signature, 410
expired link, 400 malformed, 404 unknown incident), never a 5xx.

A GET of an email link only shows a confirmation page with a POST button: mail scanners and link
previews fetch GET links, and must not acknowledge anything.
"""

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from opswire.channels.interactions import HttpAnswer, json_answer
from opswire.channels.ports import SlackApi
from opswire.channels.signed_links import (
    ACK_ACTION_ID,
    AckLinkError,
    AckLinkExpiredError,
    AckLinkMalformedError,
    verify_ack_link,
)
from opswire.core.errors import IncidentNotFoundError, OpswireError
from opswire.core.observability import logger

if TYPE_CHECKING:
    # Types only: the incident models cost ~80 ms of import, paid when a request needs them.
    from opswire.alarms.models.incident import Incident

EMAIL_LINK_ACTOR = "email link"
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class Acknowledger(Protocol):
    def acknowledge(self, incident_id: str, by: str, at: datetime) -> "Incident": ...


# ---- email links --------------------------------------------------------------------------------
def confirmation_page(
    incident_id: str, expires: str | None, signature: str | None, key: str, now: datetime
) -> HttpAnswer:
    """GET: check the link, then offer a button that POSTs it. Acknowledges nothing."""
    problem = _link_problem(incident_id, expires, signature, key, now)
    if problem is not None:
        return problem
    form = (
        '<form method="post" action="">'
        f'<input type="hidden" name="exp" value="{html.escape(expires or "", quote=True)}">'
        f'<input type="hidden" name="sig" value="{html.escape(signature or "", quote=True)}">'
        '<button type="submit" style="padding:8px 16px;font-size:16px">'
        "Acknowledge incident</button></form>"
    )
    return _page(
        200,
        "Acknowledge this incident?",
        f"Incident <code>{html.escape(incident_id)}</code>: acknowledging it stops the reminders "
        f"and escalation for this occurrence of the alarm.</p>{form}<p>",
    )


def acknowledge_by_link(
    incident_id: str,
    expires: str | None,
    signature: str | None,
    key: str,
    store: Acknowledger,
    now: datetime,
    slack: SlackApi | None = None,
) -> HttpAnswer:
    """POST: check the link and acknowledge the incident."""
    problem = _link_problem(incident_id, expires, signature, key, now)
    if problem is not None:
        return problem
    try:
        incident = store.acknowledge(incident_id, EMAIL_LINK_ACTOR, now)
    except IncidentNotFoundError:
        return _page(404, "Incident not found", "This incident does not exist any more.")
    if _newly_acknowledged(incident, EMAIL_LINK_ACTOR, now):
        _announce(slack, incident, [], f"Acknowledged by {EMAIL_LINK_ACTOR}")
        return _page(
            200,
            "Incident acknowledged",
            "Thank you: no more reminders will be sent for this incident.",
        )
    by = html.escape(incident.acknowledged_by or "?")
    return _page(200, "Already acknowledged", f"This incident was already acknowledged by {by}.")


def _link_problem(
    incident_id: str, expires: str | None, signature: str | None, key: str, now: datetime
) -> HttpAnswer | None:
    try:
        verify_ack_link(incident_id, expires, signature, key, now)
    except AckLinkExpiredError:
        return _page(410, "Link expired", "This acknowledgement link has expired.")
    except AckLinkMalformedError:
        return _page(400, "Link malformed", "This acknowledgement link is incomplete.")
    except AckLinkError:
        return _page(401, "Link not valid", "This acknowledgement link is not valid.")
    return None


# ---- Slack interactivity ------------------------------------------------------------------------
def acknowledge_from_slack(
    payload: dict[str, Any],
    action: dict[str, Any],
    store: Acknowledger,
    now: datetime,
    slack: SlackApi | None = None,
) -> HttpAnswer:
    """A verified click on the "Acknowledge" button (``ACK_ACTION_ID``, routed here by
    ``opswire.channels.interactions``): acknowledge its incident as the clicking user."""
    incident_id = action.get("value")
    if not isinstance(incident_id, str) or not incident_id:
        return json_answer(400, {"text": "the Acknowledge button carries no incident id"})
    raw_user = payload.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    user_id = str(user.get("id") or "")
    name = str(user.get("username") or user.get("name") or user_id or "someone")
    by = f"{name} (Slack)"
    try:
        incident = store.acknowledge(incident_id, by, now)
    except IncidentNotFoundError:
        return json_answer(
            404,
            {"response_type": "ephemeral", "text": "This incident does not exist any more."},
        )
    who = f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else _escape(name)
    if not _newly_acknowledged(incident, by, now):
        text = f"Already acknowledged by {_escape(incident.acknowledged_by or '?')}."
        return json_answer(200, {"response_type": "ephemeral", "text": text})
    _announce(slack, incident, _clicked_thread(payload), f"Acknowledged by {who}")
    _mark_clicked_message(slack, payload, who)
    return json_answer(
        200,
        {
            "response_type": "in_channel",
            "replace_original": False,
            "text": f":white_check_mark: Acknowledged by {who}: no more reminders.",
        },
    )


def _clicked_thread(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, ts) of the message whose button was clicked."""
    container = payload.get("container")
    if isinstance(container, dict):
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
            return [(channel, ts)]
    return []


def _mark_clicked_message(slack: SlackApi | None, payload: dict[str, Any], who: str) -> None:
    """The clicked incident message (Slack sends it with the click) loses its Acknowledge
    button and says who acknowledged, in place. Best effort, like ``_announce``."""
    clicked = _clicked_thread(payload)
    message = payload.get("message")
    if slack is None or not clicked or not isinstance(message, dict):
        return
    note = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f":white_check_mark: Acknowledged by {who}"}],
    }
    attachments = []
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        blocks: list[dict[str, Any]] = []
        for block in attachment.get("blocks") or []:
            if not isinstance(block, dict):
                continue
            elements = block.get("elements") if block.get("type") == "actions" else None
            if isinstance(elements, list):
                kept = [
                    e
                    for e in elements
                    if not (isinstance(e, dict) and e.get("action_id") == ACK_ACTION_ID)
                ]
                if len(kept) < len(elements):
                    blocks.append(note)
                    if kept:
                        blocks.append({**block, "elements": kept})
                    continue
            blocks.append(block)
        attachments.append({"color": attachment.get("color", ""), "blocks": blocks})
    if not attachments:
        return
    channel, ts = clicked[0]
    try:
        slack.update_message(
            channel=channel,
            ts=ts,
            payload={"text": str(message.get("text") or ""), "attachments": attachments},
        )
    except OpswireError as exc:
        logger.warning("acknowledged message not updated", extra={"reason": str(exc)})


# ---- shared -------------------------------------------------------------------------------------
def _newly_acknowledged(incident: "Incident", by: str, now: datetime) -> bool:
    """The store returns an already acknowledged incident unchanged: ours is the one with our
    name and time on it."""
    return incident.acknowledged_by == by and incident.acknowledged_at == now


def _announce(
    slack: SlackApi | None,
    incident: "Incident",
    clicked: list[tuple[str, str]],
    what: str,
) -> None:
    """Say so in the incident's Slack threads (bot mode). Best effort: the acknowledgement is
    already stored, and a failed reply must not turn into an error for the person acknowledging."""
    if slack is None:
        return
    stored = [(thread.channel, thread.ts) for thread in incident.slack_threads]
    text = f":white_check_mark: {what}: no more reminders for this incident."
    for channel, ts in dict.fromkeys([*stored, *clicked]):
        try:
            slack.post_message(channel=channel, payload={"text": text}, thread_ts=ts)
        except OpswireError as exc:
            logger.warning(
                "acknowledgement not announced in Slack",
                extra={"channel": channel, "reason": str(exc)},
            )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _page(status: int, title: str, message_html: str) -> HttpAnswer:
    body = f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>opswire: {html.escape(title)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;max-width:40em;margin:3em auto">
<h1 style="font-size:22px">{html.escape(title)}</h1>
<p>{message_html}</p>
</body>
</html>
"""
    return HttpAnswer(status, "text/html; charset=utf-8", body)
