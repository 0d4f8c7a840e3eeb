"""The rotation workflow's two entry points, over adapters passed in: one step of a rotation
function (``run_rotation_step``) and one event of the monitor (``run_monitor_event``: a
RotationFailed event or the scheduled sweep -> Slack + email).

``opswire.rotation.wiring`` builds the real adapters and calls these; this module does not
import ``opswire.rotation.aws``. The strategies and the notice
channels come in as factories: they are built only when a step or a notice needs them.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opswire.channels.ports import NotificationResult
from opswire.core.errors import OpswireError, TaskInputError
from opswire.core.settings import RotationMonitorSettings
from opswire.rotation.engine import RotationStrategy, SecretStore, run_step
from opswire.rotation.model import Step, StepOutcome
from opswire.rotation.status import (
    SecretLister,
    SecretReader,
    SecretStatus,
    rotation_statuses,
    secret_status,
)

if TYPE_CHECKING:
    from opswire.channels.notice import Notice
    from opswire.channels.ports import EmailSender, SlackPoster

KINDS = ("generic", "api-key", "postgres", "postgres-alternating", "iam-access-key")

StrategyFactory = Callable[[], Mapping[str, RotationStrategy]]
"""The strategies of the kinds this function accepts."""
NoticeChannels = Callable[[RotationMonitorSettings], "tuple[SlackPoster, EmailSender]"]
"""The Slack poster and the email sender the monitor's notices go through."""


def run_rotation_step(
    step: str,
    secret_id: str,
    token: str,
    store: SecretStore,
    strategies: StrategyFactory,
    rotation_token: str | None = None,
) -> StepOutcome:
    """One invocation of a rotation function."""
    if step not in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        raise TaskInputError(f"unknown rotation step {step!r}")
    chosen: Step = step  # type: ignore[assignment]
    return run_step(chosen, secret_id, token, store, strategies(), rotation_token)


def monitor_sweep(
    lister: SecretLister, settings: RotationMonitorSettings, now: datetime | None = None
) -> list[SecretStatus]:
    return list(
        rotation_statuses(
            lister,
            settings.rotated_secret_prefix,
            now or datetime.now(UTC),
            timedelta(hours=settings.overdue_grace_hours),
            timedelta(hours=settings.pending_stuck_after_hours),
        )
    )


def describe_status(
    reader: SecretReader,
    secret_id: str,
    settings: RotationMonitorSettings,
    now: datetime | None = None,
) -> SecretStatus | None:
    """The status of one secret, or None if it cannot be read (outside the prefix, gone)."""
    try:
        entry = reader.describe_entry(secret_id)
        dates = reader.version_dates(secret_id)
    except OpswireError:  # a notice without the extra facts beats no notice
        return None
    return secret_status(
        entry,
        dates,
        now or datetime.now(UTC),
        timedelta(hours=settings.overdue_grace_hours),
        timedelta(hours=settings.pending_stuck_after_hours),
    )


def run_monitor_event(
    event: dict[str, Any],
    settings: RotationMonitorSettings,
    reader: SecretReader,
    channels: NoticeChannels,
    now: datetime | None = None,
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
        status = describe_status(reader, secret_id, settings, now) if secret_id else None
        results = _deliver(failure_notice(event, status), settings, channels)
        return {"kind": "rotation-failed", "secret": secret_id, "notified": results}
    if is_scheduled(event):
        statuses = monitor_sweep(reader, settings, now)
        notice = sweep_notice(statuses, settings.rotated_secret_prefix, str(event.get("region")))
        results = _deliver(notice, settings, channels) if notice else []
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


def _deliver(
    notice: "Notice", settings: RotationMonitorSettings, channels: NoticeChannels
) -> list[dict[str, Any]]:
    from opswire.channels.notice import send_notice

    slack, email = channels(settings)
    results: list[NotificationResult] = send_notice(
        notice, slack, email, settings.sender_email, settings.recipients
    )
    return [r.model_dump(mode="json") for r in results]
