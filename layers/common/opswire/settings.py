"""Per-function settings: the only place that reads ``os.environ``.

Each function has one model, validated once per cold start and cached. Values are names and ARNs
of resources the template passes in; secret *values* never travel as environment variables.
"""

import os
from functools import cache

from pydantic import Field
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


class RotationSettings(_Settings):
    """The rotation functions: which kinds this function rotates and how long it waits."""

    rotation_kinds: str = Field(
        default="generic,iam-access-key,postgres,postgres-alternating",
        description="comma-separated kinds this function accepts",
    )
    sts_attempts: int = Field(default=6, ge=1, le=20)
    sts_retry_seconds: float = Field(default=2.0, ge=0, le=30)
    database_timeout_seconds: int = Field(default=10, ge=1, le=60)
    http_timeout_seconds: int = Field(default=10, ge=1, le=60)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.rotation_kinds.split(",") if k.strip())


class RotationMonitorSettings(_Settings):
    """The rotation monitor: where failures are told and what the sweep calls overdue or stuck."""

    slack_webhook_secret_name: str = Field(min_length=1)
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)
    sender_email: str = Field(min_length=3)
    alert_email: str = Field(min_length=3, description="comma-separated recipients")
    rotated_secret_prefix: str = Field(min_length=1)
    overdue_grace_hours: float = Field(default=24, ge=0)
    pending_stuck_after_hours: float = Field(default=2, ge=0)

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]


@cache
def load_settings[S: _Settings](model: type[S]) -> S:
    """Validate ``model`` from the environment once per process (cold start)."""
    return model()


def load_function_settings[S: _Settings](model: type[S]) -> S:
    """Like ``load_settings``, cached per Lambda function name: functions that share one model
    with different environments (the rotation functions) keep their own values when they run
    in one process, as on the local platform."""
    settings: S = _load_for_function(model, os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
    return settings


@cache
def _load_for_function[S: _Settings](model: type[S], function_name: str) -> S:
    return model()


def clear_settings_cache() -> None:
    """Forget cached settings (the local platform calls this when it starts a new stack)."""
    load_settings.cache_clear()
    _load_for_function.cache_clear()
