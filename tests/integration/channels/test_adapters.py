"""The adapters against real protocols: Slack over HTTP (pytest-httpserver), SES, Secrets Manager
and Step Functions in moto. SDK outcomes must come out as opswire errors."""

import email
import email.policy
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from opswire.alarms.aws.stepfunctions import WorkflowStarter
from opswire.channels.ports import EmailContent
from opswire.channels.ses import SesEmailSender
from opswire.channels.slack import SlackWebhook
from opswire.core.aws import clear_client_cache
from opswire.core.errors import (
    ConfigurationError,
    EmailDeliveryError,
    OpswireError,
    PermanentError,
    SlackDeliveryError,
    SlackRetryableError,
)
from opswire.core.secrets import get_secret_string

REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's account
WEBHOOK_PATH = "/services/T0123ABCD/B0456EFGH/s3cr3tT0k3nZ9yX8wV7uT6sR"
SLACK_PAYLOAD: dict[str, Any] = {
    "text": ":red_circle: ALARM: api-5xx-errors-high",
    "attachments": [
        {
            "color": "#D00000",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Reason*\n5XX > 5 «ü»"}}
            ],
        }
    ],
}


def _error_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto account; cached clients and secrets never leak between tests."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    clear_client_cache()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        yield
    clear_client_cache()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


# ---- Slack incoming webhook ---------------------------------------------------------------------
def _webhook(httpserver: HTTPServer) -> tuple[str, SlackWebhook]:
    url = httpserver.url_for(WEBHOOK_PATH)
    return url, SlackWebhook(url, timeout_seconds=5)


def test_slack_200_ok_returns_and_the_json_body_arrives_intact(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "ok", status=200, content_type="text/html"
    )
    _, webhook = _webhook(httpserver)

    webhook.post(SLACK_PAYLOAD)

    httpserver.check_assertions()
    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.get_data()) == SLACK_PAYLOAD


def test_slack_429_is_retryable_and_says_when_to_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "7"}
    )
    url, webhook = _webhook(httpserver)

    with pytest.raises(SlackRetryableError) as info:
        webhook.post(SLACK_PAYLOAD)

    message = str(info.value)
    assert "429" in message
    assert "7s" in message
    assert url not in message
    # Longer than the 5 s the adapter waits out: the workflow's Retry owns that backoff.
    assert len(httpserver.log) == 1


def test_slack_429_with_a_short_retry_after_is_waited_out_and_delivered_once(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "ok", status=200
    )
    _, webhook = _webhook(httpserver)

    started = time.monotonic()
    webhook.post(SLACK_PAYLOAD)

    assert time.monotonic() - started >= 1.0  # Retry-After honoured, not an immediate retry
    httpserver.check_assertions()
    assert [response.status_code for _, response in httpserver.log] == [429, 200]
    assert [json.loads(r.get_data()) for r, _ in httpserver.log] == [SLACK_PAYLOAD] * 2


def test_slack_429_is_waited_out_at_most_rate_limit_retries_times(httpserver: HTTPServer) -> None:
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "1"}
    )
    url = httpserver.url_for(WEBHOOK_PATH)
    webhook = SlackWebhook(
        url, timeout_seconds=5, max_rate_limit_wait_seconds=1, rate_limit_retries=1
    )

    with pytest.raises(SlackRetryableError, match="429"):
        webhook.post(SLACK_PAYLOAD)

    assert len(httpserver.log) == 2  # the first answer and one retry after waiting


@pytest.mark.parametrize("status", [500, 502, 503])
def test_slack_5xx_is_retryable(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(
        "upstream trouble", status=status
    )
    url, webhook = _webhook(httpserver)

    with pytest.raises(SlackRetryableError, match=str(status)) as info:
        webhook.post(SLACK_PAYLOAD)
    assert url not in str(info.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, "invalid_payload"), (403, "action_prohibited"), (404, "no_service")],
)
def test_slack_4xx_is_a_permanent_delivery_error_with_slacks_reason(
    httpserver: HTTPServer, status: int, body: str
) -> None:
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(body, status=status)
    url, webhook = _webhook(httpserver)

    with pytest.raises(SlackDeliveryError) as info:
        webhook.post(SLACK_PAYLOAD)

    assert not isinstance(info.value, SlackRetryableError)
    assert str(status) in str(info.value)
    assert body in str(info.value)
    assert url not in str(info.value)


def test_a_long_slack_error_body_is_cut_in_the_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data("x" * 5000, status=400)
    _, webhook = _webhook(httpserver)
    with pytest.raises(SlackDeliveryError) as info:
        webhook.post(SLACK_PAYLOAD)
    assert len(str(info.value)) < 300


def test_slack_unreachable_is_retryable_without_the_url(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{_closed_port()}{WEBHOOK_PATH}"
    webhook = SlackWebhook(url, timeout_seconds=2)

    with caplog.at_level(logging.WARNING), pytest.raises(SlackRetryableError) as info:
        webhook.post(SLACK_PAYLOAD)

    assert "could not be reached" in str(info.value)
    for error in _error_chain(info.value):
        assert WEBHOOK_PATH not in str(error)
    assert WEBHOOK_PATH not in caplog.text


def test_slack_timeout_is_retryable(httpserver: HTTPServer) -> None:
    import time

    def slow(_request: Request) -> Response:
        time.sleep(2)
        return Response("ok")

    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(slow)
    url = httpserver.url_for(WEBHOOK_PATH)

    with pytest.raises(SlackRetryableError):
        SlackWebhook(url, timeout_seconds=1).post(SLACK_PAYLOAD)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "hooks.slack.com" + WEBHOOK_PATH,  # the scheme forgotten when the secret was stored
            id="no-scheme",
        ),
        pytest.param("ftp://hooks.slack.com" + WEBHOOK_PATH, id="ftp-scheme"),
    ],
)
def test_an_invalid_webhook_url_is_a_configuration_error_without_the_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SlackWebhook(url).post(SLACK_PAYLOAD)
    assert "not valid" in str(info.value)
    assert WEBHOOK_PATH not in str(info.value)
    assert WEBHOOK_PATH not in repr(info.value)


def test_an_invalid_webhook_url_never_reaches_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "ftp://hooks.slack.com" + WEBHOOK_PATH
    # WARNING and up: what a Lambda function's root logger writes by default.
    with caplog.at_level(logging.WARNING), pytest.raises(ConfigurationError):
        SlackWebhook(url).post(SLACK_PAYLOAD)
    assert WEBHOOK_PATH not in caplog.text


def test_slack_errors_are_opswire_errors(httpserver: HTTPServer) -> None:
    httpserver.expect_request(WEBHOOK_PATH).respond_with_data("no", status=410)
    _, webhook = _webhook(httpserver)
    with pytest.raises(OpswireError):
        webhook.post(SLACK_PAYLOAD)


# ---- SES ----------------------------------------------------------------------------------------
CONTENT = EmailContent(
    subject="[ALARM] api-5xx-errors-high in eu-west-1",
    text="ALARM: api-5xx-errors-high\n\nThreshold crossed: 17 >= 5 «ü»",
    html="<!DOCTYPE html><html><body><h1>ALARM: api-5xx-errors-high</h1></body></html>",
)


def _sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def test_ses_sends_a_multipart_alternative_message_with_text_and_html(aws: None) -> None:
    boto3.client("ses").verify_email_identity(EmailAddress="opswire@example.com")

    message_id = SesEmailSender().send(
        sender="opswire@example.com",
        recipients=["ops@example.com", "sre@example.com"],
        content=CONTENT,
    )

    [sent] = _sent_messages()
    assert sent.id == message_id
    assert sorted(sent.destinations) == ["ops@example.com", "sre@example.com"]
    # moto keeps the raw message as text: back to bytes, so 8bit parts decode as sent.
    parsed = email.message_from_bytes(sent.raw_data.encode(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == "opswire@example.com"
    assert parsed["To"] == "ops@example.com, sre@example.com"
    assert parsed["Subject"] == CONTENT.subject
    parts = [part.get_content_type() for part in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().strip() == CONTENT.text
    assert html.get_content().strip() == CONTENT.html


def test_ses_refuses_an_unverified_sender_as_a_permanent_email_error(aws: None) -> None:
    boto3.client("ses").verify_email_identity(EmailAddress="someone-else@example.com")

    with pytest.raises(EmailDeliveryError, match="MessageRejected") as info:
        SesEmailSender().send(
            sender="opswire@example.com", recipients=["ops@example.com"], content=CONTENT
        )

    assert isinstance(info.value, PermanentError)
    assert _sent_messages() == []


def test_an_ses_refusal_says_what_ses_said_so_the_incident_can_show_it(aws: None) -> None:
    # Nothing verified: a new account whose SES is in the sandbox.
    with pytest.raises(EmailDeliveryError) as info:
        SesEmailSender().send(
            sender="opswire@example.com", recipients=["ops@example.com"], content=CONTENT
        )

    assert str(info.value).startswith("SES refused the message: MessageRejected: ")
    assert "opswire@example.com" in str(info.value)  # moto: "Did not have authority to send ..."


# ---- Secrets Manager ----------------------------------------------------------------------------
def test_get_secret_string_returns_the_current_value(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="opswire/slack-webhook", SecretString="https://hooks.slack.com" + WEBHOOK_PATH
    )
    assert get_secret_string("opswire/slack-webhook", max_age=0) == (
        "https://hooks.slack.com" + WEBHOOK_PATH
    )


def test_get_secret_string_strips_surrounding_whitespace(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="opswire/slack-webhook", SecretString="  https://hooks.slack.com/x\n"
    )
    assert get_secret_string("opswire/slack-webhook", max_age=0) == "https://hooks.slack.com/x"


def test_get_secret_string_reads_the_new_value_after_max_age(aws: None) -> None:
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="opswire/slack-webhook", SecretString="https://old.example/x")
    assert get_secret_string("opswire/slack-webhook", max_age=0) == "https://old.example/x"

    secrets.put_secret_value(SecretId="opswire/slack-webhook", SecretString="https://new.example/x")
    assert get_secret_string("opswire/slack-webhook", max_age=0) == "https://new.example/x"


def test_a_missing_secret_is_a_configuration_error_naming_the_secret_only(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="opswire/other", SecretString="https://hooks.slack.com" + WEBHOOK_PATH
    )

    with pytest.raises(ConfigurationError) as info:
        get_secret_string("opswire/slack-webhook", max_age=0)

    assert "opswire/slack-webhook" in str(info.value)
    assert WEBHOOK_PATH not in str(info.value)


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_an_empty_secret_is_a_configuration_error(aws: None, value: str) -> None:
    secrets = boto3.client("secretsmanager")
    if value:
        secrets.create_secret(Name="opswire/slack-webhook", SecretString=value)
    else:
        # An empty SecretString is refused by the API; a secret without a value is its twin.
        secrets.create_secret(Name="opswire/slack-webhook")

    with pytest.raises(ConfigurationError, match="opswire/slack-webhook"):
        get_secret_string("opswire/slack-webhook", max_age=0)


def test_a_binary_secret_is_a_configuration_error_without_its_bytes(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="opswire/slack-webhook", SecretBinary=b"binary-s3cr3t"
    )
    with pytest.raises(ConfigurationError, match="opswire/slack-webhook") as info:
        get_secret_string("opswire/slack-webhook", max_age=0)
    assert "s3cr3t" not in str(info.value)


# ---- Step Functions -----------------------------------------------------------------------------
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


@pytest.fixture
def state_machine_arn(aws: None) -> str:
    arn: str = boto3.client("stepfunctions").create_state_machine(
        name="opswire-alarm-handling",
        definition=PASS_MACHINE,
        roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/opswire-states",
    )["stateMachineArn"]
    return arn


def _executions(state_machine_arn: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    return [dict(e) for e in sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]]


def test_start_returns_the_execution_arn(state_machine_arn: str) -> None:
    arn = WorkflowStarter(state_machine_arn).start("sns-1234", {"source": "sns", "payload": {}})

    described = boto3.client("stepfunctions").describe_execution(executionArn=arn)
    assert described["name"] == "sns-1234"
    assert described["stateMachineArn"] == state_machine_arn
    assert json.loads(described["input"]) == {"source": "sns", "payload": {}}


def test_starting_the_same_name_and_input_twice_is_one_execution(state_machine_arn: str) -> None:
    starter = WorkflowStarter(state_machine_arn)
    payload = {"source": "sns", "payload": {"AlarmName": "api-5xx-errors-high"}}

    first = starter.start("sns-redelivered", payload)
    second = starter.start("sns-redelivered", payload)

    assert second == first
    assert [e["executionArn"] for e in _executions(state_machine_arn)] == [first]


def test_starting_the_same_name_with_other_input_answers_the_existing_execution(
    state_machine_arn: str,
) -> None:
    starter = WorkflowStarter(state_machine_arn)

    first = starter.start("action-abc", {"source": "lambda-action", "payload": {"n": 1}})
    second = starter.start("action-abc", {"source": "lambda-action", "payload": {"n": 2}})

    assert second == first
    [execution] = _executions(state_machine_arn)
    assert execution["executionArn"] == first


def test_starting_on_a_missing_state_machine_is_a_permanent_error(aws: None) -> None:
    missing = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:stateMachine:not-deployed"
    with pytest.raises(PermanentError, match="StateMachineDoesNotExist"):
        WorkflowStarter(missing).start("sns-1", {"source": "sns", "payload": {}})


def test_an_invalid_execution_name_is_a_permanent_error(state_machine_arn: str) -> None:
    with pytest.raises(PermanentError, match="InvalidName"):
        WorkflowStarter(state_machine_arn).start("has spaces and * stars", {})
