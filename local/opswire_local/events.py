"""Producer event shapes: what AWS hands a target, built the way the service builds it.

Pure functions, no moto: EventBridge events and target input (Input, InputPath,
InputTransformer), the scheduled event, the SNS -> Lambda record, the API Gateway HTTP API
(payload format 2.0) event and response, the CloudWatch Logs subscription delivery, and the
notification an SES message makes in a report.
"""

from __future__ import annotations

import base64
import email
import email.policy
import gzip
import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from opswire_local.template import ACCOUNT_ID, REGION

if TYPE_CHECKING:
    from opswire_local.bindings import LogSubscription, Route, Rule

LOCAL_API_ID = "localapi"
"""HttpApi resources are named ``localapi<id>`` locally: their URLs point at the gateway."""


def local_api_url(value: str, api_url: str) -> str:
    """``https://localapi<id>.execute-api.<region>.amazonaws.com`` -> the local gateway URL."""
    return re.sub(
        rf"https://{LOCAL_API_ID}\w*\.execute-api\.{REGION}\.amazonaws\.com", api_url, value
    )


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- EventBridge --------------------------------------------------------------------------------
def eventbridge_event(event: dict[str, Any]) -> dict[str, Any]:
    """What a PutEvents entry becomes on the bus: id, account, time, region added."""
    full_event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "account": ACCOUNT_ID,
        "time": _now_text(),
        "region": REGION,
        "resources": [],
        **event,
    }
    if isinstance(full_event["detail"], str):
        full_event["detail"] = json.loads(full_event["detail"])
    return full_event


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    """The event a schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": _now_text(),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


def rule_target_input(rule: Rule, event: dict[str, Any]) -> Any:
    """What an EventBridge target receives: Input, InputPath or InputTransformer, else the event."""
    if rule.input is not None:
        return json.loads(rule.input)
    if rule.input_path:
        return _json_path(event, rule.input_path)
    if rule.input_transformer:
        return _transform(event, rule.input_transformer, rule.arn)
    return event


def _transform(
    event: dict[str, Any], transformer: dict[str, Any], rule_arn: str | None = None
) -> Any:
    values = {
        name: _json_path(event, path)
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    # As documented: <aws.events.event> is the event without "detail"; .json is the whole event.
    values["aws.events.event"] = {key: value for key, value in event.items() if key != "detail"}
    values["aws.events.event.json"] = event
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.event.ingestion-time"] = event.get("time")

    template = str(transformer["InputTemplate"])
    # A placeholder inside a JSON string gets the raw value (escaped for the string); elsewhere
    # it gets the value as JSON. Walk the template, tracking whether we are inside a string.
    pieces: list[str] = []
    in_string = False
    for token in re.split(r'(<[\w.-]+>|\\.|")', template):
        if token == '"':
            in_string = not in_string
            pieces.append(token)
        elif re.fullmatch(r"<[\w.-]+>", token) and token[1:-1] in values:
            value = values[token[1:-1]]
            if in_string:
                raw = value if isinstance(value, str) else json.dumps(value)
                pieces.append(json.dumps(raw)[1:-1])
            else:
                pieces.append(json.dumps(value))
        else:
            pieces.append(token)
    text = "".join(pieces)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a plain-text template stays text, as EventBridge delivers it


def _json_path(document: Any, path: str) -> Any:
    """The simple ``$.a.b`` paths EventBridge input paths use."""
    value = document
    for part in [p for p in path.lstrip("$").split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


# ---- SNS ----------------------------------------------------------------------------------------
def sns_lambda_record(
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """One record of the event SNS sends a subscribed function."""
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "Signature": "local",
            "SigningCertUrl": "local",
            "MessageId": message_id,
            "Message": message,
            "MessageAttributes": {
                name: {"Type": value.get("Type", "String"), "Value": value.get("Value")}
                for name, value in (message_attributes or {}).items()
            },
            "Type": "Notification",
            "UnsubscribeUrl": "local?" + urlencode({"SubscriptionArn": subscription_arn}),
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }


# ---- API Gateway HTTP API -----------------------------------------------------------------------
def http_api_event(
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
    route: Route,
    path_parameters: dict[str, str],
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the gateway would build it."""
    now = datetime.now(UTC)
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        text_body, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode(), True
    query_parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas (payload format 2.0).
        previous = query_parameters.get(name)
        query_parameters[name] = value if previous is None else f"{previous},{value}"
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "queryStringParameters": query_parameters or None,
        "pathParameters": path_parameters or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", "opswire-local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text_body if body else None,
        "isBase64Encoded": is_base64,
    }


def http_api_response(result: Any) -> dict[str, Any]:
    """The HTTP response API Gateway makes of a handler's return value (format 2.0 rules)."""
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        return {
            "status": int(result["statusCode"]),
            "headers": dict(result.get("headers") or {}),
            "body": body,
        }
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(result),
    }


# ---- CloudWatch Logs ----------------------------------------------------------------------------
def cloudwatch_logs_event(
    subscription: LogSubscription, document: dict[str, Any]
) -> dict[str, Any]:
    """A CloudWatch Logs subscription delivery: gzip + base64 of the DATA_MESSAGE."""
    now_ms = int(time.time() * 1000)
    log_events = []
    for index, item in enumerate(document.get("logEvents") or []):
        entry = {"message": item} if isinstance(item, str) else dict(item)
        entry.setdefault("timestamp", now_ms)
        entry.setdefault("id", f"{entry['timestamp']}{index:020d}"[-56:])
        log_events.append(
            {"id": entry["id"], "timestamp": entry["timestamp"], "message": entry["message"]}
        )
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT_ID,
        "logGroup": subscription.log_group,
        "logStream": document.get("logStream", "local/stream"),
        "subscriptionFilters": [subscription.filter_name],
        "logEvents": log_events,
    }
    data = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
    return {"awslogs": {"data": data}}


# ---- SES ----------------------------------------------------------------------------------------
def email_notification(message: Any) -> dict[str, Any]:
    """A message moto's SES sent, as a report's notification."""
    raw = getattr(message, "raw_data", None)
    if raw is None:  # SendEmail (not raw): moto keeps subject and one body
        return {
            "channel": "email",
            "recipient": ", ".join(a for v in message.destinations.values() for a in v),
            "subject": message.subject,
            "text": message.body,
            "payload": {"from": message.source, "body": message.body},
        }
    parsed = email.message_from_string(raw, policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return {
        "channel": "email",
        "recipient": ", ".join(message.destinations),
        "subject": str(parsed["Subject"]),
        "text": text_part.get_content() if text_part is not None else "",
        "payload": {
            "from": str(parsed["From"]),
            "headers": {k: str(v) for k, v in parsed.items()},
            "html": html_part.get_content() if html_part is not None else None,
        },
    }
