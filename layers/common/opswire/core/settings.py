"""Per-function settings: the only place that reads ``os.environ``.

Each function has one model, validated once per cold start and cached. Values are names and ARNs
of resources the template passes in; secret *values* never travel as environment variables.

A few values an operator may change after install without a deploy (and that guided deploy
therefore does not ask) live in the stack's settings document: the JSON SSM parameter named by
``STACK_SETTINGS_PARAMETER`` (``/<stack>/settings``, written by ``opswire config set``). A model
that has such fields reads them from there, under its environment variables, and is re-read
after ``STACK_SETTINGS_MAX_AGE_SECONDS`` so a change reaches running functions.
"""

import os
import re
import time
from functools import cache
from typing import Any, Literal, cast

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

STACK_SETTINGS_ENV = "STACK_SETTINGS_PARAMETER"
# A model is re-validated after 240 s from a document Powertools caches for 60 s: a change
# reaches every running function within five minutes.
STACK_SETTINGS_MAX_AGE_SECONDS = 240
_DOCUMENT_MAX_AGE_SECONDS = 60


class StackSettingsDocument(BaseModel):
    """The stack's settings document (``/<stack>/settings``): every key it may hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_default_channel: str = "#alerts"
    """Bot mode: where alarm threads and deployment messages go when the route names no channel."""
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    """Slack Web API base URL (GovSlack: https://slack-gov.com/api/; locally the outbox)."""
    github_api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")
    """GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3)."""
    log_subscription_include: str = ""
    """Comma-separated globs of log groups subscribed to the shipper when they are created."""
    log_subscription_exclude: str = ""
    """Comma-separated globs of log groups never subscribed automatically."""
    pending_stuck_after_hours: float = Field(default=2, ge=0)
    """The daily rotation sweep reports an AWSPENDING version older than this as stuck."""


def read_stack_settings(name: str) -> StackSettingsDocument:
    """The settings document in SSM parameter ``name`` (a ConfigurationError when unreadable)."""
    from opswire.core.parameters import load_json_document

    return load_json_document(
        name, StackSettingsDocument, "stack settings", max_age=_DOCUMENT_MAX_AGE_SECONDS
    )


def _has_stack_settings(model: type[BaseModel]) -> bool:
    """Whether ``model`` has a field that the stack's settings document may set."""
    return bool(set(StackSettingsDocument.model_fields) & set(model.model_fields))


class _Settings(BaseModel):
    """A function's settings. ``Model()`` reads them; sources, first wins: keyword arguments,
    the environment, the stack's settings document (for the fields it may set), the defaults.
    The environment name of a field is its name, or each name of its ``validation_alias``
    choices in order; names match case-insensitively, and an empty value counts.

    That is what pydantic-settings' ``BaseSettings`` did with its environment source, read here
    without importing it: pydantic-settings (asyncio, argparse, its CLI, dotenv and cloud
    sources) took 0.2-0.5 s of every function's cold start, to read scalar environment
    variables (docs/performance.md). Every field is a scalar (a test keeps it so): the string
    from the environment is validated by pydantic in lax mode, as pydantic-settings passed it.
    """

    # defer_build: a model's validator is built on its first use, so a cold start builds only
    # the model of its function, not all of them.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    def __init__(self, **values: Any) -> None:
        model = type(self)
        super().__init__(**{**_document_values(model), **_environment_values(model), **values})


@cache
def _environment_names(model: type[BaseModel]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Per field: its (key to validate under, lower-case environment name) pairs, first wins."""
    fields: list[tuple[tuple[str, str], ...]] = []
    for field_name, field in model.model_fields.items():
        alias = field.validation_alias
        if alias is None:
            fields.append(((field_name, field_name.lower()),))
        elif isinstance(alias, AliasChoices) and all(isinstance(c, str) for c in alias.choices):
            fields.append(tuple((str(c), str(c).lower()) for c in alias.choices))
        else:  # AliasPath or a bare string alias: no settings model has one
            raise TypeError(f"{model.__name__}.{field_name}: use AliasChoices of names")
    return tuple(fields)


def _environment_values(model: type[BaseModel]) -> dict[str, Any]:
    environ = {name.lower(): value for name, value in os.environ.items()}
    values: dict[str, Any] = {}
    for choices in _environment_names(model):
        for key, name in choices:
            if name in environ:
                values[key] = environ[name]
                break
    return values


def _document_values(model: type[BaseModel]) -> dict[str, Any]:
    """The keys of the stack's settings document that ``model`` has as fields."""
    name = os.environ.get(STACK_SETTINGS_ENV, "")
    if not name or not _has_stack_settings(model):
        return {}
    document = read_stack_settings(name)
    fields = model.model_fields
    return {key: value for key, value in document.model_dump().items() if key in fields}


class AlarmIngestSettings(_Settings):
    alarm_state_machine_arn: str = Field(min_length=1)


class SlackSettings(_Settings):
    slack_webhook_secret_name: str = Field(min_length=1)
    """Secret holding the incoming-webhook URL (webhook mode, used without a Slack app)."""
    slack_app_secret_name: str = ""
    """Secret holding ``{"bot_token": ..., "signing_secret": ...}``; set = bot mode."""
    slack_api_url: str = "https://slack.com/api/"
    slack_default_channel: str = ""
    """Bot mode: where messages go when the route names no channel."""
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    slack_max_rate_limit_wait_seconds: int = Field(default=5, ge=0, le=60)
    """A 429 whose Retry-After is at most this is waited for inside the function, bot or webhook
    (up to ``slack_rate_limit_retries`` times); a longer one fails the task for the workflow to
    retry."""
    slack_rate_limit_retries: int = Field(default=2, ge=0, le=5)
    incident_table_name: str = ""
    """Idempotency records (Powertools) live in the incident table; empty = no idempotency."""
    alarm_log_lines: int = Field(default=5, ge=0, le=20)
    """Recent log lines shown for alarms on a log-based metric; 0 = do not look them up."""
    alarm_log_group_arns: str = ""
    """The only log groups those lines may come from (comma-separated ARNs, the template's
    ``AlarmLogGroupArns``); empty = no log lines."""
    secret_max_age_seconds: int = Field(default=300, ge=0)


class EmailSettings(_Settings):
    sender_email: str = Field(min_length=3)
    alert_email: str = Field(min_length=3, description="comma-separated recipients")
    ack_secret_name: str = ""
    """Secret (plain string) that signs acknowledgement links; empty = no links."""
    ack_base_url: str = ""
    """The HttpApi URL the acknowledgement links point at; empty = no links."""
    ack_link_ttl_seconds: int = Field(default=86400, ge=60)
    incident_table_name: str = ""
    alarm_log_lines: int = Field(default=5, ge=0, le=20)
    alarm_log_group_arns: str = ""
    secret_max_age_seconds: int = Field(default=300, ge=0)

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]


class IncidentAckSettings(_Settings):
    """IncidentAckFunction: acknowledgement links, and the Slack app's interactivity URL (which
    also receives the deployment Approve / Reject buttons: one URL per Slack app)."""

    incident_table_name: str = Field(min_length=1)
    deployment_table_name: str = ""
    ack_secret_name: str = Field(min_length=1)
    slack_app_secret_name: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout_seconds: int = Field(default=5, ge=1, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)


class RotationSettings(_Settings):
    """The rotation functions: which kinds this function rotates and how long it waits."""

    rotation_kinds: str = Field(
        default="generic,iam-access-key,postgres,postgres-alternating",
        description="comma-separated kinds this function accepts",
    )
    sts_attempts: int = Field(default=6, ge=1, le=20)
    sts_retry_seconds: float = Field(default=2.0, ge=0, le=30)
    database_timeout_seconds: int = Field(default=10, ge=1, le=60)
    http_timeout_seconds: int = Field(default=10, ge=1, le=60)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.rotation_kinds.split(",") if k.strip())


class RotationMonitorSettings(_Settings):
    """The rotation monitor: where failures are told and what the sweep calls overdue or stuck."""

    slack_webhook_secret_name: str = Field(min_length=1)
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)
    sender_email: str = Field(min_length=3)
    alert_email: str = Field(min_length=3, description="comma-separated recipients")
    rotated_secret_prefix: str = Field(min_length=1)
    overdue_grace_hours: float = Field(default=24, ge=0)
    pending_stuck_after_hours: float = Field(default=2, ge=0)

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]


class AlarmIncidentSettings(_Settings):
    """Evaluate and CheckReminder: the incident table and the routing table parameter."""

    incident_table_name: str = Field(min_length=1)
    alarm_routing_parameter: str = Field(min_length=1)
    routing_max_age_seconds: int = Field(default=60, ge=0)


class IncidentTableSettings(_Settings):
    incident_table_name: str = Field(min_length=1)


_loaded: dict[tuple[type[_Settings], str], tuple[float, _Settings]] = {}


def load_settings[S: _Settings](model: type[S]) -> S:
    """Validate ``model`` from the environment once per cold start. Cached per Lambda function
    name too: functions that share one model with different environments (the rotation
    functions) keep their own values when they run in one process, as on the local platform.
    A model with fields from the stack's settings document is re-read after its max age."""
    key = (model, os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
    cached = _loaded.get(key)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        reads_document = bool(os.environ.get(STACK_SETTINGS_ENV)) and _has_stack_settings(model)
        expires = now + STACK_SETTINGS_MAX_AGE_SECONDS if reads_document else float("inf")
        cached = (expires, model())
        _loaded[key] = cached
    return cast(S, cached[1])


def clear_settings_cache() -> None:
    """Forget cached settings (the local platform calls this when it starts a new stack)."""
    _loaded.clear()


# ---- log shipping (issue 4) -------------------------------------------------------------------
_MIB = 1024 * 1024
OpenSearchAuth = Literal["sigv4", "aoss", "basic", "none"]


class LogShippingSettings(_Settings):
    """ShipLogsFunction. Only OPENSEARCH_ENDPOINT, OPENSEARCH_AUTH and LOG_DLQ_BUCKET come from the
    template as a rule; everything else has a default. An empty endpoint means no destination:
    every document goes to the dead-letter bucket, from where ``opswire logs replay`` re-ships it
    (the local platform always sets one: its own local OpenSearch or yours)."""

    opensearch_endpoint: str = ""
    opensearch_auth: OpenSearchAuth = "none"
    opensearch_basic_auth_secret_name: str = ""
    # The region requests are signed for (Lambda sets AWS_REGION); also the documents' `region`.
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("OPENSEARCH_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    log_dlq_bucket: str = Field(min_length=1)
    # {group}: the normalized log group; {date}: YYYY.MM.DD of the event (UTC).
    log_index_pattern: str = Field(default="logs-{group}-{date}", min_length=1)
    log_index_mode: Literal["index", "data_stream"] = "index"
    log_index_template_name: str = Field(default="opswire-logs", min_length=1)
    log_install_index_template: bool = True
    log_max_bulk_bytes: int = Field(default=5 * _MIB, ge=1024, le=100 * _MIB)
    log_gzip_level: int = Field(default=1, ge=0, le=9, description="0: send uncompressed")
    log_request_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    log_max_attempts: int = Field(default=6, ge=1, le=50)
    log_retry_base_seconds: float = Field(default=0.2, ge=0, le=60)
    log_retry_max_seconds: float = Field(default=5.0, ge=0, le=300)
    log_time_reserve_seconds: float = Field(default=2.0, ge=0, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)

    @field_validator("opensearch_endpoint")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and "://" not in value:
            value = f"https://{value}"  # the console shows domain endpoints without a scheme
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "LogShippingSettings":
        if (
            self.opensearch_endpoint
            and self.opensearch_auth == "basic"
            and not self.opensearch_basic_auth_secret_name
        ):
            raise ValueError("OPENSEARCH_AUTH=basic needs OPENSEARCH_BASIC_AUTH_SECRET_NAME")
        if self.log_index_mode == "data_stream" and "{date}" in self.log_index_pattern:
            raise ValueError("a data stream name cannot contain {date}: OpenSearch rolls it over")
        unknown = set(_PLACEHOLDERS.findall(self.log_index_pattern)) - {"group", "date"}
        if unknown:
            raise ValueError(f"LOG_INDEX_PATTERN: unknown placeholders {sorted(unknown)}")
        return self


class LogSubscriberSettings(_Settings):
    """SubscribeLogGroupFunction and ``opswire logs subscribe``."""

    log_destination_arn: str = Field(min_length=1)
    # Comma-separated glob patterns (fnmatch) of log group names; empty include: subscribe none.
    log_subscription_include: str = ""
    log_subscription_exclude: str = ""
    log_subscription_filter_name: str = Field(default="opswire-ship-logs", min_length=1)
    log_subscription_filter_pattern: str = ""
    # The shipper's own log group is never subscribed: shipping it would feed itself forever.
    log_shipper_log_group: str = ""

    @property
    def include_patterns(self) -> list[str]:
        return _split_patterns(self.log_subscription_include)

    @property
    def exclude_patterns(self) -> list[str]:
        return _split_patterns(self.log_subscription_exclude)


_PLACEHOLDERS = re.compile(r"\{(\w*)\}")


def _split_patterns(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# ---- deployments (issue 6) --------------------------------------------------------------------
class DeployWebhookSettings(_Settings):
    """GithubWebhookFunction."""

    github_webhook_secret_name: str = Field(min_length=1)
    deploy_config_parameter: str = Field(min_length=1)
    deployment_table_name: str = Field(min_length=1)
    deployment_state_machine_arn: str = Field(min_length=1)
    config_max_age_seconds: int = Field(default=60, ge=0)
    secret_max_age_seconds: int = Field(default=300, ge=0)


class DeployTaskSettings(_Settings):
    """DeployTaskFunction (every step of the deployment workflow)."""

    deploy_config_parameter: str = Field(min_length=1)
    deployment_table_name: str = Field(min_length=1)
    config_max_age_seconds: int = Field(default=60, ge=0)
    slack_app_secret_name: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_default_channel: str = ""
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    sender_email: str = Field(min_length=3)
    alert_email: str = ""
    ack_secret_name: str = ""
    ack_base_url: str = ""
    github_token_secret_name: str = ""
    """Secret holding a GitHub token (repo:status); empty = no commit statuses."""
    github_api_url: str = "https://api.github.com"
    secret_max_age_seconds: int = Field(default=300, ge=0)
    deploy_artifact_bucket: str = ""
    """Bucket for Elastic Beanstalk source bundles; empty = EB targets are not enabled."""

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]


class DeployApprovalSettings(_Settings):
    """DeployApprovalFunction (approve/reject links; `opswire deploy` on a local stack)."""

    deployment_table_name: str = Field(min_length=1)
    deployment_state_machine_arn: str = Field(min_length=1)
    ack_secret_name: str = Field(min_length=1)
    secret_max_age_seconds: int = Field(default=300, ge=0)


# ---- provisioning (issue 7) -------------------------------------------------------------------
class ProvisioningSettings(_Settings):
    """The provisioning functions. ``PROVISION_TASKS`` says which workflow tasks this function
    runs (plan/verify read, apply/undo write, notify posts), so each gets only its permissions."""

    provision_tasks: str = Field(default="plan,apply,verify,undo,notify")
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    alarm_topic_arn: str = ""
    log_destination_arn: str = ""
    rotation_function_arn: str = ""
    database_rotation_function_arn: str = ""
    rotation_function_role_arn: str = ""
    database_rotation_function_role_arn: str = ""
    """The rotation functions' execution roles (a spec's key policy may grant them the key)."""
    rotated_secret_prefix: str = ""
    """The stack's RotatedSecretPrefix: a rotated secret of a spec must be named under it."""
    rotated_iam_user_path: str = ""
    """The stack's RotatedIamUserPath: a spec user whose key is rotated must be under it."""
    rotation_wait_seconds: float = Field(default=120.0, ge=1, le=240)
    """How long apply waits for a secret's first rotation (the write function has 300 s)."""
    stack_name: str = ""
    """Value of the ``opswire:managed-by`` tag on everything the workflow creates (the IAM
    policy of the write function lets it change only resources carrying it)."""
    permissions_boundary_arn: str = ""
    """Permissions boundary of every role the workflow creates."""
    allowed_managed_policies: str = ""
    """Comma-separated AWS managed policy names roles of a spec may get (the stack owner's
    allow-list, template parameter ProvisioningManagedPolicies)."""
    slack_webhook_secret_name: str = ""
    slack_timeout_seconds: int = Field(default=10, ge=1, le=60)
    secret_max_age_seconds: int = Field(default=300, ge=0)
    sender_email: str = ""
    alert_email: str = ""
    console_url: str = "https://console.aws.amazon.com/states/home"

    @property
    def tasks(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.provision_tasks.split(",") if t.strip())

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email.split(",") if address.strip()]
