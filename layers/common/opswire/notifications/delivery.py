"""Render an alarm and hand it to a channel; collaborators are passed in (Protocols)."""

from typing import Any, Protocol

from opswire.models.alarm import Alarm
from opswire.models.notification import NotificationResult
from opswire.notifications.render import EmailContent, render_alarm_email, render_slack_message


class SlackPoster(Protocol):
    def post(self, payload: dict[str, Any]) -> None: ...


class EmailSender(Protocol):
    def send(self, *, sender: str, recipients: list[str], content: EmailContent) -> str: ...


def notify_slack(alarm: Alarm, poster: SlackPoster) -> NotificationResult:
    message = render_slack_message(alarm)
    poster.post(message)
    return NotificationResult(
        channel="slack", delivered=True, recipient="webhook", subject=str(message["text"])
    )


def notify_email(
    alarm: Alarm, sender: EmailSender, from_address: str, recipients: list[str]
) -> NotificationResult:
    content = render_alarm_email(alarm)
    message_id = sender.send(sender=from_address, recipients=recipients, content=content)
    return NotificationResult(
        channel="email",
        delivered=True,
        recipient=", ".join(recipients),
        subject=content.subject,
        message_id=message_id,
    )
