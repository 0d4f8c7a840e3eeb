"""Integration fixtures, defined in the support modules of each capability."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.integration.log_shipping_support import aws, fake, opensearch_server, ship_logs
from tests.integration.rotation_support import captured_logs, https_server, platform, postgres, tls

__all__ = [
    "aws",
    "captured_logs",
    "fake",
    "https_server",
    "opensearch_server",
    "platform",
    "postgres",
    "ship_logs",
    "tls",
]


_DYNAMODB_WRITE = threading.Lock()


@pytest.fixture(autouse=True)
def atomic_dynamodb_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB evaluates a write's condition and applies it atomically; moto's in-process
    backend does not (check and write interleave between threads), so two concurrent conditional
    puts can both succeed there. The concurrency tests need DynamoDB's guarantee, not moto's race:
    each write runs under one lock here."""
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def serialized(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITE:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialized)
    yield
