"""Integration fixtures used across workflows (moto, TLS, an HTTPS server), defined in their
support modules; each workflow's own fixtures are registered in its folder's conftest.py."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.integration.aws_support import aws
from tests.integration.handlers import outbox
from tests.integration.tls_support import https_server, tls

__all__ = ["aws", "https_server", "outbox", "tls"]


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
