"""Transcripts: JSON Lines of events, checked line by line.

This layer turns lines of text (from a file, standard input, a queue...) into
events, adding the checks that only make sense for a whole transcript: the first
event opens the interaction and no later one does, and time never runs backwards.
It reads lines it is given; opening files is for the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from ._codec import parse_event
from ._errors import EventError
from ._events import Event, InteractionOpened


@attrs.frozen
class Line:
    """An event of a transcript, with where it stood."""

    #: 0-based position among the transcript's non-blank lines.
    index: int
    #: 1-based line number in the file.
    number: int
    event: Event


def read_transcript(lines: Iterable[str | bytes]) -> Iterator[Line]:
    """Parse a transcript lazily, one :class:`Line` per non-blank line.

    Raises :class:`~deescalate.EventError` naming the 1-based line and the field at
    the first bad line: not JSON, not an object, unknown type, bad field, a
    timestamp earlier than the previous one, a first event that is not
    ``interaction_opened``, or a second ``interaction_opened``.
    """
    index = 0
    previous: datetime | None = None
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode()  # UTF-8
            except UnicodeDecodeError:
                raise EventError("line", "is not valid UTF-8", number) from None
        else:
            text = raw
        if not text or text.isspace():  # blank (as `not text.strip()`, without a copy)
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
            raise EventError("type", "interaction_opened may only be the first event", number)
        at = event.at
        if previous is not None and at < previous:
            raise EventError("at", f"{at.isoformat()} is earlier than the previous event's", number)
        previous = at
        yield Line(index, number, event)
        index += 1
    if index == 0:
        raise EventError("type", "the transcript is empty: it must open with interaction_opened", 1)
