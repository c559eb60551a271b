"""``deescalate review``: replay transcripts under a policy and report every finding.

One file gives its report alone, as text for people or one JSON object for tools.
Several (or a directory: its ``*.jsonl`` files, recursively, in order) give each
file's report, headed by its path, then the totals; a bad file is reported in one
line naming it, and the others are still reviewed. The exit status is the worst
of them: 2 (a bad file) over 1 (a violation) over 0.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, TextIO

from .._apply import Mode, Status
from .._errors import ArgumentValueError, DeescalateError, EventError
from .._files import reason_of, transcripts
from .._loading import load_policy
from .._review import Review, review
from .._rules import Params
from ..transcript import read_transcript
from ._shared import (
    Styles,
    add_format_option,
    add_policy_option,
    lines,
    owed_line,
    parse_now,
    plural,
    printable,
    say,
    writes_unicode,
)

if TYPE_CHECKING:
    import argparse

    from .._obligations import OpenObligation
    from .._policy import Policy

__all__ = ["configure", "format_text", "run"]

#: The exit status of a bad file, the worst there is.
_BAD = 2


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``review``'s description and arguments to its parser."""
    parser.description = (
        "Replay JSON Lines transcripts and report every finding; with --now, also what is still "
        "owed to the customer at the end, and what is overdue at that time. With several files "
        "(or a directory), each file's report is headed by its path and followed by the totals; "
        "a bad file is reported in one line, and the others are still reviewed."
    )
    parser.epilog = (
        "Exit status: 0 no violation; 1 at least one violation; 2 bad input. With several files, "
        "the worst of them."
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a transcript, - for standard input, or a directory: its *.jsonl files, recursively, "
        "in order (several may be given)",
    )
    add_policy_option(parser)
    parser.add_argument(
        "--strict", action="store_true", help="refuse events with violations, as a live guard would"
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="also list what is still owed to the customer at the end of each transcript, and whether "
        "it is overdue at TIME (ISO-8601 with a UTC offset, no earlier than the last event)",
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate review``: 0 without violation, 1 with one, 2 for a bad file."""
    now = parse_now(args.now) if args.now is not None else None
    policy = load_policy(args.policy)
    mode = Mode.STRICT if args.strict else Mode.ADVISORY
    paths: list[str] = args.files
    if len(paths) == 1 and (paths[0] == "-" or not os.path.isdir(paths[0])):
        report = _review_file(paths[0], policy, mode, now)
        if args.format == "json":
            # Non-ASCII text as it is, unless the output cannot encode it: then as JSON
            # escapes, which (unlike the stream's own escaping) keep the JSON valid.
            out.write(json.dumps(report.to_dict(now), ensure_ascii=not writes_unicode(out)) + "\n")
        else:
            out.write(format_text(report, Styles(out), now))
        # Owing the customer is not a finding: an overdue obligation does not change the status.
        return 1 if report.violations else 0
    return _review_files(_expand(paths), policy, mode, now, args.format == "json", out, err)


def _review_file(path: str, policy: Policy, mode: Mode, now: datetime | None) -> Review:
    report = review(read_transcript(lines(path)), policy, mode)
    if now is not None and now < report.last_at:
        raise ArgumentValueError(
            "--now", f"is earlier than the transcript's last event ({report.last_at.isoformat()})"
        )
    return report


# -- several files -------------------------------------------------------------------------------


class _Bad:
    """Why a file was not reviewed: the message (without the path), and the line and field at fault."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.line = line
        self.field = field

    @classmethod
    def of(cls, error: DeescalateError) -> _Bad:
        line = getattr(error, "line", None)
        field = error.field if isinstance(error, EventError) else None
        return cls(reason_of(error), line if isinstance(line, int) else None, field)


def _expand(paths: Sequence[str]) -> list[tuple[str, _Bad | None]]:
    """Each path to review, in order: a directory stands for its ``*.jsonl`` files, recursively."""
    return [(path, None if why is None else _Bad(why)) for path, why in transcripts(paths)]


class _Totals:
    def __init__(self) -> None:
        self.files = self.bad_files = self.events = self.violations = self.warnings = 0
        self.status = 0

    def add(self, report: Review | None) -> None:
        self.files += 1
        if report is None:
            self.bad_files += 1
            self.status = _BAD
            return
        self.events += report.events
        self.violations += report.violations
        self.warnings += report.warnings
        if report.violations:
            self.status = max(self.status, 1)

    def to_dict(self) -> dict[str, int]:
        return {
            "files": self.files,
            "bad_files": self.bad_files,
            "events": self.events,
            "violations": self.violations,
            "warnings": self.warnings,
        }

    def text(self) -> str:
        bad = f" ({self.bad_files} bad)" if self.bad_files else ""
        return (
            f"Total: {plural(self.files, 'file')}{bad}: {plural(self.violations, 'violation')}, "
            f"{plural(self.warnings, 'warning')} in {plural(self.events, 'event')}"
        )


def _review_files(
    targets: list[tuple[str, _Bad | None]],
    policy: Policy,
    mode: Mode,
    now: datetime | None,
    as_json: bool,
    out: TextIO,
    err: IO[str],
) -> int:
    styles = Styles(out)
    ascii_only = not writes_unicode(out)
    progress = _Progress(err, len(targets), on=not as_json and _shows_progress(out, err))
    totals = _Totals()
    if as_json:
        out.write('{"files": [')
    for number, (path, bad) in enumerate(targets):
        progress.show(number)
        report = None
        if bad is None:
            try:
                report = _review_file(path, policy, mode, now)
            except DeescalateError as error:
                bad = _Bad.of(error)
        totals.add(report)
        progress.clear()
        if bad is not None:
            say(err, f"{path}: {bad.message}")
        if as_json:
            entry: dict[str, Any] = {"path": path}
            if report is not None:
                entry.update(report.to_dict(now))
            else:
                assert bad is not None
                entry.update(error=bad.message, line=bad.line, field=bad.field)
            out.write((", " if number else "") + json.dumps(entry, ensure_ascii=ascii_only))
        else:
            name = "standard input" if path == "-" else printable(path)
            out.write(("\n" if number else "") + styles.bold(f"==> {name} <==") + "\n")
            if report is not None:
                out.write(format_text(report, styles, now))
            else:
                assert bad is not None
                out.write(f"{styles.violation('Not reviewed')}: {bad.message}\n")
        if progress.on:
            out.flush()  # before the progress line is drawn again below it
    progress.clear()
    if as_json:
        out.write(f'], "totals": {json.dumps(totals.to_dict())}}}\n')
    else:
        out.write("\n" + styles.bold(totals.text()) + "\n")
    return totals.status


def _shows_progress(out: IO[str], err: IO[str]) -> bool:
    """Progress is for a person at a terminal: standard error a terminal, the report not piped."""
    if not (hasattr(err, "isatty") and err.isatty()):
        return False
    try:
        return not stat.S_ISFIFO(os.fstat(out.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # a stream in memory: not a pipe
        return True


class _Progress:
    """``reviewed N of M files`` on one line of a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: IO[str], total: int, on: bool) -> None:
        self.stream = stream
        self.total = total
        self.on = on and total > 1
        self.drawn = False
        self.last = 0.0

    def show(self, done: int) -> None:
        if not self.on:
            return
        moment = time.monotonic()
        if done and moment - self.last < 0.1:
            return
        self.last = moment
        self.stream.write(f"\r\033[Kreviewing: {done:,} of {self.total:,} files done")
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


# -- the text report ---------------------------------------------------------------------------


def _params_text(report: Review) -> list[str]:
    """The policy's parameters that differ from the defaults, and its own: what the review was judged by."""
    defaults = Params().to_json()
    changed = [
        f"{name}={value}" if value is not None else f"{name}=off"
        for name, value in report.policy.params.to_json().items()
        if name not in defaults or defaults[name] != value
    ]
    return [f"Parameters: {', '.join(changed)}"] if changed else []


def format_text(report: Review, styles: Styles, now: datetime | None = None) -> str:
    """The review for people: each finding with its event and advice, then the totals.

    Given ``now``, it ends with what is still owed to the customer at that time.
    """
    owed = _owed_text(report.obligations(now), now, styles) if now is not None else []
    out = [
        styles.bold(
            f"Review of {report.interaction.interaction_id} under {report.policy.name} "
            f"({report.mode.value})"
        ),
        *_params_text(report),
        "",
    ]
    last_line = None
    for item in report.findings:
        line, finding = item.line, item.finding
        if line is not last_line:
            status = {
                Status.REFUSED: " (refused)",
                Status.INVALID: " (not applied)",
            }.get(item.status, "")
            out.append(
                f"#{line.index} line {line.number}: {line.event.type} "
                f"at {line.event.at.isoformat()}{status}"
            )
            last_line = line
        paint = styles.violation if finding.is_violation else styles.warning
        out.append(f"  {paint(finding.severity.value.upper())} {finding.rule}: {finding.message}")
        # Every finding comes from the review's policy (or is invalid-transition, which
        # every policy answers for), so its rule is always there to give advice.
        advice = report.policy.rule(finding.rule).advice
        if advice:
            out.append(styles.dim(f"    instead: {advice}"))
    if not report.findings:
        out.append("No findings: the agent followed every rule of the policy.")
    out += [
        "",
        f"Final stage: {report.interaction.stage.value}",
        f"{plural(report.violations, 'violation')}, {plural(report.warnings, 'warning')} "
        f"in {plural(report.events, 'event')}",
    ]
    count = len(report.duplicates)
    if count:
        noun, where = ("duplicate delivery", "line") if count == 1 else ("duplicate deliveries", "lines")
        numbers = ", ".join(str(line.number) for line in report.duplicates)
        out.append(f"{count} {noun} ignored ({where} {numbers})")
    if owed:
        out += ["", *owed]
    return "\n".join(out) + "\n"


def _owed_text(owed: tuple[OpenObligation, ...], now: datetime, styles: Styles) -> list[str]:
    """The "Owed to the customer" section, worded as by ``deescalate guide``: each deadline, how it stands."""
    heading = f"Owed to the customer at {now.isoformat()}"
    if not owed:
        return [styles.bold(f"{heading}: nothing.")]
    overdue = sum(1 for item in owed if item.overdue)
    if overdue:
        heading += f" ({overdue} overdue)"
    out = [styles.bold(f"{heading}:")]
    out += [owed_line(item, now, styles) for item in owed]
    return out
