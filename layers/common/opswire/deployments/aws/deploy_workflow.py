"""Step Functions for deployments: start by delivery id, resume an approval task."""

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opswire.core.aws import sfn_client
from opswire.core.errors import PermanentError, RetryableError

if TYPE_CHECKING:
    from opswire.deployments.webhook import DeployRequest

_RETRYABLE = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalFailure"})


class DeploymentWorkflow:
    def __init__(self, state_machine_arn: str) -> None:
        self._state_machine_arn = state_machine_arn

    def start(
        self, name: str, request: "DeployRequest", extra_input: dict[str, Any] | None = None
    ) -> bool:
        """Start execution ``name``; False when an execution of that name exists already."""
        arn = self._state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            sfn_client().describe_execution(executionArn=arn)
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise _translate(exc, "DescribeExecution") from exc
        try:
            sfn_client().start_execution(
                stateMachineArn=self._state_machine_arn,
                name=name,
                input=json.dumps(
                    {"request": request.model_dump(mode="json"), **(extra_input or {})}
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise _translate(exc, "StartExecution") from exc
        return True


class TaskTokens:
    def succeed(self, task_token: str, output: dict[str, Any]) -> bool:
        try:
            sfn_client().send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
                return False
            raise _translate(exc, "SendTaskSuccess") from exc
        return True


def _translate(exc: ClientError, what: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    if code in _RETRYABLE:
        return RetryableError(f"{what} failed: {code}")
    return PermanentError(f"{what} failed: {code}")
