"""Adapters of the alarm workflow (SDK errors -> opswire.core.errors)."""
