"""What the stack binds to its targets (``opswire_local.stack`` registers them, ``routing``
delivers through them, ``events`` shapes their events): EventBridge rules and schedules, HttpApi
routes and CloudWatch Logs subscriptions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opswire_local.template import ACCOUNT_ID, REGION


@dataclass
class Rule:
    """An EventBridge rule or schedule of the template, with its one target."""

    logical_id: str
    event_name: str
    target_kind: str  # "function" | "statemachine"
    target: str  # function name or state machine ARN
    pattern: dict[str, Any] | None = None
    schedule: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{self.logical_id}"


@dataclass
class Route:
    method: str
    path: str
    function: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        return None if found is None else found.groupdict()


@dataclass
class LogSubscription:
    log_group: str
    filter_name: str
    filter_pattern: str
    function: str
