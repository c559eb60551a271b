"""Typed errors: every way input can be wrong has one exception, all under one base.

Callers catch :class:`DeescalateError` to handle anything the library rejects; the
subclasses say whose input was wrong (an event, a snapshot, a policy) and name the
field, so a message can be shown to a user as it is.
"""

from __future__ import annotations


class DeescalateError(Exception):
    """Base of every error this library raises on purpose."""


class EventError(DeescalateError, ValueError):
    """An event (or a transcript line) is not valid input.

    ``field`` names the offending field (``"type"``, ``"at"``, ``"summary[1]"``, or
    ``"line"`` when the line is not a JSON object at all); ``line`` is the 1-based line
    number when the event came from a file, else ``None``.
    """

    def __init__(self, field: str, reason: str, line: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.line = line
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}field '{self.field}': {self.reason}"

    def at_line(self, line: int) -> EventError:
        """The same error, placed at ``line`` of a file."""
        return EventError(self.field, self.reason, line)

    def __reduce__(self) -> tuple[type[EventError], tuple[str, str, int | None]]:
        return (EventError, (self.field, self.reason, self.line))


class SnapshotError(DeescalateError, ValueError):
    """A saved interaction cannot be loaded: wrong shape, bad value or newer version.

    ``path`` locates the problem inside the snapshot (``"history[3].event.at"``).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"snapshot field '{path}': {reason}")


class PolicyError(DeescalateError, ValueError):
    """A policy cannot be built or found (unknown rule id, bad parameter, bad name)."""
