"""The alarm routing table, stored as JSON in an SSM parameter (``/<stack>/alarm-routing``)."""

from opswire.alarms.models.incident import RoutingConfig
from opswire.core.parameters import load_json_document


def load_routing_config(name: str, max_age: int) -> RoutingConfig:
    """The alarm routing table stored as JSON in parameter ``name``."""
    return load_json_document(name, RoutingConfig, "routing table", max_age)
