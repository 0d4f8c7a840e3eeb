"""The local stand-in for OpenSearch: an NDJSON file in ``_bulk`` format.

The local platform sets ``LOG_SINK_PATH`` in every function's environment and, while it runs,
plugs ``NdjsonSink`` into ``opswire.log_shipping.wiring``: with ``OPENSEARCH_ENDPOINT`` empty,
ShipLogsFunction appends its ``_bulk`` bodies to that file (the report reads them back). The
shipped layer holds only the hook (``wiring.use_local_sink``), not the sink.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opswire.log_shipping import wiring
from opswire.log_shipping.shipper import BulkResult


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


def ndjson_sink_at(path: str) -> NdjsonSink:
    return NdjsonSink(Path(path))


@contextlib.contextmanager
def ndjson_sink_plugged_in() -> Iterator[None]:
    """``LOG_SINK_PATH`` means this sink for as long as the context is open."""
    wiring.use_local_sink(ndjson_sink_at)
    try:
        yield
    finally:
        wiring.use_local_sink(None)
