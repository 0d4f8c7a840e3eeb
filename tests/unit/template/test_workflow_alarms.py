"""Every Step Functions workflow of the stack alarms to WorkflowFailureTopic when its executions
fail or are stopped (template.yaml)."""

from typing import Any

import pytest

from opswire_local.template import load_template
from tests.conftest import REPO_ROOT

TEMPLATE = load_template(REPO_ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STATE_MACHINES = sorted(
    name for name, r in RESOURCES.items() if r.get("Type") == "AWS::Serverless::StateMachine"
)


def alarmed_metrics(state_machine: str) -> set[str]:
    metrics = set()
    for resource in RESOURCES.values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        if properties.get("Namespace") != "AWS/States":
            continue
        dimensions = properties.get("Dimensions") or []
        if dimensions != [{"Name": "StateMachineArn", "Value": {"Ref": state_machine}}]:
            continue
        assert properties["AlarmActions"] == [{"Ref": "WorkflowFailureTopic"}]
        assert (properties["Threshold"], properties["ComparisonOperator"]) == (
            0,
            "GreaterThanThreshold",
        )
        assert properties["TreatMissingData"] == "notBreaching"
        assert "Condition" not in resource or resource["Condition"] in TEMPLATE["Conditions"]
        metrics.add(str(properties["MetricName"]))
    return metrics


@pytest.mark.parametrize("state_machine", STATE_MACHINES)
def test_failed_executions_alarm(state_machine: str) -> None:
    assert "ExecutionsFailed" in alarmed_metrics(state_machine)


@pytest.mark.parametrize("state_machine", ["DeploymentStateMachine", "ProvisioningStateMachine"])
def test_stopped_executions_alarm(state_machine: str) -> None:
    # A stopped deployment keeps its target locked; a stopped provisioning is not undone.
    assert "ExecutionsAborted" in alarmed_metrics(state_machine)
