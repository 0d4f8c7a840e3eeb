"""IncidentAckFunction through its real handler (Powertools APIGatewayHttpResolver), with the
incident table and secrets in moto and the Slack bot pointed at the local fake: HTTP API 2.0
events in, HTTP answers out, the incident acknowledged (or not) in DynamoDB."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from opswire.alarms.aws.incident_store import IncidentStore
from opswire.alarms.models.incident import Incident
from opswire.channels.ports import SlackThread
from opswire.channels.signed_links import ack_link
from opswire_local.lambda_runtime import LambdaContext
from opswire_local.sinks import SlackOutbox
from tests.integration.aws_support import create_table_like, forgotten_caches
from tests.integration.handlers import load_handler_module

REGION = "us-east-1"
TABLE = "opswire-incidents"
ACK_KEY = "stack-generated-ack-key"
SIGNING_SECRET = "local-signing-secret"
KEY = "72bd97d3a3f45018a41be7c5"
INCIDENT_ID = f"{KEY}-1"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, outbox: SlackOutbox) -> Iterator[IncidentStore]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": "opswire",
        "INCIDENT_TABLE_NAME": TABLE,
        "ACK_SECRET_NAME": "opswire/ack",
        "SLACK_APP_SECRET_NAME": "opswire/slack-app",
        "SLACK_API_URL": outbox.api_url,
    }.items():
        monkeypatch.setenv(name, value)
    with forgotten_caches(), mock_aws():
        create_table_like("IncidentTable", TABLE)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name="opswire/ack", SecretString=ACK_KEY)
        secrets.create_secret(
            Name="opswire/slack-app",
            SecretString=json.dumps({"bot_token": "xoxb-local", "signing_secret": SIGNING_SECRET}),
        )
        incidents = IncidentStore(TABLE)
        now = datetime.now(UTC)
        incidents.save_incident(
            Incident(
                key=KEY,
                alarm_name="api-5xx-errors-high",
                state="ALARM",
                state_changed_at=now - timedelta(minutes=5),
                episode=1,
                opened_at=now - timedelta(minutes=5),
                slack_threads=[SlackThread(channel="CALERTS0001", ts="1773480067.000100")],
            )
        )
        yield incidents


def handle(http_event: dict[str, Any]) -> dict[str, Any]:
    module = load_handler_module("incident_ack")
    context = LambdaContext(
        function_name="opswire-IncidentAck",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:ack",
        memory_limit_in_mb=256,
        timeout_seconds=10,
    )
    result: dict[str, Any] = module.handler(http_event, context)
    return result


def request(
    method: str,
    path: str,
    query: str = "",
    body: str = "",
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event (API Gateway base64-encodes form bodies)."""
    route = (
        "/slack/interactions" if path == "/slack/interactions" else "/incidents/{incident_id}/ack"
    )
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "queryStringParameters": {k: v[0] for k, v in parse_qs(query).items()} or None,
        "pathParameters": (
            {"incident_id": path.split("/")[2]} if path.startswith("/incidents/") else None
        ),
        "requestContext": {
            "accountId": DEFAULT_ACCOUNT_ID,
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "test",
            },
            "requestId": "req-1",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "14/Mar/2026:09:30:00 +0000",
            "timeEpoch": 1773480600000,
        },
        "body": (base64.b64encode(body.encode()).decode() if base64_body else body) or None,
        "isBase64Encoded": base64_body,
    }


def link_query(incident_id: str = INCIDENT_ID, at: datetime | None = None) -> str:
    url = ack_link("https://api.example.com", incident_id, ACK_KEY, at or datetime.now(UTC))
    return urlsplit(url).query


def acknowledged_by(store: IncidentStore) -> str | None:
    incident = store.get_incident(KEY)
    assert incident is not None
    return incident.acknowledged_by


# ---- email links --------------------------------------------------------------------------------
def test_get_of_a_valid_link_shows_the_confirmation_form_and_acknowledges_nothing(
    store: IncidentStore,
) -> None:
    query = link_query()
    answer = handle(request("GET", f"/incidents/{INCIDENT_ID}/ack", query))

    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert '<form method="post"' in answer["body"]
    assert acknowledged_by(store) is None


@pytest.mark.parametrize("base64_body", [False, True], ids=["plain", "base64"])
def test_post_of_the_form_acknowledges_by_email_link_and_tells_slack(
    store: IncidentStore, outbox: SlackOutbox, base64_body: bool
) -> None:
    form = link_query()  # the confirmation page posts exp and sig as form fields
    answer = handle(
        request(
            "POST",
            f"/incidents/{INCIDENT_ID}/ack",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            base64_body=base64_body,
        )
    )

    assert answer["statusCode"] == 200
    assert "Incident acknowledged" in answer["body"]
    assert acknowledged_by(store) == "email link"
    [reply] = outbox.messages
    assert reply["thread_ts"] == "1773480067.000100"
    assert "Acknowledged by email link" in reply["text"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (lambda: link_query(at=datetime.now(UTC) - timedelta(hours=25)), 410),
        (lambda: link_query().replace("sig=", "sig=0"), 401),
        (lambda: link_query(f"{KEY}-2"), 401),  # a link for another episode, used on this one
        (lambda: "exp=123", 401),
        (lambda: "", 400),
    ],
    ids=["expired", "tampered", "other-incident", "unsigned", "empty"],
)
def test_bad_links_are_refused_and_acknowledge_nothing(
    store: IncidentStore, query: Any, status: int
) -> None:
    for method in ("GET", "POST"):
        answer = handle(request(method, f"/incidents/{INCIDENT_ID}/ack", query()))
        assert answer["statusCode"] == status, method
    assert acknowledged_by(store) is None


def test_a_valid_link_for_an_incident_that_is_gone_is_not_found(store: IncidentStore) -> None:
    other = f"{KEY}-7"
    answer = handle(request("POST", f"/incidents/{other}/ack", link_query(other)))
    assert answer["statusCode"] == 404
    assert acknowledged_by(store) is None


def test_an_unknown_route_is_not_found(store: IncidentStore) -> None:
    answer = handle(request("GET", "/incidents", ""))
    assert answer["statusCode"] == 404


# ---- Slack interactions -------------------------------------------------------------------------
def slack_request(
    user_id: str = "U0123ABCD", at: float | None = None, secret: str = SIGNING_SECRET
) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "alice", "name": "alice"},
        "container": {"type": "message", "channel_id": "CALERTS0001", "message_ts": "1.1"},
        "actions": [{"action_id": "acknowledge", "value": INCIDENT_ID, "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(at if at is not None else time.time()))
    signature = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    return request(
        "POST",
        "/slack/interactions",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={signature.hexdigest()}",
        },
        base64_body=True,
    )


def test_a_signed_slack_click_acknowledges_and_replies_in_the_thread(
    store: IncidentStore, outbox: SlackOutbox
) -> None:
    answer = handle(slack_request())

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["text"] == (
        ":white_check_mark: Acknowledged by <@U0123ABCD>: no more reminders."
    )
    assert acknowledged_by(store) == "alice (Slack)"
    assert [(m["channel_id"], m["thread_ts"]) for m in outbox.messages] == [
        ("CALERTS0001", "1773480067.000100"),
        ("CALERTS0001", "1.1"),
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: slack_request(secret="not-the-signing-secret"),
        lambda: slack_request(at=time.time() - 400),
        lambda: {
            **slack_request(),
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
    ],
    ids=["invalid", "stale", "missing"],
)
def test_slack_requests_with_a_bad_signature_are_unauthorized(
    store: IncidentStore, outbox: SlackOutbox, make: Any
) -> None:
    answer = handle(make())

    assert answer["statusCode"] == 401
    assert acknowledged_by(store) is None
    assert outbox.messages == []


def test_a_malformed_slack_body_is_a_bad_request(store: IncidentStore) -> None:
    body = "payload=%7Bnot-json"
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    answer = handle(
        request(
            "POST",
            "/slack/interactions",
            body=body,
            headers={
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": f"v0={digest.hexdigest()}",
            },
        )
    )
    assert answer["statusCode"] == 400
