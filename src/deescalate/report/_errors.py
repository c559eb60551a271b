"""The report's errors: each a :class:`~deescalate.DeescalateError`, so the CLI prints one line."""

from __future__ import annotations

from .._errors import DeescalateError
from .._files import CannotRead


class ReportError(DeescalateError):
    """A report cannot be made as asked: an unreadable file, a store that cannot be read, a bad window."""


class CannotReadFile(ReportError, CannotRead):
    """A transcript file (or a directory of them) could not be opened or read."""


class StoreUnreadable(ReportError):
    """The store (``--db``) could not be opened or queried: the database's own message, in one line."""
