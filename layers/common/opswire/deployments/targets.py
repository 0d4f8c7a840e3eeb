"""Rollout targets: what a deployment changes (an ECS service, an Elastic Beanstalk environment).

The workflow's steps talk only to ``RolloutTarget``; each kind says how to register a revision,
start the change and observe it. The guarantees stay the workflow's: success only when the
target provably runs the intended revision, and a rollback is verified the same way.
``target_key`` names the lock that keeps deployments to one target from overlapping.
"""

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from opswire.core.errors import BeanstalkError
from opswire.deployments.config import BeanstalkTarget, EcsTarget, EnvironmentConfig

Rollout = Literal["IN_PROGRESS", "COMPLETED", "FAILED"]
LOCK_MARGIN_SECONDS = 1800
"""Added to a lock's expiry beyond the rollout, bake and rollback time (Wait states, retries)."""


@dataclass(frozen=True)
class Observation:
    rollout: Rollout
    reason: str


class RolloutTarget(Protocol):
    name: str
    """How stage messages name the target (the ECS service, application/environment)."""

    def current(self) -> str:
        """The revision the target runs now (the rollback goes back to it)."""
        ...

    def register(self, image: str, previous: str, deployment_id: str, image_tag: str) -> str:
        """Create the new revision running ``image`` (the target itself is not changed)."""
        ...

    def update(self, revision: str) -> str:
        """Start moving the target to ``revision``; return "" once started, else why it must
        wait (the rollout check calls ``update`` again on its next poll)."""
        ...

    def observe(self, revision: str, rolling_back: bool = False) -> Observation: ...

    def short(self, revision: str) -> str: ...


# ---- ECS ----------------------------------------------------------------------------------------
class Ecs(Protocol):
    def describe_service(self, cluster: str, service: str) -> dict[str, Any]: ...
    def register_with_image(self, task_definition: str, container: str, image: str) -> str: ...
    def update_service(self, cluster: str, service: str, task_definition: str) -> None: ...


class EcsRolloutTarget:
    """Revisions are task definition ARNs; the service's PRIMARY deployment tells the truth."""

    def __init__(self, config: EcsTarget, ecs: Ecs) -> None:
        self._config = config
        self._ecs = ecs
        self.name = config.service

    def current(self) -> str:
        return str(
            self._ecs.describe_service(self._config.cluster, self._config.service)["taskDefinition"]
        )

    def register(self, image: str, previous: str, deployment_id: str, image_tag: str) -> str:
        return self._ecs.register_with_image(previous, self._config.container, image)

    def update(self, revision: str) -> str:
        self._ecs.update_service(self._config.cluster, self._config.service, revision)
        return ""

    def observe(self, revision: str, rolling_back: bool = False) -> Observation:
        """COMPLETED only when the PRIMARY deployment runs ``revision`` and its rollout is
        COMPLETED; FAILED when ECS rolled back (PRIMARY on another revision) or it failed."""
        service = self._ecs.describe_service(self._config.cluster, self._config.service)
        primary = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None
        )
        if primary is None:
            return Observation("IN_PROGRESS", "no PRIMARY deployment yet")
        if primary.get("taskDefinition") != revision:
            return Observation(
                "FAILED",
                f"PRIMARY deployment runs {self.short(str(primary.get('taskDefinition')))}, "
                f"not {self.short(revision)} (ECS rolled back)",
            )
        if primary.get("rolloutState") == "FAILED":
            return Observation("FAILED", str(primary.get("rolloutStateReason") or "rollout FAILED"))
        if primary.get("rolloutState") == "COMPLETED":
            return Observation("COMPLETED", f"{self.short(revision)} is PRIMARY and COMPLETED")
        return Observation("IN_PROGRESS", "rollout in progress")

    def short(self, revision: str) -> str:
        return revision.rsplit("/", 1)[-1]


# ---- Elastic Beanstalk ---------------------------------------------------------------------------
class Beanstalk(Protocol):
    def describe_environment(self, application: str, environment: str) -> dict[str, Any]: ...
    def describe_version(self, application: str, version_label: str) -> dict[str, Any] | None: ...
    def create_version(
        self, application: str, version_label: str, bundle: bytes, description: str
    ) -> None: ...
    def update_environment(
        self, application: str, environment: str, version_label: str
    ) -> None: ...


_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_LABEL = 100  # EB's limit for VersionLabel
# Version statuses while EB still validates / builds the bundle (UpdateEnvironment must wait).
_VERSION_PENDING = frozenset({"PROCESSING", "BUILDING"})
_ENV_GONE = frozenset({"Terminating", "Terminated"})


def version_label(image_tag: str, deployment_id: str) -> str:
    """``<tag>-<deployment id>``: readable, unique per deployment (a retried Register finds its
    own version again), within EB's 100 characters."""
    tag = _LABEL_UNSAFE.sub("-", image_tag)
    budget = _MAX_LABEL - len(deployment_id) - 1
    if budget <= 0:
        return deployment_id[-_MAX_LABEL:]
    return f"{tag[:budget]}-{deployment_id}"


def source_bundle(image: str, container_port: int) -> bytes:
    """A zip holding Dockerrun.aws.json v1 (single container Docker platform) for ``image``."""
    dockerrun = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": image, "Update": "true"},
        "Ports": [{"ContainerPort": container_port}],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        # A fixed timestamp: the same image gives the same bytes.
        info = zipfile.ZipInfo("Dockerrun.aws.json", date_time=(1980, 1, 1, 0, 0, 0))
        bundle.writestr(info, json.dumps(dockerrun, indent=2) + "\n")
    return buffer.getvalue()


class BeanstalkRolloutTarget:
    """Revisions are application version labels. Done only when the environment is Ready, runs
    the intended label and its health is Green; Red, or Ready on another label (EB rolled back,
    someone else deployed) is a failure."""

    def __init__(self, config: BeanstalkTarget, client: Beanstalk) -> None:
        self._config = config
        self._client = client
        self.name = f"{config.application}/{config.environment_name}"

    def _environment(self) -> dict[str, Any]:
        return self._client.describe_environment(
            self._config.application, self._config.environment_name
        )

    def current(self) -> str:
        return str(self._environment().get("VersionLabel") or "")

    def register(self, image: str, previous: str, deployment_id: str, image_tag: str) -> str:
        label = version_label(image_tag, deployment_id)
        if self._client.describe_version(self._config.application, label) is None:
            self._client.create_version(
                self._config.application,
                label,
                source_bundle(image, self._config.container_port),
                f"opswire {deployment_id}: {image}"[:200],
            )
        return label

    def update(self, revision: str) -> str:
        version = self._client.describe_version(self._config.application, revision)
        if version is None:
            raise BeanstalkError(f"application version {revision} does not exist")
        status = str(version.get("Status") or "")
        if status == "FAILED":
            raise BeanstalkError(f"application version {revision}: processing FAILED")
        if status in _VERSION_PENDING:
            return f"application version {revision} is {status}"
        environment = self._environment()
        env_status = str(environment.get("Status") or "")
        if env_status in _ENV_GONE:
            raise BeanstalkError(f"environment {self.name} is {env_status}")
        if environment.get("VersionLabel") == revision and env_status in ("Ready", "Updating"):
            return ""  # already there or on its way (a retried step, or EB went back by itself)
        if env_status != "Ready":
            # EB refuses an update while another operation runs on the environment.
            return f"environment is {env_status or 'not Ready'}"
        self._client.update_environment(
            self._config.application, self._config.environment_name, revision
        )
        return ""

    def observe(self, revision: str, rolling_back: bool = False) -> Observation:
        """Red fails a deployment at once; while a rollback is still Updating, Red is the health
        of the version being replaced (it counts once the environment is Ready again)."""
        environment = self._environment()
        status = str(environment.get("Status") or "")
        health = str(environment.get("Health") or "")
        label = str(environment.get("VersionLabel") or "")
        detail = f"status {status}, health {health}"
        if environment.get("HealthStatus"):
            detail += f" ({environment['HealthStatus']})"
        if status in _ENV_GONE:
            return Observation("FAILED", f"environment {self.name} is {status}")
        if health == "Red" and (status == "Ready" or not rolling_back):
            return Observation("FAILED", f"{self.name} on {label or '?'}: {detail}")
        if status == "Ready" and label != revision:
            return Observation(
                "FAILED",
                f"{self.name} is Ready on {label or 'no version'}, not {revision} "
                "(Elastic Beanstalk rolled back or another deployment won)",
            )
        if status == "Ready" and health == "Green":
            return Observation("COMPLETED", f"{self.name} runs {revision}: Ready, Green")
        return Observation("IN_PROGRESS", f"{self.name} on {label or '?'}: {detail}")

    def short(self, revision: str) -> str:
        return revision


def target_key(target: EcsTarget | BeanstalkTarget) -> str:
    """The lock key of a deployment target: deployments with the same key never overlap.
    ARNs and names of the same cluster / service give the same key."""
    if isinstance(target, EcsTarget):
        cluster = target.cluster.rsplit("/", 1)[-1]
        return f"ecs:{cluster}/{target.service.rsplit('/', 1)[-1]}"
    return f"beanstalk:{target.application}/{target.environment_name}"


def lock_seconds(env: EnvironmentConfig) -> int:
    """How long a lock stays valid without its owner: the rollout, the bake and a rollback,
    plus a margin. Only a crashed or stopped execution lets it run out (finish releases it)."""
    return 2 * env.rollout_timeout_seconds + env.bake_seconds + LOCK_MARGIN_SECONDS
