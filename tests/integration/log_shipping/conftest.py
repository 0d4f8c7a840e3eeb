"""Log shipping fixtures, defined in support.py."""

from tests.integration.log_shipping.support import fake, opensearch_server, ship_logs

__all__ = ["fake", "opensearch_server", "ship_logs"]
