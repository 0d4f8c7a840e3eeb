"""Whether a queue's or a function's policy lets a spec's topic deliver, as SNS would need it."""

import json
from typing import Any

import pytest

from opswire.provisioning.delivery import lets_topic_deliver, undeliverable, what_the_owner_adds

TOPIC = "arn:aws:sns:eu-west-1:123456789012:releases"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:jobs"
ANY_TOPIC = "arn:aws:sns:eu-west-1:123456789012:*"
ACCOUNT = "123456789012"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:on-release"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def queue_statement(**changes: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": QUEUE,
        "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
    }
    return {**statement, **changes}


# What `aws lambda add-permission --principal sns.amazonaws.com --source-arn TOPIC` writes.
ADD_PERMISSION = {
    "Sid": "sns-releases",
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": "lambda:InvokeFunction",
    "Resource": FUNCTION,
    "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC}},
}


@pytest.mark.parametrize(
    ("statements", "allowed"),
    [
        ([queue_statement()], True),
        ([queue_statement(Action=["sqs:*"])], True),
        ([queue_statement(Principal="*")], True),
        ([queue_statement(Condition={"ArnLike": {"aws:SourceArn": ANY_TOPIC}})], True),
        ([queue_statement(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})], True),
        ([queue_statement(Condition={})], True),  # any topic may send: it delivers too
        ([], False),
        ([queue_statement(Condition={"ArnEquals": {"aws:SourceArn": TOPIC + "-old"}})], False),
        ([queue_statement(Principal={"Service": "events.amazonaws.com"})], False),
        ([queue_statement(Action="sqs:ReceiveMessage")], False),
        ([queue_statement(Resource=QUEUE + "-other")], False),
        ([queue_statement(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], False),
        ([queue_statement(), queue_statement(Effect="Deny", Condition={})], False),
    ],
)  # fmt: skip
def test_a_queue_policy(statements: list[dict[str, Any]], allowed: bool) -> None:
    assert lets_topic_deliver(policy(*statements), "sqs", QUEUE, TOPIC) is allowed


def test_a_function_policy_and_none() -> None:
    assert lets_topic_deliver(policy(ADD_PERMISSION), "lambda", FUNCTION, TOPIC)
    other = {**ADD_PERMISSION, "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC + "-2"}}}
    assert not lets_topic_deliver(policy(other), "lambda", FUNCTION, TOPIC)
    assert not lets_topic_deliver(None, "lambda", FUNCTION, TOPIC)


def test_what_the_owner_adds_is_what_lets_the_topic_deliver() -> None:
    text = what_the_owner_adds("sqs", QUEUE, TOPIC)
    statement = json.loads(text.split(": ", 1)[1])
    assert lets_topic_deliver(policy(statement), "sqs", QUEUE, TOPIC)
    command = what_the_owner_adds("lambda", FUNCTION, TOPIC)
    assert command == (
        f"aws lambda add-permission --function-name {FUNCTION} --statement-id sns-releases "
        f"--action lambda:InvokeFunction --principal sns.amazonaws.com --source-arn {TOPIC}"
    )


def test_a_refusal_is_one_line_naming_the_subscription_and_the_fix() -> None:
    line = undeliverable("sqs", QUEUE, TOPIC, "the queue does not exist")
    assert line.startswith(f"topics[releases].subscriptions: sqs {QUEUE}: the queue does not")
    assert "\n" not in line and "; " not in line  # the CLI splits a cause's problems on "; "
    assert '"aws:SourceArn":"' + TOPIC in line
