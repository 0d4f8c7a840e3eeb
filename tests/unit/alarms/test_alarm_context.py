"""Recent log lines behind a log-based metric alarm: which alarms qualify, the window asked
for, the newest lines kept, and failures that quietly mean "no lines"."""

from datetime import timedelta

import pytest

from opswire.alarms.log_excerpt import FETCH_FACTOR, LogExcerpt, recent_log_lines
from opswire.alarms.models.alarm import Alarm
from opswire.core.errors import OpswireError, PermanentError, RetryableError
from tests.fakes.alarms import FakeLogsReader
from tests.notify_samples import sample_alarm


def metric_alarm() -> Alarm:
    return sample_alarm("sns/alarm-metric-alarm.json")  # Period 60, EvaluationPeriods 3


def test_the_newest_lines_of_the_metric_filters_group_in_the_evaluation_window() -> None:
    alarm = metric_alarm()
    logs = FakeLogsReader()

    excerpt = recent_log_lines(alarm, logs, max_lines=5)

    assert excerpt == LogExcerpt(
        log_group="/aws/lambda/orders",
        lines=("line 7", "line 8", "line 9", "line 10", "line 11"),
    )
    end = alarm.state_changed_at
    start = end - timedelta(seconds=60 * 3)
    assert logs.calls == [
        ("metric_filter", ("AWS/ApiGateway", "5XXError")),
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
    excerpt = recent_log_lines(metric_alarm(), logs, max_lines=5)
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
    assert recent_log_lines(sample_alarm(relative), logs) is None
    assert logs.calls == []


def test_zero_lines_means_no_lookup() -> None:
    logs = FakeLogsReader()
    assert recent_log_lines(metric_alarm(), logs, max_lines=0) is None
    assert logs.calls == []


def test_a_metric_no_filter_publishes_is_not_log_based() -> None:
    logs = FakeLogsReader(found=None)
    assert recent_log_lines(metric_alarm(), logs) is None
    assert [name for name, _ in logs.calls] == ["metric_filter"]


def test_no_matching_events_means_no_excerpt() -> None:
    assert recent_log_lines(metric_alarm(), FakeLogsReader(messages=[])) is None


def test_an_unknown_period_looks_at_the_last_five_minutes() -> None:
    alarm = metric_alarm()
    assert alarm.metric is not None
    alarm = alarm.model_copy(update={"metric": alarm.metric.model_copy(update={"period": None})})
    logs = FakeLogsReader()
    recent_log_lines(alarm, logs)
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
    assert recent_log_lines(metric_alarm(), FakeLogsReader(error=error, fail_on=fail_on)) is None
