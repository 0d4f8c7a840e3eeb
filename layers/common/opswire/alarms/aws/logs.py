"""CloudWatch Logs reads for alarm context: metric filters and a few matching events.

The client is built per use with short timeouts and no SDK retries: this is optional context
for a notification, and must never hold the notification up. Every call names its log group:
the notifiers' IAM allows only the operator's log groups, never ``log-group:*`` (which
DescribeMetricFilters by metric name alone would need).
"""

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from opswire.core.errors import PermanentError, RetryableError

if TYPE_CHECKING:
    from types_boto3_logs import CloudWatchLogsClient


class CloudWatchLogs:
    def __init__(
        self,
        client: "CloudWatchLogsClient | None" = None,
        timeout_seconds: float = 2.0,
        search_budget_seconds: float = 4.0,
    ) -> None:
        self._client = client
        self._timeout = timeout_seconds
        self._budget = search_budget_seconds

    @property
    def client(self) -> "CloudWatchLogsClient":
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "logs",
                config=Config(
                    connect_timeout=self._timeout,
                    read_timeout=self._timeout,
                    retries={"mode": "standard", "total_max_attempts": 1},
                ),
            )
        return self._client

    def metric_filter(
        self, namespace: str, metric_name: str, log_groups: Sequence[str]
    ) -> tuple[str, str] | None:
        """(log group, filter pattern) of the first metric filter of ``log_groups`` (asked in
        order, one DescribeMetricFilters each, within the search budget) that publishes the
        metric."""
        deadline = time.monotonic() + self._budget
        for log_group in log_groups:
            if time.monotonic() > deadline:
                raise RetryableError("CloudWatch Logs DescribeMetricFilters: out of time")
            try:
                response = self.client.describe_metric_filters(
                    logGroupName=log_group,
                    metricName=metric_name,
                    metricNamespace=namespace,
                    limit=1,
                )
            except self.client.exceptions.ResourceNotFoundException:
                continue  # an allowed group that does not exist (yet)
            except (ClientError, BotoCoreError) as exc:
                raise _translate("DescribeMetricFilters", exc) from exc
            for metric_filter in response.get("metricFilters", []):
                if metric_filter.get("logGroupName") == log_group:
                    return log_group, metric_filter.get("filterPattern", "")
        return None

    def matching_events(
        self, log_group: str, pattern: str, start_ms: int, end_ms: int, limit: int
    ) -> list[str]:
        """Up to ``limit`` messages matching ``pattern`` in the window, oldest first (one call)."""
        try:
            # An empty pattern (a metric filter counting every event) matches every event.
            response = self.client.filter_log_events(
                logGroupName=log_group,
                filterPattern=pattern,
                startTime=start_ms,
                endTime=end_ms,
                limit=limit,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate("FilterLogEvents", exc) from exc
        events = sorted(response.get("events", []), key=lambda event: event.get("timestamp", 0))
        return [str(event.get("message", "")) for event in events]


def _translate(operation: str, exc: ClientError | BotoCoreError) -> Exception:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code in {"ThrottlingException", "ServiceUnavailableException"}:
            return RetryableError(f"CloudWatch Logs {operation} failed: {code}")
        return PermanentError(f"CloudWatch Logs {operation} failed: {code}")
    return RetryableError(f"CloudWatch Logs {operation} failed: {type(exc).__name__}")
