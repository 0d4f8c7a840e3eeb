"""Context for an alarm on a log-based metric: the most recent log lines behind it.

For a single-metric alarm, the metric filter that publishes the metric names a log group and a
filter pattern; the lines matching that pattern in the alarm's evaluation window are what an
operator opens the console for. Any failure means no lines, never a failed notification.

Only the log groups the operator allowed are read (``AlarmLogGroupArns``; the notifiers' IAM
allows the same groups and nothing else): the metric filter is looked for in those groups only,
and a group outside the list is refused before any read. An empty list turns log lines off.
Both refusals leave a log line saying why; the notification goes out without log lines.
"""

import re
from collections.abc import Collection, Sequence
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
# CloudWatch Logs' own pattern for log group names: no wildcard, no ":" (no stream).
_LOG_GROUP_NAME = re.compile(r"[._/#A-Za-z0-9-]{1,512}")


class LogsReader(Protocol):
    def metric_filter(
        self, namespace: str, metric_name: str, log_groups: Sequence[str]
    ) -> tuple[str, str] | None:
        """(log group, filter pattern) of a metric filter in one of ``log_groups`` that
        publishes the metric; None when none does."""
        ...

    def matching_events(
        self, log_group: str, pattern: str, start_ms: int, end_ms: int, limit: int
    ) -> list[str]: ...


class LogExcerpt(BaseModel):
    model_config = ConfigDict(frozen=True)

    log_group: str
    lines: tuple[str, ...]


def allowed_log_groups(arns: str) -> frozenset[str]:
    """The names of the log groups in ``arns`` (comma-separated log group ARNs, as the
    ``AlarmLogGroupArns`` parameter holds them). An entry that is not the ARN of one log group
    (a wildcard, a stream, anything else) allows nothing."""
    names = set()
    for entry in (item.strip() for item in arns.split(",")):
        if not entry:
            continue
        prefix, found, name = entry.partition(":log-group:")
        if found and prefix.startswith("arn:") and _LOG_GROUP_NAME.fullmatch(name):
            names.add(name)
        else:
            logger.warning("not a log group ARN: ignored", extra={"entry": entry})
    return frozenset(names)


def recent_log_lines(
    alarm: Alarm,
    logs: LogsReader,
    max_lines: int = 5,
    allowed: Collection[str] = frozenset(),
) -> LogExcerpt | None:
    """The newest ``max_lines`` lines behind a log-based metric alarm from one of the
    ``allowed`` log groups, or None (not log-based, no allowed group, nothing matched, or the
    lookup failed)."""
    if max_lines <= 0 or alarm.kind != "metric" or alarm.metric is None:
        return None
    if not allowed:
        logger.info("no recent log lines: no log group is allowed (AlarmLogGroupArns is empty)")
        return None
    metric = alarm.metric
    try:
        found = logs.metric_filter(metric.namespace, metric.metric_name, sorted(allowed))
        if found is None:
            logger.info(
                "no recent log lines: no metric filter of the metric in the allowed log groups",
                extra={"metric": f"{metric.namespace}/{metric.metric_name}"},
            )
            return None
        log_group, pattern = found
        if log_group not in allowed:
            logger.warning(
                "no recent log lines: the log group is not allowed (AlarmLogGroupArns)",
                extra={"alarm": alarm.name, "log_group": log_group},
            )
            return None
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
