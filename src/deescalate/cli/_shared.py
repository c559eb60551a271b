"""What the commands share: reading a transcript file, writing text any output takes, ``--now``, styles."""

from __future__ import annotations

import codecs
import contextlib
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from .._errors import ArgumentValueError, one_line
from .._files import CannotRead, lines
from .._terminal import Styles, plural

if TYPE_CHECKING:
    from .._obligations import OpenObligation

__all__ = ["CannotRead", "Styles", "lines", "parse_now", "plural", "printable", "say", "writes_unicode"]


def writes_unicode(out: IO[str]) -> bool:
    """True when ``out`` can write any text: a stream in memory, or one encoding to UTF-8/16/32."""
    encoding = getattr(out, "encoding", None)
    if not isinstance(encoding, str):
        return True
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def parse_now(text: str, option: str = "--now") -> datetime:
    """``--now`` (or another time ``option``): an ISO-8601 timestamp with a UTC offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentValueError(option, f"is not an ISO-8601 timestamp: {text!r}") from None
    if moment.utcoffset() is None:
        raise ArgumentValueError(option, f"has no UTC offset: {text!r} (add Z or +00:00)")
    return moment


def printable(text: str) -> str:
    """``text`` with what cannot be printed (control characters, a lone surrogate) as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def say(err: IO[str], message: str) -> None:
    """Write ``deescalate: message`` to ``err`` as one line, whatever the message holds.

    Control characters and text the stream cannot encode (a lone surrogate) are
    escaped rather than allowed to raise: the last thing the command does must
    not fail.
    """
    line = printable(one_line(message))
    with contextlib.suppress(OSError, ValueError):  # standard error closed: nowhere left to say it
        try:
            err.write(f"deescalate: {line}\n")
        except UnicodeError:  # a stream of a narrower encoding, in strict mode
            err.write(f"deescalate: {ascii(line)[1:-1]}\n")
        err.flush()


def owed_line(owed: OpenObligation, now: datetime, styles: Styles) -> str:
    """One obligation as ``guide`` and ``review --now`` show it: its kind, deadline, and how it stands."""
    from .._durations import say_span

    obligation = owed.obligation
    due = obligation.due
    if owed.overdue:
        when = styles.violation(f"overdue by {say_span(now - due)}")
    elif due == now:
        when = styles.warning("due now")
    else:
        when = f"due in {say_span(due - now)}"
    return f"  - {obligation.kind.value}: by {due.isoformat()} ({when})"


def add_format_option(parser: Any) -> None:
    """The ``--format text|json`` option of the commands that print for people or tools."""
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) for people, or json: one JSON object for tools",
    )


def add_policy_option(parser: Any) -> None:
    """The ``--policy`` option every command that judges events has, worded once."""
    parser.add_argument(
        "--policy",
        default="facts-first",
        metavar="NAME|module:attribute",
        help="facts-first (default), apologize-first, or a Policy in your code",
    )
