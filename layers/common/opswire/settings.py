"""Per-function settings: the only place that reads ``os.environ``.

Each function has one model, validated once per cold start and cached. Values are names and ARNs
of resources the template passes in; secret *values* never travel as environment variables.
"""

import re
from functools import cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")


class AlarmIngestSettings(_Settings):
    alarm_state_machine_arn: str = Field(min_length=1)


class SlackSettings(_Settings):
    slack_webhook_secret_name: str = Field(min_length=1)
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)


class EmailSettings(_Settings):
    sender_email: str = Field(min_length=3)
    alert_email: str = Field(min_length=3, description="comma-separated recipients")

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]


@cache
def load_settings[S: _Settings](model: type[S]) -> S:
    """Validate ``model`` from the environment once per process (cold start)."""
    return model()


def clear_settings_cache() -> None:
    """Forget cached settings (the local platform calls this when it starts a new stack)."""
    load_settings.cache_clear()


# ---- log shipping (issue 4) -------------------------------------------------------------------
_MIB = 1024 * 1024
OpenSearchAuth = Literal["sigv4", "aoss", "basic", "none"]


class LogShippingSettings(_Settings):
    """ShipLogsFunction. Only OPENSEARCH_ENDPOINT, OPENSEARCH_AUTH and LOG_DLQ_BUCKET come from the
    template as a rule; everything else has a default. An empty endpoint means: the local NDJSON
    sink at LOG_SINK_PATH when set (the local platform sets it), else no destination (every
    document goes to the dead-letter bucket, from where ``opswire logs replay`` re-ships it)."""

    opensearch_endpoint: str = ""
    opensearch_auth: OpenSearchAuth = "none"
    opensearch_basic_auth_secret_name: str = ""
    # The region requests are signed for (Lambda sets AWS_REGION); also the documents' `region`.
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("OPENSEARCH_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    log_dlq_bucket: str = Field(min_length=1)
    # {group}: the normalized log group; {date}: YYYY.MM.DD of the event (UTC).
    log_index_pattern: str = Field(default="logs-{group}-{date}", min_length=1)
    log_index_mode: Literal["index", "data_stream"] = "index"
    log_index_template_name: str = Field(default="opswire-logs", min_length=1)
    log_install_index_template: bool = True
    log_max_bulk_bytes: int = Field(default=5 * _MIB, ge=1024, le=100 * _MIB)
    log_gzip_level: int = Field(default=1, ge=0, le=9, description="0: send uncompressed")
    log_request_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    log_max_attempts: int = Field(default=6, ge=1, le=50)
    log_retry_base_seconds: float = Field(default=0.2, ge=0, le=60)
    log_retry_max_seconds: float = Field(default=5.0, ge=0, le=300)
    log_time_reserve_seconds: float = Field(default=2.0, ge=0, le=60)
    log_sink_path: str = ""
    secret_max_age_seconds: int = Field(default=300, ge=0)

    @field_validator("opensearch_endpoint")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and "://" not in value:
            value = f"https://{value}"  # the console shows domain endpoints without a scheme
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "LogShippingSettings":
        if (
            self.opensearch_endpoint
            and self.opensearch_auth == "basic"
            and not self.opensearch_basic_auth_secret_name
        ):
            raise ValueError("OPENSEARCH_AUTH=basic needs OPENSEARCH_BASIC_AUTH_SECRET_NAME")
        if self.log_index_mode == "data_stream" and "{date}" in self.log_index_pattern:
            raise ValueError("a data stream name cannot contain {date}: OpenSearch rolls it over")
        unknown = set(_PLACEHOLDERS.findall(self.log_index_pattern)) - {"group", "date"}
        if unknown:
            raise ValueError(f"LOG_INDEX_PATTERN: unknown placeholders {sorted(unknown)}")
        return self


class LogSubscriberSettings(_Settings):
    """SubscribeLogGroupFunction and ``opswire logs subscribe``."""

    log_destination_arn: str = Field(min_length=1)
    # Comma-separated glob patterns (fnmatch) of log group names; empty include: subscribe none.
    log_subscription_include: str = ""
    log_subscription_exclude: str = ""
    log_subscription_filter_name: str = Field(default="opswire-ship-logs", min_length=1)
    log_subscription_filter_pattern: str = ""
    # The shipper's own log group is never subscribed: shipping it would feed itself forever.
    log_shipper_log_group: str = ""

    @property
    def include_patterns(self) -> list[str]:
        return _split_patterns(self.log_subscription_include)

    @property
    def exclude_patterns(self) -> list[str]:
        return _split_patterns(self.log_subscription_exclude)


_PLACEHOLDERS = re.compile(r"\{(\w*)\}")


def _split_patterns(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
