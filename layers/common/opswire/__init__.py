"""opswire: the shared package of the opswire stack (shipped in the common Lambda layer)."""

__version__ = "0.1.0"
