"""Which Wait states park an execution: a short polling Wait does not.

The local platform reports executions parked in a Wait state as settled (a reminder an hour
later). Short polling loops (the deployment workflow waits a few seconds between ECS checks)
would be caught in a Wait at every look; ``due_soon`` tells those apart by the Wait's
duration in the template's seconds (Seconds, SecondsPath, Timestamp, TimestampPath).

``Executions`` watches the stack's state machines in moto: it waits until every execution has
ended or is parked, and reports the executions a delivery started or moved.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from opswire_local.clients import aws_client
from opswire_local.template import ACCOUNT_ID, REGION

SETTLE_FIRST_LOOK_SECONDS = 0.01
SETTLE_LAST_LOOK_SECONDS = 0.1
"""``settle`` looks after 10 ms, then 1.5x later each time, at most every 0.1 s; at once when an
execution ends or enters a Wait state (``notice``)."""
SETTLE_TOKEN_CONFIRM_SECONDS = 0.25
"""An execution parked on a task token is looked at once more after this pause before a report
ends: a SendTaskSuccess/Failure just made (an approval link, a button) resumes it within
milliseconds, but moto's history shows it only once its thread has run."""

POLL_SECONDS = 60
"""Waits shorter than this (in template seconds, before scaling) are polling loops: an
execution in one is still running. Longer ones (a reminder, minutes or hours) park it."""


def _path(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def wake_up_in(
    definition: dict[str, Any],
    state: str,
    state_input: str,
    entered: datetime,
    scale: float,
    now: datetime,
) -> float | None:
    """Real seconds until the Wait ``state`` entered at ``entered`` ends; None if unknown."""
    spec = (definition.get("States") or {}).get(state) or {}
    try:
        document = json.loads(state_input) if state_input else {}
    except ValueError:
        return None
    seconds: Any = spec.get("Seconds")
    if seconds is None and "SecondsPath" in spec:
        seconds = _path(document, spec["SecondsPath"])
    if seconds is None:
        stamp = spec.get("Timestamp")
        if stamp is None and "TimestampPath" in spec:
            stamp = _path(document, spec["TimestampPath"])
        if not isinstance(stamp, str):
            return None
        try:
            seconds = (
                datetime.fromisoformat(stamp.replace("Z", "+00:00")) - entered
            ).total_seconds()
        except ValueError:
            return None
    if not isinstance(seconds, int | float) or seconds >= POLL_SECONDS:
        return None
    return max(0.0, float(seconds) * scale - (now - entered).total_seconds())


def due_soon(
    definition: dict[str, Any],
    state: str,
    state_input: str,
    entered: datetime,
    scale: float,
    now: datetime,
) -> bool:
    return wake_up_in(definition, state, state_input, entered, scale, now) is not None


def waits_for_task_token(event: Any) -> bool:
    """The last history event of an execution parked in a ``.waitForTaskToken`` task."""
    details = event.get("taskSubmittedEventDetails") or {}
    return bool(
        event.get("type") == "TaskSubmitted"
        and str(details.get("resource", "")).endswith(".waitForTaskToken")
    )


def task_state_name(history: list[Any]) -> str:
    entered = [e for e in history if e.get("type") == "TaskStateEntered"]
    if not entered:
        return "task token"
    last = max(entered, key=lambda e: e["id"])
    return f"{last['stateEnteredEventDetails']['name']} (task token)"


class Executions:
    """The executions of the stack's state machines (``state_machines``: logical id -> ARN, as
    the stack fills it while it is created)."""

    def __init__(
        self, state_machines: Mapping[str, str], time_scale: float, timeout_seconds: float
    ) -> None:
        self.state_machines = state_machines
        self.time_scale = time_scale
        self.timeout_seconds = timeout_seconds
        # Execution ARN -> status as the last report saw them: what moves between two reports
        # (a reminder that fires while a test reads the outbox) belongs to the next one.
        self._seen: dict[str, str] = {}
        # Set when an execution ends (``watch``): ``settle`` looks again at once instead of
        # sleeping out its interval.
        self._ended = threading.Event()
        self._definitions: dict[str, dict[str, Any]] = {}  # state machine ARN -> definition

    def notice(self) -> None:
        """Something settled may have changed (an execution entered a Wait state)."""
        self._ended.set()

    def watch(self) -> contextlib.AbstractContextManager[Any]:
        """While open, every execution that ends in moto wakes ``settle`` up."""
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        original = BaseExecutionWorkerCommunication.terminated
        ended = self._ended

        def terminated(communication: Any) -> None:
            original(communication)
            ended.set()

        return mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated)

    def current(self) -> list[dict[str, Any]]:
        """Every execution of the stack's state machines, as ListExecutions lists it."""
        sfn = aws_client("stepfunctions")
        executions: list[dict[str, Any]] = []
        for arn in self.state_machines.values():
            paginator = sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=arn):
                executions.extend(dict(item) for item in page["executions"])
        return executions

    def settle(self, errors: list[str]) -> list[dict[str, Any]]:
        """Wait until every execution is finished or parked in a Wait state; report those that
        are new or moved (woke up, finished) since the last report. A timeout is appended to
        ``errors``."""
        deadline = time.monotonic() + self.timeout_seconds
        interval = SETTLE_FIRST_LOOK_SECONDS
        confirmed = False
        while True:
            self._ended.clear()
            parked = [
                self._parked_in(machine_arn, history)
                for machine_arn, history in self._running_in_moto()
            ]
            if all(parked):
                if confirmed or not any(p and p.endswith("(task token)") for p in parked):
                    break
                confirmed = True
                self._ended.wait(SETTLE_TOKEN_CONFIRM_SECONDS)
                continue
            if time.monotonic() > deadline:
                errors.append(f"executions still running after {self.timeout_seconds}s")
                break
            # Each look reads every execution's history through moto (and takes the interpreter
            # lock from the executions): look again when one ends, else less and less often.
            self._ended.wait(interval)
            interval = min(interval * 1.5, SETTLE_LAST_LOOK_SECONDS)
        executions = self.current()
        moved = [
            execution
            for execution in sorted(executions, key=lambda e: e["startDate"])
            if _moved(self._seen.get(execution["executionArn"]), execution["status"])
        ]
        self._seen = {e["executionArn"]: e["status"] for e in executions}
        return self._report(moved)

    def _report(self, executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sfn = aws_client("stepfunctions")
        machines = {arn: logical_id for logical_id, arn in self.state_machines.items()}
        return [self._describe(sfn, machines, execution) for execution in executions]

    def _describe(
        self, sfn: Any, machines: dict[str, str], execution: dict[str, Any]
    ) -> dict[str, Any]:
        arn = execution["executionArn"]
        described = sfn.describe_execution(executionArn=arn)
        result: dict[str, Any] = {
            "state_machine": machines.get(described["stateMachineArn"], "?"),
            "name": execution.get("name") or arn.rsplit(":", 1)[-1],
            "status": described["status"],
        }
        if "output" in described:
            result["output"] = json.loads(described["output"])
        if described["status"] == "RUNNING":
            result["waiting_in"] = self.waiting_in(arn)
        elif described["status"] != "SUCCEEDED":
            result["error"] = described.get("error")
            result["cause"] = described.get("cause")
        return result

    def waiting_in(self, execution_arn: str) -> str | None:
        """The Wait state (or token task) an execution is parked in, if it is."""
        execution = _moto_backend().describe_execution(execution_arn)
        return self._parked_in(execution.state_machine_arn, _history_in_moto(execution))

    def _running_in_moto(self) -> list[tuple[str, list[Any]]]:
        """(state machine ARN, history) of each running execution of the stack, read from
        moto's backend in this process: GetExecutionHistory deep-copies a history at every
        call, and ``settle`` looks many times per delivery (it was half of a delivery's CPU)."""
        backend = _moto_backend()
        running: list[tuple[str, list[Any]]] = []
        for machine_arn in list(self.state_machines.values()):
            for execution in list(backend.describe_state_machine(machine_arn).executions):
                status = getattr(execution.exec_status, "value", execution.exec_status)
                if status in (None, "RUNNING"):
                    running.append((machine_arn, _history_in_moto(execution)))
        return running

    def _parked_in(self, machine_arn: str, history: list[Any]) -> str | None:
        """The state an execution with ``history`` is parked in: a long Wait, or a task that
        waits for its token; None while it is running."""
        last = max(history, key=lambda event: event["id"]) if history else None
        if last is not None and waits_for_task_token(last):
            return task_state_name(history)  # parked until SendTaskSuccess/Failure
        if last is None or last["type"] != "WaitStateEntered":
            return None
        details = last["stateEnteredEventDetails"]
        if due_soon(
            self._definition(machine_arn),
            str(details["name"]),
            str(details.get("input") or ""),
            _event_time(last["timestamp"]),
            self.time_scale,
            datetime.now(UTC),
        ):
            return None  # a short polling Wait (deployments): still running
        return str(details["name"])

    def _definition(self, machine_arn: str) -> dict[str, Any]:
        definition = self._definitions.get(machine_arn)
        if definition is None:
            described = aws_client("stepfunctions").describe_state_machine(
                stateMachineArn=machine_arn
            )
            definition = self._definitions[machine_arn] = json.loads(described["definition"])
        return definition


def _event_time(timestamp: str) -> datetime:
    """A history event's time as moto keeps it (an ISO string, UTC)."""
    return datetime.fromisoformat(timestamp).replace(tzinfo=UTC)


def _moto_backend() -> Any:
    """moto's Step Functions backend of the local account, in this process."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[ACCOUNT_ID][REGION]


def _history_in_moto(execution: Any) -> list[Any]:
    """The events of a moto execution so far (a shallow copy: events are not changed once
    published); empty before its worker started."""
    worker = execution.exec_worker
    environment = worker.env if worker is not None else None
    if environment is None:
        return []
    events = environment.event_manager
    with events._mutex:
        return list(events._history_event_list)


def _moved(before: str | None, now: str) -> bool:
    """New, or changed since: an execution that was (and is) parked or ended is not reported."""
    if before == now and now != "RUNNING":
        return False
    return not before == "RUNNING" == now  # parked before and still parked
