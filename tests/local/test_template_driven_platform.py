"""The local platform runs whatever template.yaml declares: a small stack of its own proves each
event source (HTTP API routes, SNS, schedules, Logs subscriptions, EventBridge rules with input
transformers, state machines calling functions) with no registration besides the template."""

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from opswire_local.platform import REGION, LocalPlatform
from tests.local.conftest import PlatformFactory

MINI_STACK = Path(__file__).parent / "data" / "mini_stack"


@pytest.fixture
def mini(start_platform: PlatformFactory) -> LocalPlatform:
    return start_platform(root=MINI_STACK, parameters={"Greeting": "moin"})


def received(platform: LocalPlatform) -> Iterator[dict]:  # type: ignore[type-arg]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=f"{platform.options.stack_name}-ReceivedQueue")["QueueUrl"]
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            yield json.loads(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_http_routes_get_api_gateway_v2_events_and_answer_with_the_handler_response(
    mini: LocalPlatform,
) -> None:
    report = mini.send(
        "http:GET /items/42?verbose=1&tag=a", None, headers={"X-Signature": "sha256=abc"}
    )

    assert report.http is not None and report.http["status"] == 201
    answer = json.loads(report.http["body"])
    assert answer == {
        "greeting": "moin",  # the parameter override reached the function's environment
        "route": "GET /items/{id}",
        "path_parameters": {"id": "42"},
        "query": {"verbose": "1", "tag": "a"},
        "body": None,
        "signature": "sha256=abc",
    }


def test_greedy_path_and_raw_body_reach_the_handler(mini: LocalPlatform) -> None:
    report = mini.send("http:POST /echo/a/b/c", b'{"x": 1}')

    assert report.http is not None
    answer = json.loads(report.http["body"])
    assert answer["path_parameters"] == {"proxy": "a/b/c"}
    assert answer["body"] == '{"x": 1}'


def test_an_unknown_route_is_404_and_the_wrong_method_too(mini: LocalPlatform) -> None:
    assert mini.send("http:GET /nope", None).http["status"] == 404  # type: ignore[index]
    assert mini.send("http:DELETE /items/1", None).http["status"] == 404  # type: ignore[index]


def test_sns_schedule_and_log_subscription_deliveries_reach_the_function(
    mini: LocalPlatform,
) -> None:
    mini.send("sns:NewsTopic", b"breaking news")
    mini.send("schedule:Nightly", None)
    mini.send("logs:/app/orders", json.dumps(["first line", {"message": "second"}]).encode())

    events = [item["event"] for item in received(mini)]
    assert len(events) == 3
    sns, scheduled, logs = events
    assert sns["Records"][0]["Sns"]["Message"] == "breaking news"
    assert sns["Records"][0]["Sns"]["TopicArn"] == mini.topics["NewsTopic"]
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/RecorderFunctionNightly"
    ]
    data = json.loads(gzip.decompress(base64.b64decode(logs["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE"
    assert data["logGroup"] == "/app/orders"
    assert [e["message"] for e in data["logEvents"]] == ["first line", "second"]
    assert len({e["id"] for e in data["logEvents"]}) == 2


def test_eventbridge_rules_transform_the_input_for_their_state_machine(
    mini: LocalPlatform,
) -> None:
    event = {"source": "shop.orders", "detail-type": "Order Placed", "detail": {"orderId": "o-7"}}

    report = mini.send("eventbridge", json.dumps(event).encode())

    (execution,) = report.executions
    assert execution["state_machine"] == "GreetingMachine"
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"] == {
        "greeting": "moin",
        "received": {"kind": "order", "order": "o-7", "text": "order o-7 placed"},
    }


def test_a_failing_task_fails_the_execution_with_the_handler_error(mini: LocalPlatform) -> None:
    event = {"source": "shop.test", "detail-type": "Anything", "detail": {}}

    report = mini.send("eventbridge", json.dumps(event).encode())

    (execution,) = report.executions
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ValueError"
    assert "asked to fail" in execution["cause"]
    assert not report.ok


def test_unknown_schedule_log_group_and_function_are_clear_errors(mini: LocalPlatform) -> None:
    assert "no schedule 'Weekly'" in mini.send("schedule:Weekly", None).errors[0]
    assert "no subscription on log group '/x'" in mini.send("logs:/x", b"[]").errors[0]
    assert "no function 'Nope'" in mini.send("function:Nope", b"{}").errors[0]
