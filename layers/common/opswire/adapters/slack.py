"""Slack incoming webhooks through slack_sdk; HTTP outcomes become opswire errors."""

from typing import Any

from opswire.errors import ConfigurationError, SlackDeliveryError, SlackRetryableError


class SlackWebhook:
    """Posts messages to one incoming-webhook URL. The URL is a secret: it is never logged."""

    def __init__(self, url: str, timeout_seconds: int = 10) -> None:
        # slack_sdk's package import pulls in its whole Web API client (~100 ms): load it when a
        # message is sent, not when the handler module is imported.
        from slack_sdk.webhook import WebhookClient

        self._client = WebhookClient(url, timeout=timeout_seconds)

    def post(self, payload: dict[str, Any]) -> None:
        from slack_sdk.errors import SlackRequestError

        try:
            response = self._client.send_dict(payload)
        except SlackRequestError as exc:
            raise ConfigurationError("the Slack webhook URL is not valid") from exc
        except OSError as exc:
            raise SlackRetryableError(f"Slack could not be reached: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 200:
            return
        detail = f"Slack answered HTTP {status}: {str(response.body)[:200]}"
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After") if response.headers else None
            if retry_after:
                detail += f" (Retry-After {retry_after}s)"
            raise SlackRetryableError(detail)
        raise SlackDeliveryError(detail)
