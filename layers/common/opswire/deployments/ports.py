"""What the deployment workflow's steps are given: the workflow state (statemachines/
deployment.asl.json passes it from step to step, whole) and their collaborators, as Protocols
bundled in ``Deps``; opswire.deployments.wiring builds the real ones, tests pass their own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from opswire.deployments.config import DeployConfig, EnvironmentConfig
from opswire.deployments.targets import Beanstalk, Ecs, Rollout
from opswire.deployments.webhook import DeployRequest

Phase = Literal["deploy", "rollback"]
LockProgress = Literal["", "acquired", "waiting", "timed_out"]


class DeployState(BaseModel):
    """The workflow state. ``*task_definition`` fields hold the target's revisions: task
    definition ARNs for ECS, application version labels for Elastic Beanstalk."""

    model_config = ConfigDict(extra="ignore")

    request: DeployRequest
    env: EnvironmentConfig | None = None
    phase: Phase = "deploy"
    previous_task_definition: str = ""
    task_definition: str = ""
    intended_task_definition: str = ""
    update_pending: bool = False
    """The target could not take the update yet (EB version processing): the check retries it."""
    polls: int = 0
    max_polls: int = 1
    rollout: Rollout = "IN_PROGRESS"
    rollout_reason: str = ""
    bake_remaining: int = 0
    bake_wait: int = 1
    wait_seconds: int = 1
    approval_timeout_seconds: int = 3600
    approval: dict[str, Any] | None = None
    alarm_override: dict[str, Any] | None = None
    """``opswire deploy override``: who (by, principal), why (reason) and when (at)."""
    overridden_alarms: list[str] = Field(default_factory=list)
    """Firing at pre-flight and overridden: the bake does not count them (a hotfix for what set
    them off could never bake otherwise); every other watched alarm still fails the bake."""
    error: dict[str, Any] | None = None
    outcome: str = ""
    detail: str = ""
    lock: LockProgress = ""
    lock_key: str = ""
    lock_holder: str = ""
    lock_waits: int = 0
    commit_sha: str = ""
    """The commit the statuses go to (a release's tag resolved at Start)."""


class Store(Protocol):
    def get(self, deployment_id: str) -> dict[str, Any] | None: ...
    def put(self, deployment_id: str, document: dict[str, Any], expected_version: int) -> None: ...


class Locks(Protocol):
    """One lock per deployment target (conditional writes in the deployment table)."""

    def acquire_lock(self, key: str, owner: str, expires_at: int, now: int) -> tuple[str, str]:
        """Take ``key`` if free, expired or already ``owner``'s; return (holder, replaced): the
        owner now holding it and, when we took over an expired lock, its previous owner."""
        ...

    def release_lock(self, key: str, owner: str) -> bool:
        """Delete the lock only while ``owner`` holds it; False when it did not."""
        ...


class DeployedCommits(Protocol):
    def mark_deployed(self, key: str, deployment_id: str, at: str) -> None:
        """``deployment_id`` deployed commit ``key`` (opswire.deployments.replay.commit_key)
        successfully: the webhook refuses that commit from now on unless redeployed."""
        ...


class ThreadPoster(Protocol):
    def post(
        self,
        channel: str,
        text: str,
        thread_ts: str | None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> tuple[str, str]:
        """Post ``text`` (with ``blocks``, e.g. buttons); return (channel id, ts) of the message."""
        ...


class Mailer(Protocol):
    def send(self, recipients: list[str], subject: str, text: str) -> None: ...


class CommitStatus(Protocol):
    def set_status(
        self,
        repository: str,
        sha: str,
        state: str,
        description: str,
        context: str,
        target_url: str = "",
    ) -> None: ...


class CommitResolver(Protocol):
    def commit_sha(self, repository: str, ref: str) -> str:
        """The commit SHA ``ref`` (``tags/NAME``, a branch, a SHA) points at."""
        ...


@dataclass
class Deps:
    store: Store
    config: Callable[[], DeployConfig]
    ecs: Ecs
    alarms_in_alarm: Callable[[list[str]], list[str]]
    slack: ThreadPoster | None = None
    slack_channel: str = ""
    mailer: Mailer | None = None
    notify_emails: tuple[str, ...] = ()
    github: CommitStatus | None = None
    approval_links: Callable[[str, str, str], str] | None = None
    """(deployment_id, decision, approver) -> signed, expiring URL."""
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    beanstalk: Beanstalk | None = None
    locks: Locks | None = None
    commits: CommitResolver | None = None
    deployed: DeployedCommits | None = None
