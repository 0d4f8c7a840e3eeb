"""Event delivery on the local platform: how a producer's event reaches the stack's targets.

The stack (``opswire_local.stack``) registers the template's event sources: SNS subscriptions (in
moto), EventBridge rules and schedules (``Rule``), HttpApi routes (``Route``) and CloudWatch Logs
subscriptions (``LogSubscription``). ``Router.deliver`` takes one ``SOURCE`` and its event and
delivers it the way AWS would: a topic publish, a PutEvents matched against the rules, a schedule
firing, an HTTP request, a Logs delivery, or a direct invocation. Asynchronous invocations are
retried as configured, then go to the function's dead-letter queue; their failures are kept in
``async_errors``. What ended in a dead-letter queue or bucket is kept in ``dead_letters``: an event
sent to a function's DLQ, and any invocation whose result reports ``dead_lettered`` documents (the
log shipper's dead-letter bucket).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opswire_local.bindings import Rule
from opswire_local.clients import aws_client
from opswire_local.event_patterns import pattern_matches
from opswire_local.events import (
    cloudwatch_logs_event,
    eventbridge_event,
    http_api_event,
    http_api_response,
    rule_target_input,
    scheduled_event,
)

if TYPE_CHECKING:
    from opswire_local.lambda_runtime import InProcessLambdaRuntime
    from opswire_local.stack import LocalStack


class DeliveryError(Exception):
    """The SOURCE or event file cannot be delivered (unknown topic, rule, route, bad JSON...)."""


@dataclass
class Delivered:
    """What a delivery answers at once: the HTTP response, or the invoked function's result."""

    http: dict[str, Any] | None = None
    invocation: dict[str, Any] | None = None


SOURCES_HELP = (
    "use sns:<TopicLogicalId>, eventbridge, logs:<LogGroupName>, 'http:<METHOD> <path>', "
    "schedule:<RuleLogicalId> or function:<FunctionLogicalId>"
)


class Router:
    """Delivers producer events to the targets the ``stack`` registered."""

    def __init__(self, stack: LocalStack, runtime: InProcessLambdaRuntime) -> None:
        self.stack = stack
        self.runtime = runtime
        self.async_errors: list[str] = []
        """Failed invocations (after their retries), in order."""
        self.dead_letters: list[str] = []
        """What was dead-lettered (DLQ or dead-letter bucket), one line each, in order."""

    def deliver(self, source: str, body: bytes | None, headers: dict[str, str]) -> Delivered:
        """Deliver one event from ``source`` (``kind:name``); the work it starts goes on."""
        kind, _, name = source.partition(":")
        if kind == "sns":
            self.publish_sns(name, _require(body, source))
        elif kind == "eventbridge":
            self.put_event(_json_object(_require(body, source), source))
        elif kind == "schedule":
            self.fire_schedule(name)
        elif kind == "function":
            return Delivered(invocation=self.invoke_function(name, body))
        elif kind == "http":
            method, _, path = name.strip().partition(" ")
            return Delivered(
                http=self.http_request(method, path.strip() or "/", body or b"", headers)
            )
        elif kind == "logs":
            return Delivered(invocation=self.deliver_logs(name, _require(body, source)))
        else:
            raise DeliveryError(f"unknown SOURCE {source!r}: {SOURCES_HELP}")
        return Delivered()

    # ---- SNS and EventBridge --------------------------------------------------------------------
    def publish_sns(self, topic_logical_id: str, body: bytes) -> None:
        topics = self.stack.topics
        arn = topics.get(topic_logical_id)
        if arn is None:
            raise DeliveryError(
                f"no topic {topic_logical_id!r} in the template (topics: {sorted(topics)})"
            )
        aws_client("sns").publish(TopicArn=arn, Message=body.decode())

    def put_event(self, event: dict[str, Any]) -> None:
        """PutEvents on the default bus: every rule whose pattern matches fires."""
        for required in ("source", "detail-type", "detail"):
            if required not in event:
                raise DeliveryError(f"an EventBridge event needs {required!r}")
        full_event = eventbridge_event(event)
        for rule in self.stack.rules:
            if rule.pattern and pattern_matches(rule.pattern, full_event):
                self.fire_rule(rule, full_event)

    def fire_schedule(self, name: str) -> None:
        rules = self.stack.rules
        rule = next((r for r in rules if r.schedule and name in (r.logical_id, r.event_name)), None)
        if rule is None:
            schedules = [r.logical_id for r in rules if r.schedule]
            raise DeliveryError(f"no schedule {name!r} in the template (schedules: {schedules})")
        self.fire_rule(rule, scheduled_event(rule.arn))

    def fire_rule(self, rule: Rule, event: dict[str, Any]) -> None:
        target_input = rule_target_input(rule, event)
        if rule.target_kind == "statemachine":
            # EventBridge names its executions with a UUID.
            aws_client("stepfunctions").start_execution(
                stateMachineArn=rule.target, name=str(uuid.uuid4()), input=json.dumps(target_input)
            )
        else:
            self.invoke_async(rule.target, target_input)

    # ---- invocations ----------------------------------------------------------------------------
    def invoke_async(self, function_name: str, event: Any) -> Any:
        """Asynchronous invocation: retried as configured, then sent to the function's DLQ.
        Returns the handler's result (None when every attempt failed)."""
        spec = self.runtime.spec(function_name)
        for _attempt in range(spec.max_async_retries + 1):
            payload, errored = self.runtime.invoke(function_name, event)
            if not errored:
                result = json.loads(payload)
                self._note_dead_lettered(spec.logical_id, result)
                return result
        error = json.loads(payload)
        message = f"{spec.logical_id} failed: {error['errorType']}: {error['errorMessage']}"
        if spec.dead_letter_arn:
            queue_name = spec.dead_letter_arn.rsplit(":", 1)[-1]
            _send_to_dead_letter_queue(queue_name, event, error)
            message += f" (event sent to dead-letter queue {queue_name})"
            self.dead_letters.append(
                f"{spec.logical_id}: its event, in dead-letter queue {queue_name}"
            )
        self.async_errors.append(message)
        return None

    def invoke_function(self, logical_id: str, body: bytes | None) -> dict[str, Any]:
        """A synchronous invocation (RequestResponse) of the function ``logical_id``."""
        functions = self.stack.functions
        spec = functions.get(logical_id)
        if spec is None:
            raise DeliveryError(
                f"no function {logical_id!r} in the template (functions: {sorted(functions)})"
            )
        event = json.loads(body) if body else {}
        payload, errored = self.runtime.invoke(spec.name, event)
        result = {"function": logical_id, "errored": errored, "payload": json.loads(payload)}
        if not errored:
            self._note_dead_lettered(logical_id, result["payload"])
        else:
            raise_error = result["payload"]
            self.async_errors.append(
                f"{logical_id} failed: {raise_error['errorType']}: {raise_error['errorMessage']}"
            )
        return result

    def _note_dead_lettered(self, logical_id: str, result: Any) -> None:
        """A handler that answers ``dead_lettered: N`` (the log shipper) put N documents in its
        dead-letter bucket: the invocation succeeded, but the delivery is not ok."""
        count = result.get("dead_lettered") if isinstance(result, dict) else None
        if isinstance(count, int) and count > 0:
            objects = ", ".join(str(o) for o in result.get("dead_letter_objects") or []) or "-"
            self.dead_letters.append(
                f"{logical_id}: {count} document(s), in dead-letter bucket objects {objects}"
            )

    # ---- HTTP and Logs --------------------------------------------------------------------------
    def http_request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        """The HttpApi's answer to one request (404 when no route matches)."""
        raw_path, _, query = path.partition("?")
        for route in self.stack.routes:
            parameters = route.match(method, raw_path)
            if parameters is None:
                continue
            event = http_api_event(method, raw_path, query, body, headers, route, parameters)
            payload, errored = self.runtime.invoke(route.function, event)
            if errored:
                error = json.loads(payload)
                self.async_errors.append(
                    f"{route.function} failed: {error['errorType']}: {error['errorMessage']}"
                )
                return {"status": 500, "headers": {}, "body": '{"message":"Internal Server Error"}'}
            return http_api_response(json.loads(payload))
        return {"status": 404, "headers": {}, "body": '{"message":"Not Found"}'}

    def deliver_logs(self, log_group: str, body: bytes) -> dict[str, Any] | None:
        """Deliver log events to the functions subscribed to ``log_group`` (gzip + base64);
        the result of the last one that succeeded."""
        log_subscriptions = self.stack.log_subscriptions
        subscriptions = [s for s in log_subscriptions if s.log_group == log_group]
        if not subscriptions:
            groups = sorted({s.log_group for s in log_subscriptions})
            raise DeliveryError(
                f"no subscription on log group {log_group!r} (subscribed: {groups})"
            )
        document = json.loads(body)
        if isinstance(document, list):
            document = {"logEvents": document}
        invocation = None
        for subscription in subscriptions:
            result = self.invoke_async(
                subscription.function, cloudwatch_logs_event(subscription, document)
            )
            if result is not None:
                function = self.runtime.spec(subscription.function).logical_id
                invocation = {"function": function, "errored": False, "payload": result}
        return invocation


def _send_to_dead_letter_queue(queue_name: str, event: Any, error: dict[str, Any]) -> None:
    sqs = aws_client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
        MessageBody=json.dumps(event),
        MessageAttributes={
            "ErrorCode": {"DataType": "String", "StringValue": error["errorType"]},
            "ErrorMessage": {
                "DataType": "String",
                "StringValue": error["errorMessage"][:1000] or "-",
            },
        },
    )


def _require(body: bytes | None, source: str) -> bytes:
    if not body:
        raise DeliveryError(f"{source} needs an event file (-e FILE)")
    return body


def _json_object(body: bytes, source: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{source}: the event file is not JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise DeliveryError(f"{source}: the event file must hold one JSON object")
    return document
