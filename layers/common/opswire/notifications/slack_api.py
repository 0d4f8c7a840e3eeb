"""The Slack Web API as alarm notifications and acknowledgements use it (a bot token;
adapter: opswire.adapters.slack.SlackBot). Light on purpose: the acknowledgement function
imports it at cold start, without the incident models."""

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opswire.models.incident import SlackThread


class SlackApi(Protocol):
    """The Slack Web API with a bot token."""

    def post_message(
        self,
        *,
        channel: str,
        payload: dict[str, Any],
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> "SlackThread": ...

    def update_message(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None: ...
