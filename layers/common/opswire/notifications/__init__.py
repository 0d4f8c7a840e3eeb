"""Alarm notifications: pure rendering (``render``) and delivery through channel adapters."""
