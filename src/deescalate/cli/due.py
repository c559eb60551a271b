"""``deescalate due``: the obligations due across a store's interactions, the scheduler's question.

It reads the store's obligations through their due-time index, so it costs what it
finds. "Due" means a deadline at ``--now`` or earlier; one that passed before ``--now``
is overdue. Without ``--now``, the time is the machine's clock: this is the one
command that reads it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, TextIO

from ._shared import Styles, add_format_option, parse_now, plural, printable, writes_unicode
from ._store import add_db_option, open_store

if TYPE_CHECKING:
    import argparse

    from ..store import DueObligation

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``due``'s description and arguments to its parser."""
    parser.description = (
        "List the obligations (callbacks, progress reports, follow-ups, escalations) due at a time "
        "across every interaction in a store, soonest first, with who has each interaction."
    )
    parser.epilog = "Exit status: 0, whatever is due; 2 when the store cannot be read."
    add_db_option(parser)
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="the time to ask about (ISO-8601 with a UTC offset); default: the machine's clock",
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate due``: always 0 once the store was read."""
    now = parse_now(args.now) if args.now is not None else datetime.now(UTC)
    store = open_store(args.db, existing=True)
    try:
        found = store.due(now)
    finally:
        store.close()
    if args.format == "json":
        data = {"now": now.isoformat(), "due": [item.to_dict() for item in found]}
        out.write(json.dumps(data, ensure_ascii=not writes_unicode(out)) + "\n")
        return 0
    out.write(format_text(found, now, Styles(out)))
    return 0


def format_text(found: list[DueObligation], now: datetime, styles: Styles) -> str:
    """The due obligations as the command prints them: a heading, then one line each."""
    from .._durations import say_span

    interactions = len({item.interaction_id for item in found})
    heading = f"Due at {now.isoformat()}: "
    if not found:
        return styles.bold(heading + "nothing.") + "\n"
    overdue = sum(item.overdue for item in found)
    late = f", {overdue} overdue" if overdue else ""
    lines = [
        styles.bold(
            heading + f"{plural(len(found), 'obligation')} in {plural(interactions, 'interaction')}{late}."
        )
    ]
    for item in found:
        due = item.obligation.due
        when = (
            styles.violation(f"overdue by {say_span(now - due)}")
            if item.overdue
            else styles.warning("due now")
        )
        lines.append(
            f"  - {printable(item.interaction_id)} ({printable(item.owner)}): "
            f"{item.obligation.kind.value} by {due.isoformat()} ({when})"
        )
    return "\n".join(lines) + "\n"
