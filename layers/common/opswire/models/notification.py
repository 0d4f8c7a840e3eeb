"""What a notification task returns to the workflow."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class NotificationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Literal["slack", "email"]
    delivered: bool
    recipient: str
    subject: str
    message_id: str | None = None
