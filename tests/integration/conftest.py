"""Integration fixtures, defined in the support modules of each capability."""

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
