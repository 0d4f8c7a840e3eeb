"""Fakes of the deployment workflow's ports (opswire.deployments.ports and targets): the
deployment table (documents and locks), ECS, the mailer, the task callback and GitHub."""

from typing import Any

from opswire.core.errors import DeploymentStoreRetryableError, GitHubApiError
from opswire.deployments.approval import TaskCallback
from opswire.deployments.ports import CommitResolver, CommitStatus, Locks, Mailer, Store
from opswire.deployments.targets import Ecs

OLD_TASK_DEFINITION = "arn:aws:ecs:us-east-1:1:task-definition/web:1"
NEW_TASK_DEFINITION = "arn:aws:ecs:us-east-1:1:task-definition/web:2"


class FakeDeploymentStore(Store):
    """Deployment documents with DeploymentStore's optimistic versions."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, deployment_id: str) -> dict[str, Any] | None:
        item = self.items.get(deployment_id)
        return dict(item) if item else None

    def put(self, deployment_id: str, document: dict[str, Any], expected_version: int) -> None:
        current = self.items.get(deployment_id)
        if int((current or {}).get("version", 0)) != expected_version:
            raise DeploymentStoreRetryableError("changed")
        self.items[deployment_id] = {**document, "version": expected_version + 1}

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.items.values())[:limit]


class FakeLocks(Locks):
    """The conditional writes of DeploymentStore's lock methods, in memory."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def acquire_lock(self, key: str, owner: str, expires_at: int, now: int) -> tuple[str, str]:
        current = self.items.get(key)
        if current and current["owner"] != owner and current["expires_at"] >= now:
            return str(current["owner"]), ""
        self.items[key] = {"owner": owner, "expires_at": expires_at}
        previous = str(current["owner"]) if current else ""
        return owner, previous if previous != owner else ""

    def release_lock(self, key: str, owner: str) -> bool:
        if self.items.get(key, {}).get("owner") != owner:
            return False
        del self.items[key]
        return True


class FakeEcs(Ecs):
    """A service on OLD_TASK_DEFINITION whose PRIMARY deployment is ``primary``; registering
    answers NEW_TASK_DEFINITION. With ``refuse`` every call fails the test (a target that must
    never touch ECS)."""

    def __init__(self, primary: dict[str, Any] | None = None, *, refuse: bool = False) -> None:
        self.primary = primary
        self.refuse = refuse

    def describe_service(self, cluster: str, service: str) -> dict[str, Any]:
        self._called()
        return {
            "taskDefinition": OLD_TASK_DEFINITION,
            "deployments": [self.primary] if self.primary else [],
        }

    def register_with_image(self, task_definition: str, container: str, image: str) -> str:
        self._called()
        return NEW_TASK_DEFINITION

    def update_service(self, cluster: str, service: str, task_definition: str) -> None:
        self._called()

    def _called(self) -> None:
        if self.refuse:
            raise AssertionError("ECS called")


class FakeMailer(Mailer):
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str]] = []

    def send(self, recipients: list[str], subject: str, text: str) -> None:
        self.sent.append((recipients, subject))


class FakeTaskCallback(TaskCallback):
    """SendTaskSuccess that always finds its task waiting."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []

    def succeed(self, task_token: str, output: dict[str, Any]) -> bool:
        self.outputs.append(output)
        return True


class FakeGitHub(CommitStatus, CommitResolver):
    """Commit statuses (recorded) and refs resolved from ``tags`` (others: HTTP 404)."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags
        self.statuses: list[tuple[str, str]] = []
        self.asked: list[str] = []

    def set_status(
        self,
        repository: str,
        sha: str,
        state: str,
        description: str,
        context: str,
        target_url: str = "",
    ) -> None:
        self.statuses.append((sha, state))

    def commit_sha(self, repository: str, ref: str) -> str:
        self.asked.append(ref)
        if ref not in self.tags:
            raise GitHubApiError(f"GitHub commit of {repository} {ref}: HTTP 404")
        return self.tags[ref]
