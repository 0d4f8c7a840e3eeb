"""The embedded local platform: the whole stack of template.yaml on moto, in one process.

Everything is derived from the template: functions (code, handler, environment, DLQ), state
machines (definition with DefinitionSubstitutions), topics and their subscriptions, EventBridge
rules and schedules, HttpApi routes, CloudWatch Logs subscriptions, queues, tables, buckets and log
groups. ``LocalPlatform.send`` delivers one producer event the way AWS would and waits for all the
work it causes; the report lists executions, notifications, HTTP answers and errors.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import gzip
import io
import json
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode

from opswire_local import deploy_local, moto_beanstalk, secrets_rotation, waits
from opswire_local.lambda_runtime import FunctionSpec, InProcessLambdaRuntime, install_moto_patch
from opswire_local.sinks import SlackOutbox
from opswire_local.template import (
    ACCOUNT_ID,
    REGION,
    PhysicalResource,
    Resolver,
    Template,
    TemplateError,
    creation_order,
)

# Parameters without a template default get these locally (documented in the README).
LOCAL_PARAMETER_DEFAULTS = {
    "AlertEmail": "ops@example.com",
    "SenderEmail": "opswire@example.com",
    # Elastic Beanstalk targets on (the source-bundle bucket and its setting), as in the example.
    "DeployBeanstalkEnvironments": "*/*",
}
# The local Slack app: the outbox accepts this token and signs nothing; the signing secret lets
# tests and `local send` build valid Slack interaction requests.
LOCAL_SLACK_APP_SECRET_NAME = "opswire/slack-app"
LOCAL_SLACK_APP = {"bot_token": "xoxb-local", "signing_secret": "local-signing-secret"}
STACK_SETTINGS_LOGICAL_ID = "StackSettingsParameter"
_LAMBDA_ROLE_NAME = "opswire-local-lambda"
_STATES_ROLE_NAME = "opswire-local-states"


class DeliveryError(Exception):
    """The SOURCE or event file cannot be delivered (unknown topic, rule, route, bad JSON...)."""


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
    # The stack's settings document (`opswire config set`), over <state dir>/settings.json.
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def state_path(self) -> Path:
        return self.state_dir or self.root / ".opswire"


@dataclass
class Rule:
    """An EventBridge rule or schedule of the template, with its one target."""

    logical_id: str
    event_name: str
    target_kind: str  # "function" | "statemachine"
    target: str  # function name or state machine ARN
    pattern: dict[str, Any] | None = None
    schedule: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{self.logical_id}"


@dataclass
class Route:
    method: str
    path: str
    function: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        return None if found is None else found.groupdict()


@dataclass
class LogSubscription:
    log_group: str
    filter_name: str
    filter_pattern: str
    function: str


@dataclass
class DeliveryReport:
    """What one delivered event caused."""

    source: str
    event_file: str | None
    executions: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    http: dict[str, Any] | None = None
    invocation: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    # Documents the log shipper wrote to the local OpenSearch sink during this delivery.
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error, and every execution succeeded or is parked in a Wait state (a reminder)."""
        return not self.errors and all(
            e["status"] == "SUCCEEDED" or (e["status"] == "RUNNING" and e.get("waiting_in"))
            for e in self.executions
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event_file": self.event_file,
            "executions": self.executions,
            "notifications": self.notifications,
            "http": self.http,
            "invocation": self.invocation,
            "errors": self.errors,
            "documents": self.documents,
            "ok": self.ok,
        }


def combine(reports: list[DeliveryReport]) -> dict[str, Any]:
    """One JSON object for a whole ``local send`` (one or more events, in order)."""
    http = [r.http for r in reports if r.http is not None]
    return {
        "ok": all(r.ok for r in reports),
        "executions": [e for r in reports for e in r.executions],
        "notifications": [n for r in reports for n in r.notifications],
        "http": http[-1] if len(http) == 1 else (http or None),
        "invocations": [r.invocation for r in reports if r.invocation is not None],
        "errors": [e for r in reports for e in r.errors],
        "documents": [d for r in reports for d in r.documents],
        "deliveries": [r.to_json() for r in reports],
    }


class LocalPlatform:
    """Start with ``with LocalPlatform(options) as platform:``; then ``platform.send(...)``."""

    def __init__(self, options: PlatformOptions) -> None:
        self.options = options
        self.template = Template.load(options.root / "template.yaml")
        self.outbox = SlackOutbox(options.state_path / "outbox.jsonl", options.forward_slack_to)
        self.functions: dict[str, FunctionSpec] = {}
        self.state_machines: dict[str, str] = {}  # logical id -> ARN
        self.topics: dict[str, str] = {}  # logical id -> ARN
        self.tables: dict[str, str] = {}  # logical id -> table name
        self.rules: list[Rule] = []
        self.routes: list[Route] = []
        self.log_subscriptions: list[LogSubscription] = []
        self.not_emulated: list[str] = []
        self.async_errors: list[str] = []
        self._resolver: Resolver | None = None
        self._exit_stack = contextlib.ExitStack()
        self._delivery_lock = threading.Lock()
        self.runtime = InProcessLambdaRuntime(
            {
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_DEV": "false",
                "LOG_SINK_PATH": str(self.log_sink_path),
            }
        )

    # ---- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> LocalPlatform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto import mock_aws

        from opswire_local.log_sink import ndjson_sink_plugged_in

        _forget_process_caches()
        stack = self._exit_stack
        stack.enter_context(_aws_test_environment())
        stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        stack.enter_context(install_moto_patch(self.runtime))
        stack.enter_context(_patch_sns_lambda_delivery(self))
        stack.enter_context(_scale_step_functions_time(self.options.time_scale))
        stack.enter_context(atomic_dynamodb_writes())
        stack.enter_context(secrets_rotation.rotation_semantics(self))
        stack.enter_context(deploy_local.ecs_rollout_semantics())
        stack.enter_context(moto_beanstalk.beanstalk_semantics())
        stack.enter_context(ndjson_sink_plugged_in())
        self.outbox.start()
        stack.callback(self.outbox.stop)
        self._create_stack()

    def stop(self) -> None:
        self._exit_stack.close()
        _forget_process_caches()

    # ---- stack creation -------------------------------------------------------------------------
    def _create_stack(self) -> None:
        import boto3

        parameters = {
            **self.template.parameter_defaults(),
            **LOCAL_PARAMETER_DEFAULTS,
            **self._local_slack_parameters(),
            **log_shipping_parameters(),
            **self.options.parameters,
        }
        self._resolver = resolver = Resolver(
            parameters, self.options.stack_name, self.template.document.get("Conditions")
        )
        iam = boto3.client("iam", region_name=REGION)
        for role_name, service in (
            (_LAMBDA_ROLE_NAME, "lambda.amazonaws.com"),
            (_STATES_ROLE_NAME, "states.amazonaws.com"),
        ):
            iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=_trust_policy(service))
        self._seed_secrets(parameters)
        self._verify_email_identities(parameters)

        creators = {
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SNS::Topic": self._create_topic,
            "AWS::Serverless::LayerVersion": self._create_layer,
            "AWS::Serverless::Function": self._create_function,
            "AWS::Serverless::StateMachine": self._create_state_machine,
            "AWS::Logs::LogGroup": self._create_log_group,
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::SSM::Parameter": self._create_ssm_parameter,
            "AWS::SecretsManager::Secret": self._create_secret,
            "AWS::Serverless::HttpApi": self._create_http_api,
            "AWS::SecretsManager::RotationSchedule": self._create_rotation_schedule,
        }
        for logical_id in creation_order(self.template):
            resource = self.template.resources[logical_id]
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                continue
            creator = creators.get(resource["Type"])
            if creator is None:
                # Policies, permissions, alarms: nothing to run locally, but Ref must work.
                self.not_emulated.append(f"{logical_id} ({resource['Type']})")
                resolver.resources[logical_id] = PhysicalResource(ref=f"{logical_id}-local")
                continue
            resolver.resources[logical_id] = creator(logical_id, resource)

    def _name(self, logical_id: str) -> str:
        return f"{self.options.stack_name}-{logical_id}"

    def _local_slack_parameters(self) -> dict[str, str]:
        """Locally, Slack is the outbox: its incoming webhook, and in app mode its Web API (whose
        URL is in the stack settings, see ``_stack_settings``)."""
        if self.options.slack_app:
            return {"SlackAppSecretName": LOCAL_SLACK_APP_SECRET_NAME}
        return {}

    def _stack_settings(self) -> str:
        """The settings document: the outbox as Slack's Web API, then what `opswire config set
        --local` wrote, then the options'; validated as the deployed stack would be."""
        from opswire_local.config_cli import SettingsFile, validated

        base = self.outbox.webhook_url.rsplit("/slack/webhook", 1)[0]
        document = {
            "slack_api_url": f"{base}/api/",
            **SettingsFile(self.options.state_path / "settings.json").read(),
            **self.options.settings,
        }
        return json.dumps(validated(document).model_dump(include=set(document)))

    def _seed_secrets(self, parameters: dict[str, str]) -> None:
        """The stack expects its secrets to exist before deployment; locally we create them."""
        import boto3

        secrets = boto3.client("secretsmanager", region_name=REGION)
        name = parameters.get("SlackWebhookSecretName")
        if name:
            url = self.options.slack_webhook_url or self.outbox.webhook_url
            secrets.create_secret(Name=name, SecretString=url)
        app_secret = parameters.get("SlackAppSecretName")
        if app_secret:
            secrets.create_secret(Name=app_secret, SecretString=json.dumps(LOCAL_SLACK_APP))
        deploy_local.seed_secrets(secrets, parameters)

    def _verify_email_identities(self, parameters: dict[str, str]) -> None:
        import boto3

        sender = parameters.get("SenderEmail")
        if sender:
            boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=sender)

    def _create_queue(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        name = self._name(logical_id)
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        return PhysicalResource(
            ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url}
        )

    def _create_topic(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        sns = boto3.client("sns", region_name=REGION)
        name = self._name(logical_id)
        arn = sns.create_topic(Name=name)["TopicArn"]
        self.topics[logical_id] = arn
        properties = self._resolve(resource.get("Properties") or {})
        for subscription in properties.get("Subscription") or []:
            sns.subscribe(
                TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
            )
        return PhysicalResource(ref=arn, attributes={"TopicArn": arn, "TopicName": name})

    def _create_layer(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        # The layer's code is importable in-process (layers/common is on sys.path).
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{self._name(logical_id)}:1"
        return PhysicalResource(ref=arn, attributes={"Arn": arn})

    def _create_log_group(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(resource.get("Properties") or {})
        name = properties.get("LogGroupName") or self._name(logical_id)
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
        return PhysicalResource(ref=name, attributes={"Arn": arn})

    def _create_bucket(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(resource.get("Properties") or {})
        name = properties.get("BucketName") or self._name(logical_id).lower()
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=name)
        return PhysicalResource(
            ref=name, attributes={"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3"}
        )

    def _create_table(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(resource.get("Properties") or {})
        name = properties.get("TableName") or self._name(logical_id)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        arguments: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if properties.get("GlobalSecondaryIndexes"):
            arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        arn = dynamodb.create_table(**arguments)["TableDescription"]["TableArn"]
        self.tables[logical_id] = name
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return PhysicalResource(ref=name, attributes={"Arn": arn})

    def _create_ssm_parameter(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(resource.get("Properties") or {})
        name = properties.get("Name") or self._name(logical_id)
        given = deploy_local.default_ssm_parameters(self.options.root, self.options.ssm_parameters)
        value = given.get(logical_id, properties["Value"])
        if logical_id == STACK_SETTINGS_LOGICAL_ID:
            value = self._stack_settings()
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=name, Value=value, Type=properties.get("Type", "String")
        )
        if logical_id == deploy_local.DEPLOY_CONFIG_LOGICAL_ID:
            deploy_local.create_targets(value)
        return PhysicalResource(ref=name, attributes={"Type": properties.get("Type", "String")})

    def _create_http_api(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        # Its URL (https://<id>.execute-api...) is rewritten to the local gateway in environments.
        return PhysicalResource(ref=f"{_LOCAL_API_ID}{logical_id.lower()}")

    # ---- secrets (opswire_local.secrets_rotation) ---------------------------------------------
    def _create_secret(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        return secrets_rotation.create_secret(self, logical_id, resource)

    def _create_rotation_schedule(
        self, logical_id: str, resource: dict[str, Any]
    ) -> PhysicalResource:
        return secrets_rotation.create_rotation_schedule(self, logical_id, resource)

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions against the running stack (parameters, resources)."""
        return self._resolve(value)

    def emit_event(self, event: dict[str, Any]) -> None:
        """An AWS service puts ``event`` on the default bus: the template's rules get it."""
        self._put_event(event)

    def _create_function(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(self.template.function_properties(logical_id))
        name = self._name(logical_id)
        environment = {
            key: _local_api_url(str(value), self.options.api_url)
            for key, value in ((properties.get("Environment") or {}).get("Variables") or {}).items()
        }
        dead_letter = properties.get("DeadLetterQueue") or {}
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            code_dir=(self.template.root / properties["CodeUri"]).resolve(),
            handler=properties["Handler"],
            environment=environment,
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            dead_letter_arn=dead_letter.get("TargetArn"),
            max_async_retries=int(
                (properties.get("EventInvokeConfig") or {}).get("MaximumRetryAttempts", 2)
            ),
        )
        self.runtime.register(spec)
        self.functions[logical_id] = spec
        boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=name,
            Runtime=properties.get("Runtime", "python3.13"),
            Role=f"arn:aws:iam::{ACCOUNT_ID}:role/{_LAMBDA_ROLE_NAME}",
            Handler=spec.handler,
            Code={"ZipFile": _placeholder_zip()},
            Environment={"Variables": environment},
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
        )
        for event_name, event in (properties.get("Events") or {}).items():
            self._register_event(logical_id, event_name, event, "function", name)
        return PhysicalResource(ref=name, attributes={"Arn": spec.arn})

    def _create_state_machine(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        import boto3

        properties = self._resolve(resource.get("Properties") or {})
        definition = (self.template.root / properties["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = properties.get("Name") or self._name(logical_id)
        arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{_STATES_ROLE_NAME}",
            type=properties.get("Type", "STANDARD"),
        )["stateMachineArn"]
        self.state_machines[logical_id] = arn
        for event_name, event in (properties.get("Events") or {}).items():
            self._register_event(logical_id, event_name, event, "statemachine", arn)
        return PhysicalResource(ref=arn, attributes={"Arn": arn, "Name": name})

    def _register_event(
        self, owner: str, event_name: str, event: dict[str, Any], kind: str, target: str
    ) -> None:
        import boto3

        event_type = event.get("Type")
        props = event.get("Properties") or {}
        if event_type == "SNS":
            if kind != "function":
                raise TemplateError(f"{owner}.{event_name}: SNS events target functions only")
            boto3.client("sns", region_name=REGION).subscribe(
                TopicArn=props["Topic"], Protocol="lambda", Endpoint=self.runtime.spec(target).arn
            )
        elif event_type in ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"):
            scheduled = event_type.startswith("Schedule")
            self.rules.append(
                Rule(
                    logical_id=f"{owner}{event_name}",
                    event_name=event_name,
                    target_kind=kind,
                    target=target,
                    pattern=None if scheduled else props.get("Pattern"),
                    schedule=props.get("Schedule") or props.get("ScheduleExpression"),
                    input=props.get("Input"),
                    input_path=props.get("InputPath"),
                    input_transformer=props.get("InputTransformer"),
                )
            )
        elif event_type == "HttpApi":
            self.routes.append(
                Route(props.get("Method", "ANY").upper(), props.get("Path", "/"), target)
            )
        elif event_type == "CloudWatchLogs":
            self.log_subscriptions.append(
                LogSubscription(
                    log_group=props["LogGroupName"],
                    filter_name=f"{owner}{event_name}",
                    filter_pattern=props.get("FilterPattern", ""),
                    function=target,
                )
            )
        else:
            self.not_emulated.append(f"{owner}.{event_name} (event type {event_type})")

    def _resolve(self, value: Any) -> Any:
        assert self._resolver is not None, "the platform is not started"
        return self._resolver.resolve(value)

    # ---- delivery -------------------------------------------------------------------------------
    def send(
        self,
        source: str,
        body: bytes | None,
        *,
        headers: dict[str, str] | None = None,
        event_file: str | None = None,
    ) -> DeliveryReport:
        """Deliver one producer event from ``source`` and wait for all resulting work.

        An execution that parks in a Wait state (a reminder later) counts as settled: it is
        reported as RUNNING with ``waiting_in``, and what it does when it wakes up shows in the
        report of the delivery (or ``wait``) during which that happens."""
        with self._delivery_lock:
            return self._observe(
                DeliveryReport(source=source, event_file=event_file),
                lambda report: self._deliver(source, body, headers or {}, report),
            )

    def wait(self, seconds: float) -> DeliveryReport:
        """Let ``seconds`` of real time pass (timers fire) and report what happened."""
        with self._delivery_lock:
            return self._observe(
                DeliveryReport(source=f"wait {seconds:g}s", event_file=None),
                lambda report: time.sleep(seconds),
            )

    def _observe(
        self, report: DeliveryReport, action: Callable[[DeliveryReport], None]
    ) -> DeliveryReport:
        self._sync_local_silences()
        before = {e["executionArn"]: e["status"] for e in self._list_executions()}
        slack_mark = len(self.outbox.messages)
        email_mark = len(self._sent_emails())
        error_mark = len(self.async_errors)
        sink_mark = self._log_sink_size()
        try:
            action(report)
        except DeliveryError as exc:
            report.errors.append(str(exc))
        report.executions = self._wait_for_executions(before, report)
        report.notifications = self.outbox.messages[slack_mark:] + self._sent_emails()[email_mark:]
        report.errors.extend(self.async_errors[error_mark:])
        report.documents = self._log_sink_documents(sink_mark)
        return report

    def _deliver(
        self, source: str, body: bytes | None, headers: dict[str, str], report: DeliveryReport
    ) -> None:
        kind, _, name = source.partition(":")
        if kind == "sns":
            self._publish_sns(name, _require(body, source))
        elif kind == "eventbridge":
            self._put_event(_json_object(_require(body, source), source))
        elif kind == "schedule":
            self._fire_schedule(name)
        elif kind == "function":
            report.invocation = self._invoke_function(name, body)
        elif kind == "http":
            method, _, path = name.strip().partition(" ")
            report.http = self._http_request(method, path.strip() or "/", body or b"", headers)
        elif kind == "logs":
            self._deliver_logs(name, _require(body, source), report)
        else:
            raise DeliveryError(
                f"unknown SOURCE {source!r}: use sns:<TopicLogicalId>, eventbridge, "
                "logs:<LogGroupName>, 'http:<METHOD> <path>', schedule:<RuleLogicalId> "
                "or function:<FunctionLogicalId>"
            )

    def _publish_sns(self, topic_logical_id: str, body: bytes) -> None:
        import boto3

        arn = self.topics.get(topic_logical_id)
        if arn is None:
            raise DeliveryError(
                f"no topic {topic_logical_id!r} in the template (topics: {sorted(self.topics)})"
            )
        boto3.client("sns", region_name=REGION).publish(TopicArn=arn, Message=body.decode())

    def _put_event(self, event: dict[str, Any]) -> None:
        from moto.events.models import EventPattern

        for required in ("source", "detail-type", "detail"):
            if required not in event:
                raise DeliveryError(f"an EventBridge event needs {required!r}")
        full_event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [],
            **event,
        }
        if isinstance(full_event["detail"], str):
            full_event["detail"] = json.loads(full_event["detail"])
        for rule in self.rules:
            pattern = EventPattern.load(json.dumps(rule.pattern)) if rule.pattern else None
            if pattern is not None and pattern.matches_event(full_event):  # type: ignore[arg-type]
                self._fire_rule(rule, full_event)

    def _fire_schedule(self, name: str) -> None:
        rule = next(
            (r for r in self.rules if r.schedule and name in (r.logical_id, r.event_name)), None
        )
        if rule is None:
            schedules = [r.logical_id for r in self.rules if r.schedule]
            raise DeliveryError(f"no schedule {name!r} in the template (schedules: {schedules})")
        self._fire_rule(
            rule,
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": ACCOUNT_ID,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": [rule.arn],
                "detail": {},
            },
        )

    def _fire_rule(self, rule: Rule, event: dict[str, Any]) -> None:
        target_input = rule_target_input(rule, event)
        if rule.target_kind == "statemachine":
            import boto3

            # EventBridge names its executions with a UUID.
            boto3.client("stepfunctions", region_name=REGION).start_execution(
                stateMachineArn=rule.target, name=str(uuid.uuid4()), input=json.dumps(target_input)
            )
        else:
            self.invoke_async(rule.target, target_input)

    def invoke_async(self, function_name: str, event: Any) -> Any:
        """Asynchronous invocation: retried as configured, then sent to the function's DLQ.
        Returns the handler's result (None when every attempt failed)."""
        import boto3

        spec = self.runtime.spec(function_name)
        for _attempt in range(spec.max_async_retries + 1):
            payload, errored = self.runtime.invoke(function_name, event)
            if not errored:
                return json.loads(payload)
        error = json.loads(payload)
        message = f"{spec.logical_id} failed: {error['errorType']}: {error['errorMessage']}"
        if spec.dead_letter_arn:
            queue_name = spec.dead_letter_arn.rsplit(":", 1)[-1]
            sqs = boto3.client("sqs", region_name=REGION)
            sqs.send_message(
                QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "ErrorCode": {"DataType": "String", "StringValue": error["errorType"]},
                    "ErrorMessage": {
                        "DataType": "String",
                        "StringValue": error["errorMessage"][:1000] or "-",
                    },
                },
            )
            message += f" (event sent to dead-letter queue {queue_name})"
        self.async_errors.append(message)
        return None

    def _invoke_function(self, logical_id: str, body: bytes | None) -> dict[str, Any]:
        spec = self.functions.get(logical_id)
        if spec is None:
            raise DeliveryError(
                f"no function {logical_id!r} in the template (functions: {sorted(self.functions)})"
            )
        event = json.loads(body) if body else {}
        payload, errored = self.runtime.invoke(spec.name, event)
        result = {"function": logical_id, "errored": errored, "payload": json.loads(payload)}
        if errored:
            raise_error = result["payload"]
            self.async_errors.append(
                f"{logical_id} failed: {raise_error['errorType']}: {raise_error['errorMessage']}"
            )
        return result

    def _http_request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        raw_path, _, query = path.partition("?")
        for route in self.routes:
            parameters = route.match(method, raw_path)
            if parameters is None:
                continue
            event = http_api_event(method, raw_path, query, body, headers, route, parameters)
            payload, errored = self.runtime.invoke(route.function, event)
            if errored:
                error = json.loads(payload)
                self.async_errors.append(
                    f"{route.function} failed: {error['errorType']}: {error['errorMessage']}"
                )
                return {"status": 500, "headers": {}, "body": '{"message":"Internal Server Error"}'}
            return http_api_response(json.loads(payload))
        return {"status": 404, "headers": {}, "body": '{"message":"Not Found"}'}

    def _deliver_logs(self, log_group: str, body: bytes, report: DeliveryReport) -> None:
        """Deliver log events to the functions subscribed to ``log_group`` (gzip + base64)."""
        subscriptions = [s for s in self.log_subscriptions if s.log_group == log_group]
        if not subscriptions:
            groups = sorted({s.log_group for s in self.log_subscriptions})
            raise DeliveryError(
                f"no subscription on log group {log_group!r} (subscribed: {groups})"
            )
        document = json.loads(body)
        if isinstance(document, list):
            document = {"logEvents": document}
        for subscription in subscriptions:
            result = self.invoke_async(
                subscription.function, cloudwatch_logs_event(subscription, document)
            )
            if result is not None:
                function = self.runtime.spec(subscription.function).logical_id
                report.invocation = {"function": function, "errored": False, "payload": result}

    # ---- log shipping: the local OpenSearch sink (issue 4) ---------------------------------------
    @property
    def log_sink_path(self) -> Path:
        """ShipLogsFunction writes ``_bulk`` NDJSON here when OPENSEARCH_ENDPOINT is empty."""
        return self.options.state_path / "opensearch-sink.ndjson"

    def _log_sink_size(self) -> int:
        return self.log_sink_path.stat().st_size if self.log_sink_path.is_file() else 0

    def _log_sink_documents(self, offset: int) -> list[dict[str, Any]]:
        """The documents written to the sink since ``offset``: ``{_index, _id, document}``."""
        if self._log_sink_size() <= offset:
            return []
        with self.log_sink_path.open("rb") as sink:
            sink.seek(offset)
            lines = sink.read().splitlines()
        documents = []
        for action_line, source_line in zip(lines[::2], lines[1::2], strict=False):
            ((_op, action),) = json.loads(action_line).items()
            documents.append(
                {
                    "_index": action["_index"],
                    "_id": action["_id"],
                    "document": json.loads(source_line),
                }
            )
        return documents

    # ---- waiting and reading back ---------------------------------------------------------------
    def _execution_arns(self) -> set[str]:
        return {e["executionArn"] for e in self._list_executions()}

    def _list_executions(self) -> list[dict[str, Any]]:
        import boto3

        sfn = boto3.client("stepfunctions", region_name=REGION)
        executions: list[dict[str, Any]] = []
        for arn in self.state_machines.values():
            paginator = sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=arn):
                executions.extend(dict(item) for item in page["executions"])
        return executions

    def _wait_for_executions(
        self, before: dict[str, str], report: DeliveryReport
    ) -> list[dict[str, Any]]:
        """Wait until every execution is finished or parked in a Wait state; report the new ones
        and the older ones that moved (woke up, finished) meanwhile."""
        import boto3

        sfn = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + self.options.execution_timeout_seconds
        while True:
            executions = self._list_executions()
            running = [e for e in executions if e["status"] == "RUNNING"]
            if all(self._waiting_in(e["executionArn"]) for e in running):
                break
            if time.monotonic() > deadline:
                report.errors.append(
                    f"executions still running after {self.options.execution_timeout_seconds}s"
                )
                break
            time.sleep(0.05)
        machines = {arn: logical_id for logical_id, arn in self.state_machines.items()}
        results = []
        for execution in sorted(executions, key=lambda e: e["startDate"]):
            arn = execution["executionArn"]
            if before.get(arn) == execution["status"] and execution["status"] != "RUNNING":
                continue
            if before.get(arn) == "RUNNING" == execution["status"]:
                continue  # parked before and still parked
            described = sfn.describe_execution(executionArn=arn)
            result: dict[str, Any] = {
                "state_machine": machines.get(described["stateMachineArn"], "?"),
                "name": execution.get("name") or arn.rsplit(":", 1)[-1],
                "status": described["status"],
            }
            if "output" in described:
                result["output"] = json.loads(described["output"])
            if described["status"] == "RUNNING":
                result["waiting_in"] = self._waiting_in(arn)
            elif described["status"] != "SUCCEEDED":
                result["error"] = described.get("error")
                result["cause"] = described.get("cause")
            results.append(result)
        return results

    def _waiting_in(self, execution_arn: str) -> str | None:
        """The Wait state an execution is parked in, if it is."""
        import boto3

        history = boto3.client("stepfunctions", region_name=REGION).get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        last = max(history, key=lambda event: event["id"]) if history else None
        if last is not None and waits.waits_for_task_token(last):
            return waits.task_state_name(history)  # parked until SendTaskSuccess/Failure
        if last is None or last["type"] != "WaitStateEntered":
            return None
        details = last["stateEnteredEventDetails"]
        if self._wait_due_soon(execution_arn, details, last["timestamp"]):
            return None  # a short polling Wait (deployments): still running
        return str(details["name"])

    def _wait_due_soon(self, execution_arn: str, details: Any, entered: Any) -> bool:
        import boto3

        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.describe_execution(executionArn=execution_arn)["stateMachineArn"]
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
        return waits.due_soon(
            definition,
            str(details["name"]),
            str(details.get("input") or ""),
            entered,
            self.options.time_scale,
            datetime.now(UTC),
        )

    def _sync_local_silences(self) -> None:
        """Silences made with ``opswire silence add`` locally live in the state directory's
        silences.json; the incident table gets exactly those before every delivery."""
        from opswire.adapters.incident_store import IncidentStore
        from opswire.models.incident import Silence

        table = self._resolver.resources.get("IncidentTable") if self._resolver else None
        if table is None:
            return
        silences_file = self.options.state_path / "silences.json"
        wanted = (
            [Silence.model_validate(item) for item in json.loads(silences_file.read_text())]
            if silences_file.is_file()
            else []
        )
        store = IncidentStore(table.ref, client=_dynamodb())
        for silence in store.list_silences():
            store.delete_silence(silence.silence_id)
        for silence in wanted:
            store.put_silence(silence)

    def _sent_emails(self) -> list[dict[str, Any]]:
        from moto.ses.models import ses_backends

        messages = ses_backends[ACCOUNT_ID][REGION].sent_messages
        return [_email_notification(message) for message in messages]

    def describe(self) -> dict[str, Any]:
        """What the running platform serves (printed by ``opswire local up``)."""
        return {
            "functions": {k: v.name for k, v in self.functions.items()},
            "state_machines": dict(self.state_machines),
            "topics": dict(self.topics),
            "tables": dict(self.tables),
            "rules": [
                {"rule": r.logical_id, "schedule": r.schedule, "pattern": r.pattern}
                for r in self.rules
            ],
            "routes": [f"{r.method} {r.path}" for r in self.routes],
            "log_subscriptions": [s.log_group for s in self.log_subscriptions],
            "not_emulated": self.not_emulated,
            "slack_outbox": str(self.outbox.webhook_url),
        }


# ---- pure helpers (event shapes) ----------------------------------------------------------------
_LOCAL_API_ID = "localapi"


def _dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=REGION)


def _local_api_url(value: str, api_url: str) -> str:
    """``https://localapi<id>.execute-api.<region>.amazonaws.com`` -> the local gateway URL."""
    return re.sub(
        rf"https://{_LOCAL_API_ID}\w*\.execute-api\.{REGION}\.amazonaws\.com", api_url, value
    )


def rule_target_input(rule: Rule, event: dict[str, Any]) -> Any:
    """What an EventBridge target receives: Input, InputPath or InputTransformer, else the event."""
    if rule.input is not None:
        return json.loads(rule.input)
    if rule.input_path:
        return _json_path(event, rule.input_path)
    if rule.input_transformer:
        return _transform(event, rule.input_transformer, rule.arn)
    return event


def _transform(
    event: dict[str, Any], transformer: dict[str, Any], rule_arn: str | None = None
) -> Any:
    values = {
        name: _json_path(event, path)
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    # As documented: <aws.events.event> is the event without "detail"; .json is the whole event.
    values["aws.events.event"] = {key: value for key, value in event.items() if key != "detail"}
    values["aws.events.event.json"] = event
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.event.ingestion-time"] = event.get("time")

    template = str(transformer["InputTemplate"])
    # A placeholder inside a JSON string gets the raw value (escaped for the string); elsewhere
    # it gets the value as JSON. Walk the template, tracking whether we are inside a string.
    pieces: list[str] = []
    in_string = False
    for token in re.split(r'(<[\w.-]+>|\\.|")', template):
        if token == '"':
            in_string = not in_string
            pieces.append(token)
        elif re.fullmatch(r"<[\w.-]+>", token) and token[1:-1] in values:
            value = values[token[1:-1]]
            if in_string:
                raw = value if isinstance(value, str) else json.dumps(value)
                pieces.append(json.dumps(raw)[1:-1])
            else:
                pieces.append(json.dumps(value))
        else:
            pieces.append(token)
    text = "".join(pieces)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a plain-text template stays text, as EventBridge delivers it


def _json_path(document: Any, path: str) -> Any:
    """The simple ``$.a.b`` paths EventBridge input paths use."""
    value = document
    for part in [p for p in path.lstrip("$").split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def http_api_event(
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
    route: Route,
    path_parameters: dict[str, str],
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the gateway would build it."""
    now = datetime.now(UTC)
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        text_body, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode(), True
    query_parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas (payload format 2.0).
        previous = query_parameters.get(name)
        query_parameters[name] = value if previous is None else f"{previous},{value}"
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "queryStringParameters": query_parameters or None,
        "pathParameters": path_parameters or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", "opswire-local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text_body if body else None,
        "isBase64Encoded": is_base64,
    }


def http_api_response(result: Any) -> dict[str, Any]:
    """The HTTP response API Gateway makes of a handler's return value (format 2.0 rules)."""
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        return {
            "status": int(result["statusCode"]),
            "headers": dict(result.get("headers") or {}),
            "body": body,
        }
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(result),
    }


def cloudwatch_logs_event(
    subscription: LogSubscription, document: dict[str, Any]
) -> dict[str, Any]:
    """A CloudWatch Logs subscription delivery: gzip + base64 of the DATA_MESSAGE."""
    now_ms = int(time.time() * 1000)
    log_events = []
    for index, item in enumerate(document.get("logEvents") or []):
        entry = {"message": item} if isinstance(item, str) else dict(item)
        entry.setdefault("timestamp", now_ms)
        entry.setdefault("id", f"{entry['timestamp']}{index:020d}"[-56:])
        log_events.append(
            {"id": entry["id"], "timestamp": entry["timestamp"], "message": entry["message"]}
        )
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT_ID,
        "logGroup": subscription.log_group,
        "logStream": document.get("logStream", "local/stream"),
        "subscriptionFilters": [subscription.filter_name],
        "logEvents": log_events,
    }
    data = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
    return {"awslogs": {"data": data}}


def log_shipping_parameters() -> dict[str, str]:
    """``opswire local send logs:...`` ships into ``OPENSEARCH_ENDPOINT`` when the CLI's
    environment sets it (auth ``OPENSEARCH_AUTH``, default none); else into the local sink."""
    import os

    return {
        "OpenSearchEndpoint": os.environ.get("OPENSEARCH_ENDPOINT", ""),
        "OpenSearchAuth": os.environ.get("OPENSEARCH_AUTH") or "none",
    }


def _email_notification(message: Any) -> dict[str, Any]:
    raw = getattr(message, "raw_data", None)
    if raw is None:  # SendEmail (not raw): moto keeps subject and one body
        return {
            "channel": "email",
            "recipient": ", ".join(a for v in message.destinations.values() for a in v),
            "subject": message.subject,
            "text": message.body,
            "payload": {"from": message.source, "body": message.body},
        }
    parsed = email.message_from_string(raw, policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return {
        "channel": "email",
        "recipient": ", ".join(message.destinations),
        "subject": str(parsed["Subject"]),
        "text": text_part.get_content() if text_part is not None else "",
        "payload": {
            "from": str(parsed["From"]),
            "headers": {k: str(v) for k, v in parsed.items()},
            "html": html_part.get_content() if html_part is not None else None,
        },
    }


def _require(body: bytes | None, source: str) -> bytes:
    if not body:
        raise DeliveryError(f"{source} needs an event file (-e FILE)")
    return body


def _json_object(body: bytes, source: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{source}: the event file is not JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise DeliveryError(f"{source}: the event file must hold one JSON object")
    return document


def _trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process from the repository")
    return buffer.getvalue()


def _forget_process_caches() -> None:
    """Cached settings, clients and secrets belong to one stack: forget them between stacks."""
    from aws_lambda_powertools.utilities import parameters

    from opswire.core.aws import clear_client_cache
    from opswire.core.settings import clear_settings_cache

    clear_settings_cache()
    clear_client_cache()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _aws_test_environment() -> Iterator[None]:
    """Fake credentials and a region for the platform's own clients; nothing reaches AWS."""
    import os

    saved = {k: os.environ.get(k) for k in _FAKE_AWS_ENV}
    os.environ.update(_FAKE_AWS_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def _patch_sns_lambda_delivery(platform: LocalPlatform) -> contextlib.AbstractContextManager[Any]:
    """SNS -> Lambda with the record AWS sends (moto's has a fixed MessageId and TopicArn), as an
    asynchronous invocation: retries, then the function's dead-letter queue."""
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, *args: Any,
                **kwargs: Any) -> None:  # fmt: skip
        if self.protocol != "lambda":
            return original(self, message, message_id, subject, message_attributes, *args, **kwargs)
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return None
        if kwargs.get("message_structure") == "json":
            structured = json.loads(message)
            message = structured.get("lambda", structured["default"])
        record = {
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.arn,
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "Signature": "local",
                "SigningCertUrl": "local",
                "MessageId": message_id,
                "Message": message,
                "MessageAttributes": {
                    name: {"Type": value.get("Type", "String"), "Value": value.get("Value")}
                    for name, value in (message_attributes or {}).items()
                },
                "Type": "Notification",
                "UnsubscribeUrl": "local?" + urlencode({"SubscriptionArn": self.arn}),
                "TopicArn": self.topic.arn,
                "Subject": subject,
            },
        }
        platform.invoke_async(self.endpoint, {"Records": [record]})
        return None

    return mock.patch.object(Subscription, "publish", publish)


def atomic_dynamodb_writes() -> contextlib.ExitStack:
    """DynamoDB evaluates a write's condition and applies it atomically; moto does not lock, so
    two threads can both pass the same condition. Serialize moto's item writes to match AWS."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    patches = contextlib.ExitStack()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        patches.enter_context(mock.patch.object(DynamoDBBackend, name, locked))
    return patches


def _scale_step_functions_time(scale: float) -> contextlib.ExitStack:
    """Wait states and Retry intervals really sleep in moto; locally they sleep ``scale`` x."""
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    patches = contextlib.ExitStack()
    scaled_time = SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * scale))
    patches.enter_context(mock.patch.object(retrier_decl, "time", scaled_time))
    patches.enter_context(
        mock.patch.object(wait_function.WaitFunction, "_wait_interval", scaled_wait)
    )
    return patches
