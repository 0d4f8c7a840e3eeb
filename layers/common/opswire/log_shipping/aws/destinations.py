"""What ShipLogsFunction sends ``_bulk`` bodies to (``LogDestination``), and the destination
when there is no OpenSearch endpoint (``NoDestination``). ``opswire.log_shipping.wiring``
chooses the destination from settings; OpenSearch itself is ``opensearch``.
"""

from typing import Any, Protocol

from opswire.core.errors import OpenSearchNotConfiguredError
from opswire.log_shipping.shipper import BulkResult, BulkTransport


class LogDestination(BulkTransport, Protocol):
    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None: ...


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
