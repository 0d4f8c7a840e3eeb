"""Task inputs of the alarm handling workflow, and the one way to validate them."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from opswire.errors import TaskInputError
from opswire.models.alarm import Alarm


class AlarmTaskInput(BaseModel):
    """Input of the notify tasks: the output of the parse task."""

    model_config = ConfigDict(frozen=True)

    alarm: Alarm


def parse_task_input[M: BaseModel](model: type[M], event: Any) -> M:
    """Validate ``event`` as ``model``; a mismatch is a permanent, typed error."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, err["loc"])) for err in exc.errors()[:5])
        raise TaskInputError(f"{model.__name__} is invalid at: {fields}") from exc
