"""The shipper's HTTP connection against a real local server that closes idle keep-alive
connections without saying so (as load balancers and OpenSearch do after an idle timeout)."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from opswire.log_shipping.aws.http_connection import HttpConnection


class _ClosesAfterEachAnswer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers look keep-alive: no "Connection: close"
    connections: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.connections.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True  # ... and then the server closes it anyway

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    _ClosesAfterEachAnswer.connections = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ClosesAfterEachAnswer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/prefix"
    httpd.shutdown()
    httpd.server_close()


def test_a_connection_the_server_closed_is_opened_again(server: str) -> None:
    connection = HttpConnection(server)

    first = connection.request("POST", "/_bulk", b"one", {}, timeout=2)
    time.sleep(0.2)  # the server has closed its end by now
    second = connection.request("POST", "/_bulk", b"two", {}, timeout=2)

    assert (first, second) == ((200, b"one"), (200, b"two"))
    assert len(set(_ClosesAfterEachAnswer.connections)) == 2  # two connections, no error


def test_a_refused_connection_raises_an_os_error() -> None:
    connection = HttpConnection("http://127.0.0.1:9")  # discard port: nothing listens

    with pytest.raises(OSError):
        connection.request("POST", "/_bulk", b"x", {}, timeout=1)
