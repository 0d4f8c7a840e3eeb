"""Support for log shipping tests (fixtures registered in log_shipping/conftest.py): a real local
HTTP server answering like OpenSearch 2.x, with S3 (dead letters) and Secrets Manager in moto. The
handler runs in-process, as the local platform runs it, with the environment the template
gives it."""

import base64
import gzip
import json
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from pytest_httpserver import HTTPServer

from opswire.core.aws import clear_client_cache
from opswire.core.settings import clear_settings_cache
from opswire_local.lambda_runtime import LambdaContext
from tests.fakes.opensearch import FakeOpenSearch
from tests.integration.aws_support import DLQ_BUCKET, REGION
from tests.integration.handlers import load_handler_module

T0 = 1795554312000  # 2026-11-24T21:05:12Z


@pytest.fixture
def opensearch_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def current_credentials() -> tuple[str, str, str | None]:
    """What the function's environment holds when the request is signed (moto replaces the
    keys while it mocks)."""
    return (
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_SESSION_TOKEN"),
    )


_HANDLER_MODULE: ModuleType | None = None
Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def ship_logs(
    aws: None, opensearch_server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Invoke]:
    """``invoke(event, timeout_seconds=60)`` runs ShipLogsFunction's handler with the
    environment the template passes (endpoint = the local server) and fresh caches."""
    global _HANDLER_MODULE
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "opswire")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "opswire")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", opensearch_server.url_for("/").rstrip("/"))
    monkeypatch.setenv("OPENSEARCH_AUTH", "none")
    monkeypatch.setenv("LOG_DLQ_BUCKET", DLQ_BUCKET)
    if _HANDLER_MODULE is None:  # Powertools reads POWERTOOLS_* when opswire is first imported
        _HANDLER_MODULE = load_handler_module("ship_logs")
    handler = _HANDLER_MODULE.handler

    def invoke(event: dict[str, Any], timeout_seconds: int = 60) -> dict[str, Any]:
        clear_settings_cache()
        clear_client_cache()
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        context = LambdaContext(
            function_name="opswire-test-ShipLogsFunction",
            invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:ship",
            memory_limit_in_mb=512,
            timeout_seconds=timeout_seconds,
        )
        result: dict[str, Any] = handler(event, context)
        return result

    yield invoke
    clear_settings_cache()
    clear_client_cache()


def subscription_event(
    messages: list[str], group: str = "/aws/lambda/orders-api", first_id: int = 0
) -> dict[str, Any]:
    """What CloudWatch Logs delivers: ids are 56-digit strings like the real ones."""
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": "2026/11/24/[$LATEST]4f1c2a9b",
        "subscriptionFilters": ["opswire-ship-logs"],
        "logEvents": [
            {"id": event_id(first_id + n), "timestamp": T0 + n, "message": message}
            for n, message in enumerate(messages)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
    return {"awslogs": {"data": data}}


def event_id(n: int) -> str:
    return f"{37000000000000000000000000000000000000000000000000000000 + n:056d}"


def dead_letters() -> list[dict[str, Any]]:
    """Every record in the dead-letter bucket (moto)."""
    s3 = boto3.client("s3", region_name=REGION)
    records = []
    for item in s3.list_objects_v2(Bucket=DLQ_BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=DLQ_BUCKET, Key=item["Key"])["Body"].read()
        records.extend(json.loads(line) | {"_key": item["Key"]} for line in body.splitlines())
    return records


@pytest.fixture
def fake(opensearch_server: HTTPServer) -> FakeOpenSearch:
    fake = FakeOpenSearch()
    fake.install(opensearch_server)
    return fake
