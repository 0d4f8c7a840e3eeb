"""The rotation workflow's adapters are built here and nowhere else: Secrets Manager, the
HTTPS test endpoint, PostgreSQL, IAM and STS, and the Slack and email channels of the monitor's
notices. The handlers (``functions/rotate_secret``, ``functions/rotation_monitor``) and the CLI
(``opswire secrets``) call this module; the domain (model, engine, the strategies, status,
monitor) and the entry points (``service``) do not import
``opswire.rotation.aws``.

Adapters are imported on first use, not when a handler module loads (cold start: a rotation
function loads only the drivers of the kinds it accepts, the monitor only Secrets Manager and
the notice channels).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opswire.core.settings import RotationMonitorSettings, RotationSettings
from opswire.rotation.engine import RotationStrategy
from opswire.rotation.model import StepOutcome
from opswire.rotation.service import run_monitor_event, run_rotation_step

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient

    from opswire.channels.ports import EmailSender, SlackPoster
    from opswire.rotation.aws.secret_store import SecretsManagerStore
    from opswire.rotation.status import SecretStatus


def secret_store(client: "SecretsManagerClient | None" = None) -> "SecretsManagerStore":
    """Secrets Manager for the protocol, the monitor and ``opswire secrets status``; over
    ``client`` if given (the CLI's), else the cached client of ``opswire.core.aws``."""
    from opswire.rotation.aws.secret_store import SecretsManagerStore

    return SecretsManagerStore(client)


def secret_statuses(
    client: "SecretsManagerClient",
    name_prefix: str,
    now: datetime,
    overdue_grace: timedelta,
    pending_stuck_after: timedelta,
) -> "list[SecretStatus]":
    """``opswire secrets status``: the rotation status of every secret whose name starts with
    ``name_prefix``, read over ``client`` (``status.rotation_statuses``)."""
    from opswire.rotation.status import rotation_statuses

    return list(
        rotation_statuses(
            secret_store(client), name_prefix, now, overdue_grace, pending_stuck_after
        )
    )


def rotation_function_output(kind: str) -> str | None:
    """The stack output (template.yaml) naming the function that rotates ``kind``: each
    function accepts only its ``ROTATION_KINDS``. None for a kind no function rotates."""
    from opswire.rotation.service import KINDS

    if kind not in KINDS:
        return None
    if kind.startswith("postgres"):
        return "DatabaseRotationFunctionArn"
    return "SecretRotationFunctionArn"


def build_strategies(settings: RotationSettings) -> dict[str, RotationStrategy]:
    """One strategy per kind this function accepts (``ROTATION_KINDS``)."""
    store = secret_store()
    strategies: dict[str, RotationStrategy] = {}
    kinds = settings.kinds
    if kinds & {"generic", "api-key"}:
        from opswire.rotation.aws.https_check import HttpsEndpointChecker
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
    """One invocation of a rotation function (``service.run_rotation_step``) over the real
    adapters; ``strategies`` replace the ones ``settings`` select."""
    return run_rotation_step(
        step,
        secret_id,
        token,
        secret_store(),
        lambda: strategies or build_strategies(settings),
        rotation_token,
    )


def notice_channels(settings: RotationMonitorSettings) -> "tuple[SlackPoster, EmailSender]":
    """The Slack webhook (its URL read from Secrets Manager) and SES."""
    from opswire.channels.factory import email_sender, slack_webhook

    return slack_webhook(settings), email_sender()


def handle_monitor_event(
    event: dict[str, Any], settings: RotationMonitorSettings, now: datetime | None = None
) -> dict[str, Any]:
    """One event of the rotation monitor (``service.run_monitor_event``) over the real
    adapters."""
    return run_monitor_event(event, settings, secret_store(), notice_channels, now)
