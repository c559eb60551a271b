"""``deescalate ingest``: load transcripts into a store, one interaction per file.

Each file is delivered in one transaction, so a file is either wholly in the store or
not at all. Ingesting is idempotent: what the store's journal already has of a
transcript is skipped, so running it twice changes nothing, and running it after a
transcript grew delivers only the new events. A bad file (unreadable, bad JSON, a
transcript that contradicts what the store holds) is reported in one line and the
others are still ingested. The exit status is review's: 2 (a bad file) over 1 (a
violation) over 0.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any, TextIO

from .._apply import Mode
from .._errors import DeescalateError
from .._findings import Severity
from .._loading import load_policy
from ..transcript import read_transcript
from ._shared import (
    Styles,
    add_format_option,
    add_policy_option,
    lines,
    plural,
    printable,
    say,
    writes_unicode,
)
from ._store import add_db_option, open_store
from .review import _Bad, _expand

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``ingest``'s description and arguments to its parser."""
    parser.description = (
        "Load JSON Lines transcripts into a store, one interaction per file, each file in one "
        "transaction. Idempotent: what the store already has is skipped. A bad file is reported in "
        "one line, and the others are still ingested."
    )
    parser.epilog = "Exit status: 0 no violation; 1 at least one violation; 2 a bad file (the worst of them)."
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a transcript, - for standard input, or a directory: its *.jsonl files, recursively, in order",
    )
    add_db_option(parser)
    add_policy_option(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="judge as a live guard would: events with violations are refused (and journaled)",
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate ingest``: 0 without violation, 1 with one, 2 for a bad file."""
    policy = load_policy(args.policy)
    mode = Mode.STRICT if args.strict else Mode.ADVISORY
    store = open_store(args.db, existing=False, policies=[policy], policy=policy, mode=mode)
    from ..store import JournalConflict, StoreError  # importable now: the store is open

    styles = Styles(out)
    totals = {"files": 0, "bad_files": 0, "unchanged": 0, "deliveries": 0, "violations": 0, "warnings": 0}
    fates: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    status = 0
    try:
        for path, bad in _expand(args.files):
            totals["files"] += 1
            name = "standard input" if path == "-" else printable(path)
            entry: dict[str, Any] = {"path": path}
            try:
                if bad is not None:
                    raise _BadFile(bad.message)
                events = [line.event for line in read_transcript(lines(path))]
                if not events:
                    raise _BadFile("holds no event")
                delivered = store.ingest(events, mode=mode, policy=policy)
            except (DeescalateError, _BadFile) as error:
                if isinstance(error, StoreError) and not isinstance(error, JournalConflict):
                    raise  # the database failed: that is no fault of this file
                why = _Bad.of(error) if isinstance(error, DeescalateError) else _Bad(str(error))
                message = why.message
                totals["bad_files"] += 1
                status = 2
                say(err, f"{path}: {message}")
                entry.update(error=message, line=why.line, field=why.field)
                entries.append(entry)
                if args.format != "json":
                    out.write(f"{name}: {styles.violation('not ingested')}: {message}\n")
                continue
            interaction_id = events[0].interaction_id  # type: ignore[attr-defined]
            # What the store has of this transcript: the deliveries made now, or (when it
            # had them all) those made before, so that running again reports the same.
            records = (
                [delivery.record for delivery in delivered]
                if delivered
                else store.deliveries(interaction_id=interaction_id, limit=len(events))
            )
            counts: dict[str, int] = {}
            violations = warnings = 0
            for record in records:
                counts[record.fate.value] = counts.get(record.fate.value, 0) + 1
                for finding in record.findings:
                    if finding.severity is Severity.VIOLATION:
                        violations += 1
                    else:
                        warnings += 1
            for fate, count in counts.items():
                fates[fate] = fates.get(fate, 0) + count
            totals["deliveries"] += len(delivered)
            totals["violations"] += violations
            totals["warnings"] += warnings
            if not delivered:
                totals["unchanged"] += 1
            if violations:
                status = max(status, 1)
            entry.update(
                interaction_id=interaction_id,
                delivered=len(delivered),
                unchanged=not delivered,
                fates=counts,
                violations=violations,
                warnings=warnings,
            )
            entries.append(entry)
            if args.format != "json":
                said = _summary(interaction_id, counts, violations, warnings, bool(delivered), styles)
                out.write(f"{name}: {said}\n")
    finally:
        store.close()
    if args.format == "json":
        ascii_only = not writes_unicode(out)
        out.write(
            json.dumps({"files": entries, "totals": {**totals, "fates": fates}}, ensure_ascii=ascii_only)
        )
        out.write("\n")
    else:
        worse = f" ({totals['bad_files']} bad)" if totals["bad_files"] else ""
        unchanged = f", {totals['unchanged']} unchanged" if totals["unchanged"] else ""
        out.write(
            styles.bold(
                f"Total: {plural(totals['files'], 'file')}{worse}{unchanged}: "
                f"{_deliveries(totals['deliveries'])} made; "
                f"{plural(totals['violations'], 'violation')}, {plural(totals['warnings'], 'warning')}"
            )
            + "\n"
        )
    return status


def _deliveries(count: int) -> str:
    return f"{count} new deliver{'y' if count == 1 else 'ies'}"


class _BadFile(Exception):
    """A file that cannot be ingested, for a reason that is not an error of the library."""


def _summary(
    interaction_id: str, counts: dict[str, int], violations: int, warnings: int, new: bool, styles: Styles
) -> str:
    who = printable(interaction_id) + ("" if new else " (unchanged: the store had it all)")
    fates = ", ".join(f"{count} {fate.replace('_', ' ')}" for fate, count in counts.items())
    found = f"; {plural(violations, 'violation')}, {plural(warnings, 'warning')}"
    if violations:
        found = styles.violation(found)
    return f"{who}: {fates}{found}"
