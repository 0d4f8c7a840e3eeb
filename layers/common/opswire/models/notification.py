"""What a notification task returns to the workflow."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opswire.models.incident import Delivery


class NotificationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Literal["slack", "email"]
    delivered: bool
    recipient: str
    subject: str
    message_id: str | None = None
    delivery: Delivery = Field(default_factory=Delivery)
    """Where the message went, so later messages of the episode can thread onto it."""
