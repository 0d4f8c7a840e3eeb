"""What both notification tasks (Slack, email) start from: the task input refreshed from the
incident table, the once-only guard around the send, and the recent log lines of the alarm."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from opswire.alarms.aws.idempotency import Always, OnceOnly
from opswire.alarms.delivery import Once, message_kind, refresh_delivery, wants_log_lines
from opswire.alarms.log_excerpt import LogExcerpt, recent_log_lines
from opswire.alarms.models.tasks import NotifyTaskInput, parse_task_input
from opswire.core.errors import RetryableError
from opswire.core.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class NotifyTask:
    task: NotifyTaskInput
    once: Once
    log: LogExcerpt | None


def prepare_notify_task(
    event: dict[str, Any],
    channel: Literal["slack", "email"],
    *,
    incident_table_name: str,
    alarm_log_lines: int,
    busy_error: type[RetryableError],
    context: "LambdaContext",
) -> NotifyTask:
    """``incident_table_name`` empty: no thread lookup for follow-ups, no idempotency."""
    task = parse_task_input(NotifyTaskInput, event)
    incidents = None
    if incident_table_name:
        from opswire.alarms.aws.incident_store import IncidentStore

        incidents = IncidentStore(incident_table_name)
    task = refresh_delivery(task, channel, incidents)
    logger.append_keys(incident_id=task.decision.incident.incident_id, kind=message_kind(task))
    once: Once = (
        OnceOnly(incident_table_name, f"notify-{channel}", busy_error, context)
        if incident_table_name
        else Always()
    )
    log = None
    if alarm_log_lines and wants_log_lines(task):
        from opswire.alarms.aws.logs import CloudWatchLogs

        log = recent_log_lines(task.alarm, CloudWatchLogs(), alarm_log_lines)
    return NotifyTask(task, once, log)
