"""Task inputs of the alarm handling workflow, and the one way to validate them."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from opswire.alarms.models.event import Subject
from opswire.alarms.models.incident import Decision, Reminder
from opswire.core.errors import TaskInputError


class AlarmTaskInput(BaseModel):
    """An alarm on its own: the output of the parse task."""

    model_config = ConfigDict(frozen=True)

    alarm: Subject


class NotifyTaskInput(BaseModel):
    """Input of the notify tasks (NotifySlackFunction, NotifyEmailFunction).

    ``decision`` is what the evaluate step decided for this delivery (``action`` is "notify").
    ``reminder`` is set when the workflow re-notifies an unacknowledged incident: the message is
    then a reminder (with any escalation that became due), and ``decision.kind`` stays the kind
    of the message that opened the wait.
    """

    model_config = ConfigDict(frozen=True)

    alarm: Subject
    decision: Decision
    reminder: Reminder | None = None


def parse_task_input[M: BaseModel](model: type[M], event: Any) -> M:
    """Validate ``event`` as ``model``; a mismatch is a permanent, typed error."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, err["loc"])) for err in exc.errors()[:5])
        raise TaskInputError(f"{model.__name__} is invalid at: {fields}") from exc
