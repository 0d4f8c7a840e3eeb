"""The notification part of ``ProjectSpec``: how an alarm is routed (the ``opswire:*`` alarm
tags the alarm workflow reads, docs/alarms.md) and SNS topics with their subscriptions."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# What CloudWatch (and most services) accept in a tag value: no '#', ',', ';', '?', '&'.
_TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

TAG_SEVERITY = "opswire:severity"
TAG_ROUTE = "opswire:route"
TAG_SLACK_CHANNEL = "opswire:slack-channel"
TAG_EMAIL = "opswire:email"
TAG_RUNBOOK = "opswire:runbook"
TAG_MENTION = "opswire:mention"

Severity = Literal["critical", "warning", "info"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _tag_value(value: str, what: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError(
            f"{what} {value!r} cannot be an alarm tag value "
            "(letters, digits, spaces and _ . : / = + - @ only)"
        )
    return value


class AlarmRoute(_Model):
    """Channel routing of one alarm, as ``opswire:*`` tags (they override the routing table)."""

    name: str | None = None
    """A route of the routing table to match on (``match: {tags: {opswire:route: <name>}}``)."""
    slack_channel: str | None = None
    """One channel, by id or name (a leading ``#`` is dropped: tag values cannot hold it)."""
    email: str | None = None
    """One address."""
    runbook: str | None = None
    mention: bool | None = None
    """``@here`` in the Slack message."""

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else _tag_value(value.removeprefix("#"), "slack_channel")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not one email address")
        return None if value is None else _tag_value(value, "email")

    @field_validator("name", "runbook")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _tag_value(value, "value")

    def tags(self) -> dict[str, str]:
        found = {
            TAG_ROUTE: self.name,
            TAG_SLACK_CHANNEL: self.slack_channel,
            TAG_EMAIL: self.email,
            TAG_RUNBOOK: self.runbook,
            TAG_MENTION: None if self.mention is None else ("here" if self.mention else "no"),
        }
        return {k: v for k, v in found.items() if v is not None}


_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ARN = {
    "sqs": re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}$"),
    "lambda": re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}$"),
}


class Subscription(_Model):
    protocol: Literal["email", "email-json", "https", "sqs", "lambda"]
    endpoint: str
    """An address (email), an https:// URL, a queue or function ARN."""

    @model_validator(mode="after")
    def _endpoint(self) -> "Subscription":
        ok = {
            "email": _EMAIL.match(self.endpoint),
            "email-json": _EMAIL.match(self.endpoint),
            "https": self.endpoint.startswith("https://") and " " not in self.endpoint,
        }.get(self.protocol) or (self.protocol in _ARN and _ARN[self.protocol].match(self.endpoint))
        if not ok:
            raise ValueError(f"{self.endpoint!r} is not a {self.protocol} endpoint")
        return self

    @property
    def key(self) -> str:
        return f"{self.protocol}:{self.endpoint}"


class Topic(_Model):
    name: str
    kms_key: str | None = None
    """Alias (from ``kms_keys``) that encrypts the topic; none = ``alias/aws/sns``."""
    subscriptions: tuple[Subscription, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TOPIC.match(value):
            raise ValueError(f"{value!r} is not an SNS topic name (letters, digits, - and _)")
        return value

    @field_validator("subscriptions")
    @classmethod
    def _unique(cls, value: tuple[Subscription, ...]) -> tuple[Subscription, ...]:
        keys = [s.key for s in value]
        if len(set(keys)) != len(keys):
            raise ValueError("a subscription is listed twice")
        return value
