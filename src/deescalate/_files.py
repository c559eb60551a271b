"""Transcript files: the lines of one, and the transcripts that paths name.

An outer layer, like ``_loading.py``: the core reads the lines it is given and never
opens a file. The commands (``review``, ``guide``, ``ingest``) and the complaint log
(``deescalate.report``) read transcripts through this one module, so that they read
standard input, directories and unreadable files alike.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

from ._errors import DeescalateError

__all__ = ["CannotRead", "lines", "reason_of", "transcripts"]


class CannotRead(DeescalateError):
    """A transcript file could not be opened or read."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read {path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[CannotRead], tuple[str, str]]:
        return type(self), (self.path, self.reason)


def lines(path: str) -> Iterator[bytes]:
    """The lines of the file at ``path`` (``-``: standard input), as bytes, read lazily.

    A file that cannot be opened or read raises :class:`CannotRead` when the first
    line is asked for.
    """
    try:
        if path == "-":
            if sys.stdin is None:
                raise CannotRead("standard input", "it is closed")
            yield from sys.stdin.buffer
            return
        with open(path, "rb") as handle:
            yield from handle
    except OSError as error:
        raise CannotRead(path, str(error.strerror or error)) from None


def reason_of(error: BaseException) -> str:
    """Why a transcript was not read, in the words a list of files shows beside its path:
    ``cannot read: <reason>`` for :class:`CannotRead`, else the error's own message."""
    if isinstance(error, CannotRead):
        return f"cannot read: {error.reason}"
    try:
        return str(error)
    except Exception:  # a message that cannot be made: at least its kind
        return type(error).__name__


def transcripts(paths: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """Each transcript the paths name, in order, with why it cannot be read (or None),
    found as they are needed.

    A directory stands for its ``*.jsonl`` files, recursively, in the order of their
    paths compared name by name; one that cannot be listed, or holds no transcript,
    is a bad entry itself. ``-`` is standard input. Only one directory's names are
    held at a time, never the whole list of files.
    """
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            yield path, None
            continue
        found = False
        for entry in _inside(path):
            found = True
            yield entry
        if not found:
            yield path, "holds no .jsonl file"


def _inside(directory: str) -> Iterator[tuple[str, str | None]]:
    """The ``*.jsonl`` files under ``directory``: entries sorted by name, subdirectories walked in place."""
    try:
        with os.scandir(directory) as listing:
            names = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing)
    except OSError as error:
        yield directory, f"cannot read: {error.strerror or error}"
        return
    for name, is_directory in names:
        path = os.path.join(directory, name)
        if is_directory:
            yield from _inside(path)
        elif name.endswith(".jsonl"):
            yield path, None
