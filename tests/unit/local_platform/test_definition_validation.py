"""The local platform validates a state machine's definition when an execution of it first
starts (moto's own check and answer), not at every CreateStateMachine."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from opswire_local.moto_patches import validate_definitions_at_first_start

ROLE = "arn:aws:iam::123456789012:role/states"
PASS = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
BROKEN = '{"StartAt": "A", "States": {"A": {"Type": "Nope", "End": true}}}'


@pytest.fixture
def sfn() -> Iterator[Any]:
    config = {"stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config), validate_definitions_at_first_start():  # type: ignore[arg-type]
        yield boto3.client(
            "stepfunctions", region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # fmt: skip


def test_a_broken_definition_is_refused_when_it_first_starts(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="broken", definition=BROKEN, roleArn=ROLE)[
        "stateMachineArn"
    ]
    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=arn)
    # moto's InvalidDefinition, as its CreateStateMachine answers it (400, the parser's message)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "ASLParserException" in refused.value.response["Error"]["Message"]
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_a_valid_definition_starts(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="fine", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    assert sfn.start_execution(stateMachineArn=arn)["executionArn"]
