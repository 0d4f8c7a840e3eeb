"""The state the alarm workflow carries between its incident tasks."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opswire.models.alarm import Alarm
from opswire.models.incident import Decision, Reminder


class Page(BaseModel):
    """A message for the escalation topic (SMS / PagerDuty-style subscribers)."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(max_length=100)
    message: str


class EvaluateInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    alarm: Alarm


class WorkflowState(BaseModel):
    """Output of Evaluate and CheckReminder; input of Notify, RecordDelivery, CheckReminder."""

    model_config = ConfigDict(frozen=True)

    alarm: Alarm
    decision: Decision
    reminder: Reminder | None = None
    page: Page | None = None
    reminders_sent: int = Field(default=0, ge=0)
    remind: bool = False


class RecordDeliveryInput(WorkflowState):
    notifications: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """The Notify step's results by channel (``slack``, ``email``, ``page``)."""
