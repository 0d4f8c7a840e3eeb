"""The stack of template.yaml, created in moto: every resource, in the order of its references.

``LocalStack.create`` resolves the parameters (template defaults, the local defaults below, the
options'), seeds the secrets the stack expects to exist before deployment, verifies the SES
sender, then creates each resource whose ``Condition`` holds: functions (registered with the
in-process runtime), state machines (DefinitionSubstitutions applied), topics and their
subscriptions, queues, tables, buckets, log groups, SSM parameters (the stack settings document
among them), secrets and rotation schedules, HttpApis. The functions' and state machines'
``Events`` become SNS subscriptions in moto, and the rules, routes and Logs subscriptions that
``opswire_local.routing`` delivers to. Resources with nothing to run locally get a placeholder so
that ``Ref`` still works, and are listed in ``not_emulated``.
"""

from __future__ import annotations

import functools
import io
import json
import os
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opswire_local import deploy_local, secrets_rotation
from opswire_local.bindings import LogSubscription, Route, Rule
from opswire_local.clients import aws_client
from opswire_local.events import LOCAL_API_ID, local_api_url
from opswire_local.lambda_runtime import FunctionSpec, InProcessLambdaRuntime
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

if TYPE_CHECKING:
    from opswire_local.options import PlatformOptions

# Local values of parameters: those without a template default, and a few defaults the local
# account differs in (documented in the README).
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

Creator = Callable[[str, dict[str, Any]], PhysicalResource]


class LocalStack:
    """The resources of one local stack, by logical id, and the event sources they registered."""

    def __init__(
        self,
        options: PlatformOptions,
        template: Template,
        runtime: InProcessLambdaRuntime,
        outbox: SlackOutbox,
        opensearch_url: str,
    ) -> None:
        self.options = options
        self.opensearch_url = opensearch_url
        self.template = template
        self.runtime = runtime
        self.outbox = outbox
        self.functions: dict[str, FunctionSpec] = {}
        self.state_machines: dict[str, str] = {}  # logical id -> ARN
        self.topics: dict[str, str] = {}  # logical id -> ARN
        self.tables: dict[str, str] = {}  # logical id -> table name
        self.rules: list[Rule] = []
        self.routes: list[Route] = []
        self.log_subscriptions: list[LogSubscription] = []
        self.not_emulated: list[str] = []
        self._resolver: Resolver | None = None

    def create(self) -> None:
        """Create every resource of the template (moto must be running)."""
        parameters = {
            **self.template.parameter_defaults(),
            **LOCAL_PARAMETER_DEFAULTS,
            **self._local_slack_parameters(),
            **log_shipping_parameters(self.opensearch_url),
            **self.options.parameters,
        }
        self._resolver = resolver = Resolver(
            parameters, self.options.stack_name, self.template.document.get("Conditions")
        )
        self._create_roles()
        _load_aws_managed_policies(parameters.get("ProvisioningManagedPolicies", ""))
        self._seed_secrets(parameters)
        self._verify_email_identities(parameters)
        creators = self._creators()
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

    def _creators(self) -> dict[str, Creator]:
        return {
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

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions against the created stack (parameters, resources)."""
        assert self._resolver is not None, "the platform is not started"
        return self._resolver.resolve(value)

    def physical(self, logical_id: str) -> PhysicalResource | None:
        """The created resource ``logical_id`` (None before creation, or when not created)."""
        return self._resolver.resources.get(logical_id) if self._resolver else None

    def _name(self, logical_id: str) -> str:
        return f"{self.options.stack_name}-{logical_id}"

    # ---- before the resources: roles, secrets, settings -----------------------------------------
    def _create_roles(self) -> None:
        iam = aws_client("iam")
        for role_name, service in (
            (_LAMBDA_ROLE_NAME, "lambda.amazonaws.com"),
            (_STATES_ROLE_NAME, "states.amazonaws.com"),
        ):
            iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=_trust_policy(service))
        # SAM generates a role <Function>Role for each function without a Role of its own, and
        # the template may name it (!GetAtt <Function>Role.Arn): so does the local stack, and
        # the function runs with it. Its policies are not emulated.
        assert self._resolver is not None
        for logical_id, resource in self.template.resources.items():
            properties = resource.get("Properties") or {}
            if resource["Type"] == "AWS::Serverless::Function" and "Role" not in properties:
                role_name = self._name(f"{logical_id}Role")[:64]
                created = iam.create_role(
                    RoleName=role_name,
                    AssumeRolePolicyDocument=_trust_policy("lambda.amazonaws.com"),
                )
                self._resolver.resources[f"{logical_id}Role"] = PhysicalResource(
                    ref=role_name, attributes={"Arn": created["Role"]["Arn"]}
                )

    def _local_slack_parameters(self) -> dict[str, str]:
        """Locally, Slack is the outbox: its incoming webhook, and in app mode its Web API (whose
        URL is in the stack settings, see ``_stack_settings``)."""
        if self.options.slack_app:
            return {"SlackAppSecretName": LOCAL_SLACK_APP_SECRET_NAME}
        return {}

    def _stack_settings(self) -> str:
        """The settings document: the outbox as Slack's Web API, then the options' (the CLI
        puts what `opswire config set --local` wrote there, validated)."""
        base = self.outbox.webhook_url.rsplit("/slack/webhook", 1)[0]
        return json.dumps({"slack_api_url": f"{base}/api/", **self.options.settings})

    def _seed_secrets(self, parameters: dict[str, str]) -> None:
        """The stack expects its secrets to exist before deployment; locally we create them."""
        secrets = aws_client("secretsmanager")
        name = parameters.get("SlackWebhookSecretName")
        if name:
            url = self.options.slack_webhook_url or self.outbox.webhook_url
            secrets.create_secret(Name=name, SecretString=url)
        app_secret = parameters.get("SlackAppSecretName")
        if app_secret:
            secrets.create_secret(Name=app_secret, SecretString=json.dumps(LOCAL_SLACK_APP))
        deploy_local.seed_secrets(secrets, parameters)

    def _verify_email_identities(self, parameters: dict[str, str]) -> None:
        sender = parameters.get("SenderEmail")
        if sender:
            aws_client("ses").verify_email_identity(EmailAddress=sender)

    # ---- data and messaging resources -----------------------------------------------------------
    def _create_queue(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        sqs = aws_client("sqs")
        name = self._name(logical_id)
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        return PhysicalResource(
            ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url}
        )

    def _create_topic(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        sns = aws_client("sns")
        name = self._name(logical_id)
        arn = sns.create_topic(Name=name)["TopicArn"]
        self.topics[logical_id] = arn
        properties = self.resolve(resource.get("Properties") or {})
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
        properties = self.resolve(resource.get("Properties") or {})
        name = properties.get("LogGroupName") or self._name(logical_id)
        logs = aws_client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
        return PhysicalResource(ref=name, attributes={"Arn": arn})

    def _create_bucket(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        properties = self.resolve(resource.get("Properties") or {})
        name = properties.get("BucketName") or self._name(logical_id).lower()
        aws_client("s3").create_bucket(Bucket=name)
        return PhysicalResource(
            ref=name, attributes={"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3"}
        )

    def _create_table(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        properties = self.resolve(resource.get("Properties") or {})
        name = properties.get("TableName") or self._name(logical_id)
        dynamodb = aws_client("dynamodb")
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
        properties = self.resolve(resource.get("Properties") or {})
        name = properties.get("Name") or self._name(logical_id)
        given = deploy_local.default_ssm_parameters(self.options.root, self.options.ssm_parameters)
        value = given.get(logical_id, properties["Value"])
        if logical_id == STACK_SETTINGS_LOGICAL_ID:
            value = self._stack_settings()
        aws_client("ssm").put_parameter(
            Name=name, Value=value, Type=properties.get("Type", "String")
        )
        if logical_id == deploy_local.DEPLOY_CONFIG_LOGICAL_ID:
            deploy_local.create_targets(value)
        return PhysicalResource(ref=name, attributes={"Type": properties.get("Type", "String")})

    def _create_http_api(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        # Its URL (https://<id>.execute-api...) is rewritten to the local gateway in environments.
        return PhysicalResource(ref=f"{LOCAL_API_ID}{logical_id.lower()}")

    # ---- secrets (opswire_local.secrets_rotation) -----------------------------------------------
    def _create_secret(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        properties = self.resolve(resource.get("Properties") or {})
        return secrets_rotation.create_secret(properties, f"{self.options.stack_name}-{logical_id}")

    def _create_rotation_schedule(
        self, logical_id: str, resource: dict[str, Any]
    ) -> PhysicalResource:
        return secrets_rotation.create_rotation_schedule(
            self.resolve(resource.get("Properties") or {})
        )

    # ---- compute: functions, state machines and their events ------------------------------------
    def _create_function(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        properties = self.resolve(self.template.function_properties(logical_id))
        name = self._name(logical_id)
        environment = {
            key: local_api_url(str(value), self.options.api_url)
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
        aws_client("lambda").create_function(
            FunctionName=name,
            Runtime=properties.get("Runtime", "python3.13"),
            Role=self._function_role(logical_id),
            Handler=spec.handler,
            Code={"ZipFile": _placeholder_zip()},
            Environment={"Variables": environment},
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
        )
        for event_name, event in (properties.get("Events") or {}).items():
            self._register_event(logical_id, event_name, event, "function", name)
        return PhysicalResource(ref=name, attributes={"Arn": spec.arn})

    def _function_role(self, logical_id: str) -> str:
        """The role SAM would generate for the function, else the one local Lambda role."""
        generated = self.physical(f"{logical_id}Role")
        if generated is not None:
            return generated.attributes["Arn"]
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{_LAMBDA_ROLE_NAME}"

    def _create_state_machine(self, logical_id: str, resource: dict[str, Any]) -> PhysicalResource:
        properties = self.resolve(resource.get("Properties") or {})
        definition = (self.template.root / properties["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = properties.get("Name") or self._name(logical_id)
        arn = aws_client("stepfunctions").create_state_machine(
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
        """One entry of a function's or state machine's ``Events``: an event source of it."""
        event_type = event.get("Type")
        props = event.get("Properties") or {}
        if event_type == "SNS":
            if kind != "function":
                raise TemplateError(f"{owner}.{event_name}: SNS events target functions only")
            aws_client("sns").subscribe(
                TopicArn=props["Topic"], Protocol="lambda", Endpoint=self.runtime.spec(target).arn
            )
        elif event_type in ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"):
            if str(props.get("State", "ENABLED")).upper() != "DISABLED":  # as AWS: no delivery
                self.rules.append(_rule(owner, event_name, event_type, props, kind, target))
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


def _rule(
    owner: str, event_name: str, event_type: str, props: dict[str, Any], kind: str, target: str
) -> Rule:
    scheduled = event_type.startswith("Schedule")
    return Rule(
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


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed: dict[str, Any] = json.loads(aws_managed_policies_data)
    return parsed


def _load_aws_managed_policies(names: str) -> None:
    """The AWS managed policies a spec may attach (the stack's ProvisioningManagedPolicies,
    comma-separated), as the account has them. moto holds none unless it loads all ~1,600 for
    every account (MOTO_IAM_LOAD_MANAGED_POLICIES: about a second per platform start)."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[ACCOUNT_ID]["aws"]
    data = _aws_managed_policy_data()
    for name in (n.strip() for n in names.split(",")):
        if name in data and f"arn:aws:iam::aws:policy/{name}" not in backend.managed_policies:
            policy = AWSManagedPolicy.from_data(name, ACCOUNT_ID, REGION, data[name])
            backend.aws_managed_policies.append(policy)
            backend.managed_policies[policy.arn] = policy


def log_shipping_parameters(local_opensearch_url: str) -> dict[str, str]:
    """``opswire local send logs:...`` ships into ``OPENSEARCH_ENDPOINT`` when the CLI's
    environment sets it (auth ``OPENSEARCH_AUTH``, default none); else into the platform's
    local OpenSearch (``opswire_local.log_sink``)."""
    endpoint = os.environ.get("OPENSEARCH_ENDPOINT", "")
    return {
        "OpenSearchEndpoint": endpoint or local_opensearch_url,
        "OpenSearchAuth": (os.environ.get("OPENSEARCH_AUTH") if endpoint else None) or "none",
    }


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
