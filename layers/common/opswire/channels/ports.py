"""The channel ports: what a workflow needs from Slack and email, and what a channel reports back
(where a message went, so later messages of the same episode can thread onto it). Adapters:
``opswire.channels.slack`` and ``opswire.channels.ses``; built by ``opswire.channels.factory``.
Light on purpose (pydantic and typing only): handlers import it at cold start."""

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class SlackThread(BaseModel):
    """Where the episode's first Slack message is (bot token mode only)."""

    model_config = ConfigDict(frozen=True)

    channel: str
    ts: str


class Delivery(BaseModel):
    """What a channel reports back, so the incident can thread later messages."""

    model_config = ConfigDict(frozen=True)

    slack_threads: list[SlackThread] = Field(default_factory=list)
    email_message_id: str | None = None


class NotificationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Literal["slack", "email"]
    delivered: bool
    recipient: str
    subject: str
    message_id: str | None = None
    delivery: Delivery = Field(default_factory=Delivery)
    """Where the message went, so later messages of the episode can thread onto it."""


class EmailContent(BaseModel):
    """A rendered email: one-line subject, plain-text part and HTML part."""

    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    html: str


class SlackApi(Protocol):
    """The Slack Web API with a bot token."""

    def post_message(
        self,
        *,
        channel: str,
        payload: dict[str, Any],
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> SlackThread: ...

    def update_message(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None: ...


class SlackPoster(Protocol):
    """An incoming webhook."""

    def post(self, payload: dict[str, Any]) -> None: ...


class EmailSender(Protocol):
    def send(
        self,
        *,
        sender: str,
        recipients: list[str],
        content: EmailContent,
        headers: Mapping[str, str] | None = None,
    ) -> str: ...
