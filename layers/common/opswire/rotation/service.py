"""Wiring: the real adapters behind the engine and the monitor (used by the handlers and the
CLI). Everything SDK-backed is imported here on first use, not when a handler module loads."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from opswire.errors import TaskInputError
from opswire.models.notification import NotificationResult
from opswire.rotation.engine import RotationStrategy, run_step
from opswire.rotation.model import Step, StepOutcome
from opswire.rotation.status import SecretStatus, rotation_statuses, secret_status
from opswire.settings import RotationMonitorSettings, RotationSettings

KINDS = ("generic", "api-key", "postgres", "postgres-alternating", "iam-access-key")


def build_strategies(settings: RotationSettings) -> dict[str, RotationStrategy]:
    """One strategy per kind this function accepts (``ROTATION_KINDS``)."""
    from opswire.rotation.aws.secret_store import SecretsManagerStore

    store = SecretsManagerStore()
    strategies: dict[str, RotationStrategy] = {}
    kinds = settings.kinds
    if kinds & {"generic", "api-key"}:
        from opswire.adapters.https_check import HttpsEndpointChecker
        from opswire.rotation.generic import GenericStrategy

        generic = GenericStrategy(store, HttpsEndpointChecker(settings.http_timeout_seconds))
        strategies.update({k: generic for k in ("generic", "api-key") if k in kinds})
    if kinds & {"postgres", "postgres-alternating"}:
        from opswire.rotation.aws.postgres_database import PostgresDatabase
        from opswire.rotation.postgres import (
            PostgresAlternatingStrategy,
            PostgresSingleUserStrategy,
        )

        database = PostgresDatabase(settings.database_timeout_seconds)
        if "postgres" in kinds:
            strategies["postgres"] = PostgresSingleUserStrategy(database, store)
        if "postgres-alternating" in kinds:
            strategies["postgres-alternating"] = PostgresAlternatingStrategy(database, store, store)
    if "iam-access-key" in kinds:
        from opswire.rotation.aws.iam_access_keys import IamAccessKeys
        from opswire.rotation.iam_keys import IamAccessKeyStrategy

        strategies["iam-access-key"] = IamAccessKeyStrategy(
            IamAccessKeys(), settings.sts_attempts, settings.sts_retry_seconds
        )
    return strategies


def rotate_step(
    step: str,
    secret_id: str,
    token: str,
    settings: RotationSettings,
    strategies: Mapping[str, RotationStrategy] | None = None,
    rotation_token: str | None = None,
) -> StepOutcome:
    """One invocation of a rotation function."""
    from opswire.rotation.aws.secret_store import SecretsManagerStore

    if step not in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        raise TaskInputError(f"unknown rotation step {step!r}")
    chosen: Step = step  # type: ignore[assignment]
    return run_step(
        chosen,
        secret_id,
        token,
        SecretsManagerStore(),
        strategies or build_strategies(settings),
        rotation_token,
    )


def monitor_sweep(
    settings: RotationMonitorSettings, now: datetime | None = None
) -> list[SecretStatus]:
    from opswire.rotation.aws.secret_store import SecretsManagerStore

    return list(
        rotation_statuses(
            SecretsManagerStore(),
            settings.rotated_secret_prefix,
            now or datetime.now(UTC),
            timedelta(hours=settings.overdue_grace_hours),
            timedelta(hours=settings.pending_stuck_after_hours),
        )
    )


def describe_status(
    secret_id: str, settings: RotationMonitorSettings, now: datetime | None = None
) -> SecretStatus | None:
    """The status of one secret, or None if it cannot be read (outside the prefix, gone)."""
    from botocore.exceptions import ClientError

    from opswire.errors import OpswireError
    from opswire.rotation.aws.secret_store import SecretsManagerStore

    store = SecretsManagerStore()
    try:
        entry: dict[str, Any] = dict(store.client.describe_secret(SecretId=secret_id))
        dates = store.version_dates(secret_id)
    except (ClientError, OpswireError):  # a notice without the extra facts beats no notice
        return None
    return secret_status(
        entry,
        dates,
        now or datetime.now(UTC),
        timedelta(hours=settings.overdue_grace_hours),
        timedelta(hours=settings.pending_stuck_after_hours),
    )


def handle_monitor_event(
    event: dict[str, Any], settings: RotationMonitorSettings, now: datetime | None = None
) -> dict[str, Any]:
    """RotationFailed event or scheduled sweep -> Slack + email; returns a summary."""
    from opswire.rotation.monitor import (
        failure_notice,
        is_rotation_failed,
        is_scheduled,
        sweep_notice,
    )

    if is_rotation_failed(event):
        secret_id = str(
            ((event.get("detail") or {}).get("additionalEventData") or {}).get("SecretId") or ""
        )
        status = describe_status(secret_id, settings, now) if secret_id else None
        results = _deliver(failure_notice(event, status), settings)
        return {"kind": "rotation-failed", "secret": secret_id, "notified": results}
    if is_scheduled(event):
        statuses = monitor_sweep(settings, now)
        notice = sweep_notice(statuses, settings.rotated_secret_prefix, str(event.get("region")))
        results = _deliver(notice, settings) if notice else []
        return {
            "kind": "sweep",
            "checked": len(statuses),
            "problems": [
                {"secret": s.name, "problems": s.problems} for s in statuses if s.problems
            ],
            "notified": results,
        }
    raise TaskInputError(
        "expected a Secrets Manager RotationFailed event or a scheduled event, got "
        f"source={event.get('source')!r} detail-type={event.get('detail-type')!r}"
    )


def _deliver(notice: Any, settings: RotationMonitorSettings) -> list[dict[str, Any]]:
    from opswire.adapters.secrets import get_secret_string
    from opswire.adapters.ses import SesEmailSender
    from opswire.adapters.slack import SlackWebhook
    from opswire.notifications.notice import send_notice

    url = get_secret_string(
        settings.slack_webhook_secret_name, max_age=settings.secret_max_age_seconds
    )
    results: list[NotificationResult] = send_notice(
        notice,
        SlackWebhook(url, settings.slack_timeout_seconds),
        SesEmailSender(),
        settings.sender_email,
        settings.recipients,
    )
    return [r.model_dump(mode="json") for r in results]
