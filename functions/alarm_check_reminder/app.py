"""Workflow task: after the wait, remind and escalate if the incident is still open."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.tasks import parse_task_input
from opswire.alarms.models.workflow import WorkflowState
from opswire.core.observability import logger, metrics
from opswire.core.settings import AlarmIncidentSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(AlarmIncidentSettings)
    state = parse_task_input(WorkflowState, event)
    checked = wiring.check_reminder(state, settings)
    if checked.remind:
        metrics.add_metric(name="AlarmReminders", unit=MetricUnit.Count, value=1)
    logger.info(
        "reminder due" if checked.remind else "no reminder: resolved, acknowledged or done",
        extra={"incident_id": state.decision.incident.incident_id, "sent": checked.reminders_sent},
    )
    return checked.model_dump(mode="json")
