"""``opswire doctor`` reads a deployed stack: CloudFormation (parameters, outputs, resources),
then SES, SNS, Secrets Manager, SSM, CloudWatch, Lambda and EC2 with the caller's credentials,
plus two HTTP probes (Slack ``auth.test``, the OpenSearch endpoint). Read-only: nothing is
created, changed or sent. Secret values stay in ``SecretStr`` and are never printed."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr, ValidationError

from opswire.core.parameters import validation_problems
from opswire.core.settings import StackSettingsDocument
from opswire_cli.doctor_facts import (
    Alarm,
    AlarmFacts,
    DefaultRoute,
    DoctorFacts,
    GitHubFacts,
    HttpAnswer,
    OpenSearchFacts,
    RotationFacts,
    RouteTable,
    SecretFacts,
    SesFacts,
    SlackFacts,
    StackFacts,
    Subscription,
    TopicFacts,
    VpcEndpoint,
)

HTTP_TIMEOUT_SECONDS = 5.0
_READ_ERRORS = (ClientError, BotoCoreError)
# moto (in-process) raises NotImplementedError for an action it lacks (sesv2 GetAccount).
_UNSUPPORTED = (*_READ_ERRORS, NotImplementedError)
_ROUTE_TARGETS = (
    "NatGatewayId",
    "GatewayId",
    "TransitGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)

Http = Callable[..., HttpAnswer]


def read_facts(session: Any, stack_name: str, http: Http | None = None) -> DoctorFacts:
    """Everything the checks need (``session``: a boto3 Session with a region)."""
    http = http or http_request
    stack = read_stack(session.client("cloudformation"), stack_name, session.region_name)
    stack = read_settings(session.client("ssm"), stack)
    secrets = session.client("secretsmanager")
    failure_topic = _physical(stack, "WorkflowFailureTopicArn", "WorkflowFailureTopic")
    alarm_topic = _physical(stack, "AlarmTopicArn", "AlarmTopic")
    rotation = _physical(stack, "DatabaseRotationFunctionArn", "DatabaseRotationFunction")
    return DoctorFacts(
        stack=stack,
        ses=read_ses(session, stack),
        failure_topic=read_topic(session.client("sns"), failure_topic) if failure_topic else None,
        slack=read_slack(secrets, stack, http),
        github=read_github(secrets, session.client("ssm"), stack),
        opensearch=read_opensearch(secrets, stack, http),
        alarms=read_alarms(session.client("cloudwatch"), stack, alarm_topic)
        if alarm_topic
        else None,
        rotation=read_rotation(session, rotation, stack.region) if rotation else None,
    )


def _error(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip(": ")
    return f"{type(exc).__name__}: {exc}"


def _physical(stack: StackFacts, output: str, logical_id: str) -> str:
    return stack.outputs.get(output) or stack.resources.get(logical_id, "")


# ---- CloudFormation ------------------------------------------------------------------------------
def read_stack(cfn: Any, name: str, region: str) -> StackFacts:
    try:
        described = cfn.describe_stacks(StackName=name)["Stacks"][0]
        resources = {
            str(r["LogicalResourceId"]): str(r.get("PhysicalResourceId", ""))
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
            for r in page["StackResourceSummaries"]
        }
    except _READ_ERRORS as exc:
        raise SystemExit(f"opswire: stack {name!r} could not be described: {_error(exc)}") from None
    return StackFacts(
        name=name,
        region=region,
        status=str(described.get("StackStatus", "")),
        parameters={
            str(p["ParameterKey"]): str(p.get("ResolvedValue", p.get("ParameterValue", "")))
            for p in described.get("Parameters", [])
        },
        outputs={str(o["OutputKey"]): str(o["OutputValue"]) for o in described.get("Outputs", [])},
        resources=resources,
    )


# ---- SES -----------------------------------------------------------------------------------------
def read_ses(session: Any, stack: StackFacts) -> SesFacts:
    sender, recipients = stack.parameter("SenderEmail"), stack.recipients()
    addresses = [a for a in (sender, *recipients) if a]
    identities = sorted({*addresses, *(a.rpartition("@")[2].lower() for a in addresses)})
    ses = session.client("ses")
    status: dict[str, str] = {}
    try:
        for start in range(0, len(identities), 100):  # the API takes 100 identities a call
            answer = ses.get_identity_verification_attributes(
                Identities=identities[start : start + 100]
            )
            for identity, attributes in answer["VerificationAttributes"].items():
                status[identity] = str(attributes.get("VerificationStatus", ""))
    except _READ_ERRORS as exc:
        return SesFacts(sender=sender, recipients=recipients, error=_error(exc))
    facts: dict[str, Any] = {}
    try:
        facts["production_access"] = bool(
            session.client("sesv2").get_account()["ProductionAccessEnabled"]
        )
    except _UNSUPPORTED as exc:
        facts["account_note"] = _error(exc)
        try:
            facts["max_24h_send"] = float(ses.get_send_quota()["Max24HourSend"])
        except _READ_ERRORS as quota_exc:
            facts["account_note"] += f"; GetSendQuota: {_error(quota_exc)}"
    return SesFacts(sender=sender, recipients=recipients, identity_status=status, **facts)


# ---- SNS -----------------------------------------------------------------------------------------
def read_topic(sns: Any, topic_arn: str) -> TopicFacts:
    subscriptions = []
    try:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for item in (s for page in pages for s in page["Subscriptions"]):
            arn = str(item.get("SubscriptionArn", ""))
            # AWS lists an unconfirmed subscription with the ARN "PendingConfirmation"; a
            # confirmed one has an ARN whose attributes say PendingConfirmation=false.
            pending = arn == "PendingConfirmation" or (
                arn.startswith("arn:")
                and sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                .get("PendingConfirmation", "false")
                .lower()
                == "true"
            )
            subscriptions.append(
                Subscription(
                    protocol=str(item.get("Protocol", "")),
                    endpoint=str(item.get("Endpoint", "")),
                    pending=pending,
                )
            )
    except _READ_ERRORS as exc:
        return TopicFacts(topic_arn=topic_arn, error=_error(exc))
    return TopicFacts(topic_arn=topic_arn, subscriptions=subscriptions)


# ---- Secrets Manager -----------------------------------------------------------------------------
def read_secret(secrets: Any, name: str) -> SecretFacts:
    try:
        answer = secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return SecretFacts(name=name, found=False)
        if code == "InvalidRequestException":  # scheduled for deletion: unusable
            return SecretFacts(name=name, found=False)
        return SecretFacts(name=name, found=False, error=_error(exc))
    except BotoCoreError as exc:
        return SecretFacts(name=name, found=False, error=_error(exc))
    value = answer.get("SecretString")
    return SecretFacts(
        name=name, found=True, value=SecretStr(value) if isinstance(value, str) else None
    )


def read_settings(ssm: Any, stack: StackFacts) -> StackFacts:
    """``stack`` with its settings document (`opswire config`) merged over the defaults, or
    with the reason it cannot be read (functions that read it fail the same way)."""
    name = _physical(stack, "StackSettingsParameterName", "StackSettingsParameter")
    defaults = StackSettingsDocument().model_dump()
    if not name:
        return stack.model_copy(update={"settings": defaults})
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        settings = StackSettingsDocument.model_validate_json(value or "{}").model_dump()
    except _READ_ERRORS as exc:
        return stack.model_copy(update={"settings": defaults, "settings_error": _error(exc)})
    except ValidationError as exc:
        error = f"parameter {name} is invalid: {validation_problems(exc)}"
        return stack.model_copy(update={"settings": defaults, "settings_error": error})
    return stack.model_copy(update={"settings": settings})


def read_slack(secrets: Any, stack: StackFacts, http: Http) -> SlackFacts:
    webhook = read_secret(secrets, stack.parameter("SlackWebhookSecretName"))
    api_url = str(stack.settings.get("slack_api_url") or StackSettingsDocument().slack_api_url)
    app_name = stack.parameter("SlackAppSecretName")
    if not app_name:
        return SlackFacts(webhook=webhook, api_url=api_url)
    app = read_secret(secrets, app_name)
    token = _bot_token(app)
    auth_test = None
    if token:
        auth_test = http(
            api_url.rstrip("/") + "/auth.test",
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            data=b"",
        )
    return SlackFacts(webhook=webhook, app=app, api_url=api_url, auth_test=auth_test)


def _bot_token(app: SecretFacts) -> str:
    if app.value is None:
        return ""
    try:
        document = json.loads(app.value.get_secret_value())
    except ValueError:
        return ""
    token = document.get("bot_token") if isinstance(document, dict) else None
    return token.strip() if isinstance(token, str) else ""


def read_github(secrets: Any, ssm: Any, stack: StackFacts) -> GitHubFacts:
    from opswire.deployments.wiring import deploy_rule_count

    secret = read_secret(secrets, stack.parameter("GitHubWebhookSecretName"))
    name = _physical(stack, "DeployConfigParameterName", "DeployConfigParameter")
    if not name:
        return GitHubFacts(secret=secret, deploy_config_error="no DeployConfigParameterName")
    try:
        raw = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        rules = deploy_rule_count(raw)
    except _READ_ERRORS as exc:
        return GitHubFacts(secret=secret, deploy_config_error=_error(exc))
    except ValueError:
        return GitHubFacts(secret=secret, deploy_config_error=f"{name} is not a valid config")
    return GitHubFacts(secret=secret, deploy_rules=rules)


# ---- OpenSearch ----------------------------------------------------------------------------------
def read_opensearch(secrets: Any, stack: StackFacts, http: Http) -> OpenSearchFacts:
    endpoint = stack.parameter("OpenSearchEndpoint")
    auth = stack.parameter("OpenSearchAuth", "sigv4") or "sigv4"
    if not endpoint:
        return OpenSearchFacts(endpoint="", auth=auth)
    headers: dict[str, str] = {}
    basic = None
    if auth == "basic":
        basic = read_secret(secrets, stack.parameter("OpenSearchBasicAuthSecretName"))
        headers.update(_basic_auth_header(basic))
    url = endpoint if "://" in endpoint else f"https://{endpoint}"
    answer = http(url.rstrip("/") + "/", method="GET", headers=headers)
    return OpenSearchFacts(endpoint=endpoint, auth=auth, basic_auth_secret=basic, answer=answer)


def _basic_auth_header(secret: SecretFacts) -> dict[str, str]:
    try:
        document = json.loads(secret.value.get_secret_value()) if secret.value else None
    except ValueError:
        return {}
    if not isinstance(document, dict) or "username" not in document:
        return {}
    pair = f"{document['username']}:{document.get('password', '')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def http_request(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = HTTP_TIMEOUT_SECONDS,
) -> HttpAnswer:
    """One request; any HTTP status is an answer, no answer is an ``error`` (never raises).
    Errors name the exception, never the headers (they may carry a token)."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    # A context per request: urlopen's shared opener keeps the trust store of its first use, so
    # SSL_CERT_FILE / SSL_CERT_DIR set later (a corporate CA) would be ignored.
    context = ssl.create_default_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return _answer(response.status, dict(response.headers.items()), response.read(65536))
    except urllib.error.HTTPError as exc:
        return _answer(exc.code, dict(exc.headers.items()), exc.read(65536))
    except urllib.error.URLError as exc:
        return HttpAnswer(error=f"{type(exc.reason).__name__}: {exc.reason}")
    except (OSError, ValueError) as exc:
        return HttpAnswer(error=f"{type(exc).__name__}: {exc}")


def _answer(status: int, headers: dict[str, str], raw: bytes) -> HttpAnswer:
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw[:500].decode("utf-8", "replace")
    return HttpAnswer(status=status, headers={k.lower(): v for k, v in headers.items()}, body=body)


# ---- CloudWatch alarms ---------------------------------------------------------------------------
def read_alarms(cloudwatch: Any, stack: StackFacts, topic_arn: str) -> AlarmFacts:
    function_arn = stack.outputs.get("AlarmActionFunctionArn", "")
    alarms: list[Alarm] = []
    try:
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for page in pages:
            for kind, key in (("metric", "MetricAlarms"), ("composite", "CompositeAlarms")):
                alarms.extend(_alarm(kind, item) for item in page.get(key, []))
    except _READ_ERRORS as exc:
        return AlarmFacts(topic_arn=topic_arn, function_arn=function_arn, error=_error(exc))
    return AlarmFacts(topic_arn=topic_arn, function_arn=function_arn, alarms=alarms)


def _alarm(kind: str, item: dict[str, Any]) -> Alarm:
    return Alarm.model_validate(
        {
            "name": item["AlarmName"],
            "kind": kind,
            "state": item.get("StateValue", ""),
            "actions_enabled": bool(item.get("ActionsEnabled", True)),
            "alarm_actions": item.get("AlarmActions", []),
            "ok_actions": item.get("OKActions", []),
            "insufficient_data_actions": item.get("InsufficientDataActions", []),
        }
    )


# ---- The rotation function's network -------------------------------------------------------------
def read_rotation(session: Any, function: str, region: str) -> RotationFacts:
    ec2 = session.client("ec2")
    try:
        config = session.client("lambda").get_function_configuration(FunctionName=function)
        subnet_ids = [str(s) for s in (config.get("VpcConfig") or {}).get("SubnetIds") or []]
        if not subnet_ids:
            return RotationFacts(function=function, region=region)
        # The VPC from the subnets (moto reports a fixed VpcId in the function's VpcConfig).
        subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        subnet_vpcs = {str(s["SubnetId"]): str(s["VpcId"]) for s in subnets}
        vpc_filter = [{"Name": "vpc-id", "Values": sorted(set(subnet_vpcs.values()))}]
        endpoints = [
            _endpoint(e)
            for e in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=vpc_filter)
        ]
        tables = [
            _route_table(t)
            for t in _pages(ec2, "describe_route_tables", "RouteTables", Filters=vpc_filter)
        ]
    except _READ_ERRORS as exc:
        return RotationFacts(function=function, region=region, error=_error(exc))
    return RotationFacts(
        function=function,
        region=region,
        subnet_ids=subnet_ids,
        subnet_vpcs=subnet_vpcs,
        endpoints=endpoints,
        route_tables=tables,
    )


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**arguments):
        yield from page.get(key, [])


def _endpoint(item: dict[str, Any]) -> VpcEndpoint:
    return VpcEndpoint(
        endpoint_id=str(item["VpcEndpointId"]),
        vpc_id=str(item.get("VpcId", "")),
        service_name=str(item.get("ServiceName", "")),
        endpoint_type=str(item.get("VpcEndpointType", "")),
        state=str(item.get("State", "")),
        private_dns=bool(item.get("PrivateDnsEnabled", False)),
    )


def _route_table(item: dict[str, Any]) -> RouteTable:
    associations = item.get("Associations", [])
    defaults = [
        DefaultRoute(
            target=next((str(r[k]) for k in _ROUTE_TARGETS if r.get(k)), ""),
            state=str(r.get("State", "active")),
        )
        for r in item.get("Routes", [])
        if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    ]
    return RouteTable(
        route_table_id=str(item["RouteTableId"]),
        vpc_id=str(item.get("VpcId", "")),
        main=any(a.get("Main") for a in associations),
        subnet_ids=[str(a["SubnetId"]) for a in associations if a.get("SubnetId")],
        default_routes=defaults,
    )
