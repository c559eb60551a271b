"""Transcripts: JSON Lines of events, checked line by line.

This layer turns lines of text (from a file, standard input, a queue...) into
events, adding the checks that only make sense for a whole transcript: the first
event opens the interaction and no later one does, and time never runs backwards.
It reads lines it is given; opening files is for the caller.

Files written on Windows are read as they are: a UTF-8 byte order mark before the
first line is skipped, and lines may end in CR LF or in CR alone (old Mac style,
which a file opened in binary mode hands over as one long line: it is split here,
so line numbers stay those an editor shows).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime

import attrs

from ._codec import parse_event
from ._errors import ArgumentTypeError, EventError, describe
from ._events import Event, InteractionOpened
from ._value import value_repr


@attrs.frozen(repr=False)
class Line:
    """An event of a transcript, with where it stood."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    #: 0-based position among the transcript's non-blank lines.
    index: int
    #: 1-based line number in the file.
    number: int
    event: Event


#: The whitespace JSON allows between values: a line of nothing else is blank.
#: (Other whitespace, such as U+00A0 or U+2028, is not blank: it is bad input.)
JSON_WHITESPACE = " \t\r\n"

# A line break: CR LF, CR alone or LF alone, as universal newlines reads them (but
# not the other breaks of str.splitlines: U+2028 and its kind are text in JSON).
_BREAK = re.compile(r"\r\n?|\n")


def read_transcript(lines: Iterable[str | bytes]) -> Iterator[Line]:
    """Parse a transcript lazily, one :class:`Line` per non-blank line.

    ``lines`` are the file's lines as ``str`` or UTF-8 ``bytes`` (a file opened in
    either mode will do). A line holding only spaces, tabs and line breaks is blank
    and skipped; a byte order mark before the first line is skipped; CR LF and CR
    line endings are accepted.

    Raises :class:`~deescalate.EventError` naming the 1-based line and the field at
    the first bad line: not UTF-8, not JSON, not an object, unknown type, bad field,
    a timestamp earlier than the previous one, a first event that is not
    ``interaction_opened``, or a second ``interaction_opened``. A single ``str`` or
    ``bytes`` (rather than lines) raises :class:`~deescalate.ArgumentTypeError` at
    once: iterating it would give characters.
    """
    if isinstance(lines, str | bytes | bytearray):
        raise ArgumentTypeError(
            "lines",
            f"must be an iterable of lines, got one {type(lines).__name__} {describe(lines)} "
            "(split it first, with .splitlines())",
        )
    if not isinstance(lines, Iterable):
        raise ArgumentTypeError("lines", f"must be an iterable of lines, got {describe(lines)}")
    return _lines(lines, 0, 0, None, True)


def _lines(
    items: Iterable[str | bytes], number: int, index: int, previous: datetime | None, whole: bool
) -> Generator[Line, None, tuple[int, datetime | None]]:
    """The events of ``items``, the first of which is line ``number + 1`` and event ``index``.

    ``whole`` when ``items`` are a whole transcript (not the lines found in one
    given line). Returns the next event's index and the last event's time, for
    the caller to go on.
    """
    blank = JSON_WHITESPACE
    for raw in items:
        number += 1
        if type(raw) is bytes or isinstance(raw, bytes | bytearray):  # a file opened in binary
            try:
                text = raw.decode()  # UTF-8, strict: encoded surrogates are refused too
            except UnicodeDecodeError:
                raise EventError("line", "is not valid UTF-8", number) from None
        elif isinstance(raw, str):
            text = raw
        else:
            raise ArgumentTypeError(
                f"lines[{number - 1}]", f"must be a str or bytes line, got {describe(raw)}"
            )
        if number == 1 and whole and text.startswith("\ufeff"):  # a byte order mark (Windows)
            text = text[1:]
        if "\r" in text and _breaks_inside(text):  # rare: CR line ends, a file opened in binary
            pieces = _BREAK.split(text)
            if not pieces[-1]:  # the text ended in a line break: no line after it
                pieces.pop()
            index, previous = yield from _lines(pieces, number - 1, index, previous, False)
            number += len(pieces) - 1
            continue
        if not text or (text.isspace() and not text.strip(blank)):  # isspace: False at once for "{"
            continue
        try:
            event = parse_event(text)
        except EventError as error:
            raise error.at_line(number) from None
        opening = isinstance(event, InteractionOpened)
        if index == 0 and not opening:
            raise EventError(
                "type", f"the first event must be interaction_opened, not {event.type}", number
            )
        if index > 0 and opening:
            raise EventError(
                "type", "interaction_opened can only be the first event of an interaction", number
            )
        at = event.at
        if previous is not None and at < previous:
            raise EventError("at", f"{at.isoformat()} is earlier than the previous event's", number)
        previous = at
        yield Line(index, number, event)
        index += 1
    if whole and index == 0:
        raise EventError("type", "the transcript is empty: it must open with interaction_opened", 1)
    return index, previous


def _breaks_inside(text: str) -> bool:
    """True when ``text`` (holding a CR) is several lines: its CR is not a CR LF ending it."""
    return text.find("\r") != len(text) - 2 or text[-1] != "\n"
