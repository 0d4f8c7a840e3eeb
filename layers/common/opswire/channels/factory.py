"""The one place that builds the channels (``opswire.channels.slack``, ``opswire.channels.ses``)
from a function's settings, with the secrets they need read from Secrets Manager. Every
workflow's wiring gets its Slack bot, Slack webhook, email sender and Slack request check here;
``opswire doctor`` checks the Slack app secret's shape here.

The settings are any of ``opswire.core.settings``'s models with the fields named below. The
adapters are imported on first use (slack_sdk and the SES client are not cheap to import).
"""

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from opswire.channels.interactions import SignatureCheck
    from opswire.channels.ses import SesEmailSender
    from opswire.channels.slack import SlackBot, SlackWebhook


class SlackAppSettings(Protocol):
    """The Slack app (bot token mode): ``slack_app_secret_name`` empty = no Slack app."""

    @property
    def slack_app_secret_name(self) -> str: ...
    @property
    def slack_api_url(self) -> str: ...
    @property
    def slack_timeout_seconds(self) -> int: ...
    @property
    def secret_max_age_seconds(self) -> int: ...


class SlackWebhookSettings(Protocol):
    @property
    def slack_webhook_secret_name(self) -> str: ...
    @property
    def slack_timeout_seconds(self) -> int: ...
    @property
    def secret_max_age_seconds(self) -> int: ...


def slack_bot(
    settings: SlackAppSettings,
    *,
    max_rate_limit_wait_seconds: int = 5,
    rate_limit_retries: int = 2,
) -> "SlackBot | None":
    """The Slack app's bot, its token read from the app secret; None without a Slack app.
    A 429 whose Retry-After is at most ``max_rate_limit_wait_seconds`` is waited for (up to
    ``rate_limit_retries`` times); a longer one is an error for the caller to retry."""
    if not settings.slack_app_secret_name:
        return None
    from opswire.channels.slack import SlackBot, load_slack_app

    credentials = load_slack_app(settings.slack_app_secret_name, settings.secret_max_age_seconds)
    return SlackBot(
        credentials.bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout_seconds=settings.slack_timeout_seconds,
        max_rate_limit_wait_seconds=max_rate_limit_wait_seconds,
        rate_limit_retries=rate_limit_retries,
    )


def missing_slack_app_field(secret_text: str) -> Literal["bot_token", "signing_secret"] | None:
    """What the Slack app secret's text lacks (``opswire doctor``; no client is built):
    ``bot_token`` when it is not JSON with a non-blank bot token, ``signing_secret`` when its
    signing secret is blank, None when it has both. Never quotes the secret."""
    from opswire.channels.slack import SlackAppCredentials

    try:
        credentials = SlackAppCredentials.model_validate_json(secret_text)
    except ValueError:  # pydantic's message would quote the secret
        return "bot_token"
    if not credentials.bot_token.get_secret_value().strip():
        return "bot_token"
    if not credentials.signing_secret.get_secret_value().strip():
        return "signing_secret"
    return None


def interaction_bot(settings: SlackAppSettings) -> "SlackBot | None":
    """The bot that answers a button click: Slack gives the request three seconds, so a rate
    limit is waited for one second, once."""
    return slack_bot(settings, max_rate_limit_wait_seconds=1, rate_limit_retries=1)


def slack_request_check(settings: SlackAppSettings, now: float) -> "SignatureCheck":
    """Checks a Slack request's signature with the app's signing secret at ``now`` (epoch
    seconds), in constant time (``opswire.channels.slack.slack_signature_is_valid``). Without a
    Slack app the signing secret is empty: every request is refused."""
    from opswire.channels.slack import load_slack_app, slack_signature_is_valid

    signing_secret = ""
    if settings.slack_app_secret_name:
        app = load_slack_app(settings.slack_app_secret_name, settings.secret_max_age_seconds)
        signing_secret = app.signing_secret.get_secret_value()

    def signature_is_valid(body: str, timestamp: str | None, signature: str | None) -> bool:
        return slack_signature_is_valid(signing_secret, body, timestamp, signature, now)

    return signature_is_valid


def slack_webhook(
    settings: SlackWebhookSettings,
    max_rate_limit_wait_seconds: int = 5,
    rate_limit_retries: int = 2,
) -> "SlackWebhook":
    """The incoming webhook, its URL read from the webhook secret; rate limits waited out within
    the same bounds as ``slack_bot``'s."""
    from opswire.channels.slack import SlackWebhook
    from opswire.core.secrets import get_secret_string

    url = get_secret_string(
        settings.slack_webhook_secret_name, max_age=settings.secret_max_age_seconds
    )
    return SlackWebhook(
        url,
        settings.slack_timeout_seconds,
        max_rate_limit_wait_seconds=max_rate_limit_wait_seconds,
        rate_limit_retries=rate_limit_retries,
    )


def email_sender() -> "SesEmailSender":
    """SES (the stack's region, the cached client of ``opswire.core.aws``)."""
    from opswire.channels.ses import SesEmailSender

    return SesEmailSender()
