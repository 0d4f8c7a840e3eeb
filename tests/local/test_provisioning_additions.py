"""The spec additions of issue 14 through the whole provisioning workflow on the local platform
(Step Functions in moto, our real handlers with the template's environment): three examples in
one account, each applied, re-applied as a no-op and verified."""

from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire.provisioning.spec import load_spec
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
