"""Terminal styling for the command line: ANSI colour on a terminal, plain text elsewhere."""

from __future__ import annotations

import os
from typing import TextIO


class Styles:
    """ANSI styles when writing to a terminal (and NO_COLOR is unset), plain otherwise."""

    def __init__(self, stream: TextIO) -> None:
        tty = hasattr(stream, "isatty") and stream.isatty()
        forced = os.environ.get("FORCE_COLOR", "") not in ("", "0")
        self.on = forced or (tty and not os.environ.get("NO_COLOR"))

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def violation(self, text: str) -> str:
        return self._wrap("1;31", text)

    def warning(self, text: str) -> str:
        return self._wrap("33", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def plural(count: int, word: str) -> str:
    """``"1 event"``, ``"2 events"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"
