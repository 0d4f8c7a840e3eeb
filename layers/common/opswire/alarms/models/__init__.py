"""Boundary contracts: events in, task inputs and outputs."""
