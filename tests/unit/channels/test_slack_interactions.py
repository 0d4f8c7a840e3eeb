"""The Slack interactivity router (opswire.channels.interactions): the signature check runs first,
before anything of the body is parsed; a click goes to the handler registered for its action_id."""

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from opswire.channels.interactions import HttpAnswer, SlackInteractions, json_answer


class Check:
    def __init__(self, valid: bool) -> None:
        self.valid = valid
        self.calls: list[tuple[str, str | None, str | None]] = []

    def __call__(self, body: str, timestamp: str | None, signature: str | None) -> bool:
        self.calls.append((body, timestamp, signature))
        return self.valid


class Handler:
    def __init__(self, name: str) -> None:
        self.name = name
        self.clicks: list[str] = []

    def __call__(self, payload: dict[str, Any], action: dict[str, Any]) -> HttpAnswer:
        self.clicks.append(str(action["value"]))
        return json_answer(200, {"handled_by": self.name})


def click(*action_ids: str) -> str:
    actions = [{"action_id": a, "value": f"v-{a}", "type": "button"} for a in action_ids]
    return urlencode({"payload": json.dumps({"type": "block_actions", "actions": actions})})


def router(valid: bool = True) -> tuple[SlackInteractions, Check, Handler, Handler]:
    check, alarms, deployments = Check(valid), Handler("alarms"), Handler("deployments")
    routes = SlackInteractions(check)
    routes.register(["acknowledge"], alarms)
    routes.register(["approve", "reject"], deployments)
    return routes, check, alarms, deployments


def test_each_button_goes_to_the_handler_its_workflow_registered() -> None:
    routes, _check, alarms, deployments = router()

    assert json.loads(routes.answer(click("acknowledge"), {}).body) == {"handled_by": "alarms"}
    assert json.loads(routes.answer(click("reject"), {}).body) == {"handled_by": "deployments"}
    assert alarms.clicks == ["v-acknowledge"] and deployments.clicks == ["v-reject"]


def test_the_first_registered_action_of_a_click_is_the_one_handled() -> None:
    routes, _check, alarms, deployments = router()
    answer = routes.answer(click("WVjz0", "approve", "acknowledge"), {})
    assert json.loads(answer.body) == {"handled_by": "deployments"}
    assert alarms.clicks == [] and deployments.clicks == ["v-approve"]


def test_unregistered_buttons_need_no_action() -> None:
    routes, _check, alarms, deployments = router()
    answer = routes.answer(click("WVjz0"), {})
    assert (answer.status, json.loads(answer.body)) == (200, {"text": "nothing to do"})
    assert alarms.clicks == deployments.clicks == []


def test_the_signature_is_checked_first_with_the_headers_in_any_case() -> None:
    routes, check, _alarms, _deployments = router()
    body = click("acknowledge")
    routes.answer(body, {"X-Slack-Request-Timestamp": "1", "x-slack-signature": "v0=ab"})
    assert check.calls == [(body, "1", "v0=ab")]


@pytest.mark.parametrize("body", [click("acknowledge"), "", "payload=not-json", "payload=%5B1%5D"])
def test_an_unsigned_request_is_refused_before_its_body_is_parsed(body: str) -> None:
    routes, check, alarms, _deployments = router(valid=False)
    answer = routes.answer(body, {})
    assert answer.status == 401
    assert len(check.calls) == 1 and alarms.clicks == []


def test_an_action_id_cannot_be_registered_twice() -> None:
    routes, _check, alarms, _deployments = router()
    with pytest.raises(ValueError, match="'approve' is registered twice"):
        routes.register(["approve"], alarms)
