"""Slack interactivity: a Slack app has one request URL for every button click, so the buttons
of every workflow (the alarms' Acknowledge, the deployments' Approve / Reject) reach one function.
``SlackInteractions`` routes a click by its ``action_id`` to the handler a workflow's wiring
registered for it. It knows no workflow and verifies nothing itself: it is handed the request
signature check (``opswire.channels.factory.slack_request_check``), and runs it before it parses
anything of the body.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

from opswire.channels.http_input import (
    MAX_JSON_DEPTH,
    BadInput,
    BodyLimit,
    json_depth,
    request_headers,
    request_text,
)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: str


class SignatureCheck(Protocol):
    def __call__(self, body: str, timestamp: str | None, signature: str | None) -> bool: ...


class ActionHandler(Protocol):
    """One registered button: the interaction payload and the clicked action -> the answer."""

    def __call__(self, payload: dict[str, Any], action: dict[str, Any]) -> HttpAnswer: ...


class SlackInteractions:
    """The router of one Slack app's interactivity URL."""

    def __init__(self, signature_is_valid: SignatureCheck) -> None:
        self._signature_is_valid = signature_is_valid
        self._handlers: dict[str, ActionHandler] = {}

    def register(self, action_ids: Iterable[str], handler: ActionHandler) -> None:
        for action_id in action_ids:
            if action_id in self._handlers:
                raise ValueError(f"Slack action_id {action_id!r} is registered twice")
            self._handlers[action_id] = handler

    def answer_request(self, request: Mapping[str, Any]) -> HttpAnswer:
        """The HTTP API event ``request``: its body decoded and size-checked, then answered."""
        try:
            body = request_text(request, BodyLimit.SLACK_INTERACTION)
        except BadInput as bad:
            return json_answer(bad.status, {"text": bad.message})
        return self.answer(body, request_headers(request))

    def answer(self, body: str, headers: Mapping[str, str]) -> HttpAnswer:
        """A Slack interaction request (``payload=<json>``, signed): the first action with a
        registered ``action_id`` goes to its handler; other interactions (link buttons, buttons
        of a workflow this stack does not run) need no action."""
        lowered = {name.lower(): value for name, value in headers.items()}
        if not self._signature_is_valid(
            body, lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
        ):
            return json_answer(401, {"text": "invalid or stale Slack signature"})
        try:
            payload = json.loads(form_fields(body)["payload"])
        except (KeyError, ValueError, RecursionError):
            return json_answer(400, {"text": "expected a form field 'payload' holding JSON"})
        if not isinstance(payload, dict):
            return json_answer(400, {"text": "the interaction payload is not an object"})
        if json_depth(payload) > MAX_JSON_DEPTH:
            return json_answer(400, {"text": f"the payload is nested deeper than {MAX_JSON_DEPTH}"})
        actions = payload.get("actions")
        action = next(
            (
                a
                for a in (actions if isinstance(actions, list) else [])
                if isinstance(a, dict)
                and isinstance(a.get("action_id"), str)
                and a["action_id"] in self._handlers
            ),
            None,
        )
        if action is None:
            return json_answer(200, {"text": "nothing to do"})
        return self._handlers[action["action_id"]](payload, action)


def form_fields(body: str | None) -> dict[str, str]:
    """The first value of each field of an ``application/x-www-form-urlencoded`` body."""
    if not body:
        return {}
    try:
        fields = parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except ValueError:
        return {}
    return {name: values[0] for name, values in fields.items() if values}


def json_answer(status: int, body: dict[str, Any]) -> HttpAnswer:
    return HttpAnswer(status, "application/json", json.dumps(body))
