"""The report's errors: each a :class:`~deescalate.DeescalateError`, so the CLI prints one line."""

from __future__ import annotations

from .._errors import DeescalateError


class ReportError(DeescalateError):
    """A report cannot be made as asked: a store that cannot be read, a bad window. (An
    unreadable transcript is not an error: it is counted as a bad file, and told of.)"""


class StoreUnreadable(ReportError):
    """The store (``--db``) could not be opened or queried: the database's own message, in one line."""
