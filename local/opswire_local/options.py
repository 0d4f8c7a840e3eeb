"""How a local platform is set up (``LocalPlatform(options)``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PlatformOptions:
    root: Path
    parameters: dict[str, str] = field(default_factory=dict)
    stack_name: str = "opswire-local"
    # Slack: by default the secret points at the local outbox; ``slack_webhook_url`` replaces it
    # (tests point it at a failing server); ``forward_slack_to`` makes the outbox forward.
    slack_webhook_url: str | None = None
    forward_slack_to: str | None = None
    # Step Functions Wait states and Retry intervals are multiplied by this factor locally.
    time_scale: float = 0.05
    execution_timeout_seconds: float = 120.0
    # Logs, the Slack outbox and the address of a running ``local up`` (default: <root>/.opswire).
    state_dir: Path | None = None
    # Slack app (bot token) mode locally, served by the outbox; False = incoming-webhook mode.
    slack_app: bool = True
    # Where HttpApi URLs point locally (the gateway of ``opswire local up``).
    api_url: str = "http://127.0.0.1:3000"
    # Values for AWS::SSM::Parameter resources, by logical id (e.g. a routing table for tests).
    ssm_parameters: dict[str, str] = field(default_factory=dict)
    # The stack's settings document (`opswire config set`; the CLI adds <state dir>/settings.json).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def state_path(self) -> Path:
        return self.state_dir or self.root / ".opswire"
