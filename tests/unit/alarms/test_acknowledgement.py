"""Acknowledgement from email links and Slack buttons, with a fake incident store and Slack:
what is acknowledged, by whom, what is announced, and the HTTP answer for every bad input."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from opswire.alarms.acknowledgement import (
    Acknowledger,
    acknowledge_by_link,
    acknowledge_from_slack,
    confirmation_page,
)
from opswire.alarms.models.incident import Incident
from opswire.channels.interactions import (
    HttpAnswer,
    SignatureCheck,
    SlackInteractions,
    form_fields,
)
from opswire.channels.ports import SlackApi, SlackThread
from opswire.channels.signed_links import ACK_ACTION_ID, ack_link
from opswire.channels.slack import slack_signature_is_valid
from opswire.core.errors import SlackDeliveryError, SlackRetryableError
from tests.fakes.alarms import FakeAcknowledger
from tests.fakes.channels import FakeSlack

KEY = "ack-secret-for-tests"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
KEY_ID = "72bd97d3a3f45018a41be7c5"
INCIDENT_ID = f"{KEY_ID}-2"
THREAD = SlackThread(channel="CALERTS", ts="1773480067.000100")


def announcements(slack: FakeSlack) -> list[dict[str, Any]]:
    """What was said in Slack: the channel, thread and text of each post."""
    return [
        {"channel": p["channel"], "thread_ts": p["thread_ts"], "text": p["payload"]["text"]}
        for p in slack.posts
    ]


def incident(threads: list[SlackThread] | None = None) -> Incident:
    return Incident(
        key=KEY_ID,
        alarm_name="api-5xx-errors-high",
        state="ALARM",
        state_changed_at=NOW - timedelta(minutes=9),
        episode=2,
        opened_at=NOW - timedelta(minutes=9),
        slack_threads=threads or [],
    )


def link(incident_id: str = INCIDENT_ID, at: datetime = NOW) -> tuple[str, str]:
    query = parse_qs(urlsplit(ack_link("https://api.example", incident_id, KEY, at)).query)
    return query["exp"][0], query["sig"][0]


# ---- email links --------------------------------------------------------------------------------
def test_get_shows_a_form_that_posts_the_link_and_acknowledges_nothing() -> None:
    expires, signature = link()
    answer = confirmation_page(INCIDENT_ID, expires, signature, KEY, NOW)

    assert answer.status == 200
    assert answer.content_type.startswith("text/html")
    assert '<form method="post" action="">' in answer.body
    assert f'name="exp" value="{expires}"' in answer.body
    assert f'name="sig" value="{signature}"' in answer.body
    assert INCIDENT_ID in answer.body


@pytest.mark.parametrize(
    ("expires_signature", "status"),
    [
        (lambda e, s: (e, "0" * 64), 401),
        (lambda e, s: (e, None), 401),
        (lambda e, s: (None, s), 400),
        (lambda e, s: ("soon", s), 400),
    ],
    ids=["tampered", "unsigned", "no-expiry", "bad-expiry"],
)
def test_get_of_a_bad_link_is_refused(expires_signature: Any, status: int) -> None:
    expires, signature = expires_signature(*link())
    answer = confirmation_page(INCIDENT_ID, expires, signature, KEY, NOW)
    assert answer.status == status
    assert "<form" not in answer.body


def test_get_of_an_expired_link_is_gone() -> None:
    expires, signature = link(at=NOW - timedelta(days=2))
    assert confirmation_page(INCIDENT_ID, expires, signature, KEY, NOW).status == 410


def test_post_acknowledges_by_email_link_and_says_so_in_the_slack_thread() -> None:
    store, slack = FakeAcknowledger([incident([THREAD])]), FakeSlack()
    expires, signature = link()

    answer = acknowledge_by_link(INCIDENT_ID, expires, signature, KEY, store, NOW, slack)

    assert answer.status == 200 and "Incident acknowledged" in answer.body
    assert store.calls == [(INCIDENT_ID, "email link")]
    assert store.incidents[INCIDENT_ID].acknowledged_at == NOW
    assert announcements(slack) == [
        {
            "channel": "CALERTS",
            "thread_ts": THREAD.ts,
            "text": ":white_check_mark: Acknowledged by email link: "
            "no more reminders for this incident.",
        }
    ]


def test_post_twice_keeps_the_first_acknowledgement_and_announces_once() -> None:
    store, slack = FakeAcknowledger([incident([THREAD])]), FakeSlack()
    expires, signature = link()
    acknowledge_by_link(INCIDENT_ID, expires, signature, KEY, store, NOW, slack)

    later = NOW + timedelta(minutes=1)
    answer = acknowledge_by_link(INCIDENT_ID, expires, signature, KEY, store, later, slack)

    assert answer.status == 200 and "already acknowledged by email link" in answer.body
    assert store.incidents[INCIDENT_ID].acknowledged_at == NOW
    assert len(slack.posts) == 1


def test_post_with_a_tampered_or_expired_link_touches_nothing() -> None:
    store = FakeAcknowledger([incident()])
    expires, _signature = link()
    assert acknowledge_by_link(INCIDENT_ID, expires, "f" * 64, KEY, store, NOW).status == 401
    old_expires, old_signature = link(at=NOW - timedelta(days=1, seconds=1))
    assert (
        acknowledge_by_link(INCIDENT_ID, old_expires, old_signature, KEY, store, NOW).status == 410
    )
    assert store.calls == []


def test_post_for_an_episode_that_is_gone_is_not_found() -> None:
    other = f"{KEY_ID}-1"  # the previous episode: the stored incident is at episode 2
    expires, signature = link(other)
    answer = acknowledge_by_link(
        other, expires, signature, KEY, FakeAcknowledger([incident()]), NOW
    )
    assert answer.status == 404


def test_a_failing_slack_announcement_does_not_fail_the_acknowledgement() -> None:
    store = FakeAcknowledger([incident([THREAD])])
    expires, signature = link()
    error = SlackRetryableError("Slack chat.postMessage: HTTP 503")
    slack = FakeSlack(post_error=error, update_error=error)

    answer = acknowledge_by_link(INCIDENT_ID, expires, signature, KEY, store, NOW, slack)

    assert answer.status == 200
    assert store.incidents[INCIDENT_ID].acknowledged_by == "email link"


def test_form_fields_reads_a_urlencoded_body() -> None:
    assert form_fields("exp=123&sig=ab%2Bcd&empty=") == {"exp": "123", "sig": "ab+cd", "empty": ""}
    assert form_fields(None) == {} and form_fields("") == {}


# ---- Slack interactions -------------------------------------------------------------------------
def interaction(
    action_id: str = "acknowledge",
    value: str = INCIDENT_ID,
    user: dict[str, str] | None = None,
    message: dict[str, Any] | None = None,
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user or {"id": "U0123ABCD", "username": "alice", "name": "alice"},
        "container": {"type": "message", "channel_id": "CTEAM", "message_ts": "1773480070.000200"},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        "response_url": "https://hooks.slack.com/actions/T0/1/xyz",
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


def signed(body: str, at: datetime = NOW, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def check(body: str, timestamp: str | None, signature: str | None) -> bool:
    return slack_signature_is_valid(SIGNING_SECRET, body, timestamp, signature, NOW.timestamp())


def slack_interaction(
    body: str,
    headers: dict[str, str],
    signature_is_valid: SignatureCheck,
    store: Acknowledger,
    now: datetime,
    slack: SlackApi | None = None,
) -> HttpAnswer:
    """IncidentAckFunction's route: the interactivity router with the Acknowledge button."""
    router = SlackInteractions(signature_is_valid)
    router.register(
        [ACK_ACTION_ID],
        lambda payload, action: acknowledge_from_slack(payload, action, store, now, slack),
    )
    return router.answer(body, headers)


def test_slack_button_acknowledges_as_the_user_and_replies_in_the_threads() -> None:
    store, slack = FakeAcknowledger([incident([THREAD])]), FakeSlack()
    body = interaction()

    answer = slack_interaction(body, signed(body), check, store, NOW, slack)

    assert answer.status == 200
    assert json.loads(answer.body) == {
        "response_type": "in_channel",
        "replace_original": False,
        "text": ":white_check_mark: Acknowledged by <@U0123ABCD>: no more reminders.",
    }
    assert store.incidents[INCIDENT_ID].acknowledged_by == "alice (Slack)"
    # The stored thread and the clicked message's thread (another channel), once each.
    assert [(p["channel"], p["thread_ts"]) for p in slack.posts] == [
        ("CALERTS", THREAD.ts),
        ("CTEAM", "1773480070.000200"),
    ]
    assert "Acknowledged by <@U0123ABCD>" in slack.posts[0]["payload"]["text"]


def test_slack_headers_are_matched_whatever_their_case() -> None:
    body = interaction()
    lowered = {k.lower(): v for k, v in signed(body).items()}
    answer = slack_interaction(body, lowered, check, FakeAcknowledger([incident()]), NOW)
    assert answer.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: {},
        lambda body: signed(body, secret="someone-elses-secret"),
        lambda body: signed(body + "&extra=1"),
        lambda body: signed(body, at=NOW - timedelta(minutes=6)),
        lambda body: signed(body, at=NOW + timedelta(minutes=6)),
        lambda body: {**signed(body), "X-Slack-Request-Timestamp": "yesterday"},
    ],
    ids=["unsigned", "wrong-secret", "other-body", "stale", "future", "bad-timestamp"],
)
def test_slack_requests_without_a_valid_fresh_signature_are_refused(headers: Any) -> None:
    store = FakeAcknowledger([incident()])
    body = interaction()
    answer = slack_interaction(body, headers(body), check, store, NOW)
    assert answer.status == 401
    assert store.calls == []


@pytest.mark.parametrize(
    "body",
    ["", "payload=not-json", "other=1", urlencode({"payload": "[1, 2]"})],
    ids=["empty", "not-json", "no-payload", "not-an-object"],
)
def test_slack_malformed_payloads_are_bad_requests(body: str) -> None:
    answer = slack_interaction(body, signed(body), check, FakeAcknowledger([incident()]), NOW)
    assert answer.status == 400


def test_slack_other_buttons_need_no_action() -> None:
    store = FakeAcknowledger([incident()])
    body = interaction(action_id="WVjz0")  # a link button: Slack reports its clicks too
    answer = slack_interaction(body, signed(body), check, store, NOW)
    assert answer.status == 200
    assert store.calls == []


def test_slack_unknown_incident_is_not_found_and_a_repeat_is_already_acknowledged() -> None:
    store, slack = FakeAcknowledger([incident()]), FakeSlack()
    unknown = interaction(value=f"{KEY_ID}-9")
    assert slack_interaction(unknown, signed(unknown), check, store, NOW).status == 404

    body = interaction(user={"id": "U0BOB", "username": "bob"})
    slack_interaction(body, signed(body), check, store, NOW, slack)
    again = interaction()
    answer = slack_interaction(again, signed(again), check, store, NOW, slack)

    assert json.loads(answer.body)["text"] == "Already acknowledged by bob (Slack)."
    assert len(slack.posts) == 1  # announced once


def test_slack_user_names_are_escaped_when_they_are_not_ids() -> None:
    store, slack = FakeAcknowledger([incident()]), FakeSlack()
    body = interaction(user={"id": "<!channel>", "username": "<!channel> & co"})
    answer = slack_interaction(body, signed(body), check, store, NOW, slack)
    assert "&lt;!channel&gt; &amp; co" in json.loads(answer.body)["text"]
    assert "<!channel>" not in slack.posts[0]["payload"]["text"]


def test_slack_signature_check_refuses_without_a_signing_secret() -> None:
    body = interaction()
    headers = signed(body)
    assert not slack_signature_is_valid(
        "",
        body,
        headers["X-Slack-Request-Timestamp"],
        headers["X-Slack-Signature"],
        NOW.timestamp(),
    )


CLICKED = {
    "ts": "1773480070.000200",
    "text": "ALARM: api-5xx-errors-high",
    "attachments": [
        {
            "id": 1,
            "color": "d00000",
            "fallback": "ALARM",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "ALARM"}},
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "WVjz0", "url": "https://console"},
                        {"type": "button", "action_id": "acknowledge", "value": INCIDENT_ID},
                    ],
                },
            ],
        }
    ],
}


def test_slack_ack_updates_the_clicked_message_in_place() -> None:
    store, slack = FakeAcknowledger([incident()]), FakeSlack()
    body = interaction(message=CLICKED)

    slack_interaction(body, signed(body), check, store, NOW, slack)

    [update] = slack.updates
    assert (update["channel"], update["ts"]) == ("CTEAM", "1773480070.000200")
    assert update["payload"]["text"] == CLICKED["text"]
    [attachment] = update["payload"]["attachments"]
    assert attachment["color"] == "d00000"
    header, note, actions = attachment["blocks"]
    assert header["type"] == "header"
    assert note["elements"][0]["text"] == ":white_check_mark: Acknowledged by <@U0123ABCD>"
    assert [e["action_id"] for e in actions["elements"]] == ["WVjz0"]  # the link stays


def test_a_failing_update_does_not_fail_the_acknowledgement() -> None:
    store = FakeAcknowledger([incident()])
    error = SlackDeliveryError("Slack chat.update failed: message_not_found")
    slack = FakeSlack(post_error=error, update_error=error)
    body = interaction(message=CLICKED)
    answer = slack_interaction(body, signed(body), check, store, NOW, slack)
    assert answer.status == 200
    assert store.incidents[INCIDENT_ID].acknowledged_by == "alice (Slack)"
