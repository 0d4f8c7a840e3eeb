"""The embedded local platform: the whole stack of template.yaml on moto, in one process.

Everything is derived from the template: functions (code, handler, environment, DLQ), state
machines (definition with DefinitionSubstitutions), topics and their subscriptions, EventBridge
rules and schedules, HttpApi routes, CloudWatch Logs subscriptions, queues, tables, buckets and log
groups. ``LocalPlatform.send`` delivers one producer event the way AWS would and waits for all the
work it causes; the report lists executions, notifications, HTTP answers and errors.

``LocalPlatform`` composes the parts: ``stack.LocalStack`` creates the resources in moto,
``routing.Router`` delivers events to them, ``waits.Executions`` waits for the executions;
``moto_patches`` and
``lambda_runtime`` make moto behave as AWS does, ``sinks`` stands in for Slack and OpenSearch.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opswire_local import deploy_local, moto_beanstalk, secrets_rotation
from opswire_local.bindings import LogSubscription, Route, Rule
from opswire_local.clients import platform_session
from opswire_local.events import email_notification
from opswire_local.lambda_runtime import FunctionSpec, InProcessLambdaRuntime, install_moto_patch
from opswire_local.log_sink import LocalOpenSearch
from opswire_local.moto_patches import (
    atomic_dynamodb_writes,
    aws_test_environment,
    iam_user_permissions_boundaries,
    patch_sns_lambda_delivery,
    scale_step_functions_time,
    validate_definitions_at_first_start,
)
from opswire_local.options import PlatformOptions
from opswire_local.routing import Delivered, DeliveryError, Router
from opswire_local.sinks import LogSinkFile, SlackOutbox
from opswire_local.stack import LocalStack
from opswire_local.template import ACCOUNT_ID, REGION, Template
from opswire_local.waits import Executions


@dataclass
class DeliveryReport:
    """What one delivered event caused."""

    source: str
    event_file: str | None
    executions: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    http: dict[str, Any] | None = None
    invocation: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    # Documents the log shipper wrote to the local OpenSearch sink during this delivery.
    documents: list[dict[str, Any]] = field(default_factory=list)
    # What ended in a dead-letter queue or bucket during this delivery (Router.dead_letters).
    dead_letters: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error, nothing dead-lettered, and every execution succeeded or is parked in a Wait
        state (a reminder)."""
        return (
            not self.errors
            and not self.dead_letters
            and all(
                e["status"] == "SUCCEEDED" or (e["status"] == "RUNNING" and e.get("waiting_in"))
                for e in self.executions
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event_file": self.event_file,
            "executions": self.executions,
            "notifications": self.notifications,
            "http": self.http,
            "invocation": self.invocation,
            "errors": self.errors,
            "documents": self.documents,
            "dead_letters": self.dead_letters,
            "ok": self.ok,
        }


def combine(reports: list[DeliveryReport]) -> dict[str, Any]:
    """One JSON object for a whole ``local send`` (one or more events, in order)."""
    http = [r.http for r in reports if r.http is not None]
    return {
        "ok": all(r.ok for r in reports),
        "executions": [e for r in reports for e in r.executions],
        "notifications": [n for r in reports for n in r.notifications],
        "http": http[-1] if len(http) == 1 else (http or None),
        "invocations": [r.invocation for r in reports if r.invocation is not None],
        "errors": [e for r in reports for e in r.errors],
        "documents": [d for r in reports for d in r.documents],
        "dead_letters": [d for r in reports for d in r.dead_letters],
        "deliveries": [r.to_json() for r in reports],
    }


class LocalPlatform:
    """Start with ``with LocalPlatform(options) as platform:``; then ``platform.send(...)``."""

    def __init__(self, options: PlatformOptions) -> None:
        self.options = options
        self.template = Template.load(options.root / "template.yaml")
        self.outbox = SlackOutbox(options.state_path / "outbox.jsonl", options.forward_slack_to)
        self.log_sink = LogSinkFile(options.state_path / "opensearch-sink.ndjson")
        self.runtime = InProcessLambdaRuntime(
            {
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_DEV": "false",
            }
        )
        self.opensearch = LocalOpenSearch(self.log_sink.path)
        self.stack = LocalStack(
            options, self.template, self.runtime, self.outbox, self.opensearch.url
        )
        self.router = Router(self.stack, self.runtime)
        self.executions = Executions(
            self.stack.state_machines, options.time_scale, options.execution_timeout_seconds
        )
        self._exit_stack = contextlib.ExitStack()
        self._delivery_lock = threading.Lock()

    # ---- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> LocalPlatform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto import mock_aws

        _forget_process_caches()
        stack = self._exit_stack
        stack.enter_context(aws_test_environment(self.template.shared_environment()))
        stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        stack.enter_context(platform_session())
        stack.enter_context(install_moto_patch(self.runtime))
        stack.enter_context(patch_sns_lambda_delivery(self.invoke_async))
        stack.enter_context(
            scale_step_functions_time(self.options.time_scale, self.executions.notice)
        )
        stack.enter_context(atomic_dynamodb_writes())
        stack.enter_context(validate_definitions_at_first_start())
        stack.enter_context(iam_user_permissions_boundaries())
        stack.enter_context(self.executions.watch())
        stack.enter_context(secrets_rotation.rotation_semantics(self.emit_event))
        stack.enter_context(deploy_local.ecs_rollout_semantics())
        stack.enter_context(moto_beanstalk.beanstalk_semantics())
        stack.enter_context(self.opensearch)
        self.outbox.start()
        stack.callback(self.outbox.stop)
        self.stack.create()

    def stop(self) -> None:
        self._exit_stack.close()
        _forget_process_caches()

    # ---- what the stack holds (opswire_local.stack) ---------------------------------------------
    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return self.stack.functions

    @property
    def state_machines(self) -> dict[str, str]:
        """Logical id -> ARN."""
        return self.stack.state_machines

    @property
    def topics(self) -> dict[str, str]:
        """Logical id -> ARN."""
        return self.stack.topics

    @property
    def tables(self) -> dict[str, str]:
        """Logical id -> table name."""
        return self.stack.tables

    @property
    def rules(self) -> list[Rule]:
        return self.stack.rules

    @property
    def routes(self) -> list[Route]:
        return self.stack.routes

    @property
    def log_subscriptions(self) -> list[LogSubscription]:
        return self.stack.log_subscriptions

    @property
    def not_emulated(self) -> list[str]:
        return self.stack.not_emulated

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions against the running stack (parameters, resources)."""
        return self.stack.resolve(value)

    # ---- delivery (opswire_local.routing) -------------------------------------------------------
    @property
    def async_errors(self) -> list[str]:
        """Failed invocations (after their retries), in order."""
        return self.router.async_errors

    def send(
        self,
        source: str,
        body: bytes | None,
        *,
        headers: dict[str, str] | None = None,
        event_file: str | None = None,
    ) -> DeliveryReport:
        """Deliver one producer event from ``source`` and wait for all resulting work.

        An execution that parks in a Wait state (a reminder later) counts as settled: it is
        reported as RUNNING with ``waiting_in``, and what it does when it wakes up shows in the
        report of the delivery (or ``wait``) during which that happens."""
        with self._delivery_lock:
            return self._observe(
                DeliveryReport(source=source, event_file=event_file),
                lambda: self.router.deliver(source, body, headers or {}),
            )

    def wait(self, seconds: float) -> DeliveryReport:
        """Let ``seconds`` of real time pass (timers fire) and report what happened."""
        with self._delivery_lock:
            return self._observe(
                DeliveryReport(source=f"wait {seconds:g}s", event_file=None),
                lambda: time.sleep(seconds),
            )

    def invoke_async(self, function_name: str, event: Any) -> Any:
        """Asynchronous invocation: retried as configured, then sent to the function's DLQ.
        Returns the handler's result (None when every attempt failed)."""
        return self.router.invoke_async(function_name, event)

    def emit_event(self, event: dict[str, Any]) -> None:
        """An AWS service puts ``event`` on the default bus: the template's rules get it."""
        self.router.put_event(event)

    def _observe(
        self, report: DeliveryReport, action: Callable[[], Delivered | None]
    ) -> DeliveryReport:
        slack_mark = len(self.outbox.messages)
        email_mark = len(self._ses_sent_messages())
        error_mark = len(self.async_errors)
        dead_letter_mark = len(self.router.dead_letters)
        sink_mark = self.log_sink.size()
        try:
            delivered = action()
        except DeliveryError as exc:
            report.errors.append(str(exc))
        else:
            if delivered is not None:
                report.http, report.invocation = delivered.http, delivered.invocation
        report.executions = self.executions.settle(report.errors)
        emails = [email_notification(m) for m in self._ses_sent_messages()[email_mark:]]
        report.notifications = self.outbox.messages[slack_mark:] + emails
        report.errors.extend(self.async_errors[error_mark:])
        report.dead_letters = self.router.dead_letters[dead_letter_mark:]
        report.documents = self.log_sink.documents_since(sink_mark)
        return report

    # ---- reading back ---------------------------------------------------------------------------
    @property
    def log_sink_path(self) -> Path:
        """What ShipLogsFunction sent to the local OpenSearch, as ``_bulk`` NDJSON."""
        return self.log_sink.path

    def _sent_emails(self) -> list[dict[str, Any]]:
        return [email_notification(message) for message in self._ses_sent_messages()]

    def _ses_sent_messages(self) -> list[Any]:
        """What moto's SES sent, in order (parsed by ``email_notification`` only when reported:
        parsing every sent message at every delivery grew with the square of the messages)."""
        from moto.ses.models import ses_backends

        return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)

    def describe(self) -> dict[str, Any]:
        """What the running platform serves (printed by ``opswire local up``)."""
        return {
            "functions": {k: v.name for k, v in self.functions.items()},
            "state_machines": dict(self.state_machines),
            "topics": dict(self.topics),
            "tables": dict(self.tables),
            "rules": [
                {"rule": r.logical_id, "schedule": r.schedule, "pattern": r.pattern}
                for r in self.rules
            ],
            "routes": [f"{r.method} {r.path}" for r in self.routes],
            "log_subscriptions": [s.log_group for s in self.log_subscriptions],
            "not_emulated": self.not_emulated,
            "slack_outbox": str(self.outbox.webhook_url),
        }


def _forget_process_caches() -> None:
    """Cached settings, the functions' clients and secrets belong to one stack: forget them
    between stacks (the platform's own clients serve every stack: ``opswire_local.clients``)."""
    from aws_lambda_powertools.utilities import parameters

    from opswire.core.reset import forget_stack_caches

    forget_stack_caches()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
