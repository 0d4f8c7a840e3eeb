"""The spec additions of issue 14 through the whole provisioning workflow on the local platform
(Step Functions in moto, our real handlers with the template's environment): four examples in
one account, each applied, re-applied as a no-op and verified; a user's access key only ever in
its secret."""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire.provisioning.resources import SPEC_TAG
from opswire.provisioning.spec import ProjectSpec, load_spec, parse_spec
from opswire_cli.provision_cli import (
    SpecTarget,
    approval_token,
    local_outputs,
    make_plan,
    outcome,
    posture,
    start_and_follow,
)
from opswire_local.platform import LocalPlatform
from opswire_local.template import ACCOUNT_ID, REGION, Template
from tests.conftest import REPO_ROOT
from tests.local.conftest import PlatformFactory

pytestmark = pytest.mark.local


def example(name: str) -> Any:
    return load_spec((Path(REPO_ROOT) / "examples" / f"{name}.yaml").read_text())


def test_oidc_key_policy_topic_and_routed_alarm_examples_apply_in_one_account(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform()
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    sfn = target.session.client("stepfunctions")
    machine = platform.state_machines["ProvisioningStateMachine"]
    for name in ("github-container-app", "terraform-state", "ecs-service", "beanstalk-mail-app"):
        spec = example(name)
        result = start_and_follow(sfn, machine, spec, 90, approve=False, name=f"{name}-1")
        assert result["status"] == "SUCCEEDED", (name, result)
        assert result["applied"] and {r["action"] for r in result["applied"]} == {"create"}
        assert not make_plan(target, spec).has_changes, name
        again = start_and_follow(sfn, machine, spec, 90, approve=False, name=f"{name}-2")
        assert again["status"] == "SUCCEEDED" and again["applied"] == [], name
        assert posture(target, spec) == [], name
    iam = boto3.client("iam", region_name=REGION)
    # the stack's default parameters, as a plain `sam deploy`: the SMTP user (its key rotated)
    # is where the default RotatedIamUserPath lets the rotation function rotate its keys
    default = Template.load(Path(REPO_ROOT) / "template.yaml").parameter_defaults()
    assert target.outputs["RotatedIamUserPath"] == default["RotatedIamUserPath"]
    user = iam.get_user(UserName="beanstalk-mail-app-smtp")["User"]
    assert user["Path"] == f"{default['RotatedIamUserPath']}beanstalk-mail-app/"
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"].rsplit("/", 1)[1] for p in providers] == [
        "token.actions.githubusercontent.com"
    ]
    stack = target.outputs["ProvisioningManagedBy"]
    cw = boto3.client("cloudwatch", region_name=REGION)
    arn = cw.describe_alarms(AlarmNames=[f"{stack}/checkout-5xx"])["MetricAlarms"][0]["AlarmArn"]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert (tags["opswire:severity"], tags["opswire:route"]) == ("critical", "checkout")


def _run_capturing_keys(
    platform: LocalPlatform,
    spec: ProjectSpec,
    name: str,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    """Run the workflow on ``spec``; the result, the access keys the CreateSecret calls were
    given (captured by a botocore event handler: the handler runs in-process) and the
    execution's history with every notice sent since it started. ``meanwhile``: called while
    the execution waits for its approval (a prod spec), which is then given."""
    from opswire.core.aws import clear_client_cache
    from opswire.provisioning.aws.sdk import clear_provisioning_clients

    captured: list[str] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        captured.append(str(params.get("SecretString", "")))

    event = "provide-client-params.secrets-manager.CreateSecret"
    boto3._get_default_session().events.register(event, capture)
    clear_client_cache()
    clear_provisioning_clients()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = platform.state_machines["ProvisioningStateMachine"]
    mark = len(platform.outbox.messages)
    try:
        result = start_and_follow(sfn, machine, spec, 90, approve=False, name=name)
        if meanwhile is not None:
            assert result["status"] == "WAITING_FOR_APPROVAL", result
            meanwhile()
            token = approval_token(sfn, result["execution"])
            assert token is not None
            sfn.send_task_success(taskToken=token, output="{}")
            deadline = time.monotonic() + 60
            while sfn.describe_execution(executionArn=result["execution"])["status"] == "RUNNING":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            result = outcome(sfn, result["execution"])
    finally:
        boto3._get_default_session().events.unregister(event, capture)
    keys = [json.loads(text) for text in captured if "secret_access_key" in text]
    execution = next(
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]
        if e["name"] == name
    )
    history = json.dumps(
        sfn.get_execution_history(executionArn=execution, maxResults=1000), default=str
    )
    notices = json.dumps(platform.outbox.messages[mark:], default=str) + json.dumps(
        platform._sent_emails(), default=str
    )
    return result, keys, history + notices


def test_a_users_access_key_is_in_its_secret_and_never_in_the_execution_history_or_notices(
    start_platform: PlatformFactory,
) -> None:
    """The user is created inside the stack's permissions boundary (the local platform keeps
    users' boundaries as AWS does), its key goes straight into the secret, and the run's
    history, notices and result hold neither part of the key."""
    platform = start_platform()
    user = {"name": "mail-smtp", "access_key": {"secret": "opswire/rotated/mail/smtp"}}
    result, keys, seen = _run_capturing_keys(
        platform, parse_spec({"name": "mail", "users": [user]}), "mail-1"
    )
    assert result["status"] == "SUCCEEDED", result
    assert len(keys) == 1 and keys[0]["user_name"] == "mail-smtp"
    for text in (seen, json.dumps(result)):
        assert keys[0]["secret_access_key"] not in text
        assert keys[0]["access_key_id"] not in text
    # the history was read, and it holds the user's apply (JSON within the history's JSON)
    assert '\\"kind\\": \\"user\\", \\"name\\": \\"mail-smtp\\"' in seen
    sm = boto3.client("secretsmanager", region_name=REGION)
    stored = sm.get_secret_value(SecretId="opswire/rotated/mail/smtp", VersionStage="AWSCURRENT")
    assert json.loads(stored["SecretString"]) == keys[0]
    iam = boto3.client("iam", region_name=REGION)
    boundary = local_outputs(platform)["ProvisioningPermissionsBoundaryArn"]
    got = iam.get_user(UserName="mail-smtp")["User"]["PermissionsBoundary"]
    assert got == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                   "PermissionsBoundaryArn": boundary}  # fmt: skip


def test_a_user_applied_then_undone_leaves_its_key_nowhere(
    start_platform: PlatformFactory,
) -> None:
    """prod: the workflow waits for approval after planning; meanwhile someone else creates a
    topic of the spec's name. Apply creates the user and its key's secret, then fails at the
    topic, and undo deletes the user and the secret. The history then holds apply and undo of
    the user, the notices the failure: the key is in none of them."""
    platform = start_platform()
    sns = boto3.client("sns", region_name=REGION)
    user = {"name": "mail-smtp", "access_key": {"secret": "opswire/rotated/mail/smtp"}}
    spec = parse_spec(
        {"name": "mail", "environment": "prod", "users": [user], "topics": [{"name": "mail-out"}]}
    )
    result, keys, seen = _run_capturing_keys(
        platform,
        spec,
        "mail-1",
        lambda: sns.create_topic(Name="mail-out", Tags=[{"Key": SPEC_TAG, "Value": "else"}]),
    )
    assert result["status"] == "FAILED" and result["error"] == "ResourceConflictError", result
    assert sorted(result["undone"]["deleted"]) == ["user:mail-smtp"]
    assert len(keys) == 1 and keys[0]["user_name"] == "mail-smtp"
    for text in (seen, json.dumps(result)):
        assert keys[0]["secret_access_key"] not in text
        assert keys[0]["access_key_id"] not in text
    iam = boto3.client("iam", region_name=REGION)
    assert iam.list_users(PathPrefix="/opswire/")["Users"] == []  # undone
    sm = boto3.client("secretsmanager", region_name=REGION)
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId="opswire/rotated/mail/smtp")


def _platform(start_platform: PlatformFactory) -> tuple[SpecTarget, Any, str]:
    platform = start_platform()
    target = SpecTarget(boto3.Session(region_name=REGION), local_outputs(platform), ACCOUNT_ID)
    machine = platform.state_machines["ProvisioningStateMachine"]
    return target, target.session.client("stepfunctions"), machine


def test_a_tag_the_spec_stops_setting_is_removed_through_the_workflow(
    start_platform: PlatformFactory,
) -> None:
    target, sfn, machine = _platform(start_platform)
    document = {"name": "shop", "tags": {"team": "shop", "stage": "beta"},
                "ecr_repositories": [{"name": "shop/api"}],
                "log_groups": [{"name": "/shop/api", "retention_days": 7}],
                "topics": [{"name": "shop-releases"}]}  # fmt: skip
    first = start_and_follow(sfn, machine, parse_spec(document), 90, approve=False, name="t-1")
    assert first["status"] == "SUCCEEDED", first
    fewer = parse_spec({**document, "tags": {"team": "shop"}})
    planned = make_plan(target, fewer)
    assert {(i.kind, c.field, json.dumps(c.desired)) for i in planned.items for c in i.changes} == {
        (kind, "tags", '{"stage": null}') for kind in ("ecr_repository", "log_group", "topic")
    }
    # an update waits for approval; approved, it untags through the write function's role
    second = start_and_follow(sfn, machine, fewer, 90, approve=True, name="t-2")
    assert second["status"] == "SUCCEEDED", second
    assert {r["action"] for r in second["applied"]} == {"update"}
    ecr = boto3.client("ecr", region_name=REGION)
    arn = ecr.describe_repositories(repositoryNames=["shop/api"])["repositories"][0]
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(
        resourceArn=arn["repositoryArn"])["tags"]}  # fmt: skip
    assert "stage" not in tags and tags["team"] == "shop" and tags["opswire:execution"] == "t-1"
    assert not make_plan(target, fewer).has_changes
    assert posture(target, fewer) == []


def test_a_topic_subscribing_a_queue_is_refused_until_the_queue_lets_it_deliver(
    start_platform: PlatformFactory,
) -> None:
    target, sfn, machine = _platform(start_platform)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="shop-release-jobs")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:shop-release-jobs"
    topic = {"name": "shop-releases", "subscriptions": [{"protocol": "sqs", "endpoint": queue}]}
    spec = parse_spec({"name": "shop", "topics": [topic]})

    refused = start_and_follow(sfn, machine, spec, 60, approve=False, name="q-1")
    assert (refused["status"], refused["error"]) == ("FAILED", "SpecValidationError"), refused
    [line] = refused["problems"]
    assert line.startswith(f"topics[shop-releases].subscriptions: sqs {queue}: its queue policy")
    topics = boto3.client("sns", region_name=REGION).list_topics()["Topics"]
    assert not [t for t in topics if t["TopicArn"].endswith(":shop-releases")]  # nothing made

    statement = json.loads(line.split("the queue policy: ", 1)[1].removesuffix(")"))
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    applied = start_and_follow(sfn, machine, spec, 60, approve=False, name="q-2")
    assert applied["status"] == "SUCCEEDED", applied
    assert posture(target, spec) == []
    sns = boto3.client("sns", region_name=REGION)
    sns.publish(TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:shop-releases", Message="v2")
    body = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"]
    assert json.loads(body)["Message"] == "v2"
