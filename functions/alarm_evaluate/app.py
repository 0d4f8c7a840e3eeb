"""Workflow task: one parsed alarm -> the incident decision (notify or suppress, and how)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.tasks import parse_task_input
from opswire.alarms.models.workflow import EvaluateInput
from opswire.core.observability import logger, metrics
from opswire.core.settings import AlarmIncidentSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(AlarmIncidentSettings)
    alarm = parse_task_input(EvaluateInput, event).alarm
    state = wiring.evaluate(alarm, settings)
    decision = state.decision
    metric = "AlarmsNotified" if decision.action == "notify" else "AlarmsSuppressed"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(
        "alarm evaluated",
        extra={
            "alarm": alarm.name,
            "state": alarm.state,
            "action": decision.action,
            "kind": decision.kind,
            "reason": decision.reason,
            "incident_id": decision.incident.incident_id,
        },
    )
    return state.model_dump(mode="json")
