"""The spec additions of issue 14 against moto: each is planned, applied, re-applied as a no-op,
verified by posture and undone."""

import json
from typing import Any

import boto3
import pytest

from opswire.core.errors import ProvisioningError, SpecValidationError
from opswire.provisioning.aws import aws_drivers
from opswire.provisioning.aws.sdk import clear_provisioning_clients
from opswire.provisioning.engine import apply_all, plan, undo, verify
from opswire.provisioning.resources import EXECUTION_TAG, Context
from opswire.provisioning.spec import ProjectSpec, load_spec, parse_spec
from tests.conftest import REPO_ROOT
from tests.integration.aws_support import REGION

ACCOUNT = "123456789012"
CTX = Context(account=ACCOUNT, region=REGION)
GITHUB = "token.actions.githubusercontent.com"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"


@pytest.fixture
def drivers(aws: None) -> Any:
    from opswire.core.aws import clear_client_cache

    clear_client_cache()
    clear_provisioning_clients()
    yield lambda spec, ctx=CTX: aws_drivers(ctx, spec.name)
    clear_client_cache()
    clear_provisioning_clients()


def example(name: str) -> ProjectSpec:
    return load_spec((REPO_ROOT / "examples" / f"{name}.yaml").read_text())


def applied_twice(spec: ProjectSpec, drivers: Any, ctx: Context = CTX) -> list[str]:
    """Apply, then prove the second plan and apply change nothing and posture passes."""
    first = apply_all(spec, ctx, "exec-1", drivers(spec, ctx))
    again = plan(spec, ctx, drivers(spec, ctx))
    assert not again.has_changes, [i for i in again.items if i.action != "unchanged"]
    assert {r.action for r in apply_all(spec, ctx, "exec-2", drivers(spec, ctx))} == {"unchanged"}
    assert verify(spec, ctx, drivers(spec, ctx)) == []
    return [f"{r.kind}:{r.name}" for r in first if r.created]


def test_github_oidc_provider_and_deploy_role(drivers: Any) -> None:
    spec = example("github-container-app")
    created = applied_twice(spec, drivers)
    assert f"oidc_provider:{GITHUB}" in created
    iam = boto3.client("iam", region_name=REGION)
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == []
    assert {t["Key"]: t["Value"] for t in provider["Tags"]}[EXECUTION_TAG] == "exec-1"
    trust = iam.get_role(RoleName="github-container-app-deployer")["Role"]
    statement = trust["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Federated": OIDC_ARN}
    assert statement["Condition"]["StringEquals"][f"{GITHUB}:sub"] == [
        "repo:acme/storefront:ref:refs/heads/main",
        "repo:acme/storefront:environment:production",
    ]

    result = undo(spec, CTX, "exec-1", drivers(spec))
    assert f"oidc_provider:{GITHUB}" in result.deleted and not result.failed
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_a_changed_audience_is_planned_as_that_one_change(drivers: Any) -> None:
    # moto 5.2 has no AddClientIDToOpenIDConnectProvider: the update itself is not run here.
    spec = example("github-container-app")
    apply_all(spec, CTX, "exec-1", drivers(spec))
    data = spec.model_dump(mode="json")
    data["oidc_providers"][0]["audiences"] = ["sts.amazonaws.com", "acme-ci"]
    changed = parse_spec(data)
    items = [i for i in plan(changed, CTX, drivers(changed)).items if i.action != "unchanged"]
    assert [(i.kind, i.action, [c.field for c in i.changes]) for i in items] == [
        ("oidc_provider", "update", ["audiences"])
    ]
    assert items[0].changes[0].desired == ["acme-ci", "sts.amazonaws.com"]


@pytest.fixture
def aws_managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's IAM holds AWS managed policies only when asked, read when mock_aws starts: this
    fixture must come before ``drivers``."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def test_an_allow_listed_aws_managed_policy_is_attached_and_detached(
    aws_managed_policies: None, drivers: Any
) -> None:
    spec = parse_spec(
        {
            "name": "web-tier",
            "roles": [
                {
                    "name": "web-tier-host",
                    "trust": {"service": "ec2.amazonaws.com"},
                    "managed_policies": ["AmazonEC2ContainerRegistryReadOnly"],
                }
            ],
        }
    )
    ctx = Context(account=ACCOUNT, region=REGION,
                  allowed_managed_policies=("AmazonEC2ContainerRegistryReadOnly",))  # fmt: skip
    applied_twice(spec, drivers, ctx)
    iam = boto3.client("iam", region_name=REGION)
    attached = iam.list_attached_role_policies(RoleName="web-tier-host")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    ]
    result = undo(spec, ctx, "exec-1", drivers(spec, ctx))
    assert result.deleted == ["role:web-tier-host"] and not result.failed
    # the AWS managed policy itself is never touched
    assert iam.get_policy(PolicyArn=attached[0]["PolicyArn"])["Policy"]["AttachmentCount"] == 0


def key_policy(alias: str) -> Any:
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.describe_key(KeyId=f"alias/{alias}")["KeyMetadata"]["KeyId"]
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def test_a_key_policy_grant_is_applied_changed_and_verified(drivers: Any) -> None:
    spec = example("terraform-state")
    applied_twice(spec, drivers)
    statements = key_policy("terraform-state")["Statement"]
    assert [s["Sid"] for s in statements] == ["Enable IAM User Permissions", "Grant0"]
    assert statements[1]["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(
        "role/opswire/terraform-state/terraform-state-ci"
    )
    # the stack's rotation function's role gets decrypt through Secrets Manager: one update
    rotation = f"arn:aws:iam::{ACCOUNT}:role/opswire-SecretRotationFunctionRole-1A2B"
    data = spec.model_dump(mode="json")
    data["kms_keys"][0]["key_policy"].append({"role_arn": rotation, "via": "secretsmanager"})
    changed = parse_spec(data)
    items = [i for i in plan(changed, CTX, drivers(changed)).items if i.action != "unchanged"]
    assert [(i.kind, [c.field for c in i.changes]) for i in items] == [("kms_key", ["key_policy"])]
    apply_all(changed, CTX, "exec-3", drivers(changed))
    assert key_policy("terraform-state")["Statement"][2]["Principal"] == {"AWS": rotation}
    assert verify(changed, CTX, drivers(changed)) == []
    # a key policy someone opened to everyone is a posture finding
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.describe_key(KeyId="alias/terraform-state")["KeyMetadata"]["KeyId"]
    opened = key_policy("terraform-state")
    opened["Statement"].append({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"},
                                "Action": "kms:Decrypt", "Resource": "*"})  # fmt: skip
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(opened))
    problems = {f.problem for f in verify(changed, CTX, drivers(changed)) if f.kind == "kms_key"}
    assert problems == {
        "key policy statement Open allows anyone",
        "key_policy drifted from the spec",
    }


def test_alarm_severity_and_route_tags_are_what_the_alarm_workflow_routes_by(
    drivers: Any,
) -> None:
    from opswire.alarms.incidents import resolve_route
    from opswire.alarms.models.alarm import Alarm
    from opswire.alarms.models.incident import Route, RouteMatch, RoutingConfig

    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alarms")["TopicArn"]
    ctx = Context(account=ACCOUNT, region=REGION, alarm_topic_arn=topic, managed_by="opswire-x")
    alarm = {"name": "shop-5xx", "namespace": "Shop", "metric": "5xx", "threshold": 5,
             "tags": {"team": "shop"}, "severity": "critical",
             "route": {"name": "payments", "slack_channel": "#shop-oncall", "mention": True,
                       "runbook": "https://wiki.example.com/shop/5xx"}}  # fmt: skip
    spec = parse_spec({"name": "shop", "alarms": [alarm]})
    applied_twice(spec, drivers, ctx)
    cw = boto3.client("cloudwatch", region_name=REGION)
    arn = cw.describe_alarms(AlarmNames=["opswire-x/shop-5xx"])["MetricAlarms"][0]["AlarmArn"]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert {k: v for k, v in tags.items() if k != "opswire:execution"} == {
        "team": "shop",
        "opswire:spec": "shop",
        "opswire:managed-by": "opswire-x",
        "opswire:severity": "critical",
        "opswire:route": "payments",
        "opswire:slack-channel": "shop-oncall",
        "opswire:mention": "here",
        "opswire:runbook": "https://wiki.example.com/shop/5xx",
    }
    # the alarm workflow's own router, given these tags: the payments route, overridden
    payments = Route(
        match=RouteMatch(tags={"opswire:route": "payments"}),
        slack_channels=["payments"],
        email=["pay@example.com"],
    )
    config = RoutingConfig(routes=[payments])
    route = resolve_route(
        Alarm.model_construct(
            name="opswire-x/shop-5xx", tags=tags, account_id="123456789012", region=REGION
        ),
        config,
    )
    assert (route.severity, route.slack_channels, route.email, route.mention_here) == (
        "critical", ["shop-oncall"], ["pay@example.com"], True)  # fmt: skip

    # a changed severity is one tag change, applied
    changed = parse_spec({"name": "shop", "alarms": [{**alarm, "severity": "warning"}]})
    items = [i for i in plan(changed, ctx, drivers(changed, ctx)).items if i.action != "unchanged"]
    assert [(c.field, c.desired) for c in items[0].changes] == [
        ("tags", {"opswire:severity": "warning"})
    ]
    apply_all(changed, ctx, "exec-3", drivers(changed, ctx))
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags["opswire:severity"] == "warning"


def log_shipper() -> str:
    """A function in moto for the log group's subscription (moto checks that it exists)."""
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole"}]})  # fmt: skip
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="ship-logs", AssumeRolePolicyDocument=trust
    )["Role"]["Arn"]
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="ship-logs", Runtime="python3.13", Role=role, Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    return str(function["FunctionArn"])


def test_an_encrypted_topic_with_subscriptions_and_the_ecs_example(drivers: Any) -> None:
    sns = boto3.client("sns", region_name=REGION)
    alarm_topic = sns.create_topic(Name="alarms")["TopicArn"]
    shipper = log_shipper()
    ctx = Context(account=ACCOUNT, region=REGION, alarm_topic_arn=alarm_topic,
                  log_destination_arn=shipper, managed_by="opswire-x")  # fmt: skip
    spec = example("ecs-service")
    created = applied_twice(spec, drivers, ctx)
    assert "topic:ecs-service-releases" in created and "alarm:opswire-x/checkout-5xx" in created
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:ecs-service-releases"
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == [
        ("email", "checkout-team@example.com"),
        ("https", "https://hooks.example.com/releases"),
    ]
    # one subscription less, one more: planned as exactly that, applied
    data = spec.model_dump(mode="json")
    data["topics"][0]["subscriptions"] = [
        {"protocol": "https", "endpoint": "https://hooks.example.com/releases"},
        {"protocol": "email", "endpoint": "release-notes@example.com"},
    ]
    changed = parse_spec(data)
    items = [i for i in plan(changed, ctx, drivers(changed, ctx)).items if i.action != "unchanged"]
    assert [(i.kind, [c.field for c in i.changes]) for i in items] == [("topic", ["subscriptions"])]
    apply_all(changed, ctx, "exec-3", drivers(changed, ctx))
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted(s["Endpoint"] for s in subs) == [
        "https://hooks.example.com/releases",
        "release-notes@example.com",
    ]
    result = undo(changed, ctx, "exec-1", drivers(changed, ctx))
    assert "topic:ecs-service-releases" in result.deleted and not result.failed
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [alarm_topic]


def test_an_smtp_user_gets_its_key_straight_into_a_secret(
    aws_managed_policies: None, drivers: Any
) -> None:
    rotation = log_shipper()  # any function: rotation is configured, not run, here
    ctx = Context(account=ACCOUNT, region=REGION, rotation_function_arn=rotation,
                  rotated_secret_prefix="opswire/rotated/",
                  rotated_iam_user_path="/opswire-rotated/",
                  allowed_managed_policies=("AWSElasticBeanstalkWebTier",))  # fmt: skip
    spec = example("beanstalk-mail-app")
    first = plan(spec, ctx, drivers(spec, ctx))
    created = applied_twice(spec, drivers, ctx)
    assert "user:beanstalk-mail-app-smtp" in created
    iam = boto3.client("iam", region_name=REGION)
    # the rotated key's user is where the rotation function may rotate keys, the role is not
    user = iam.get_user(UserName="beanstalk-mail-app-smtp")["User"]
    assert user["Path"] == "/opswire-rotated/beanstalk-mail-app/"
    assert iam.get_role(RoleName="beanstalk-mail-app-web")["Role"]["Path"] == (
        "/opswire/beanstalk-mail-app/"
    )
    sm = boto3.client("secretsmanager", region_name=REGION)
    keys = iam.list_access_keys(UserName="beanstalk-mail-app-smtp")["AccessKeyMetadata"]
    assert len(keys) == 1
    name = "opswire/rotated/beanstalk-mail-app/smtp"
    value = json.loads(
        sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert value["kind"] == "iam-access-key" and value["user_name"] == "beanstalk-mail-app-smtp"
    assert value["access_key_id"] == keys[0]["AccessKeyId"]
    described = sm.describe_secret(SecretId=name)
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 90
    assert described["RotationLambdaARN"] == rotation
    # the key's secret part is in the secret only: not in the plan, not in apply's results
    again = plan(spec, ctx, drivers(spec, ctx))
    for text in (first.model_dump_json(), again.model_dump_json()):
        assert value["secret_access_key"] not in text and value["access_key_id"] not in text
    attached = iam.list_attached_user_policies(UserName="beanstalk-mail-app-smtp")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["beanstalk-mail-app-send"]

    # the user is the spec's on its path: dropped from the spec, plan would delete it
    empty = parse_spec({"name": "beanstalk-mail-app"})
    would = [i.name for i in plan(empty, ctx, drivers(empty, ctx)).items]
    assert would == ["beanstalk-mail-app-send", "beanstalk-mail-app-web", "beanstalk-mail-app-smtp"]

    result = undo(spec, ctx, "exec-1", drivers(spec, ctx))
    assert "user:beanstalk-mail-app-smtp" in result.deleted and not result.failed
    assert iam.list_users()["Users"] == []
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=name)


def rotated_ctx() -> Context:
    """The default RotatedIamUserPath, and a function in moto as the rotation function."""
    return Context(account=ACCOUNT, region=REGION, rotation_function_arn=log_shipper(),
                   rotated_iam_user_path="/opswire-rotated/")  # fmt: skip


def mail_spec(**rotation_days: int | None) -> ProjectSpec:
    """Spec "mail" with one user per keyword (``mail_smtp=30`` -> user ``mail-smtp``, its key
    rotated every 30 days; None: not rotated)."""
    users = []
    for name, days in rotation_days.items():
        user = name.replace("_", "-")
        key: dict[str, Any] = {"secret": f"opswire/rotated/mail/{user}"}
        users.append(
            {"name": user, "access_key": {**key, **({"rotation_days": days} if days else {})}}
        )
    return parse_spec({"name": "mail", "users": users})


def test_turning_a_users_key_rotation_on_or_off_is_refused_at_plan(drivers: Any) -> None:
    """The user's path follows the rotation (``user_path``): opswire does not move users."""
    iam = boto3.client("iam", region_name=REGION)
    ctx = rotated_ctx()
    spec = mail_spec(mail_smtp=None, mail_relay=30)
    apply_all(spec, ctx, "exec-1", drivers(spec, ctx))
    paths = {u["UserName"]: u["Path"] for u in iam.list_users()["Users"]}
    assert paths == {"mail-smtp": "/opswire/mail/", "mail-relay": "/opswire-rotated/mail/"}
    flipped = mail_spec(mail_smtp=30, mail_relay=None)
    with pytest.raises(SpecValidationError) as caught:
        plan(flipped, ctx, drivers(flipped, ctx))
    assert caught.value.problems == [
        "users[mail-smtp]: the user is under '/opswire/mail/' and belongs under "
        "'/opswire-rotated/mail/' (a rotated key's user is under RotatedIamUserPath, another "
        "under /opswire/): opswire does not move users; move it yourself with `aws iam "
        "update-user --user-name mail-smtp --new-path /opswire-rotated/mail/` (its ARN "
        "changes), or remove it from the spec, apply, and add it back (a new key)",
        "users[mail-relay]: the user is under '/opswire-rotated/mail/' and belongs under "
        "'/opswire/mail/' (a rotated key's user is under RotatedIamUserPath, another "
        "under /opswire/): opswire does not move users; move it yourself with `aws iam "
        "update-user --user-name mail-relay --new-path /opswire/mail/` (its ARN "
        "changes), or remove it from the spec, apply, and add it back (a new key)",
    ]
    # moved by hand as the line says, the spec plans: only the rotation to configure
    tags = iam.list_user_tags(UserName="mail-smtp")["Tags"]
    iam.update_user(UserName="mail-smtp", NewPath="/opswire-rotated/mail/")
    iam.tag_user(UserName="mail-smtp", Tags=tags)  # IAM keeps them; moto loses them in a move
    rotated = mail_spec(mail_smtp=30, mail_relay=30)
    items = plan(rotated, ctx, drivers(rotated, ctx)).items
    assert [(i.name, i.action, [c.field for c in i.changes]) for i in items] == [
        ("mail-smtp", "update", ["rotation_days", "rotation_function"]),
        ("mail-relay", "unchanged", []),
    ]


def test_a_foreign_user_of_the_same_name_elsewhere_is_refused_at_plan(drivers: Any) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="mail-smtp", Path="/ci/")
    ctx = rotated_ctx()
    spec = mail_spec(mail_smtp=30)
    with pytest.raises(SpecValidationError) as caught:
        plan(spec, ctx, drivers(spec, ctx))
    assert caught.value.problems == [
        "users[mail-smtp]: a user of this name exists under '/ci/', not made by this spec (IAM "
        "user names are unique in the account): not taken over, choose another name"
    ]


def test_a_key_that_cannot_be_stored_is_deleted_again(drivers: Any) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="taken/smtp", SecretString="someone else's")
    user = {"name": "mail-smtp", "access_key": {"secret": "taken/smtp"}}
    spec = parse_spec({"name": "mail", "users": [user]})
    with pytest.raises(ProvisioningError, match="CreateUser mail-smtp failed"):
        apply_all(spec, CTX, "exec-1", drivers(spec))
    iam = boto3.client("iam", region_name=REGION)
    assert iam.list_users(PathPrefix="/opswire/")["Users"] == []  # removed by apply's cleanup
    assert sm.get_secret_value(SecretId="taken/smtp")["SecretString"] == "someone else's"


def test_a_queue_or_function_that_would_not_let_the_topic_deliver_is_refused_at_plan(
    drivers: Any,
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    lam = boto3.client("lambda", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="release-jobs")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:release-jobs"
    function = log_shipper()
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:releases"
    subscriptions = [{"protocol": "sqs", "endpoint": queue},
                     {"protocol": "lambda", "endpoint": function}]  # fmt: skip
    spec = parse_spec(
        {"name": "shop", "topics": [{"name": "releases", "subscriptions": subscriptions}]}
    )

    with pytest.raises(SpecValidationError) as refused:
        plan(spec, CTX, drivers(spec))
    lambda_line, sqs_line = refused.value.problems  # as SNS lists them: protocol:endpoint
    assert sqs_line.startswith(f"topics[releases].subscriptions: sqs {queue}: its queue policy")
    assert f'"Condition":{{"ArnEquals":{{"aws:SourceArn":"{topic}"}}}}' in sqs_line
    assert lambda_line.startswith(f"topics[releases].subscriptions: lambda {function}: the func")
    assert lambda_line.endswith(f"--principal sns.amazonaws.com --source-arn {topic})")
    assert boto3.client("sns", region_name=REGION).list_topics()["Topics"] == []

    # the owners add what the lines say: the plan goes through, apply subscribes, SNS delivers
    statement = json.loads(sqs_line.split("the queue policy: ", 1)[1].removesuffix(")"))
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    lam.add_permission(FunctionName=function, StatementId="sns-releases",
                       Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                       SourceArn=topic)  # fmt: skip
    assert applied_twice(spec, drivers) == ["topic:releases"]
    boto3.client("sns", region_name=REGION).publish(TopicArn=topic, Message="v1.2 released")
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(received[0]["Body"])["Message"] == "v1.2 released"

    # the permission removed later: posture (provision status) says so
    lam.remove_permission(FunctionName=function, StatementId="sns-releases")
    findings = [f.problem for f in verify(spec, CTX, drivers(spec))]
    assert len(findings) == 1 and findings[0].startswith("topics[releases].subscriptions: lambda")


def test_a_queue_of_another_account_or_a_missing_one_is_refused_at_plan(drivers: Any) -> None:
    theirs = f"arn:aws:sqs:{REGION}:210987654321:their-jobs"
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:no-such-queue"
    subscriptions = [{"protocol": "sqs", "endpoint": e} for e in (theirs, missing)]
    spec = parse_spec({"name": "shop", "topics": [{"name": "releases",
                                                   "subscriptions": subscriptions}]})  # fmt: skip
    with pytest.raises(SpecValidationError) as refused:
        plan(spec, CTX, drivers(spec))
    other, absent = refused.value.problems
    assert other == (
        f"topics[releases].subscriptions: sqs {theirs}: the queue is in account 210987654321, "
        f"not the topic's ({ACCOUNT}): a cross-account subscription is made (or confirmed) "
        "from the queue's account, which also lets the topic deliver there"
    )
    assert absent.startswith(
        f"topics[releases].subscriptions: sqs {missing}: the queue does not exist, so SNS"
    )
