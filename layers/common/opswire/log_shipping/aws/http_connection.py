"""One keep-alive HTTP(S) connection over the standard library's ``http.client``.

The shipper sends one request at a time to one host, so a pool is not needed, and urllib3 would
add ~50 ms of imports to a container's first delivery (botocore imports it anyway when requests
are SigV4-signed). What urllib3 did for us is here: a connection the server closed between two
invocations is noticed before it is reused and opened again, and a connection that failed is
never reused.
"""

import http.client
import select
import threading
from urllib.parse import urlsplit

from opswire.core.errors import ConfigurationError


class HttpConnection:
    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"not an http(s) URL: {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self.path_prefix = parts.path.rstrip("/")
        self._connection: http.client.HTTPConnection | None = None
        # One request at a time (the local platform may run two invocations in threads).
        self._lock = threading.Lock()

    def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        """(status, body). Raises ``TimeoutError`` when the answer is late, ``OSError`` or
        ``http.client.HTTPException`` when there is none."""
        with self._lock:
            return self._request(method, path, body, headers, timeout)

    def _request(
        self, method: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        connection = self._connection
        if connection is not None and _closed_by_server(connection):
            self.close()
            connection = None
        if connection is None:
            connection = self._connection = self._open(timeout)
        else:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
        try:
            connection.request(method, self.path_prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()  # in an unknown state: never reused
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _open(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            import ssl

            context = ssl.create_default_context()  # verifies against the system's CAs
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable has been closed (or sent garbage)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
