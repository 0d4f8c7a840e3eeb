"""Thin wrappers over SDKs: SDK errors become opswire errors (``raise ... from exc``)."""
