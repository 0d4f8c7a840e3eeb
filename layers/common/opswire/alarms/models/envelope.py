"""The normalized input of the alarm handling state machine.

Every trigger (SNS topic, EventBridge rule, CloudWatch Lambda alarm action) starts the same
workflow with this envelope: which door the alarm or event came through and the producer's
payload as-is.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

AlarmSource = Literal["sns", "eventbridge", "lambda-action"]


class SnsDelivery(BaseModel):
    """Where an SNS-delivered alarm came from."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    topic_arn: str
    timestamp: str
    subject: str | None = None


class AlarmEnvelope(BaseModel):
    """``payload`` is the JSON object published to SNS (already decoded from ``Sns.Message``),
    the whole EventBridge event, or the whole Lambda alarm-action payload. An SNS message that
    is not a JSON object (plain text, a JSON array or string) is kept as it is in ``text``, with
    an empty ``payload``."""

    model_config = ConfigDict(frozen=True)

    source: AlarmSource
    payload: dict[str, Any]
    sns: SnsDelivery | None = None
    text: str | None = None
