"""The state the alarm workflow carries between its incident tasks."""

import json

from pydantic import BaseModel, ConfigDict, Field

from opswire.alarms.models.alarm import UtcDatetime
from opswire.alarms.models.event import Subject
from opswire.alarms.models.incident import Decision, NotifyChannel, Reminder
from opswire.channels.ports import Delivery

_REASON_LENGTH = 500


class Page(BaseModel):
    """A message for the escalation topic (SMS / PagerDuty-style subscribers)."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(max_length=100)
    message: str


class EvaluateInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    alarm: Subject


class WorkflowState(BaseModel):
    """Output of Evaluate and CheckReminder; input of Notify, RecordDelivery, CheckReminder."""

    model_config = ConfigDict(frozen=True)

    alarm: Subject
    decision: Decision
    reminder: Reminder | None = None
    page: Page | None = None
    reminders_sent: int = Field(default=0, ge=0)
    remind: bool = False


class TaskFailure(BaseModel):
    """A task error as the workflow's ``Catch`` hands it on: ``Error`` and ``Cause``."""

    model_config = ConfigDict(frozen=True)

    error: str
    cause: str = ""

    @property
    def reason(self) -> str:
        """The error message: a Lambda task's ``Cause`` is JSON with ``errorMessage`` (and a
        stack trace, left out here); any other cause is taken as it is."""
        try:
            document = json.loads(self.cause)
        except ValueError:
            document = None
        message = document.get("errorMessage") if isinstance(document, dict) else None
        return str(message or self.cause or self.error)[:_REASON_LENGTH]


class ChannelOutcome(BaseModel):
    """One branch of the Notify step: a ``NotificationResult``, or what the branch made of a
    failure (``failure`` is set when the channel refused for good)."""

    model_config = ConfigDict(frozen=True)

    channel: str
    delivered: bool
    delivery: Delivery = Field(default_factory=Delivery)
    failure: TaskFailure | None = None


class RecordDeliveryInput(WorkflowState):
    notifications: dict[str, ChannelOutcome] = Field(default_factory=dict)
    """The Notify step's results by channel (``slack``, ``email``, ``page``)."""


class ChannelFailureNotice(BaseModel):
    """A channel failure recorded for the first time: the workflow dead-letters it."""

    model_config = ConfigDict(frozen=True)

    channel: NotifyChannel
    incident_id: str
    error: str
    reason: str
    first_at: UtcDatetime


class DeliveryRecord(BaseModel):
    """Output of RecordDelivery."""

    model_config = ConfigDict(frozen=True)

    recorded: bool
    """The incident was written (threads, a new or a cleared channel failure)."""
    settled: bool
    """Every channel delivered, or refused for good with the refusal on the incident: the
    execution goes on. False (a failure that outlived its retries, a failed page, a refusal of
    an episode that is no longer current) fails it."""
    new_failures: list[ChannelFailureNotice] = Field(default_factory=list)
