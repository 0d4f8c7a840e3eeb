"""NotifySlack and NotifyEmail through their real handlers: moto (DynamoDB idempotency records,
Secrets Manager, SES, CloudWatch Logs) and the local fake Slack (real HTTP). A task that runs
twice, is retried after a failure, or runs concurrently posts once."""

import email
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from opswire.alarms.aws.idempotency import OnceOnly
from opswire.alarms.aws.incident_store import IncidentStore
from opswire.alarms.delivery import notify_slack_bot
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.tasks import NotifyTaskInput
from opswire.channels.ports import Delivery, NotificationResult
from opswire.channels.signed_links import verify_ack_link
from opswire.channels.slack import SlackBot
from opswire.core.errors import SlackRetryableError, TaskInputError
from opswire.core.observability import metrics
from opswire.core.settings import clear_settings_cache
from opswire_local.lambda_runtime import LambdaContext
from opswire_local.sinks import SlackOutbox
from tests.integration.aws_support import create_table_like, forgotten_caches
from tests.integration.handlers import load_handler_module
from tests.notify_samples import (
    OPENED_AT,
    delivered,
    opened,
    reminder,
    resolved,
    sample_alarm,
)

REGION = "us-east-1"
TABLE = "opswire-incidents"
ACK_KEY = "local-ack-key-0123456789"
Handler = Callable[[dict[str, Any]], dict[str, Any]]
LOGS_ARN = f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT_ID}:log-group:"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, outbox: SlackOutbox) -> Iterator[None]:
    environment = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": "opswire",
        "POWERTOOLS_METRICS_NAMESPACE": "opswire",
        "SLACK_WEBHOOK_SECRET_NAME": "opswire/slack-webhook",
        "SLACK_APP_SECRET_NAME": "opswire/slack-app",
        "SLACK_API_URL": outbox.api_url,
        "SLACK_DEFAULT_CHANNEL": "#alerts",
        "INCIDENT_TABLE_NAME": TABLE,
        "SENDER_EMAIL": "opswire@example.com",
        "ALERT_EMAIL": "ops@example.com",
        "ACK_SECRET_NAME": "opswire/ack",
        "ACK_BASE_URL": "https://api.example.com",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # The one Metrics object was created at import, before this environment existed.
    monkeypatch.setattr(metrics, "namespace", "opswire")
    with forgotten_caches(), mock_aws():
        create_table_like("IncidentTable", TABLE)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(
            Name="opswire/slack-app",
            SecretString=json.dumps({"bot_token": "xoxb-local", "signing_secret": "s"}),
        )
        secrets.create_secret(Name="opswire/slack-webhook", SecretString=outbox.webhook_url)
        secrets.create_secret(Name="opswire/ack", SecretString=ACK_KEY)
        boto3.client("ses").verify_email_identity(EmailAddress="opswire@example.com")
        yield


def invoke(function: str) -> Handler:
    module = load_handler_module(function)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(
            function_name=f"opswire-{function}",
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:x",
            memory_limit_in_mb=256,
            timeout_seconds=30,
        )
        result: dict[str, Any] = module.handler(event, context)
        return result

    return call


def event(task: NotifyTaskInput) -> dict[str, Any]:
    return task.model_dump(mode="json")


def sent_emails() -> list[email.message.EmailMessage]:
    from moto.ses.models import ses_backends

    return [
        email.message_from_bytes(m.raw_data.encode(), policy=email.policy.default)  # type: ignore[misc]
        for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    ]


def idempotency_records(namespace: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"IDEMPOTENCY#{namespace}"}},
    )["Items"]
    return list(items)


# ---- Slack --------------------------------------------------------------------------------------
def test_slack_opened_posts_once_however_often_the_task_runs(
    aws: None, outbox: SlackOutbox
) -> None:
    notify = invoke("notify_slack")
    task = opened()

    first = notify(event(task))
    second = notify(event(task))

    [posted] = outbox.messages
    assert (posted["method"], posted["slack_channel"]) == ("chat.postMessage", "#alerts")
    assert posted["payload"]["text"].startswith("<!here> ALARM: api-5xx-errors-high")
    assert second == first
    result = NotificationResult.model_validate(first)
    assert [t.ts for t in result.delivery.slack_threads] == [posted["ts"]]
    [record] = idempotency_records("notify-slack")
    assert record["status"]["S"] == "COMPLETED"
    assert record["sk"]["S"].startswith("notify-slack#")
    assert int(record["ttl"]["N"]) > datetime.now(UTC).timestamp() + 23 * 3600


def test_slack_a_retry_after_a_failure_posts_once(aws: None, outbox: SlackOutbox) -> None:
    notify = invoke("notify_slack")
    task = opened()
    outbox.fail_next(status=503, error="service_unavailable")

    with pytest.raises(SlackRetryableError, match="HTTP 503"):
        notify(event(task))
    assert idempotency_records("notify-slack") == []  # a failure leaves no record behind

    notify(event(task))
    assert len(outbox.messages) == 1


def test_slack_concurrent_duplicate_tasks_post_exactly_once(aws: None, outbox: SlackOutbox) -> None:
    """Five deliveries of the same task at the same moment: one message; the others either get
    the stored result or a retryable "in progress" error."""
    task = opened()
    results: list[NotificationResult] = []
    errors: list[Exception] = []
    start = threading.Barrier(5)

    def deliver() -> None:
        api = SlackBot("xoxb-local", base_url=outbox.api_url)
        once = OnceOnly(TABLE, "notify-slack", SlackRetryableError)
        start.wait()
        try:
            results.append(notify_slack_bot(task, api, once, OPENED_AT))
        except SlackRetryableError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outbox.messages) == 1
    assert len(results) + len(errors) == 5 and results
    assert all("another invocation" in str(e) for e in errors)
    assert {r.delivery.slack_threads[0].ts for r in results} == {outbox.messages[0]["ts"]}


def test_slack_alarm_alarm_ok_is_one_message_updated_to_resolved(
    aws: None, outbox: SlackOutbox
) -> None:
    notify = invoke("notify_slack")
    first = opened()
    threads = NotificationResult.model_validate(notify(event(first))).delivery.slack_threads
    stored = delivered(first, threads)

    notify(event(reminder(first, stored, minutes=15, count=1)))
    notify(event(resolved(stored)))

    [conversation] = outbox.conversation()
    assert conversation["updates"] == 1
    assert conversation["attachments"][0]["color"] == "#2EB886"
    assert conversation["text"] == "RESOLVED: api-5xx-errors-high in eu-west-1 after 21 min"
    replies = [r["text"] for r in conversation["replies"]]
    assert len(replies) == 2
    assert "*STILL IN ALARM*" in replies[0] and "*RESOLVED*" in replies[1]
    assert [m["method"] for m in outbox.messages] == [
        "chat.postMessage",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
    ]


def test_slack_reminder_from_the_workflow_finds_its_thread_in_the_incident_table(
    aws: None, outbox: SlackOutbox
) -> None:
    """CheckReminder passes the decision that opened the wait: its incident does not know the
    thread yet. The handler reads the recorded delivery from the table and replies in it."""
    notify = invoke("notify_slack")
    first = opened()
    threads = NotificationResult.model_validate(notify(event(first))).delivery.slack_threads
    store = IncidentStore(TABLE)
    saved = store.save_incident(first.decision.incident)
    store.record_delivery(saved.key, saved.episode, Delivery(slack_threads=threads))

    notify(event(reminder(first, first.decision.incident, minutes=15, count=1)))

    [conversation] = outbox.conversation()
    [reply] = conversation["replies"]
    assert "*STILL IN ALARM*" in reply["text"]
    assert len(outbox.messages) == 2


def test_slack_without_a_slack_app_uses_the_incoming_webhook(
    aws: None, outbox: SlackOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_SECRET_NAME", "")
    clear_settings_cache()
    notify = invoke("notify_slack")
    first = opened()

    notify(event(first))
    result = notify(event(resolved(delivered(first))))

    assert [m["method"] for m in outbox.messages] == ["webhook", "webhook"]
    assert outbox.messages[1]["text"] == "RESOLVED: api-5xx-errors-high in eu-west-1 after 21 min"
    assert result["recipient"] == "webhook"


def _log_based_metric_alarm() -> Alarm:
    """A log group whose metric filter publishes the sample alarm's metric, with three lines (two
    matching) half a minute before the alarm; the alarm."""
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/apigateway/orders-api")
    logs.create_log_stream(logGroupName="/aws/apigateway/orders-api", logStreamName="s1")
    logs.put_metric_filter(
        logGroupName="/aws/apigateway/orders-api",
        filterName="5xx",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "5XXError", "metricNamespace": "AWS/ApiGateway", "metricValue": "1"}
        ],
    )
    # CloudWatch Logs (and moto) refuse events older than 14 days: an alarm of a minute ago.
    changed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    alarm = sample_alarm().model_copy(update={"state_changed_at": changed_at})
    at = changed_at - timedelta(seconds=30)
    logs.put_log_events(
        logGroupName="/aws/apigateway/orders-api",
        logStreamName="s1",
        logEvents=[
            {"timestamp": int(at.timestamp() * 1000) + i, "message": message}
            for i, message in enumerate(
                ["INFO 200 GET /orders", "ERROR 502 POST /orders <upstream>", "ERROR 500 GET /x"]
            )
        ],
    )
    return alarm


def test_slack_opened_shows_recent_log_lines_of_a_log_based_metric(
    aws: None, outbox: SlackOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALARM_LOG_GROUP_ARNS", f"{LOGS_ARN}/aws/apigateway/orders-api")
    clear_settings_cache()
    alarm = _log_based_metric_alarm()

    invoke("notify_slack")(event(opened(alarm)))

    [posted] = outbox.messages
    blocks = posted["payload"]["attachments"][0]["blocks"]
    [logs_block] = [b for b in blocks if "Recent log lines" in b.get("text", {}).get("text", "")]
    assert logs_block["text"]["text"] == (
        "*Recent log lines* (`/aws/apigateway/orders-api`)\n"
        "```ERROR 502 POST /orders &lt;upstream&gt;\nERROR 500 GET /x```"
    )


@pytest.mark.parametrize("allowed", ["", f"{LOGS_ARN}/aws/lambda/payments"])
def test_slack_shows_no_log_lines_of_a_log_group_that_is_not_allowed(
    aws: None, outbox: SlackOutbox, monkeypatch: pytest.MonkeyPatch, allowed: str
) -> None:
    monkeypatch.setenv("ALARM_LOG_GROUP_ARNS", allowed)
    clear_settings_cache()
    alarm = _log_based_metric_alarm()

    invoke("notify_slack")(event(opened(alarm)))

    [posted] = outbox.messages
    assert "Recent log lines" not in json.dumps(posted["payload"])
    assert "ERROR 500" not in json.dumps(posted["payload"])


def test_slack_rejects_a_task_that_is_not_a_notify_task(aws: None) -> None:
    with pytest.raises(TaskInputError, match="NotifyTaskInput is invalid at: decision"):
        invoke("notify_slack")({"alarm": event(opened())["alarm"]})


# ---- email --------------------------------------------------------------------------------------
def test_email_opened_is_sent_once_with_threading_headers_and_a_working_ack_link(
    aws: None,
) -> None:
    notify = invoke("notify_email")
    task = opened()
    incident_id = task.decision.incident.incident_id

    result = notify(event(task))
    notify(event(task))

    [mail] = sent_emails()
    assert mail["To"] == "oncall@example.com"
    assert mail["Subject"] == "[ALARM] api-5xx-errors-high in eu-west-1"
    assert mail["Message-ID"] == result["delivery"]["email_message_id"]
    assert mail["Message-ID"].startswith(f"<{incident_id}.opened.")
    assert mail["References"] == f"<{incident_id}@example.com>"
    assert mail["In-Reply-To"] is None
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    [url] = [w for w in text.get_content().split() if "/ack?" in w]
    split = urlsplit(url)
    assert split.path == f"/incidents/{incident_id}/ack"
    query = parse_qs(split.query)
    verify_ack_link(incident_id, query["exp"][0], query["sig"][0], ACK_KEY, datetime.now(UTC))
    assert len(idempotency_records("notify-email")) == 1


def test_email_follow_ups_reply_in_the_thread_and_reach_the_escalation(aws: None) -> None:
    notify = invoke("notify_email")
    first = opened()
    root_id = notify(event(first))["delivery"]["email_message_id"]
    stored = delivered(first, email_message_id=root_id)

    notify(event(reminder(first, stored, minutes=30, count=2)))
    notify(event(resolved(stored)))

    _root, reminded, resolution = sent_emails()
    for follow_up in (reminded, resolution):
        assert follow_up["In-Reply-To"] == root_id
        assert root_id in follow_up["References"]
        assert follow_up["Subject"] == "Re: [ALARM] api-5xx-errors-high in eu-west-1"
    assert reminded["To"] == "oncall@example.com, lead@example.com"
    resolution_text = resolution.get_body(preferencelist=("plain",))
    assert resolution_text is not None
    body = resolution_text.get_content()
    assert body.startswith("RESOLVED: api-5xx-errors-high in eu-west-1 after 21 min")
    assert "/ack?" not in body
