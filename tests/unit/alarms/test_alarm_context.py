"""Recent log lines behind a log-based metric alarm: which alarms qualify, the window asked
for, the newest lines kept, only from allowed log groups, and failures that quietly mean "no
lines"."""

from datetime import timedelta

import pytest

from opswire.alarms.log_excerpt import (
    FETCH_FACTOR,
    LogExcerpt,
    allowed_log_groups,
    recent_log_lines,
)
from opswire.alarms.models.alarm import Alarm
from opswire.core.errors import OpswireError, PermanentError, RetryableError
from tests.fakes.alarms import FakeLogsReader
from tests.notify_samples import sample_alarm

ALLOWED = frozenset({"/aws/lambda/orders", "/ecs/shop"})


def metric_alarm() -> Alarm:
    return sample_alarm("sns/alarm-metric-alarm.json")  # Period 60, EvaluationPeriods 3


def test_the_newest_lines_of_the_metric_filters_group_in_the_evaluation_window() -> None:
    alarm = metric_alarm()
    logs = FakeLogsReader()

    excerpt = recent_log_lines(alarm, logs, max_lines=5, allowed=ALLOWED)

    assert excerpt == LogExcerpt(
        log_group="/aws/lambda/orders",
        lines=("line 7", "line 8", "line 9", "line 10", "line 11"),
    )
    end = alarm.state_changed_at
    start = end - timedelta(seconds=60 * 3)
    assert logs.calls == [
        ("metric_filter", ("AWS/ApiGateway", "5XXError", ("/aws/lambda/orders", "/ecs/shop"))),
        (
            "matching_events",
            (
                "/aws/lambda/orders",
                '{ $.level = "ERROR" }',
                int(start.timestamp() * 1000),
                int(end.timestamp() * 1000),
                5 * FETCH_FACTOR,
            ),
        ),
    ]


def test_blank_lines_are_dropped_and_trailing_space_trimmed() -> None:
    logs = FakeLogsReader(messages=["first\n", "   ", "", "second  "])
    excerpt = recent_log_lines(metric_alarm(), logs, max_lines=5, allowed=ALLOWED)
    assert excerpt is not None and excerpt.lines == ("first", "second")


@pytest.mark.parametrize(
    "relative",
    [
        "eventbridge/alarm-metric-math.json",
        "sns/alarm-anomaly-detection.json",
        "sns/alarm-composite.json",
    ],
)
def test_only_single_metric_alarms_are_looked_up(relative: str) -> None:
    logs = FakeLogsReader()
    assert recent_log_lines(sample_alarm(relative), logs, allowed=ALLOWED) is None
    assert logs.calls == []


def test_zero_lines_means_no_lookup() -> None:
    logs = FakeLogsReader()
    assert recent_log_lines(metric_alarm(), logs, max_lines=0, allowed=ALLOWED) is None
    assert logs.calls == []


def test_a_metric_no_filter_publishes_is_not_log_based() -> None:
    logs = FakeLogsReader(found=None)
    assert recent_log_lines(metric_alarm(), logs, allowed=ALLOWED) is None
    assert [name for name, _ in logs.calls] == ["metric_filter"]


def test_no_matching_events_means_no_excerpt() -> None:
    assert recent_log_lines(metric_alarm(), FakeLogsReader(messages=[]), allowed=ALLOWED) is None


def test_an_unknown_period_looks_at_the_last_five_minutes() -> None:
    alarm = metric_alarm()
    assert alarm.metric is not None
    alarm = alarm.model_copy(update={"metric": alarm.metric.model_copy(update={"period": None})})
    logs = FakeLogsReader()
    recent_log_lines(alarm, logs, allowed=ALLOWED)
    _name, (_group, _pattern, start, end, _limit) = logs.calls[1]
    assert end - start == 5 * 60 * 1000


@pytest.mark.parametrize("fail_on", ["metric_filter", "matching_events"])
@pytest.mark.parametrize(
    "error",
    [RetryableError("CloudWatch Logs failed: ThrottlingException"), PermanentError("denied")],
    ids=type,
)
def test_failures_mean_no_lines_never_a_failed_notification(
    fail_on: str, error: OpswireError
) -> None:
    assert (
        recent_log_lines(
            metric_alarm(), FakeLogsReader(error=error, fail_on=fail_on), allowed=ALLOWED
        )
        is None
    )


def test_no_allowed_log_group_means_no_lookup_at_all() -> None:
    logs = FakeLogsReader()
    assert recent_log_lines(metric_alarm(), logs, allowed=frozenset()) is None
    assert logs.calls == []


def test_a_log_group_outside_the_allow_list_is_never_read() -> None:
    logs = FakeLogsReader(found=("/aws/lambda/payments", "ERROR"))
    assert recent_log_lines(metric_alarm(), logs, allowed=ALLOWED) is None
    assert [name for name, _ in logs.calls] == ["metric_filter"]


def test_the_allow_list_is_the_names_of_the_log_group_arns() -> None:
    arns = (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders, "
        "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:/ecs/shop,,"
    )
    assert allowed_log_groups(arns) == {"/aws/lambda/orders", "/ecs/shop"}
    assert allowed_log_groups("") == frozenset()


@pytest.mark.parametrize(
    "entry",
    [
        "arn:aws:logs:us-east-1:123456789012:log-group:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/app:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/app:log-stream:s1",
        "/aws/lambda/orders",
        "arn:aws:logs:us-east-1:123456789012:log-group:",
    ],
)
def test_an_entry_that_is_not_one_log_group_allows_nothing(entry: str) -> None:
    assert allowed_log_groups(entry) == frozenset()
