"""The deploy config: which repository + event deploys what image tag to which environment.

Stored as JSON in the SSM parameter ``/<stack name>/deploy-config`` (example:
``examples/deploy-config.json``; reference: docs/deployments.md).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EcsTarget(_Model):
    type: Literal["ecs"] = "ecs"
    cluster: str = Field(min_length=1)
    service: str = Field(min_length=1)
    container: str = Field(min_length=1, description="container whose image is replaced")
    image_repository: str = Field(min_length=1, description="e.g. 1234.dkr.ecr.../web")


class BeanstalkTarget(_Model):
    """An Elastic Beanstalk environment on the Docker platform: each deployment is a new
    application version whose source bundle is a Dockerrun.aws.json (v1) naming the image."""

    type: Literal["beanstalk"] = "beanstalk"
    application: str = Field(min_length=1, max_length=100)
    environment_name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$",
        description="4-40 letters, digits, hyphens; no hyphen first or last (EB's rule)",
    )
    image_repository: str = Field(
        pattern=r"^[^\s:@]+(:[0-9]+)?(/[^\s:@]+)*$",
        description="e.g. 1234.dkr.ecr.../web, without a tag (the deployment adds it)",
    )
    container_port: int = Field(default=80, ge=1, le=65535)


Target = Annotated[EcsTarget | BeanstalkTarget, Field(discriminator="type")]


class EnvironmentConfig(_Model):
    target: Target
    approval_required: bool = False
    approvers: list[str] = Field(default_factory=list, description="GitHub logins / emails")
    approval_timeout_seconds: int = Field(default=3600, ge=1, le=7 * 86400)
    bake_seconds: int = Field(default=300, ge=0, le=86400)
    alarms: list[str] = Field(default_factory=list, description="alarm names to watch")
    rollout_timeout_seconds: int = Field(default=1800, ge=1, le=86400)
    poll_seconds: int = Field(default=15, ge=1, le=600)
    slack_channel: str = ""
    notify_emails: list[str] = Field(default_factory=list)
    queue_timeout_seconds: int = Field(
        default=3600,
        ge=0,
        le=86400,
        description="how long to wait for another deployment to the same target; then blocked",
    )
    production: bool | None = Field(
        default=None,
        description="refuse events older than max_event_age_seconds; unset: named prod/production",
    )

    @model_validator(mode="after")
    def _approvers(self) -> "EnvironmentConfig":
        if self.approval_required and not self.approvers:
            raise ValueError("approval_required needs at least one approver")
        return self


DeployEvent = Literal["push", "release", "workflow_run"]


class DeployRule(_Model):
    repository: str = Field(pattern=r"^[^/\s]+/[^/\s]+$", description="owner/name")
    event: DeployEvent
    branch: str = Field(default="", description="push and workflow_run: the branch")
    workflow: str = Field(default="", description="workflow_run: workflow name; empty = any")
    environment: str = Field(min_length=1)
    image_tag: str = Field(
        default="{sha}", description="template: {sha}, {short_sha}, {tag}, {branch}"
    )


class DeployConfig(_Model):
    rules: list[DeployRule] = Field(default_factory=list)
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=25 * 1024 * 1024)
    max_event_age_seconds: int = Field(
        default=3600,
        ge=60,
        le=30 * 86400,
        description="production environments refuse a push/release/workflow_run older than this",
    )

    @model_validator(mode="after")
    def _environments_exist(self) -> "DeployConfig":
        unknown = sorted({r.environment for r in self.rules} - set(self.environments))
        if unknown:
            raise ValueError(f"rules name unknown environments: {unknown}")
        return self
