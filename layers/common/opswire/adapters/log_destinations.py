"""Where ShipLogsFunction sends ``_bulk`` bodies, chosen by settings:

* ``OPENSEARCH_ENDPOINT`` set: OpenSearch, with the auth mode of ``OPENSEARCH_AUTH``;
* else ``LOG_SINK_PATH`` set (the local platform sets it): an NDJSON file in ``_bulk`` format;
* else nowhere: every send fails with ``OpenSearchNotConfiguredError``, so every document goes
  to the dead-letter bucket and ``opswire logs replay`` can ship it once an endpoint is set.

Destinations are cached per container (the OpenSearch connection pool is reused).
"""

from functools import cache
from pathlib import Path
from typing import Any, Protocol

from opswire.adapters.aws import register_cache
from opswire.errors import OpenSearchNotConfiguredError
from opswire.log_shipping.shipper import BulkResult, BulkTransport
from opswire.settings import LogShippingSettings


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
    def send(self, body: bytes, *, timeout: float) -> BulkResult:
        raise OpenSearchNotConfiguredError(
            "OPENSEARCH_ENDPOINT is empty: set the OpenSearchEndpoint stack parameter, then "
            "replay the dead letters (opswire logs replay)"
        )

    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None:
        return None


def log_destination(settings: LogShippingSettings) -> LogDestination:
    if settings.opensearch_endpoint:
        basic: tuple[str, str] | None = None
        if settings.opensearch_auth == "basic":
            from opswire.adapters.secrets import get_secret_string
            from opswire.log_shipping.aws.opensearch import basic_credentials_from_secret

            secret = get_secret_string(
                settings.opensearch_basic_auth_secret_name,
                max_age=settings.secret_max_age_seconds,
            )
            basic = basic_credentials_from_secret(secret)
        return _opensearch(
            settings.opensearch_endpoint,
            settings.opensearch_auth,
            settings.aws_region,
            basic,
            settings.log_request_timeout_seconds,
            settings.log_gzip_level,
        )
    if settings.log_sink_path:
        return _sink(settings.log_sink_path)
    return NoDestination()


@cache
def _opensearch(
    endpoint: str,
    auth: str,
    region: str,
    basic: tuple[str, str] | None,
    timeout: float,
    gzip_level: int,
) -> LogDestination:
    # Keyed by the credentials too: a rotated basic-auth secret gets a new client.
    from opswire.log_shipping.aws.opensearch import OpenSearchBulkTransport, build_opensearch_client

    client = build_opensearch_client(
        endpoint, auth, region, basic_credentials=basic, timeout_seconds=timeout
    )
    return OpenSearchBulkTransport(client, gzip_level=gzip_level)


@cache
def _sink(path: str) -> LogDestination:
    return NdjsonSink(Path(path))


def clear_destination_cache() -> None:
    _opensearch.cache_clear()
    _sink.cache_clear()


# Destinations hold OpenSearch clients (and credentials): per stack, like the clients.
register_cache(clear_destination_cache)
