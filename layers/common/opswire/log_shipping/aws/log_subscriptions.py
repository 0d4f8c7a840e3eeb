"""CloudWatch Logs: list log groups, put subscription filters."""

from collections.abc import Iterator

from opswire.core.aws import logs_client
from opswire.core.errors import (
    LogGroupNotFoundError,
    LogSubscriptionError,
    LogSubscriptionRetryableError,
)

_RETRYABLE = frozenset(
    {"ThrottlingException", "ServiceUnavailableException", "OperationAbortedException"}
)


class CloudWatchLogsSubscriptions:
    def log_groups(self, prefix: str) -> Iterator[str]:
        from botocore.exceptions import ClientError

        paginator = logs_client().get_paginator("describe_log_groups")
        arguments = {"logGroupNamePrefix": prefix} if prefix else {}
        try:
            for page in paginator.paginate(**arguments):  # type: ignore[arg-type]
                for group in page.get("logGroups", []):
                    yield group["logGroupName"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise LogSubscriptionRetryableError(f"DescribeLogGroups failed: {code}") from exc

    def subscribe(
        self, log_group: str, *, filter_name: str, filter_pattern: str, destination_arn: str
    ) -> None:
        from botocore.exceptions import ClientError

        try:
            # Same filter name again: CloudWatch Logs updates the filter, so this is idempotent.
            logs_client().put_subscription_filter(
                logGroupName=log_group,
                filterName=filter_name,
                filterPattern=filter_pattern,
                destinationArn=destination_arn,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = f"PutSubscriptionFilter on {log_group} failed: {code}"
            if code in _RETRYABLE:
                raise LogSubscriptionRetryableError(message) from exc
            if code == "ResourceNotFoundException":
                raise LogGroupNotFoundError(message) from exc
            raise LogSubscriptionError(message) from exc
