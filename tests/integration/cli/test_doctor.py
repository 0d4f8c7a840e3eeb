"""``opswire doctor`` against a stack in moto: a small CloudFormation template with the
parameter, output and resource names of template.yaml (topics with the email subscription, the
database rotation function, the deploy-config parameter), the secrets, SES identities and alarms
an operator creates, and a real HTTPS server answering Slack's ``auth.test`` and the OpenSearch
root. Each misconfiguration must be found; a healthy stack passes with exit status 0.

What moto cannot show is tested on the pure check functions (or the reader with a stub client),
each place says why: moto 5.2.5 has no sesv2 GetAccount (the doctor falls back to GetSendQuota,
whose Max24HourSend is always 200 in moto: always "sandbox"), confirms every email subscription
at once, and cannot leave a stack in a failed state.
"""

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from opswire.core.settings import StackSettingsDocument
from opswire_cli.cli import main
from opswire_cli.doctor_aws import read_topic
from opswire_cli.doctor_checks import check_ses, check_stack, run_checks
from opswire_cli.doctor_facts import SesFacts, StackFacts
from opswire_cli.slack_manifest import WEB_API_SCOPES
from opswire_local.template import load_template
from tests.conftest import REPO_ROOT
from tests.integration.aws_support import REGION

STACK = "opswire-doctor"
SENDER = "alerts@example.com"
RECIPIENTS = ["oncall@example.com", "lead@example.org"]
WEBHOOK_URL = "https://hooks.slack.com/services/T0001/B0001/webhook-path-secret"
BOT_TOKEN = "xoxb-bot-token-secret"
GITHUB_SECRET = "github-hmac-secret-value"
ALL_SCOPES = sorted({s for scopes in WEB_API_SCOPES.values() for s in scopes})
ONE_RULE = {
    "rules": [{"repository": "acme/web", "event": "push", "branch": "main", "environment": "prod"}],
    "environments": {
        "prod": {
            "target": {
                "type": "ecs",
                "cluster": "c",
                "service": "s",
                "container": "web",
                "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web",
            }
        }
    },
}

# Names as in template.yaml (test_the_doctor_reads_names_that_template_yaml_has checks it).
TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  AlertEmail: {Type: String}
  SenderEmail: {Type: String}
  SlackWebhookSecretName: {Type: String, Default: opswire/slack-webhook}
  SlackAppSecretName: {Type: String, Default: ""}
  GitHubWebhookSecretName: {Type: String, Default: opswire/github-webhook}
  OpenSearchEndpoint: {Type: String, Default: ""}
  OpenSearchAuth: {Type: String, Default: sigv4}
  SubnetIds: {Type: CommaDelimitedList, Default: ""}
  SecurityGroupIds: {Type: CommaDelimitedList, Default: ""}
Conditions:
  DatabaseRotationInVpc: !Not [!Equals [!Join ["", !Ref SubnetIds], ""]]
Resources:
  WorkflowFailureTopic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription:
        - Protocol: email
          Endpoint: !Select [0, !Split [",", !Ref AlertEmail]]
  AlarmTopic:
    Type: AWS::SNS::Topic
  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  AlarmIngestFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      Role: !GetAtt FunctionRole.Arn
      Code: {ZipFile: "def handler(event, context): return None"}
  DatabaseRotationFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      Role: !GetAtt FunctionRole.Arn
      Code: {ZipFile: "def handler(event, context): return None"}
      VpcConfig: !If
        - DatabaseRotationInVpc
        - SubnetIds: !Ref SubnetIds
          SecurityGroupIds: !Ref SecurityGroupIds
        - !Ref AWS::NoValue
  DeployConfigParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /${AWS::StackName}/deploy-config
      Type: String
      Value: '{"rules": [], "environments": {}}'
  StackSettingsParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /${AWS::StackName}/settings
      Type: String
      Value: "{}"
Outputs:
  OpsApiUrl:
    Value: !Sub https://abc123.execute-api.${AWS::Region}.${AWS::URLSuffix}
  AlarmTopicArn: {Value: !Ref AlarmTopic}
  AlarmActionFunctionArn: {Value: !GetAtt AlarmIngestFunction.Arn}
  WorkflowFailureTopicArn: {Value: !Ref WorkflowFailureTopic}
  DatabaseRotationFunctionArn: {Value: !GetAtt DatabaseRotationFunction.Arn}
  DeployConfigParameterName: {Value: !Ref DeployConfigParameter}
  StackSettingsParameterName: {Value: !Ref StackSettingsParameter}
"""


# ---- building a stack ----------------------------------------------------------------------------
def deploy(**values: str) -> dict[str, str]:
    """Create the stack (AlertEmail, SenderEmail and the given parameters; snake_case names go
    to its settings document, as `opswire config set` writes them); its outputs."""
    settings = {k: v for k, v in values.items() if k in StackSettingsDocument.model_fields}
    parameters = {"AlertEmail": ",".join(RECIPIENTS), "SenderEmail": SENDER}
    parameters |= {k: v for k, v in values.items() if k not in settings}
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    if settings:
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=outputs["StackSettingsParameterName"], Value=json.dumps(settings), Overwrite=True
        )
    return outputs


def verify_emails(*addresses: str) -> None:
    ses = boto3.client("ses", region_name=REGION)
    for address in addresses:
        ses.verify_email_identity(EmailAddress=address)


def create_secret(name: str, value: str) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=name, SecretString=value)


def put_alarm(name: str, actions: list[str], ok_actions: list[str] | None = None) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions,
        OKActions=ok_actions if ok_actions is not None else actions,
    )


def answer_auth_test(
    server: HTTPServer, body: dict[str, Any], scopes: list[str] | None = ALL_SCOPES
) -> None:
    headers = {"x-oauth-scopes": ",".join(scopes)} if scopes is not None else {}
    server.expect_request(
        "/api/auth.test", method="POST", headers={"Authorization": f"Bearer {BOT_TOKEN}"}
    ).respond_with_json(body, headers=headers)


def answer_opensearch_root(server: HTTPServer, status: int = 200) -> None:
    body = {"cluster_name": "logs", "version": {"number": "2.17.0", "distribution": "opensearch"}}
    server.expect_request("/", method="GET").respond_with_json(
        body if status == 200 else {"message": "no"}, status=status
    )


@pytest.fixture
def healthy(aws: None, https_server: HTTPServer) -> Iterator[dict[str, str]]:
    """A stack that should pass every check: Slack app mode, OpenSearch (none auth), an alarm
    with ALARM and OK actions on the topic, a deploy rule, no VPC. Yields the parameters."""
    parameters = {
        "SlackAppSecretName": "opswire/slack-app",
        "slack_api_url": https_server.url_for("/api/"),
        "OpenSearchEndpoint": https_server.url_for("/").rstrip("/"),
        "OpenSearchAuth": "none",
    }
    verify_emails(SENDER, *RECIPIENTS)
    create_secret("opswire/slack-webhook", WEBHOOK_URL)
    create_secret(
        "opswire/slack-app", json.dumps({"bot_token": BOT_TOKEN, "signing_secret": "sign-me"})
    )
    create_secret("opswire/github-webhook", GITHUB_SECRET)
    answer_auth_test(https_server, {"ok": True, "team": "acme", "user": "opswire"})
    answer_opensearch_root(https_server)
    yield parameters


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """Run ``opswire doctor --json``; (exit status, the document)."""
    code = main(["doctor", "--stack", STACK, "--region", REGION, "--json"])
    out = capsys.readouterr().out
    for secret in (WEBHOOK_URL, "webhook-path-secret", BOT_TOKEN, GITHUB_SECRET, "sign-me"):
        assert secret not in out
    return code, json.loads(out)


def by_check(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in document["checks"]}


def finish(outputs: dict[str, str], rules: dict[str, Any] | None = ONE_RULE) -> None:
    """What a good operator does after deploying: alarms point at the topic, a deploy rule."""
    put_alarm("orders-api-errors", [outputs["AlarmTopicArn"]])
    if rules is not None:
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=outputs["DeployConfigParameterName"], Value=json.dumps(rules), Overwrite=True
        )


# ---- the healthy stack ---------------------------------------------------------------------------
def test_a_healthy_stack_passes(
    healthy: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    finish(deploy(**healthy))

    code, document = doctor(capsys)

    checks = by_check(document)
    assert code == 0 and document["ok"] is True
    assert (document["stack"], document["region"]) == (STACK, REGION)
    assert {n: c["status"] for n, c in checks.items()} == {
        "stack": "ok",
        "ses-sender": "ok",
        "ses-recipients": "ok",
        "failure-subscription": "ok",
        "slack-webhook": "ok",
        "slack-app": "ok",
        "github-webhook-secret": "ok",
        "opensearch": "ok",
        "alarm-actions": "ok",
        "rotation-network": "ok",
    }
    # moto has no sesv2 GetAccount: the doctor says it used the quota as a sandbox hint.
    assert "GetAccount unavailable" in checks["ses-recipients"]["detail"]
    assert "Max24HourSend=200" in checks["ses-recipients"]["detail"]
    assert "team acme" in checks["slack-app"]["detail"]
    assert "version 2.17.0" in checks["opensearch"]["detail"]
    assert checks["alarm-actions"]["detail"] == "alarms notifying opswire: 1"


def test_the_readable_report_shows_a_fix_for_each_problem(
    healthy: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(**healthy)  # no alarm points at the topic
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId="opswire/github-webhook", ForceDeleteWithoutRecovery=True
    )

    code = main(["doctor", "--stack", STACK, "--region", REGION])

    out = capsys.readouterr().out
    assert code == 0  # only warnings: no deploy rule, no alarm
    assert "WARN  alarm-actions" in out and "fix: add the topic to alarm actions" in out
    assert "WARN  github-webhook-secret" in out and "deployments unused" in out
    assert out.rstrip().endswith("8 ok, 2 warnings, 0 failures")


# ---- 1. SES --------------------------------------------------------------------------------------
def test_an_unverified_sender_fails(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    verify_emails(*RECIPIENTS)
    deploy()

    code, document = doctor(capsys)

    sender = by_check(document)["ses-sender"]
    assert code == 1 and document["ok"] is False
    assert sender["status"] == "fail"
    assert f"sender {SENDER} is not verified in SES (never requested)" in sender["detail"]
    assert f"--email-address {SENDER}" in sender["fix"]


def test_a_verified_domain_covers_the_sender(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example.com")
    verify_emails("lead@example.org")
    deploy()

    _, document = doctor(capsys)

    assert by_check(document)["ses-sender"]["status"] == "ok"
    assert by_check(document)["ses-recipients"]["status"] == "ok"  # oncall@ by its domain


def test_in_the_sandbox_an_unverified_recipient_fails(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    verify_emails(SENDER, RECIPIENTS[0])
    deploy()

    code, document = doctor(capsys)

    recipients = by_check(document)["ses-recipients"]
    assert code == 1
    assert recipients["status"] == "fail"
    assert recipients["detail"].endswith("get no email: lead@example.org")
    assert "SES sandbox (Max24HourSend=200 from GetSendQuota" in recipients["detail"]


def test_with_production_access_unverified_recipients_are_fine() -> None:
    # moto has no sesv2 GetAccount (NotImplementedError): the answer is given as a fact here.
    facts = SesFacts(
        sender=SENDER,
        recipients=RECIPIENTS,
        identity_status={SENDER: "Success", "lead@example.org": "Pending"},
        production_access=True,
    )
    sandboxed = facts.model_copy(update={"production_access": False})

    sender, recipients = check_ses(facts)
    _, in_sandbox = check_ses(sandboxed)

    assert (sender.status, recipients.status) == ("ok", "ok")
    assert "ProductionAccessEnabled=true" in recipients.detail
    assert in_sandbox.status == "fail"
    assert "ProductionAccessEnabled=false" in in_sandbox.detail
    assert in_sandbox.detail.endswith("oncall@example.com, lead@example.org")


# ---- 2. The workflow-failure email subscription --------------------------------------------------
def test_a_pending_email_subscription_fails(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    from moto.sns.models import sns_backends

    verify_emails(SENDER, *RECIPIENTS)
    outputs = deploy()
    # moto confirms every email subscription at once; AWS keeps it PendingConfirmation until the
    # link in the email is clicked. Put moto's record into that state.
    backend = sns_backends["123456789012"][REGION]
    for subscription in backend.subscriptions.values():
        if subscription.topic.arn == outputs["WorkflowFailureTopicArn"]:
            subscription.attributes["PendingConfirmation"] = "true"

    code, document = doctor(capsys)

    check = by_check(document)["failure-subscription"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"].endswith("(PendingConfirmation): oncall@example.com")
    assert check["fix"].startswith("confirm the email sent to oncall@example.com")


def test_the_reader_knows_the_pending_arn_aws_lists() -> None:
    # AWS lists an unconfirmed subscription with SubscriptionArn "PendingConfirmation" (moto
    # never does): the reader with a stub client in that shape.
    class Sns:
        def get_paginator(self, name: str) -> Any:
            assert name == "list_subscriptions_by_topic"
            page = {
                "Subscriptions": [
                    {"SubscriptionArn": "PendingConfirmation", "Protocol": "email",
                     "Endpoint": "oncall@example.com"},
                ]
            }  # fmt: skip
            return type("P", (), {"paginate": lambda self, **kw: [page]})()

    facts = read_topic(Sns(), "arn:aws:sns:eu-west-1:123456789012:failures")

    assert [(s.endpoint, s.pending) for s in facts.subscriptions] == [("oncall@example.com", True)]


# ---- 3. Slack ------------------------------------------------------------------------------------
def test_a_missing_slack_webhook_secret_fails(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    verify_emails(SENDER, *RECIPIENTS)
    deploy()

    code, document = doctor(capsys)

    check = by_check(document)["slack-webhook"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"].startswith("secret opswire/slack-webhook does not exist")
    assert "slack-app" not in by_check(document)  # webhook mode: no app secret to check


def test_a_webhook_secret_that_is_not_a_url_fails(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    create_secret("opswire/slack-webhook", "T0001/B0001/webhook-path-secret")
    deploy()

    _, document = doctor(capsys)

    assert by_check(document)["slack-webhook"]["status"] == "fail"
    assert "does not hold an https URL" in by_check(document)["slack-webhook"]["detail"]


def test_slack_invalid_auth_fails(
    aws: None, https_server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    create_secret("opswire/slack-webhook", WEBHOOK_URL)
    create_secret("opswire/slack-app", json.dumps({"bot_token": BOT_TOKEN, "signing_secret": "x"}))
    answer_auth_test(https_server, {"ok": False, "error": "invalid_auth"}, scopes=None)
    deploy(SlackAppSecretName="opswire/slack-app", slack_api_url=https_server.url_for("/api/"))

    code, document = doctor(capsys)

    check = by_check(document)["slack-app"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"] == "Slack auth.test with the bot token failed: invalid_auth"
    https_server.check_assertions()  # the request carried the bot token


def test_a_slack_app_without_the_email_scope_warns(
    aws: None, https_server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    create_secret("opswire/slack-webhook", WEBHOOK_URL)
    create_secret("opswire/slack-app", json.dumps({"bot_token": BOT_TOKEN, "signing_secret": "x"}))
    scopes = [s for s in ALL_SCOPES if s != "users:read.email"]
    answer_auth_test(https_server, {"ok": True, "team": "acme", "user": "opswire"}, scopes)
    deploy(SlackAppSecretName="opswire/slack-app", slack_api_url=https_server.url_for("/api/"))

    _, document = doctor(capsys)

    check = by_check(document)["slack-app"]
    assert check["status"] == "warn"
    assert check["detail"].endswith("the token lacks scopes: users:read.email")


def test_a_missing_slack_app_secret_or_signing_secret_fails(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    create_secret("opswire/slack-webhook", WEBHOOK_URL)
    deploy(SlackAppSecretName="opswire/slack-app")

    _, missing = doctor(capsys)
    create_secret("opswire/slack-app", json.dumps({"bot_token": BOT_TOKEN}))
    _, unsigned = doctor(capsys)

    assert by_check(missing)["slack-app"]["status"] == "fail"
    assert "opswire/slack-app does not exist" in by_check(missing)["slack-app"]["detail"]
    assert by_check(unsigned)["slack-app"]["status"] == "fail"
    assert "has no signing_secret" in by_check(unsigned)["slack-app"]["detail"]


# ---- 4. GitHub webhook secret --------------------------------------------------------------------
def test_a_missing_github_secret_fails_when_repositories_deploy(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    finish(deploy(), rules=ONE_RULE)

    code, document = doctor(capsys)

    check = by_check(document)["github-webhook-secret"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"] == (
        "secret opswire/github-webhook does not exist: every GitHub webhook delivery is refused"
    )


def test_an_empty_github_secret_only_warns_without_deploy_rules(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    create_secret("opswire/github-webhook", "  ")
    deploy()  # the deploy config as the stack creates it: no rules

    _, document = doctor(capsys)

    check = by_check(document)["github-webhook-secret"]
    assert check["status"] == "warn"
    assert check["detail"].startswith("secret opswire/github-webhook is empty or binary")
    assert check["detail"].endswith("(deployments unused: the deploy config has no rules)")


# ---- 5. OpenSearch -------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_opensearch_fails(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"https://127.0.0.1:{_closed_port()}"
    deploy(OpenSearchEndpoint=endpoint)

    code, document = doctor(capsys)

    check = by_check(document)["opensearch"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"].startswith(f"{endpoint} cannot be reached: ConnectionRefusedError")


def test_opensearch_without_endpoint_or_refusing_anonymous_requests_warns(
    aws: None, https_server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy()
    _, no_endpoint = doctor(capsys)
    answer_opensearch_root(https_server, status=401)
    boto3.client("cloudformation", region_name=REGION).delete_stack(StackName=STACK)
    deploy(OpenSearchEndpoint=https_server.url_for("/"), OpenSearchAuth="none")
    _, refused = doctor(capsys)

    assert by_check(no_endpoint)["opensearch"]["detail"] == (
        "OpenSearchEndpoint is empty: logs go to the dead-letter bucket"
    )
    assert by_check(no_endpoint)["opensearch"]["status"] == "warn"
    assert by_check(refused)["opensearch"]["status"] == "warn"
    refusal = by_check(refused)["opensearch"]["detail"]
    assert "asks for credentials (HTTP 401) but OpenSearchAuth is none" in refusal


def test_opensearch_behind_iam_is_reachable_when_it_refuses_the_unsigned_request(
    aws: None, https_server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answer_opensearch_root(https_server, status=403)
    deploy(OpenSearchEndpoint=https_server.url_for("/"), OpenSearchAuth="sigv4")

    _, document = doctor(capsys)

    check = by_check(document)["opensearch"]
    assert check["status"] == "ok"
    assert "HTTP 403 to an unsigned request" in check["detail"]


# ---- 6. Alarms -----------------------------------------------------------------------------------
def test_no_alarm_pointing_at_the_alarm_topic_warns(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deploy()
    put_alarm("queue-depth", [outputs["WorkflowFailureTopicArn"]])  # not opswire's alarm topic

    code, document = doctor(capsys)

    check = by_check(document)["alarm-actions"]
    assert check["status"] == "warn"
    assert check["detail"] == "no alarm notifies opswire"
    assert f"--alarm-actions {outputs['AlarmTopicArn']}" in check["fix"]
    assert code == 1  # other checks fail (nothing verified); the alarm check only warns


def test_alarms_counted_by_topic_or_function_and_missing_ok_actions_warn(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deploy()
    put_alarm("via-topic", [outputs["AlarmTopicArn"]], ok_actions=[])
    put_alarm("via-function", [outputs["AlarmActionFunctionArn"]])

    _, document = doctor(capsys)

    checks = by_check(document)
    assert checks["alarm-actions"] == {
        "check": "alarm-actions",
        "status": "ok",
        "detail": "alarms notifying opswire: 2",
        "fix": "",
    }
    assert checks["alarm-ok-actions"]["status"] == "warn"
    assert checks["alarm-ok-actions"]["detail"].endswith("never resolved): 1: via-topic")


# ---- 7. The rotation function in a VPC -----------------------------------------------------------
@pytest.fixture
def vpc(aws: None) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    private = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="rotation", Description="r", VpcId=vpc_id)
    return {"vpc": vpc_id, "private": private, "public": public, "group": group["GroupId"]}


def test_rotation_in_a_vpc_without_endpoint_or_nat_fails(
    vpc: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc["vpc"])
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["vpc"]]}])
    main_table = tables["RouteTables"][0]["RouteTableId"]
    # An internet gateway does not help: Lambda's network interfaces have no public address.
    ec2.create_route(RouteTableId=main_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    deploy(SubnetIds=vpc["private"], SecurityGroupIds=vpc["group"])

    code, document = doctor(capsys)

    check = by_check(document)["rotation-network"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"] == (
        "the rotation function cannot reach Secrets Manager: subnets "
        f"{vpc['private']} have no Secrets Manager endpoint and no route to a NAT gateway"
    )
    assert f"--service-name com.amazonaws.{REGION}.secretsmanager" in check["fix"]


def test_rotation_in_a_vpc_with_nat_or_an_endpoint_passes(
    vpc: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    nat = ec2.create_nat_gateway(SubnetId=vpc["public"])["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc["vpc"])["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=vpc["private"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    deploy(SubnetIds=vpc["private"], SecurityGroupIds=vpc["group"])
    _, via_nat = doctor(capsys)
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    _, without = doctor(capsys)
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc["vpc"],
        ServiceName=f"com.amazonaws.{REGION}.secretsmanager",
        VpcEndpointType="Interface",
        SubnetIds=[vpc["private"]],
        SecurityGroupIds=[vpc["group"]],
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]
    _, via_endpoint = doctor(capsys)

    assert by_check(via_nat)["rotation-network"]["status"] == "ok"
    assert "routes 0.0.0.0/0 to NAT" in by_check(via_nat)["rotation-network"]["detail"]
    assert by_check(without)["rotation-network"]["status"] == "fail"
    assert by_check(via_endpoint)["rotation-network"] == {
        "check": "rotation-network",
        "status": "ok",
        "detail": f"Secrets Manager VPC endpoint {endpoint} (private DNS)",
        "fix": "",
    }


# ---- the stack and the names ---------------------------------------------------------------------
def test_a_failed_or_rolled_back_stack_is_reported() -> None:
    # moto creates every stack of this template successfully: the status is given as a fact.
    def status_of(status: str) -> str:
        return check_stack(StackFacts(name=STACK, region=REGION, status=status)).status

    assert status_of("ROLLBACK_COMPLETE") == "fail"
    assert status_of("UPDATE_ROLLBACK_FAILED") == "fail"
    assert status_of("UPDATE_ROLLBACK_COMPLETE") == "warn"
    assert status_of("UPDATE_IN_PROGRESS") == "warn"
    assert status_of("UPDATE_COMPLETE") == "ok"


def test_an_unknown_stack_exits_with_a_message(aws: None) -> None:
    with pytest.raises(SystemExit, match="stack 'nope' could not be described"):
        main(["doctor", "--stack", "nope", "--region", REGION])


def test_an_invalid_settings_document_fails_the_stack_check(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deploy()
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=outputs["StackSettingsParameterName"],
        Value='{"slack_default_chanel": "#ops"}',
        Overwrite=True,
    )

    code, document = doctor(capsys)

    check = by_check(document)["stack"]
    assert code == 1
    assert check["status"] == "fail"
    assert "slack_default_chanel: Extra inputs are not permitted" in check["detail"]
    assert check["fix"].startswith("opswire config show --stack")


def test_the_doctor_reads_names_that_template_yaml_has(tmp_path: Path) -> None:
    real = load_template(REPO_ROOT / "template.yaml")
    (tmp_path / "test.yaml").write_text(TEMPLATE)
    test = load_template(tmp_path / "test.yaml")
    assert set(test["Parameters"]) <= set(real["Parameters"])
    assert set(test["Outputs"]) <= set(real["Outputs"])
    stack_resources = set(test["Resources"]) - {"FunctionRole"}
    assert stack_resources <= set(real["Resources"])
    read_by_the_doctor = {
        "SlackAppSecretName", "OpenSearchEndpoint", "OpenSearchAuth",
        "OpenSearchBasicAuthSecretName", "GitHubWebhookSecretName", "SlackWebhookSecretName",
    }  # fmt: skip
    assert read_by_the_doctor <= set(real["Parameters"])


def test_run_checks_needs_no_aws() -> None:
    from opswire_cli.doctor_facts import (
        DoctorFacts,
        GitHubFacts,
        OpenSearchFacts,
        SecretFacts,
        SlackFacts,
    )

    secret = SecretFacts(name="s", found=True, value=SecretStr(WEBHOOK_URL))
    facts = DoctorFacts(
        stack=StackFacts(name=STACK, region=REGION, status="CREATE_COMPLETE"),
        ses=SesFacts(sender=SENDER, recipients=[], identity_status={SENDER: "Success"}),
        failure_topic=None,
        slack=SlackFacts(webhook=secret),
        github=GitHubFacts(secret=secret, deploy_rules=0),
        opensearch=OpenSearchFacts(endpoint="", auth="sigv4"),
        alarms=None,
        rotation=None,
    )

    results = run_checks(facts)

    assert [(r.check, r.status) for r in results] == [
        ("stack", "ok"),
        ("ses-sender", "ok"),
        ("ses-recipients", "ok"),
        ("failure-subscription", "warn"),
        ("slack-webhook", "ok"),
        ("github-webhook-secret", "ok"),
        ("opensearch", "warn"),
        ("alarm-actions", "warn"),
        ("rotation-network", "warn"),
    ]
    assert WEBHOOK_URL not in repr(facts)
