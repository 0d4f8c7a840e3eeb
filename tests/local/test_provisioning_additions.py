"""The spec additions of issue 14 through the whole provisioning workflow on the local platform
(Step Functions in moto, our real handlers with the template's environment): three examples in
one account, each applied, re-applied as a no-op and verified."""

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire.provisioning.spec import load_spec, parse_spec
from opswire_cli.provision_cli import (
    SpecTarget,
    local_outputs,
    make_plan,
    posture,
    start_and_follow,
)
from opswire_local.template import ACCOUNT_ID, REGION
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
    for name in ("github-container-app", "terraform-state", "ecs-service"):
        spec = example(name)
        result = start_and_follow(sfn, machine, spec, 90, approve=False, name=f"{name}-1")
        assert result["status"] == "SUCCEEDED", (name, result)
        assert result["applied"] and {r["action"] for r in result["applied"]} == {"create"}
        assert not make_plan(target, spec).has_changes, name
        again = start_and_follow(sfn, machine, spec, 90, approve=False, name=f"{name}-2")
        assert again["status"] == "SUCCEEDED" and again["applied"] == [], name
        assert posture(target, spec) == [], name
    iam = boto3.client("iam", region_name=REGION)
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"].rsplit("/", 1)[1] for p in providers] == [
        "token.actions.githubusercontent.com"
    ]
    stack = target.outputs["ProvisioningManagedBy"]
    cw = boto3.client("cloudwatch", region_name=REGION)
    arn = cw.describe_alarms(AlarmNames=[f"{stack}/checkout-5xx"])["MetricAlarms"][0]["AlarmArn"]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert (tags["opswire:severity"], tags["opswire:route"]) == ("critical", "checkout")


def test_a_users_access_key_is_never_in_the_execution_history_or_the_notices(
    start_platform: PlatformFactory,
) -> None:
    """moto 5.2 keeps no permissions boundary on IAM users (CreateUser ignores it), so this run
    fails at verify and is undone: the history then holds apply, the posture finding and undo,
    and the key must be in none of them. The key is captured from the CreateSecret call itself
    (a botocore event handler: the handler runs in-process)."""
    from opswire.core.aws import clear_client_cache
    from opswire.provisioning.aws.sdk import clear_provisioning_clients

    captured: list[str] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        captured.append(str(params.get("SecretString", "")))

    platform = start_platform()
    boto3._get_default_session().events.register(
        "provide-client-params.secrets-manager.CreateSecret", capture
    )
    clear_client_cache()
    clear_provisioning_clients()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = platform.state_machines["ProvisioningStateMachine"]
    user = {"name": "mail-smtp", "access_key": {"secret": "opswire/rotated/mail/smtp"}}
    spec = parse_spec({"name": "mail", "users": [user]})
    mark = len(platform.outbox.messages)
    try:
        result = start_and_follow(sfn, machine, spec, 90, approve=False, name="mail-1")
    finally:
        boto3._get_default_session().events.unregister(
            "provide-client-params.secrets-manager.CreateSecret", capture
        )
    assert result["status"] == "FAILED" and "permissions boundary is none" in json.dumps(result)
    values = [json.loads(text) for text in captured if "secret_access_key" in text]
    assert len(values) == 1 and values[0]["user_name"] == "mail-smtp"
    execution = next(
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]
        if e["name"] == "mail-1"
    )
    history = json.dumps(
        sfn.get_execution_history(executionArn=execution, maxResults=1000), default=str
    )
    notices = json.dumps(platform.outbox.messages[mark:], default=str) + json.dumps(
        platform._sent_emails(), default=str
    )
    for text in (history, notices, json.dumps(result)):
        assert values[0]["secret_access_key"] not in text
        assert values[0]["access_key_id"] not in text
    assert "user:mail-smtp" in history  # the history was read, and it is about this user
    iam = boto3.client("iam", region_name=REGION)
    assert iam.list_users(PathPrefix="/opswire/")["Users"] == []  # undone
