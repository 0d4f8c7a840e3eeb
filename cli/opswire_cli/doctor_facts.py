"""What ``opswire doctor`` learned about a deployed stack (read by opswire_cli.doctor_aws,
judged by opswire_cli.doctor_checks). Secret values are ``SecretStr``: never printed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Status = Literal["ok", "warn", "fail"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckResult(_Model):
    """One finding: ``fail`` blocks a workflow, ``warn`` deserves a look; ``fix``: what to do."""

    check: str
    status: Status
    detail: str
    fix: str = ""


class StackFacts(_Model):
    name: str
    region: str
    status: str
    parameters: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    resources: dict[str, str] = Field(default_factory=dict, description="logical -> physical id")
    settings: dict[str, Any] = Field(default_factory=dict, description="opswire config, merged")
    settings_error: str = ""

    def parameter(self, key: str, default: str = "") -> str:
        return self.parameters.get(key, default).strip()

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.parameter("AlertEmail").split(",") if a.strip()]


class SesFacts(_Model):
    sender: str
    recipients: list[str]
    identity_status: dict[str, str] = Field(
        default_factory=dict, description="identity -> VerificationStatus; absent: never asked"
    )
    production_access: bool | None = Field(default=None, description="sesv2 GetAccount")
    account_note: str = Field(default="", description="why production_access is unknown")
    max_24h_send: float | None = Field(default=None, description="ses GetSendQuota (fallback)")
    error: str = ""


class Subscription(_Model):
    protocol: str
    endpoint: str
    pending: bool


class TopicFacts(_Model):
    topic_arn: str
    subscriptions: list[Subscription] = Field(default_factory=list)
    error: str = ""


class SecretFacts(_Model):
    name: str
    found: bool
    value: SecretStr | None = Field(default=None, description="SecretString; None if binary")
    error: str = Field(default="", description="a read error other than 'not found'")


class HttpAnswer(_Model):
    """An HTTP exchange: ``status`` None when no answer came (``error`` says why)."""

    status: int | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="lower-case names")
    body: Any = None
    error: str = ""


class SlackFacts(_Model):
    webhook: SecretFacts
    app: SecretFacts | None = Field(default=None, description="None: SlackAppSecretName empty")
    api_url: str = "https://slack.com/api/"
    auth_test: HttpAnswer | None = Field(default=None, description="None: not called")


class GitHubFacts(_Model):
    secret: SecretFacts
    deploy_rules: int | None = Field(default=None, description="None: config not readable")
    deploy_config_error: str = ""


class OpenSearchFacts(_Model):
    endpoint: str
    auth: str
    basic_auth_secret: SecretFacts | None = None
    answer: HttpAnswer | None = None


class Alarm(_Model):
    name: str
    kind: Literal["metric", "composite"]
    state: str
    actions_enabled: bool = True
    alarm_actions: list[str] = Field(default_factory=list)
    ok_actions: list[str] = Field(default_factory=list)
    insufficient_data_actions: list[str] = Field(default_factory=list)


class AlarmFacts(_Model):
    topic_arn: str
    function_arn: str = ""
    alarms: list[Alarm] = Field(default_factory=list)
    error: str = ""


class DefaultRoute(_Model):
    """A 0.0.0.0/0 route: ``target`` is its NatGatewayId, GatewayId, TransitGatewayId, ..."""

    target: str
    state: str = "active"


class RouteTable(_Model):
    route_table_id: str
    vpc_id: str
    main: bool = False
    subnet_ids: list[str] = Field(default_factory=list, description="explicit associations")
    default_routes: list[DefaultRoute] = Field(default_factory=list)


class VpcEndpoint(_Model):
    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str
    state: str
    private_dns: bool


class RotationFacts(_Model):
    function: str
    region: str
    subnet_ids: list[str] = Field(default_factory=list, description="empty: not in a VPC")
    subnet_vpcs: dict[str, str] = Field(default_factory=dict, description="subnet -> VPC")
    endpoints: list[VpcEndpoint] = Field(default_factory=list)
    route_tables: list[RouteTable] = Field(default_factory=list)
    error: str = ""


class DoctorFacts(_Model):
    """Everything read; a part is None when the stack lacks what it needs (an output)."""

    stack: StackFacts
    ses: SesFacts
    failure_topic: TopicFacts | None
    slack: SlackFacts
    github: GitHubFacts
    opensearch: OpenSearchFacts
    alarms: AlarmFacts | None
    rotation: RotationFacts | None


# ---- building results ----------------------------------------------------------------------------
def result(check: str, status: Status, detail: str, fix: str = "") -> CheckResult:
    return CheckResult(check=check, status=status, detail=detail, fix=fix)


def unreadable(check: str, what: str, error: str) -> CheckResult:
    return result(
        check,
        "warn",
        f"could not read {what}: {error}",
        "run the doctor with credentials that may read it (see docs/doctor.md for the permissions)",
    )


def secret_problem(check: str, secret: SecretFacts, purpose: str) -> CheckResult | None:
    if secret.error:
        return unreadable(check, f"secret {secret.name}", secret.error)
    if not secret.found:
        return result(
            check,
            "fail",
            f"secret {secret.name} does not exist: {purpose}",
            f"aws secretsmanager create-secret --name {secret.name} --secret-string file://VALUE",
        )
    if secret.value is None or not secret.value.get_secret_value().strip():
        return result(
            check,
            "fail",
            f"secret {secret.name} is empty or binary: {purpose}",
            f"aws secretsmanager put-secret-value --secret-id {secret.name} "
            "--secret-string file://VALUE",
        )
    return None
