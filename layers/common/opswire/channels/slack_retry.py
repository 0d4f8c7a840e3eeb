"""A slack_sdk retry handler that waits out short rate limits only (imported with slack_sdk).

slack_sdk's ``RateLimitErrorRetryHandler`` sleeps whatever ``Retry-After`` says. Inside a Lambda
function that could be minutes of billed idling, or a timeout: only a wait of at most
``max_wait_seconds`` is taken here; a longer one surfaces as ``SlackRetryableError`` and the
workflow's Retry waits instead.
"""

from collections.abc import Mapping

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    def __init__(self, max_wait_seconds: int, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_seconds(response.headers)
        return wait is not None and wait <= self.max_wait_seconds


def retry_after_seconds(headers: Mapping[str, list[str] | str]) -> int | None:
    for name, values in headers.items():
        if name.lower() == "retry-after" and values:
            value = (values if isinstance(values, str) else values[0]).strip()
            return int(value) if value.isdigit() else None
    return None
