"""Where ShipLogsFunction sends ``_bulk`` bodies besides OpenSearch (``opensearch``): an NDJSON
file (the local platform) or nowhere. ``opswire.log_shipping.wiring`` chooses one from settings.
"""

from pathlib import Path
from typing import Any, Protocol

from opswire.errors import OpenSearchNotConfiguredError
from opswire.log_shipping.shipper import BulkResult, BulkTransport


class LogDestination(BulkTransport, Protocol):
    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None: ...


class NdjsonSink:
    """Appends each ``_bulk`` body, as sent, to one file; answers like an all-successful bulk.
    The file can be posted to a real cluster later: ``curl -XPOST .../_bulk --data-binary``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, body: bytes, *, timeout: float) -> BulkResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as sink:
            sink.write(body)
        return BulkResult(items=body.count(b"\n") // 2, failures={}, bytes_sent=len(body))

    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None:
        return None  # a file has no mappings


class NoDestination:
    """Every send fails with ``OpenSearchNotConfiguredError``, so every document goes to the
    dead-letter bucket and ``opswire logs replay`` can ship it once an endpoint is set."""

    def send(self, body: bytes, *, timeout: float) -> BulkResult:
        raise OpenSearchNotConfiguredError(
            "OPENSEARCH_ENDPOINT is empty: set the OpenSearchEndpoint stack parameter, then "
            "replay the dead letters (opswire logs replay)"
        )

    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None:
        return None
