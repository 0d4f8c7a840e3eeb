"""Slack through slack_sdk: incoming webhooks, the Web API with a bot token, request signatures.

HTTP and API outcomes become opswire errors: 429 and 5xx are ``SlackRetryableError`` (the
workflow retries), refusals are ``SlackDeliveryError``. slack_sdk is imported when first used:
its package import alone costs about 100 ms of cold start.
"""

import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from opswire.channels.ports import SlackThread
from opswire.core.errors import ConfigurationError, SlackDeliveryError, SlackRetryableError


class SlackWebhook:
    """Posts messages to one incoming-webhook URL. The URL is a secret: it is never logged.

    Rate limits as for the bot (``SlackBot``): a 429 whose Retry-After is at most
    ``max_rate_limit_wait_seconds`` is waited out (at most ``rate_limit_retries`` times); a
    longer one, or none, is ``SlackRetryableError`` for the workflow's Retry."""

    def __init__(
        self,
        url: str,
        timeout_seconds: int = 10,
        max_rate_limit_wait_seconds: int = 5,
        rate_limit_retries: int = 2,
    ) -> None:
        # slack_sdk's package import pulls in its whole Web API client (~100 ms): load it when a
        # message is sent, not when the handler module is imported.
        from slack_sdk.webhook import WebhookClient

        from opswire.channels.slack_retry import ShortRateLimitRetryHandler

        # slack_sdk's webhook client logs failures (and, at DEBUG, every request) with the URL:
        # it gets a logger that writes nothing. Its default retry handlers (connection errors
        # only) are replaced as for the bot: a request that may have reached Slack is retried by
        # the workflow (behind the idempotency record), a short 429 here.
        self._client = WebhookClient(
            url,
            timeout=timeout_seconds,
            logger=_silent_logger(),
            retry_handlers=[
                ShortRateLimitRetryHandler(
                    max_wait_seconds=max_rate_limit_wait_seconds,
                    max_retry_count=rate_limit_retries,
                )
            ],
        )

    def post(self, payload: dict[str, Any]) -> None:
        from slack_sdk.errors import SlackRequestError

        try:
            response = self._client.send_dict(payload)
        except (SlackRequestError, ValueError):
            # ``from None``: both carry the URL in their message (ValueError: "unknown url type").
            raise ConfigurationError("the Slack webhook URL is not valid") from None
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


def _silent_logger() -> logging.Logger:
    logger = logging.getLogger("opswire.slack_webhook.silenced")
    logger.propagate = False
    logger.setLevel(logging.CRITICAL + 1)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


# ---- Slack app (bot token): chat.postMessage / chat.update ------------------------------------
class SlackAppCredentials(BaseModel):
    """The Slack app secret: ``{"bot_token": "xoxb-...", "signing_secret": "..."}``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    bot_token: SecretStr
    signing_secret: SecretStr = SecretStr("")


def load_slack_app(secret_name: str, max_age: int) -> SlackAppCredentials:
    """Read and validate the Slack app secret; errors name the secret, never its value."""
    from opswire.core.secrets import get_secret_string

    raw = get_secret_string(secret_name, max_age=max_age)
    try:
        credentials = SlackAppCredentials.model_validate_json(raw)
    except ValidationError:
        # ``from None``: pydantic's message would quote the input, i.e. the secret.
        raise ConfigurationError(
            f"secret {secret_name!r} is not JSON with a bot_token (and signing_secret)"
        ) from None
    if not credentials.bot_token.get_secret_value().strip():
        raise ConfigurationError(f"secret {secret_name!r} has an empty bot_token")
    return credentials


# Slack API errors (``ok: false``) that a later attempt can fix; the rest are permanent.
_SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_RETRYABLE_API_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackBot:
    """The Slack Web API with a bot token. The token is a secret: it is never logged."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://slack.com/api/",
        timeout_seconds: int = 10,
        max_rate_limit_wait_seconds: int = 5,
        rate_limit_retries: int = 2,
    ) -> None:
        from slack_sdk import WebClient

        from opswire.channels.slack_retry import ShortRateLimitRetryHandler

        self._client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout_seconds,
            # No retry on connection errors: the request may have reached Slack, and the workflow's
            # Retry (behind the idempotency record) owns that decision.
            retry_handlers=[
                ShortRateLimitRetryHandler(
                    max_wait_seconds=max_rate_limit_wait_seconds,
                    max_retry_count=rate_limit_retries,
                )
            ],
        )

    def post_message(
        self,
        *,
        channel: str,
        payload: dict[str, Any],
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> SlackThread:
        """``chat.postMessage``; returns where the message is (channel id and ``ts``)."""
        arguments: dict[str, Any] = {"channel": channel, **payload}
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
            if reply_broadcast:
                arguments["reply_broadcast"] = True
        response = self._call(
            "chat.postMessage", lambda: self._client.chat_postMessage(**arguments)
        )
        return SlackThread(channel=str(response["channel"]), ts=str(response["ts"]))

    def update_message(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None:
        """``chat.update`` of a message the bot posted."""
        self._call(
            "chat.update", lambda: self._client.chat_update(channel=channel, ts=ts, **payload)
        )

    def post_ephemeral(
        self, *, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """``chat.postEphemeral``: a message only ``user`` sees."""
        arguments: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        self._call("chat.postEphemeral", lambda: self._client.chat_postEphemeral(**arguments))

    def email_of(self, user_id: str) -> str:
        """The member's profile email (``users.info``; the app needs ``users:read.email``),
        "" for an unknown user."""
        response = self._call(
            "users.info",
            lambda: self._client.users_info(user=user_id),
            none_on=frozenset({"user_not_found"}),
        )
        if response is None:
            return ""
        profile = (response.get("user") or {}).get("profile") or {}
        return str(profile.get("email") or "")

    @staticmethod
    def _call(method: str, call: Callable[[], Any], none_on: frozenset[str] = frozenset()) -> Any:
        """``call()``'s response; None for the API errors in ``none_on``."""
        from slack_sdk.errors import SlackApiError, SlackRequestError

        try:
            return call()
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in none_on:
                return None
            raise _api_error(method, exc.response.status_code, exc.response) from exc
        except SlackRequestError as exc:
            raise ConfigurationError(f"Slack {method}: the request is not valid") from exc
        except OSError as exc:  # URLError, timeouts, resets: Slack could not be reached
            raise SlackRetryableError(
                f"Slack {method}: Slack could not be reached: {type(exc).__name__}"
            ) from exc


def _api_error(method: str, status: int, response: Any) -> Exception:
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "")
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    if status == 429:
        retry_after = headers.get("retry-after")
        wait = f", Retry-After {retry_after}s" if retry_after else ""
        return SlackRetryableError(f"Slack {method}: rate limited (HTTP 429{wait})")
    if status >= 500:
        return SlackRetryableError(f"Slack {method}: HTTP {status}")
    if error in _RETRYABLE_API_ERRORS:
        return SlackRetryableError(f"Slack {method}: {error}")
    return SlackDeliveryError(f"Slack {method} failed: {error or f'HTTP {status}'}"[:300])


# ---- request signatures (interactivity) ------------------------------------------------------
def slack_signature_is_valid(
    signing_secret: str,
    body: str,
    timestamp: str | None,
    signature: str | None,
    now: float,
) -> bool:
    """``X-Slack-Signature`` over the raw body, within Slack's five-minute window (slack_sdk's
    ``SignatureVerifier``: HMAC-SHA256, compared in constant time)."""
    from slack_sdk.signature import Clock, SignatureVerifier

    class _At(Clock):
        def now(self) -> float:
            return now

    if not signing_secret or not timestamp or not signature:
        return False
    # Shape first: slack_sdk's compare_digest raises TypeError on a non-ASCII header.
    if not _SLACK_TIMESTAMP.fullmatch(timestamp) or not _SLACK_SIGNATURE.fullmatch(signature):
        return False
    verifier = SignatureVerifier(signing_secret, clock=_At())
    return bool(verifier.is_valid(body=body, timestamp=timestamp, signature=signature))
