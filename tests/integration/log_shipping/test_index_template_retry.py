"""The index template install over real HTTP (pytest-httpserver): a failure is remembered for
a while, so that every invocation does not pay a round trip and a warning for it."""

import socket

from pytest_httpserver import HTTPServer

from opswire.log_shipping.aws.opensearch import TEMPLATE_RETRY_SECONDS, OpenSearchBulkTransport
from opswire.log_shipping.index_template import index_template_body

BODY = index_template_body("logs-{group}-{date}", "index")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def transport_for(url: str, clock: Clock, signed: list[str]) -> OpenSearchBulkTransport:
    def sign(method: str, url: str, body: bytes) -> dict[str, str]:
        signed.append(f"{method} {url}")  # one per request the transport makes
        return {}

    return OpenSearchBulkTransport(url, sign, timeout_seconds=2, clock=clock)


def test_a_5xx_is_not_asked_again_until_the_retry_delay_passed(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(
        "/_index_template/opswire-logs", method="PUT"
    ).respond_with_json({"error": "no cluster-manager"}, status=503)
    httpserver.expect_ordered_request(
        "/_index_template/opswire-logs", method="PUT"
    ).respond_with_json({"acknowledged": True})
    clock, signed = Clock(), []
    transport = transport_for(httpserver.url_for("/").rstrip("/"), clock, signed)

    transport.ensure_index_template("opswire-logs", BODY)  # 503
    clock.now += TEMPLATE_RETRY_SECONDS - 1
    transport.ensure_index_template("opswire-logs", BODY)  # remembered: no request
    assert len(httpserver.log) == 1

    clock.now += 2
    transport.ensure_index_template("opswire-logs", BODY)  # installed now
    clock.now += 10 * TEMPLATE_RETRY_SECONDS
    transport.ensure_index_template("opswire-logs", BODY)  # installed: never again

    assert len(httpserver.log) == 2
    assert httpserver.log[-1][0].args.get("create") == "true"
    httpserver.check_assertions()


def test_an_unreachable_cluster_is_not_asked_again_at_every_invocation() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock, signed = Clock(), []
    transport = transport_for(f"http://127.0.0.1:{port}", clock, signed)

    transport.ensure_index_template("opswire-logs", BODY)  # never raises
    transport.ensure_index_template("opswire-logs", BODY)
    assert len(signed) == 1

    clock.now += TEMPLATE_RETRY_SECONDS + 1
    transport.ensure_index_template("opswire-logs", BODY)
    assert len(signed) == 2


def test_a_refusal_is_never_asked_again(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/_index_template/opswire-logs", method="PUT").respond_with_json(
        {"error": {"type": "security_exception", "reason": "no permissions"}}, status=403
    )
    clock, signed = Clock(), []
    transport = transport_for(httpserver.url_for("/").rstrip("/"), clock, signed)

    transport.ensure_index_template("opswire-logs", BODY)
    clock.now += 10 * TEMPLATE_RETRY_SECONDS
    transport.ensure_index_template("opswire-logs", BODY)

    assert len(httpserver.log) == 1
