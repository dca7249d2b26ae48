"""Errors of serving: one line on the client, nothing changed on the holder."""

from engine.errors import QuarryError


class ServeError(QuarryError):
    """A request the holder refused, or a holder that could not be reached or stopped mid-answer."""


class ProtocolError(ServeError):
    """A message that is not a well-formed Quarry frame (too large, not JSON, missing fields)."""
