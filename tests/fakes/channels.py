"""Fakes of the channel ports (opswire.channels.ports): the Slack Web API, an incoming webhook
and an email sender. Each records what it was asked to send and can be told to fail."""

from collections.abc import Mapping
from typing import Any

from opswire.channels.ports import EmailContent, EmailSender, SlackApi, SlackPoster, SlackThread


class FakeSlack(SlackApi):
    """Records posts and updates. ``post_error`` fails posts (to ``fail_channel`` only, when
    given); ``update_error`` fails updates. A post answers with the channel's id (``#team`` ->
    ``CTEAM``) and a ts counting the posts."""

    def __init__(
        self,
        *,
        post_error: Exception | None = None,
        update_error: Exception | None = None,
        fail_channel: str | None = None,
    ) -> None:
        self.posts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self._post_error = post_error
        self._update_error = update_error
        self._fail_channel = fail_channel

    def post_message(
        self,
        *,
        channel: str,
        payload: dict[str, Any],
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> SlackThread:
        if self._post_error is not None and self._fail_channel in (None, channel):
            raise self._post_error
        self.posts.append(
            {
                "channel": channel,
                "payload": payload,
                "thread_ts": thread_ts,
                "reply_broadcast": reply_broadcast,
            }
        )
        return SlackThread(channel=f"C{channel.strip('#').upper()}", ts=f"{len(self.posts)}.000100")

    def update_message(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None:
        if self._update_error is not None:
            raise self._update_error
        self.updates.append({"channel": channel, "ts": ts, "payload": payload})


class FakeWebhook(SlackPoster):
    """Records every payload, then raises ``error`` if given (the post was attempted)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.posted: list[dict[str, Any]] = []
        self._error = error

    def post(self, payload: dict[str, Any]) -> None:
        self.posted.append(payload)
        if self._error is not None:
            raise self._error


class FakeEmailSender(EmailSender):
    """Records every message, then raises ``error`` if given; answers an SES-like message id."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self._error = error

    def send(
        self,
        *,
        sender: str,
        recipients: list[str],
        content: EmailContent,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        self.sent.append(
            {
                "sender": sender,
                "recipients": list(recipients),
                "content": content,
                "headers": dict(headers or {}),
            }
        )
        if self._error is not None:
            raise self._error
        return f"0100018e3c5f-{len(self.sent):04d}"
