"""Which log groups get a subscription filter to the shipper, and putting it.

Patterns are shell globs over the log group name (``/aws/lambda/*``, ``/ecs/*-prod``), matched
with ``fnmatchcase``. A group is subscribed when it matches an include pattern and no exclude
pattern, and is never the shipper's own log group (its logs would feed it forever).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from opswire.core.errors import LogGroupNotFoundError
from opswire.core.settings import LogSubscriberSettings

_GLOB_CHARS = "*?["


class LogGroupSubscriptions(Protocol):
    """CloudWatch Logs. ``subscribe`` raises ``LogSubscriptionRetryableError``,
    ``LogGroupNotFoundError`` or ``LogSubscriptionError``."""

    def log_groups(self, prefix: str) -> Iterator[str]: ...

    def subscribe(
        self, log_group: str, *, filter_name: str, filter_pattern: str, destination_arn: str
    ) -> None: ...


@dataclass(frozen=True)
class SubscriptionRules:
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    destination_arn: str
    filter_name: str
    filter_pattern: str = ""
    never: tuple[str, ...] = ()  # exact names, e.g. the shipper's own log group

    @classmethod
    def from_settings(cls, settings: LogSubscriberSettings) -> "SubscriptionRules":
        return cls(
            include=tuple(settings.include_patterns),
            exclude=tuple(settings.exclude_patterns),
            destination_arn=settings.log_destination_arn,
            filter_name=settings.log_subscription_filter_name,
            filter_pattern=settings.log_subscription_filter_pattern,
            never=(settings.log_shipper_log_group,) if settings.log_shipper_log_group else (),
        )

    def decide(self, log_group: str) -> str | None:
        """None when ``log_group`` is to be subscribed, else why not."""
        if log_group in self.never or log_group == shipper_log_group(self.destination_arn):
            return "the shipper's own log group"
        if not any(fnmatchcase(log_group, pattern) for pattern in self.include):
            return "matches no include pattern"
        excluded = next((p for p in self.exclude if fnmatchcase(log_group, p)), None)
        if excluded is not None:
            return f"excluded by {excluded!r}"
        return None


class SubscriptionOutcome(BaseModel):
    log_group: str
    action: Literal["subscribed", "would subscribe", "skipped"]
    reason: str | None = None


def shipper_log_group(destination_arn: str) -> str:
    """``arn:aws:lambda:...:function:name[:alias]`` -> ``/aws/lambda/name``."""
    if ":function:" not in destination_arn:
        return ""
    return "/aws/lambda/" + destination_arn.split(":function:", 1)[1].split(":", 1)[0]


def literal_prefix(patterns: tuple[str, ...]) -> str:
    """The longest prefix every pattern starts with before its first glob character, so that
    listing can ask CloudWatch Logs for fewer groups."""
    heads = []
    for pattern in patterns:
        cut = min((pattern.index(c) for c in _GLOB_CHARS if c in pattern), default=len(pattern))
        heads.append(pattern[:cut])
    if not heads:
        return ""
    prefix = heads[0]
    for head in heads[1:]:
        while not head.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def subscribe_created_group(
    event: dict[str, Any], api: LogGroupSubscriptions, rules: SubscriptionRules
) -> SubscriptionOutcome | None:
    """EventBridge "AWS API Call via CloudTrail" for ``CreateLogGroup`` -> a subscription filter
    when the new group matches. None when the event is not a successful CreateLogGroup."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or detail.get("eventName") != "CreateLogGroup":
        return None
    if detail.get("errorCode"):
        return None  # the call failed: there is no group
    parameters = detail.get("requestParameters") or {}
    log_group = parameters.get("logGroupName") if isinstance(parameters, dict) else None
    if not isinstance(log_group, str) or not log_group:
        return None
    return _apply(log_group, api, rules, dry_run=False)


def subscribe_existing_groups(
    api: LogGroupSubscriptions, rules: SubscriptionRules, *, dry_run: bool = False
) -> list[SubscriptionOutcome]:
    """Every existing group that matches the rules (``opswire logs subscribe``)."""
    return [
        _apply(log_group, api, rules, dry_run=dry_run)
        for log_group in api.log_groups(literal_prefix(rules.include))
    ]


def _apply(
    log_group: str, api: LogGroupSubscriptions, rules: SubscriptionRules, *, dry_run: bool
) -> SubscriptionOutcome:
    reason = rules.decide(log_group)
    if reason is not None:
        return SubscriptionOutcome(log_group=log_group, action="skipped", reason=reason)
    if dry_run:
        return SubscriptionOutcome(log_group=log_group, action="would subscribe")
    try:
        api.subscribe(
            log_group,
            filter_name=rules.filter_name,
            filter_pattern=rules.filter_pattern,
            destination_arn=rules.destination_arn,
        )
    except LogGroupNotFoundError:
        return SubscriptionOutcome(log_group=log_group, action="skipped", reason="no such group")
    return SubscriptionOutcome(log_group=log_group, action="subscribed")
