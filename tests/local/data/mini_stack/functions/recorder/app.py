"""Test handler: records every event it gets in an SQS queue and answers like an HTTP API."""

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("kind") == "boom":
        raise ValueError("asked to fail")
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["RECEIVED_QUEUE_URL"],
        MessageBody=json.dumps({"function": context.function_name, "event": event}),
    )
    if event.get("version") == "2.0":  # an HTTP API request
        answer = {
            "greeting": os.environ["GREETING"],
            "route": event["routeKey"],
            "path_parameters": event.get("pathParameters"),
            "query": event.get("queryStringParameters"),
            "body": event.get("body"),
            "signature": event["headers"].get("x-signature"),
        }
        return {
            "statusCode": 201,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(answer),
        }
    return {"greeting": os.environ["GREETING"], "received": event}
