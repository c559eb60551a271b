"""``deescalate report``: the complaint log across many interactions, as text, JSON or an HTML page.

It reads transcript files (reviewed in parallel worker processes) or a store
(``--db``, aggregated in SQL). A bad file is reported in one line naming it, and
the others are still reported. The exit status is the worst there is, as for
``review``: 2 (a bad file) over 1 (a violation) over 0.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO, TYPE_CHECKING, TextIO

from .._errors import ArgumentValueError
from ..report._errors import ReportError
from ._shared import Styles, parse_now, say, writes_unicode
from ._store import add_db_option

if TYPE_CHECKING:
    import argparse

    from ..report import Report

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``report``'s description and arguments to its parser."""
    parser.description = (
        "The complaint log: interactions by outcome and final stage, how long acknowledgement, "
        "agreement and follow-up took, findings by rule, by owner and by week, escalations, rejected "
        "remedies, late and open obligations, and the root causes that keep recurring. From transcript "
        "files (reviewed in parallel) or from a store (--db)."
    )
    parser.epilog = (
        "Exit status: 0 no violation; 1 at least one violation (or refused attempt); 2 bad input "
        "(a bad file is named in one line, and the others are still reported)."
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE|DIR",
        help="transcripts, - for standard input, or directories: their *.jsonl files, recursively",
    )
    add_db_option(parser, required=False, purpose="report on a store instead")
    parser.add_argument(
        "--policy",
        metavar="NAME|module:attribute",
        help="transcripts: the policy to review them under (default facts-first); "
        "--db: only the interactions opened under this policy",
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="only interactions opened at or after TIME (ISO-8601 with a UTC offset)",
    )
    parser.add_argument("--until", metavar="TIME", help="only interactions opened before TIME")
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="also count the obligations still open at TIME, and which are overdue",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="text (default), json for dashboards, or html: one self-contained page with charts",
    )
    parser.add_argument("--out", metavar="PATH", help="write the report to PATH instead of standard output")
    parser.add_argument(
        "--jobs",
        metavar="N",
        help="worker processes reviewing transcripts (default: one per processor)",
    )
    parser.add_argument(
        "--export",
        metavar="DIR",
        help="also write the rows behind the report as JSON Lines tables in DIR "
        "(interactions, findings, deliveries)",
    )
    parser.set_defaults(run=run)


def _jobs(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        jobs = int(text)
    except ValueError:
        raise ArgumentValueError("--jobs", f"must be a whole number, got {text!r}") from None
    if jobs < 1:
        raise ArgumentValueError("--jobs", f"must be 1 or more, got {jobs}")
    return jobs


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate report``: 0 without violation, 1 with one, 2 when a file was bad."""
    now, since, until = (
        None if getattr(args, name) is None else parse_now(getattr(args, name), f"--{name}")
        for name in ("now", "since", "until")
    )
    if since is not None and until is not None and until <= since:
        raise ArgumentValueError("--until", "must be later than --since")
    jobs = _jobs(args.jobs)
    if args.db is not None and args.files:
        raise ReportError("give transcript files or --db, not both")
    if args.db is None and not args.files:
        raise ReportError("give transcript files (or directories), or a store with --db")
    if args.format == "html":  # before the work: a missing extra is said at once
        from ..report._html import check_available

        check_available()
    if args.db is not None:
        if jobs is not None:
            raise ArgumentValueError("--jobs", "is for transcript files: a store is aggregated in SQL")
        from ._store import open_store

        store = open_store(args.db, existing=True)
        try:
            from ..report._sql import report_store

            report = report_store(
                store, policy=args.policy, now=now, since=since, until=until, export=args.export
            )
        finally:
            store.close()
    else:
        from ..report._transcripts import report_transcripts, usable_cpus

        report = report_transcripts(
            args.files,
            args.policy or "facts-first",
            now=now,
            since=since,
            until=until,
            jobs=jobs or usable_cpus(),
            export=args.export,
            on_bad=lambda path, why: say(err, f"{'standard input' if path == '-' else path}: {why}"),
        )
    _write(report, args.format, args.out, out)
    totals = report.finding_totals()
    if report.bad_files:
        return 2
    return 1 if totals["violation"] or totals["refused"] else 0


def _render(report: Report, form: str, out: TextIO | None) -> str:
    if form == "json":
        import json

        from ..report._json import to_dict

        ascii_only = out is not None and not writes_unicode(out)
        return json.dumps(to_dict(report), ensure_ascii=ascii_only) + "\n"
    if form == "html":
        from ..report._html import format_html

        return format_html(report)
    from ..report._text import format_text

    return format_text(report, Styles(out) if out is not None else None)


def _write(report: Report, form: str, path: str | None, out: TextIO) -> None:
    if path is None:
        out.write(_render(report, form, out))
        return
    text = _render(report, form, None)
    if os.path.exists(path) and not os.path.isfile(path):  # /dev/null, a pipe: written as it is
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as device:
                device.write(text)
        except OSError as error:
            raise ArgumentValueError("--out", f"cannot write {path}: {error.strerror or error}") from None
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".report-", dir=directory)
    except OSError as error:
        raise ArgumentValueError("--out", f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise ArgumentValueError("--out", f"cannot write {path}: {error.strerror or error}") from None
