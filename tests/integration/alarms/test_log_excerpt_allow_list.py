"""Recent log lines over moto's CloudWatch Logs (the real adapter, the real rule): only the log
groups of the allow-list (``AlarmLogGroupArns``) are read; a metric filter in any other group
gives no lines and a log line saying why, and an empty list reads nothing at all."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opswire.alarms.aws.logs import CloudWatchLogs
from opswire.alarms.log_excerpt import LogExcerpt, allowed_log_groups, recent_log_lines
from opswire.alarms.models.alarm import Alarm
from tests.notify_samples import sample_alarm

REGION = "us-east-1"
ARN = f"arn:aws:logs:{REGION}:123456789012:log-group:"
ORDERS = "/aws/apigateway/orders-api"
PAYMENTS = "/aws/lambda/payments"  # holds secrets in its lines: never allowed here


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("logs", region_name=REGION)


def _alarm() -> Alarm:
    # CloudWatch Logs (and moto) refuse events older than 14 days: an alarm of a minute ago.
    changed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return sample_alarm().model_copy(update={"state_changed_at": changed_at})


def _log_group(logs: Any, name: str, lines: list[str], alarm: Alarm, metric: bool) -> None:
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s1")
    if metric:  # the metric filter that publishes the alarm's metric (AWS/ApiGateway 5XXError)
        logs.put_metric_filter(
            logGroupName=name,
            filterName="5xx",
            filterPattern="ERROR",
            metricTransformations=[
                {"metricName": "5XXError", "metricNamespace": "AWS/ApiGateway", "metricValue": "1"}
            ],
        )
    at = int((alarm.state_changed_at - timedelta(seconds=30)).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=name,
        logStreamName="s1",
        logEvents=[{"timestamp": at + i, "message": line} for i, line in enumerate(lines)],
    )


def test_lines_come_from_the_allowed_group_whose_filter_publishes_the_metric(logs: Any) -> None:
    alarm = _alarm()
    _log_group(logs, ORDERS, ["INFO ok", "ERROR 502 POST /orders"], alarm, metric=True)
    _log_group(logs, PAYMENTS, ["ERROR card 4111 1111 1111 1111"], alarm, metric=True)
    allowed = allowed_log_groups(f"{ARN}/aws/lambda/absent,{ARN}{ORDERS}")

    excerpt = recent_log_lines(alarm, CloudWatchLogs(client=logs), allowed=allowed)

    assert excerpt == LogExcerpt(log_group=ORDERS, lines=("ERROR 502 POST /orders",))


def test_a_metric_filter_outside_the_allow_list_gives_no_lines_and_a_note(
    logs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    alarm = _alarm()
    _log_group(logs, ORDERS, ["ERROR 502 POST /orders"], alarm, metric=False)
    _log_group(logs, PAYMENTS, ["ERROR card 4111 1111 1111 1111"], alarm, metric=True)

    with caplog.at_level(logging.INFO):
        excerpt = recent_log_lines(
            alarm, CloudWatchLogs(client=logs), allowed=allowed_log_groups(f"{ARN}{ORDERS}")
        )

    assert excerpt is None
    assert "no metric filter of the metric in the allowed log groups" in caplog.text
    assert "4111" not in caplog.text


def test_an_empty_allow_list_reads_nothing(logs: Any, caplog: pytest.LogCaptureFixture) -> None:
    alarm = _alarm()
    _log_group(logs, PAYMENTS, ["ERROR card 4111 1111 1111 1111"], alarm, metric=True)

    class NoClient(CloudWatchLogs):
        @property
        def client(self) -> Any:
            raise AssertionError("CloudWatch Logs was called")

    with caplog.at_level(logging.INFO):
        assert recent_log_lines(alarm, NoClient(), allowed=allowed_log_groups("")) is None
    assert "AlarmLogGroupArns is empty" in caplog.text


def test_a_wildcard_entry_allows_nothing(logs: Any) -> None:
    alarm = _alarm()
    _log_group(logs, PAYMENTS, ["ERROR card 4111 1111 1111 1111"], alarm, metric=True)
    allowed = allowed_log_groups(f"{ARN}*,{ARN}/aws/lambda/*")

    assert allowed == frozenset()
    assert recent_log_lines(alarm, CloudWatchLogs(client=logs), allowed=allowed) is None
