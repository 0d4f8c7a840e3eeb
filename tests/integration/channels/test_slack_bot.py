"""The Slack Web API adapter (bot token) over real HTTP (pytest-httpserver): what slack_sdk
sends, and how 429 / 5xx / ``ok: false`` / unreachable come out. Then the same adapter against
the local platform's fake Web API, and a whole notification through a rate limit."""

import json
import socket
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from opswire.alarms.delivery import notify_slack_bot
from opswire.channels.ports import SlackThread
from opswire.channels.slack import SlackBot
from opswire.core.errors import ConfigurationError, SlackDeliveryError, SlackRetryableError
from opswire_local.sinks import SlackOutbox
from tests.fakes.alarms import FakeOnce
from tests.notify_samples import OPENED_AT, delivered, opened, resolved

TOKEN = "xoxb-1234-5678-s3cr3tT0k3n"
POST = "/api/chat.postMessage"
UPDATE = "/api/chat.update"
OK_POSTED = {"ok": True, "channel": "C0ALERTS1", "ts": "1773480067.000100", "message": {}}


def bot(httpserver: HTTPServer, **kwargs: Any) -> SlackBot:
    return SlackBot(TOKEN, base_url=httpserver.url_for("/api/"), timeout_seconds=5, **kwargs)


def requests_to(httpserver: HTTPServer, path: str) -> list[Any]:
    return [request for request, _response in httpserver.log if request.path == path]


def test_post_message_sends_json_with_the_bearer_token_and_returns_where_it_landed(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json(OK_POSTED)
    payload = {"text": "ALARM: api", "attachments": [{"color": "#D00000", "blocks": []}]}

    thread = bot(httpserver).post_message(channel="#alerts", payload=payload)

    assert thread == SlackThread(channel="C0ALERTS1", ts="1773480067.000100")
    [request] = requests_to(httpserver, POST)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.get_data()) == {"channel": "#alerts", **payload}


def test_a_thread_reply_names_the_thread_and_can_be_broadcast(httpserver: HTTPServer) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json(OK_POSTED)

    bot(httpserver).post_message(
        channel="C0ALERTS1", payload={"text": "still"}, thread_ts="1.1", reply_broadcast=True
    )

    [request] = requests_to(httpserver, POST)
    body = json.loads(request.get_data())
    assert (body["thread_ts"], body["reply_broadcast"]) == ("1.1", True)


def test_update_message_sends_channel_ts_and_the_new_content(httpserver: HTTPServer) -> None:
    httpserver.expect_request(UPDATE, method="POST").respond_with_json(
        {"ok": True, "channel": "C0ALERTS1", "ts": "1.1", "text": "RESOLVED"}
    )

    bot(httpserver).update_message(channel="C0ALERTS1", ts="1.1", payload={"text": "RESOLVED"})

    [request] = requests_to(httpserver, UPDATE)
    assert json.loads(request.get_data()) == {
        "channel": "C0ALERTS1",
        "ts": "1.1",
        "text": "RESOLVED",
    }


def test_a_short_429_is_waited_out_and_the_message_is_posted_once(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(POST, method="POST").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(POST, method="POST").respond_with_json(OK_POSTED)

    started = time.monotonic()
    thread = bot(httpserver, max_rate_limit_wait_seconds=5).post_message(
        channel="#alerts", payload={"text": "x"}
    )

    assert thread.ts == OK_POSTED["ts"]
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert len(requests_to(httpserver, POST)) == 2
    httpserver.check_assertions()


def test_a_long_429_fails_at_once_for_the_workflow_to_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"}
    )

    started = time.monotonic()
    with pytest.raises(SlackRetryableError, match=r"rate limited \(HTTP 429, Retry-After 30s\)"):
        bot(httpserver, max_rate_limit_wait_seconds=5).post_message(
            channel="#alerts", payload={"text": "x"}
        )

    assert time.monotonic() - started < 5
    assert len(requests_to(httpserver, POST)) == 1


def test_429s_beyond_the_retry_budget_fail_as_retryable(httpserver: HTTPServer) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
    )

    with pytest.raises(SlackRetryableError, match="429"):
        bot(httpserver, rate_limit_retries=1).post_message(channel="#a", payload={"text": "x"})

    assert len(requests_to(httpserver, POST)) == 2  # the first try and one retry


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable_and_not_retried_inside_the_function(
    httpserver: HTTPServer, status: int
) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_data(
        "<html>upstream trouble</html>", status=status
    )

    with pytest.raises(SlackRetryableError, match=f"HTTP {status}"):
        bot(httpserver).post_message(channel="#alerts", payload={"text": "x"})

    assert len(requests_to(httpserver, POST)) == 1


@pytest.mark.parametrize(
    "error", ["channel_not_found", "invalid_auth", "not_in_channel", "msg_too_long"]
)
def test_ok_false_is_a_permanent_delivery_error_naming_slacks_reason(
    httpserver: HTTPServer, error: str
) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json({"ok": False, "error": error})

    with pytest.raises(SlackDeliveryError) as info:
        bot(httpserver).post_message(channel="#alerts", payload={"text": "x"})

    assert not isinstance(info.value, SlackRetryableError)
    assert str(info.value) == f"Slack chat.postMessage failed: {error}"
    assert TOKEN not in repr(info.value)


def test_ok_false_with_a_transient_error_is_retryable(httpserver: HTTPServer) -> None:
    httpserver.expect_request(POST, method="POST").respond_with_json(
        {"ok": False, "error": "service_unavailable"}
    )
    with pytest.raises(SlackRetryableError, match="service_unavailable"):
        bot(httpserver).post_message(channel="#alerts", payload={"text": "x"})


def test_unreachable_slack_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = SlackBot(TOKEN, base_url=f"http://127.0.0.1:{port}/api/", timeout_seconds=2)

    with pytest.raises(SlackRetryableError, match="could not be reached"):
        unreachable.post_message(channel="#alerts", payload={"text": "x"})


def test_a_malformed_base_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not valid"):
        SlackBot(TOKEN, base_url="ftp://slack.invalid/api/").post_message(
            channel="#a", payload={"text": "x"}
        )


# ---- a whole notification over HTTP -------------------------------------------------------------
def test_opened_through_a_429_is_one_message_and_resolved_updates_it(
    httpserver: HTTPServer,
) -> None:
    """429 then ok: one root message; the resolution replies in its thread and updates it."""
    httpserver.expect_ordered_request(POST, method="POST").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(POST, method="POST").respond_with_json(OK_POSTED)
    httpserver.expect_ordered_request(POST, method="POST").respond_with_json(
        {**OK_POSTED, "ts": "1773480999.000200"}
    )
    httpserver.expect_ordered_request(UPDATE, method="POST").respond_with_json(
        {"ok": True, "channel": "C0ALERTS1", "ts": OK_POSTED["ts"]}
    )
    api, once = bot(httpserver), FakeOnce()
    first = opened()

    result = notify_slack_bot(first, api, once, OPENED_AT)
    notify_slack_bot(
        resolved(delivered(first, result.delivery.slack_threads)), api, once, OPENED_AT
    )

    httpserver.check_assertions()
    posts = [json.loads(r.get_data()) for r in requests_to(httpserver, POST)]
    assert [p.get("thread_ts") for p in posts] == [None, None, OK_POSTED["ts"]]
    assert posts[0] == posts[1]  # the retry is the same message, not a second one
    [update] = [json.loads(r.get_data()) for r in requests_to(httpserver, UPDATE)]
    assert update["ts"] == OK_POSTED["ts"]
    assert update["attachments"][0]["color"] == "#2EB886"


# ---- the local platform's fake Web API ----------------------------------------------------------
def test_the_local_fake_answers_like_slack(outbox: SlackOutbox) -> None:
    api = SlackBot("xoxb-local", base_url=outbox.api_url)

    root = api.post_message(channel="#alerts", payload={"text": "ALARM"})
    reply = api.post_message(channel=root.channel, payload={"text": "still"}, thread_ts=root.ts)
    api.update_message(channel=root.channel, ts=root.ts, payload={"text": "RESOLVED"})

    assert root.channel.startswith("C") and float(reply.ts) > float(root.ts)
    assert [(m["method"], m["recipient"]) for m in outbox.messages] == [
        ("chat.postMessage", "#alerts"),
        ("chat.postMessage", f"#alerts (thread {root.ts})"),
        ("chat.update", f"#alerts (update of {root.ts})"),
    ]
    [conversation] = outbox.conversation()
    assert (conversation["text"], conversation["updates"]) == ("RESOLVED", 1)
    assert [r["text"] for r in conversation["replies"]] == ["still"]
    with pytest.raises(SlackDeliveryError, match="message_not_found"):
        api.update_message(channel=root.channel, ts="1.000001", payload={"text": "x"})
    with pytest.raises(SlackDeliveryError, match="invalid_auth"):
        SlackBot("xoxb-other", base_url=outbox.api_url).post_message(
            channel="#alerts", payload={"text": "x"}
        )


def test_the_local_fake_can_rate_limit(outbox: SlackOutbox) -> None:
    api = SlackBot("xoxb-local", base_url=outbox.api_url, max_rate_limit_wait_seconds=0)
    outbox.fail_next(status=429, retry_after=1)

    with pytest.raises(SlackRetryableError, match="429"):
        api.post_message(channel="#alerts", payload={"text": "x"})
    api.post_message(channel="#alerts", payload={"text": "x"})

    assert len(outbox.messages) == 1
    assert [r["error"] for r in outbox.rejected] == ["ratelimited"]
