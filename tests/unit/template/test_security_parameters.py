"""The AllowedPattern of the issue 13 parameters (template.yaml): what CloudFormation lets an
operator deploy. PublicApiLimits is RATE,BURST,RESERVED; AlarmLogGroupArns is up to 10 log group
ARNs, never a wildcard (the notifiers' IAM is built from it)."""

import re

import pytest

from opswire.alarms.log_excerpt import allowed_log_groups
from opswire_local.template import load_template
from tests.conftest import REPO_ROOT

PARAMETERS = load_template(REPO_ROOT / "template.yaml")["Parameters"]
ARN = "arn:aws:logs:eu-west-1:123456789012:log-group:"


def accepts(parameter: str, value: str) -> bool:
    return re.fullmatch(PARAMETERS[parameter]["AllowedPattern"], value) is not None


def test_the_defaults_are_accepted_and_reserve_nothing() -> None:
    assert accepts("PublicApiLimits", PARAMETERS["PublicApiLimits"]["Default"])
    assert PARAMETERS["PublicApiLimits"]["Default"].split(",")[2] == "0"
    assert accepts("AlarmLogGroupArns", PARAMETERS["AlarmLogGroupArns"]["Default"])
    assert PARAMETERS["AlarmLogGroupArns"]["Default"] == ""


@pytest.mark.parametrize("value", ["10,20,0", "1,1,1", "500,1000,25", "99999,99999,9999"])
def test_public_api_limits_accepted(value: str) -> None:
    assert accepts("PublicApiLimits", value)


@pytest.mark.parametrize(
    "value",
    ["", "0,20,0", "10,0,0", "10,20", "10,20,0,1", "10, 20, 0", "a,b,c", "1.5,2,0", "-1,2,0"],
)
def test_public_api_limits_refused(value: str) -> None:
    assert not accepts("PublicApiLimits", value)


@pytest.mark.parametrize(
    "value",
    [
        f"{ARN}/aws/lambda/orders-api",
        ",".join(f"{ARN}/ecs/app-{i}" for i in range(10)),
        "arn:aws-cn:logs:cn-north-1:123456789012:log-group:API-Gateway-Execution-Logs_abc/prod",
    ],
)
def test_log_group_arns_accepted_and_read_back_by_the_code(value: str) -> None:
    assert accepts("AlarmLogGroupArns", value)
    assert len(allowed_log_groups(value)) == value.count(",") + 1


@pytest.mark.parametrize(
    "value",
    [
        f"{ARN}*",
        f"{ARN}/aws/lambda/*",
        f"{ARN}/aws/lambda/orders-api:*",
        f"{ARN}/app:log-stream:one",
        "/aws/lambda/orders-api",
        f"{ARN}/a, {ARN}/b",
        ",".join(f"{ARN}/ecs/app-{i}" for i in range(11)),
        "arn:aws:s3:::bucket",
    ],
)
def test_log_group_arns_refused(value: str) -> None:
    assert not accepts("AlarmLogGroupArns", value)
