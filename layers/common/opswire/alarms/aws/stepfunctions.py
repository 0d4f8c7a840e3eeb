"""Starting Step Functions executions, idempotently by execution name."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import sfn_client
from opswire.core.errors import PermanentError, RetryableError


class WorkflowStarter:
    def __init__(self, state_machine_arn: str) -> None:
        self._state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution called ``name``; a second start with the same name and input is
        answered by Step Functions with the first execution, so a redelivered event starts
        nothing new."""
        try:
            response = sfn_client().start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code == "ExecutionAlreadyExists":
                # Same name, different input: an earlier delivery already started this alarm.
                return f"{self._state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
            if code in {"ThrottlingException", "ServiceUnavailable", "InternalFailure"}:
                raise RetryableError(f"StartExecution failed: {code}") from exc
            raise PermanentError(f"StartExecution failed: {code}") from exc
        return response["executionArn"]
