"""Context for an alarm on a log-based metric: the most recent log lines behind it.

For a single-metric alarm, the metric filter that publishes the metric names a log group and a
filter pattern; the lines matching that pattern in the alarm's evaluation window are what an
operator opens the console for. At most two API calls (DescribeMetricFilters, FilterLogEvents),
each with a short timeout; any failure means no lines, never a failed notification.
"""

from datetime import timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from opswire.alarms.models.alarm import Alarm
from opswire.core.errors import OpswireError
from opswire.core.observability import logger

DEFAULT_WINDOW = timedelta(minutes=5)
MAX_WINDOW = timedelta(hours=1)
# FilterLogEvents returns the oldest events of the window first: ask for more than are shown and
# keep the newest of them.
FETCH_FACTOR = 10


class LogsReader(Protocol):
    def metric_filter(self, namespace: str, metric_name: str) -> tuple[str, str] | None: ...

    def matching_events(
        self, log_group: str, pattern: str, start_ms: int, end_ms: int, limit: int
    ) -> list[str]: ...


class LogExcerpt(BaseModel):
    model_config = ConfigDict(frozen=True)

    log_group: str
    lines: tuple[str, ...]


def recent_log_lines(alarm: Alarm, logs: LogsReader, max_lines: int = 5) -> LogExcerpt | None:
    """The newest ``max_lines`` lines behind a log-based metric alarm, or None (not log-based,
    nothing matched, or the lookup failed)."""
    if max_lines <= 0 or alarm.kind != "metric" or alarm.metric is None:
        return None
    metric = alarm.metric
    try:
        found = logs.metric_filter(metric.namespace, metric.metric_name)
        if found is None:
            return None
        log_group, pattern = found
        end = alarm.state_changed_at
        window = (
            timedelta(seconds=metric.period * (alarm.evaluation_periods or 1))
            if metric.period
            else DEFAULT_WINDOW
        )
        start = end - min(window, MAX_WINDOW)
        messages = logs.matching_events(
            log_group,
            pattern,
            int(start.timestamp() * 1000),
            int(end.timestamp() * 1000),
            max_lines * FETCH_FACTOR,
        )
    except OpswireError as exc:
        logger.warning(
            "recent log lines not available",
            extra={"alarm": alarm.name, "error": type(exc).__name__, "reason": str(exc)},
        )
        return None
    lines = [line.rstrip() for line in messages if line.strip()][-max_lines:]
    return LogExcerpt(log_group=log_group, lines=tuple(lines)) if lines else None
