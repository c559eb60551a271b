"""The store's own errors, in the library's family."""

from __future__ import annotations

from .._errors import DeescalateError, describe


class StoreError(DeescalateError):
    """The store cannot do what was asked: an unreachable or unknown database, a schema
    newer than this library, a transcript that contradicts what the store holds, or a
    database error that retrying did not cure. The message is one line.
    """


class UnknownInteraction(StoreError, LookupError):
    """No interaction of that id is in the store."""

    def __init__(self, interaction_id: str) -> None:
        super().__init__(f"no interaction {describe(interaction_id)} in the store")
        self.interaction_id = interaction_id

    def __reduce__(self) -> tuple[type[UnknownInteraction], tuple[str]]:
        return type(self), (self.interaction_id,)


class JournalConflict(StoreError):
    """A transcript to ingest differs from what the store's journal holds for its interaction."""
