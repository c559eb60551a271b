"""The report's errors: each a :class:`~deescalate.DeescalateError`, so the CLI prints one line."""

from __future__ import annotations

from .._errors import DeescalateError


class ReportError(DeescalateError):
    """A report cannot be made as asked: an unreadable file, a store that cannot be read, a bad window."""


class CannotReadFile(ReportError):
    """A transcript file (or a directory of them) could not be opened or read."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read {path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[CannotReadFile], tuple[str, str]]:
        return type(self), (self.path, self.reason)


class StoreUnreadable(ReportError):
    """The store (``--db``) could not be opened or queried: the database's own message, in one line."""
