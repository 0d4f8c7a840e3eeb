"""Generic notices (title, summary, facts, link) for Slack and email, and their delivery.

For events that are not CloudWatch alarms (rotation failures, overdue secrets, ...). Pure
rendering plus delivery through the same channel adapters as alarms (``SlackPoster``,
``EmailSender``). Every string is escaped for Slack mrkdwn and for HTML.
"""

import html
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from opswire.channels.ports import EmailContent, EmailSender, NotificationResult, SlackPoster

Severity = Literal["failure", "warning", "ok"]

SEVERITY_COLORS: dict[Severity, str] = {"failure": "#D00000", "warning": "#DAA038", "ok": "#2EB886"}
SEVERITY_EMOJI: dict[Severity, str] = {
    "failure": ":red_circle:",
    "warning": ":large_yellow_circle:",
    "ok": ":large_green_circle:",
}
_HEADER_MAX = 150
_TEXT_MAX = 3000
_FIELD_MAX = 2000
_MAX_FIELDS = 10
_SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    title: str
    summary: str
    facts: tuple[tuple[str, str], ...] = ()
    details: tuple[str, ...] = ()
    """One line each, shown as a list (e.g. one per secret)."""
    link: str | None = None
    link_text: str = "Open in the AWS console"


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_notice_slack(notice: Notice) -> dict[str, Any]:
    header = _cut(_one_line(f"{SEVERITY_EMOJI[notice.severity]} {notice.title}"), _HEADER_MAX)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(_mrkdwn(notice.summary), _TEXT_MAX)},
        },
    ]
    if notice.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": _cut(f"*{_mrkdwn(label)}*\n{_mrkdwn(value)}", _FIELD_MAX),
                    }
                    for label, value in notice.facts[:_MAX_FIELDS]
                ],
            }
        )
    if notice.details:
        lines = "\n".join(f"• {_mrkdwn(_one_line(line))}" for line in notice.details)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(lines, _TEXT_MAX)}}
        )
    if notice.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": notice.link_text},
                        "url": notice.link,
                    }
                ],
            }
        )
    return {
        "text": _cut(_one_line(notice.title), _TEXT_MAX),
        "attachments": [{"color": SEVERITY_COLORS[notice.severity], "blocks": blocks}],
    }


def render_notice_email(notice: Notice) -> EmailContent:
    subject = _cut(_one_line(f"[{notice.severity.upper()}] {notice.title}"), _SUBJECT_MAX)
    text_lines = [_one_line(notice.title), "", notice.summary, ""]
    text_lines += [f"{label}: {value}" for label, value in notice.facts]
    if notice.details:
        text_lines += ["", *(f"- {_one_line(line)}" for line in notice.details)]
    if notice.link:
        text_lines += ["", f"{notice.link_text}: {notice.link}"]

    def esc(text: str) -> str:
        return html.escape(text, quote=True).replace("\n", "<br>")

    color = SEVERITY_COLORS[notice.severity]
    rows = "\n".join(
        f'<tr><th align="left" valign="top" style="padding:4px 12px 4px 0">{esc(label)}</th>'
        f'<td style="padding:4px 0">{esc(value)}</td></tr>'
        for label, value in notice.facts
    )
    details = (
        "<ul>" + "".join(f"<li>{esc(_one_line(line))}</li>" for line in notice.details) + "</ul>"
        if notice.details
        else ""
    )
    link = (
        f'<p><a href="{html.escape(notice.link, quote=True)}">{esc(notice.link_text)}</a></p>'
        if notice.link
        else ""
    )
    body = f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{esc(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d1c1d">
<div style="border-left:6px solid {color};padding:8px 16px">
<h2 style="margin:0 0 12px;color:{color}">{esc(notice.title)}</h2>
<p>{esc(notice.summary)}</p>
<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">
{rows}
</table>
{details}
{link}
</div>
</body>
</html>
"""
    return EmailContent(subject=subject, text="\n".join(text_lines) + "\n", html=body)


def send_notice(
    notice: Notice,
    poster: SlackPoster,
    sender: EmailSender,
    from_address: str,
    recipients: Sequence[str],
) -> list[NotificationResult]:
    """Post to Slack and send the email. Both are tried; then the first failure is raised (the
    caller's retries and dead-letter queue take it from there)."""
    results: list[NotificationResult] = []
    errors: list[Exception] = []
    message = render_notice_slack(notice)
    try:
        poster.post(message)
        results.append(
            NotificationResult(
                channel="slack", delivered=True, recipient="webhook", subject=message["text"]
            )
        )
    except Exception as exc:
        errors.append(exc)
    content = render_notice_email(notice)
    try:
        message_id = sender.send(sender=from_address, recipients=list(recipients), content=content)
        results.append(
            NotificationResult(
                channel="email",
                delivered=True,
                recipient=", ".join(recipients),
                subject=content.subject,
                message_id=message_id,
            )
        )
    except Exception as exc:
        errors.append(exc)
    if errors:
        raise errors[0]
    return results
