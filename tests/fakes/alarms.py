"""Fakes of the alarm workflow's ports: the incident table (as the workflow, the delivery and
the acknowledgement see it), the idempotency store, the workflow starter and the log reader."""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from opswire.alarms.acknowledgement import Acknowledger
from opswire.alarms.delivery import Once
from opswire.alarms.intake import WorkflowStarter
from opswire.alarms.log_excerpt import LogsReader
from opswire.alarms.models.incident import Incident, Silence
from opswire.alarms.workflow import IncidentRepository
from opswire.core.errors import IncidentConflictError, IncidentNotFoundError, OpswireError


class FakeIncidents(IncidentRepository):
    """The incident table holding one incident: reads are recorded (and fail with ``error``),
    updates are conditional, with an optional concurrent writer (``before_next_write``)."""

    def __init__(self, incident: Incident | None = None, error: Exception | None = None) -> None:
        self.incident = incident
        self.error = error
        self.reads: list[str] = []
        self.writes = 0
        self.before_next_write: Callable[[Incident], Incident] | None = None

    def get_incident(self, key: str) -> Incident | None:
        self.reads.append(key)
        if self.error is not None:
            raise self.error
        return self.incident

    def update_incident(
        self, key: str, change: Callable[[Incident], Incident | None]
    ) -> Incident | None:
        for _attempt in range(5):
            current = self.incident
            if current is None or current.key != key:
                return None
            changed = change(current)
            if changed is None:
                return None
            if self.before_next_write is not None:  # someone else writes first
                self.incident, self.before_next_write = self.before_next_write(current), None
                continue
            self.writes += 1
            self.incident = changed.model_copy(update={"version": changed.version + 1})
            return self.incident
        raise IncidentConflictError(key)

    def save_incident(self, incident: Incident) -> Incident:
        raise NotImplementedError

    def list_silences(self) -> list[Silence]:
        return []


class FakeAcknowledger(Acknowledger):
    """IncidentStore.acknowledge semantics: the episode must exist; a second call keeps the
    first acknowledgement."""

    def __init__(self, incidents: list[Incident]) -> None:
        self.incidents = {i.incident_id: i for i in incidents}
        self.calls: list[tuple[str, str]] = []

    def acknowledge(self, incident_id: str, by: str, at: datetime) -> Incident:
        self.calls.append((incident_id, by))
        incident = self.incidents.get(incident_id)
        if incident is None:
            raise IncidentNotFoundError(f"incident {incident_id} does not exist")
        if incident.acknowledged_at is None:
            incident = incident.model_copy(update={"acknowledged_by": by, "acknowledged_at": at})
            self.incidents[incident_id] = incident
        return incident


class FakeOnce(Once):
    """Powertools idempotency semantics in memory: a completed key returns its stored result;
    a failed call stores nothing."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def run(self, key: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        name = json.dumps(key, sort_keys=True)
        if name not in self.results:
            self.calls += 1
            self.results[name] = call()
        return self.results[name]


class FakeWorkflowStarter(WorkflowStarter):
    """Records what would be started; answers with an ARN derived from the name."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.started.append((name, payload))
        return f"arn:aws:states:eu-west-1:123456789012:execution:alarm-handling:{name}"


class FakeLogsReader(LogsReader):
    """One metric filter (``found``) over ``messages``; ``error`` is raised by the call named
    in ``fail_on``. Every call is recorded with its arguments."""

    def __init__(
        self,
        found: tuple[str, str] | None = ("/aws/lambda/orders", '{ $.level = "ERROR" }'),
        messages: list[str] | None = None,
        error: OpswireError | None = None,
        fail_on: str = "",
    ) -> None:
        self.found = found
        self.messages = messages if messages is not None else [f"line {i}" for i in range(12)]
        self.error = error
        self.fail_on = fail_on
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def metric_filter(
        self, namespace: str, metric_name: str, log_groups: Sequence[str]
    ) -> tuple[str, str] | None:
        self.calls.append(("metric_filter", (namespace, metric_name, tuple(log_groups))))
        if self.error is not None and self.fail_on == "metric_filter":
            raise self.error
        return self.found

    def matching_events(
        self, log_group: str, pattern: str, start_ms: int, end_ms: int, limit: int
    ) -> list[str]:
        self.calls.append(("matching_events", (log_group, pattern, start_ms, end_ms, limit)))
        if self.error is not None and self.fail_on == "matching_events":
            raise self.error
        return self.messages
