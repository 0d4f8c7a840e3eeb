"""OpenSearch ``_bulk`` and ``_index_template`` over one HTTP connection: the request signer by
auth mode and the bulk sender.

Two kinds of request are all a delivery needs, so there is no client library on this path:
opensearch-py costs ~0.25 s of imports on the first delivery into a new container (requests,
urllib3, asyncio, ...), more than shipping 10,000 events. The connection is ``http.client``
(``http_connection``); botocore signs SigV4 as opensearch-py's ``Urllib3AWSV4SignerAuth`` did
(same canonical request: method, URL with query string, body; ``X-Amz-Content-SHA256`` added).

Auth modes: ``sigv4`` (Amazon OpenSearch Service, service name ``es``), ``aoss`` (OpenSearch
Serverless, service name ``aoss``), ``basic`` (user and password from Secrets Manager), ``none``.

Bodies are gzip-compressed (``LOG_GZIP_LEVEL``; 0 sends them as they are). Levels 1-3 use
ISA-L (python-isal): on log NDJSON it compresses 3-6x faster than zlib's level 1 (10-15x on
incompressible text) at the ratio of zlib's level 2; levels 4-9 use zlib. docs/performance.md
has the figures.
"""

import base64
import json
import time
import zlib
from collections.abc import Callable
from http.client import HTTPException
from typing import Any
from urllib.parse import urlencode

import orjson

from opswire.core.errors import (
    BulkRequestTooLargeError,
    ConfigurationError,
    OpenSearchRequestError,
    OpenSearchRetryableError,
)
from opswire.core.observability import logger
from opswire.log_shipping.aws.http_connection import HttpConnection
from opswire.log_shipping.shipper import BulkResult, ItemFailure

# Only what the shipper reads: a 5,000-item answer shrinks from ~1.2 MB to ~120 kB (parsing the
# full answer with orjson costs ~20 MB of transient memory). Every item keeps its `status`, so
# positions still match the request.
_BULK_QUERY = urlencode({"filter_path": "errors,items.*.status,items.*.error"})
_SIGNING_SERVICE = {"sigv4": "es", "aoss": "aoss"}
# After a failed template install (unreachable, 5xx), the next attempt waits this long: every
# invocation would otherwise pay a round trip (and a timeout when unreachable) and a warning.
TEMPLATE_RETRY_SECONDS = 300.0

# (method, full URL, body) -> the headers that authenticate the request
RequestSigner = Callable[[str, str, bytes], dict[str, str]]


def request_signer(
    auth: str, region: str, *, basic_credentials: tuple[str, str] | None = None
) -> RequestSigner:
    """The headers each request needs for ``auth``; raises ``ConfigurationError``."""
    if auth in _SIGNING_SERVICE:
        return _sigv4_signer(region, _SIGNING_SERVICE[auth])
    if auth == "basic":
        if basic_credentials is None:
            raise ConfigurationError("basic auth needs a user and a password")
        token = base64.b64encode(":".join(basic_credentials).encode()).decode()
        header = {"authorization": f"Basic {token}"}
        return lambda method, url, body: header
    if auth != "none":
        raise ConfigurationError(f"unknown OpenSearch auth mode {auth!r}")
    return lambda method, url, body: {}


def _sigv4_signer(region: str, service: str) -> RequestSigner:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.session import Session

    credentials = Session().get_credentials()
    if credentials is None:
        raise ConfigurationError("no AWS credentials to sign OpenSearch requests with")

    def sign(method: str, url: str, body: bytes) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body)
        # Frozen: refreshable credentials could change between reading the key and the secret.
        signer = SigV4Auth(credentials.get_frozen_credentials(), service, region)
        signer.add_auth(request)
        headers = dict(request.headers.items())
        headers["X-Amz-Content-SHA256"] = signer.payload(request)
        return headers

    return sign


def basic_credentials_from_secret(secret: str) -> tuple[str, str]:
    """``{"username": ..., "password": ...}`` or ``user:password``. Values are never logged."""
    try:
        document = json.loads(secret)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        user, password = document.get("username"), document.get("password")
    else:
        user, _, password = secret.partition(":")
    if not user or not password:
        raise ConfigurationError(
            'the OpenSearch basic-auth secret must be {"username": ..., "password": ...} '
            "or user:password"
        )
    return str(user), str(password)


class OpenSearchBulkTransport:
    """``_bulk`` with a gzip body, and the index template; one keep-alive connection."""

    def __init__(
        self,
        endpoint: str,
        sign: RequestSigner,
        *,
        timeout_seconds: float = 10.0,
        gzip_level: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        # No retries of its own: the shipper's loop retries, within the remaining time.
        self._connection = HttpConnection(self._endpoint)
        self._timeout = timeout_seconds
        self._sign = sign
        self._compress = _compressor(gzip_level)
        self._clock = clock
        self._template_next_try: dict[str, float] = {}

    def send(self, body: bytes, *, timeout: float) -> BulkResult:
        headers = {"content-type": "application/x-ndjson"}
        payload = body
        if self._compress is not None:
            payload = self._compress(body)
            headers["content-encoding"] = "gzip"
        status, answer = self._request("POST", "/_bulk?" + _BULK_QUERY, payload, headers, timeout)
        if status >= 300:
            raise _status_error(status, answer)
        indexed = _all_indexed(answer)
        if indexed is not None:
            return BulkResult(items=indexed, failures={}, bytes_sent=len(payload))
        try:
            response = orjson.loads(answer)
        except orjson.JSONDecodeError as exc:
            raise OpenSearchRetryableError("bulk answer is not JSON") from exc
        if not isinstance(response, dict) or "items" not in response:
            raise OpenSearchRetryableError("bulk answer without items")
        return _bulk_result(response, len(payload))

    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None:
        """Install the template unless this container did (or was refused); never raises:
        shipping goes on without it. After a failure the next attempt waits
        ``TEMPLATE_RETRY_SECONDS``."""
        if self._clock() < self._template_next_try.get(name, 0.0):
            return
        path = f"/_index_template/{name}?create=true"
        headers = {"content-type": "application/json"}
        try:
            status, answer = self._request("PUT", path, orjson.dumps(body), headers, self._timeout)
        except OpenSearchRetryableError as exc:
            status, answer, why = None, b"", str(exc)
        else:
            why = f"HTTP {status}: {_describe(answer)}"
        if status is not None and (status < 300 or (status == 400 and b"already exists" in answer)):
            # Installed now or earlier (maybe tuned since by an operator: left as it is).
            self._template_next_try[name] = float("inf")
            return
        logger.warning("index template not installed", extra={"template": name, "why": why})
        if status in (401, 403):  # refused: asking again would not change the answer
            self._template_next_try[name] = float("inf")
        else:  # unreachable or 5xx
            self._template_next_try[name] = self._clock() + TEMPLATE_RETRY_SECONDS

    def _request(
        self, method: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        """(status, body) of one request; ``OpenSearchRetryableError`` when it got no answer."""
        headers.update(self._sign(method, self._endpoint + path, body))
        try:
            return self._connection.request(method, path, body, headers, timeout)
        except TimeoutError as exc:
            raise OpenSearchRetryableError(f"request timed out after {timeout:.1f}s") from exc
        except (OSError, HTTPException) as exc:
            raise OpenSearchRetryableError(f"OpenSearch unreachable: {exc!r}") from exc


def _compressor(level: int) -> Callable[[bytes], bytes] | None:
    """gzip at ``level``: none for 0, ISA-L for 1-3, zlib for 4-9."""
    if level <= 0:
        return None
    if level <= 3:
        from isal import isal_zlib

        def compress(body: bytes) -> bytes:
            compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, 31)
            return compressor.compress(body) + compressor.flush()

        return compress

    def compress_zlib(body: bytes) -> bytes:
        compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
        return compressor.compress(body) + compressor.flush()

    return compress_zlib


_ALL_INDEXED_HEAD = b'{"errors":false,"items":['
_INDEXED_ITEMS = tuple(
    b'{"%s":{"status":%d}}' % (op, status) for op in (b"index", b"create") for status in (201, 200)
)


def _all_indexed(answer: bytes) -> int | None:
    """The number of items when the answer (under ``_BULK_QUERY``, compact as OpenSearch sends
    it) is ``{"errors":false,"items":[{"index":{"status":201}},...]}`` and nothing else; None
    for any other answer, which is then parsed. Checked and counted on the bytes: orjson would
    build two dicts per item, 3.6 MiB for 10,000 items, the peak of a delivery's memory."""
    if not (answer.startswith(_ALL_INDEXED_HEAD) and answer.endswith(b"]}")):
        return None
    items = answer[len(_ALL_INDEXED_HEAD) : -2]
    if not items:
        return 0
    count = items.count(b'"status"')
    if not (items.startswith(b"{") and items.endswith(b"}")) or b"}{" in items:
        return None
    rest = items
    for item in _INDEXED_ITEMS:
        rest = rest.replace(item, b"")
    return count if rest == b"," * (count - 1) else None


def _bulk_result(response: dict[str, Any], bytes_sent: int) -> BulkResult:
    items = response["items"]
    failures: dict[int, ItemFailure] = {}
    if response.get("errors"):
        for position, item in enumerate(items):
            outcome = next(iter(item.values())) if isinstance(item, dict) and item else {}
            status = outcome.get("status", 500)
            if status >= 300 or "error" in outcome:
                error = outcome.get("error") or {}
                if not isinstance(error, dict):
                    error = {"type": "error", "reason": str(error)}
                failures[position] = ItemFailure(
                    status, str(error.get("type", "unknown")), str(error.get("reason", ""))[:1000]
                )
    return BulkResult(items=len(items), failures=failures, bytes_sent=bytes_sent)


def _status_error(status: int, answer: bytes) -> Exception:
    detail = f"OpenSearch answered HTTP {status}: {_describe(answer)}"
    if status == 413:
        return BulkRequestTooLargeError(detail, status)
    if status == 429 or status >= 500:
        return OpenSearchRetryableError(detail, status)
    return OpenSearchRequestError(detail, status)


def _describe(answer: bytes) -> str:
    """The error of an OpenSearch answer (or of the AWS front: ``Message``), short."""
    try:
        info = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return answer.decode("utf-8", "replace")[:500]
    if isinstance(info, dict):
        return str(info.get("error", info.get("Message", info)))[:500]
    return str(info)[:500]
