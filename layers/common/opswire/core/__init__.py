"""Shared foundations: settings, typed errors, observability, AWS client factories, secrets and
parameters. Imports nothing else of opswire."""
