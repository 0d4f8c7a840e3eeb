"""Rotation fixtures, defined in support.py."""

from tests.integration.rotation.support import captured_logs, platform, postgres

__all__ = ["captured_logs", "platform", "postgres"]
