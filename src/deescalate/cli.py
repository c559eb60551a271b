"""The ``deescalate`` command: review transcripts, guide agents, verify policies, draw the stage graph.

A thin shell around the core: it opens files, picks a policy, prints, and turns
every error into one line on standard error with exit status 2 (Ctrl-C into
``deescalate: interrupted`` and status 130). It never shows a traceback, whatever
the input or the custom rules do, never fails writing text its output cannot
encode, and never imports hypothesis or pytest.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, TextIO

from . import _guide_command, _verify_command
from ._apply import Mode, Status
from ._durations import say_span
from ._errors import ArgumentValueError, DeescalateError, RuleError, one_line
from ._guidance import OpenObligation
from ._loading import load_policy
from ._review import Review, review
from ._rules import Params
from ._terminal import Styles as _Styles
from ._terminal import plural as _plural
from .diagram import FORMATS, render_diagram
from .transcript import read_transcript

_USAGE_ERROR = 2
#: The status of a command stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2.
_INTERRUPTED = 130


def _params_text(report: Review) -> list[str]:
    """The policy's parameters that differ from the defaults, and its own: what the review was judged by."""
    defaults = Params().to_json()
    changed = [
        f"{name}={value}" if value is not None else f"{name}=off"
        for name, value in report.policy.params.to_json().items()
        if name not in defaults or defaults[name] != value
    ]
    return [f"Parameters: {', '.join(changed)}"] if changed else []


def format_text(report: Review, styles: _Styles, now: datetime | None = None) -> str:
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
        f"{_plural(report.violations, 'violation')}, {_plural(report.warnings, 'warning')} "
        f"in {_plural(report.events, 'event')}",
    ]
    count = len(report.duplicates)
    if count:
        noun, where = ("duplicate delivery", "line") if count == 1 else ("duplicate deliveries", "lines")
        numbers = ", ".join(str(line.number) for line in report.duplicates)
        out.append(f"{count} {noun} ignored ({where} {numbers})")
    if owed:
        out += ["", *owed]
    return "\n".join(out) + "\n"


def _owed_text(owed: tuple[OpenObligation, ...], now: datetime, styles: _Styles) -> list[str]:
    """The "Owed to the customer" section, worded as by ``deescalate guide``: each deadline, how it stands."""
    heading = f"Owed to the customer at {now.isoformat()}"
    if not owed:
        return [styles.bold(f"{heading}: nothing.")]
    overdue = sum(1 for item in owed if item.overdue)
    if overdue:
        heading += f" ({overdue} overdue)"
    out = [styles.bold(f"{heading}:")]
    for item in owed:
        obligation = item.obligation
        due = obligation.due
        if item.overdue:
            when = styles.violation(f"overdue by {say_span(now - due)}")
        elif due == now:
            when = styles.warning("due now")
        else:
            when = f"due in {say_span(due - now)}"
        out.append(f"  - {obligation.kind.value}: by {due.isoformat()} ({when})")
    return out


class _CannotRead(DeescalateError):
    """The transcript file could not be opened or read."""


def _lines(path: str) -> Iterator[bytes]:
    try:
        if path == "-":
            if sys.stdin is None:
                raise _CannotRead("cannot read standard input: it is closed")
            yield from sys.stdin.buffer
            return
        with open(path, "rb") as handle:
            yield from handle
    except OSError as error:
        raise _CannotRead(f"cannot read {path}: {error.strerror or error}") from None


def _review(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    now = _guide_command.parse_now(args.now) if args.now is not None else None
    policy = load_policy(args.policy)
    mode = Mode.STRICT if args.strict else Mode.ADVISORY
    report = review(read_transcript(_lines(args.file)), policy, mode)
    if now is not None and now < report.last_at:
        raise ArgumentValueError(
            "--now", f"is earlier than the transcript's last event ({report.last_at.isoformat()})"
        )
    if args.format == "json":
        # Non-ASCII text as it is, unless the output cannot encode it: then as JSON
        # escapes, which (unlike the stream's own escaping) keep the JSON valid.
        out.write(json.dumps(report.to_dict(now), ensure_ascii=not _writes_unicode(out)) + "\n")
    else:
        out.write(format_text(report, _Styles(out), now))
    # Owing the customer is not a finding: an overdue obligation does not change the status.
    return 1 if report.violations else 0


def _writes_unicode(out: IO[str]) -> bool:
    """True when ``out`` can write any text: a stream in memory, or one encoding to UTF-8/16/32."""
    encoding = getattr(out, "encoding", None)
    if not isinstance(encoding, str):
        return True
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def _diagram(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    policy = load_policy(args.policy) if args.policy else None
    out.write(render_diagram(policy, args.format, internal=args.internal))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deescalate",
        description="Guard and review customer-complaint interactions.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rev = commands.add_parser(
        "review",
        help="replay a transcript (JSON Lines) under a policy and report the findings",
        description="Replay a JSON Lines transcript and report every finding; with --now, "
        "also what is still owed to the customer at the end, and what is overdue at that time. "
        "Exit 0: no violation; 1: at least one violation; 2: bad input.",
    )
    rev.add_argument("file", metavar="FILE", help="the transcript, or - for standard input")
    rev.add_argument(
        "--policy",
        default="facts-first",
        metavar="NAME|module:attribute",
        help="facts-first (default), apologize-first, or a Policy in your code",
    )
    rev.add_argument(
        "--strict", action="store_true", help="refuse events with violations, as a live guard would"
    )
    rev.add_argument(
        "--now",
        metavar="TIME",
        help="also list what is still owed to the customer at the end, and whether it is "
        "overdue at TIME (ISO-8601 with a UTC offset, no earlier than the last event)",
    )
    rev.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    rev.set_defaults(run=_review)

    dia = commands.add_parser(
        "diagram",
        help="print the stage graph (Mermaid or DOT)",
        description="Print the stage graph, drawn by transitions from the transition table.",
    )
    dia.add_argument("--format", choices=FORMATS, default="mermaid")
    dia.add_argument(
        "--policy", metavar="NAME|module:attribute", help="label transitions with its rule ids"
    )
    dia.add_argument(
        "--internal", action="store_true", help="also show events that keep the stage"
    )
    dia.set_defaults(run=_diagram)

    _verify_command.add_parser(commands)
    _guide_command.add_parser(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: IO[str] | None = None
) -> int:
    """Run the command line; returns the exit status.

    Every error is one line on ``err`` (``deescalate: ...``) with status 2, Ctrl-C
    is ``deescalate: interrupted`` with status 130, and no traceback is ever shown.
    """
    err = err or sys.stderr or io.StringIO()  # no standard error at all (pythonw): say nothing
    try:
        return _main(argv, out, err)
    except KeyboardInterrupt:
        _say(err, "interrupted")
        return _INTERRUPTED


def _main(argv: Sequence[str] | None, out: TextIO | None, err: IO[str]) -> int:
    args = _parser().parse_args(argv)
    if out is None:
        out = sys.stdout
        if out is None:
            _say(err, "cannot write output: standard output is closed")
            return _USAGE_ERROR
        _never_fail_encoding(out)
    # Like `python -m`, let --policy module:attribute find modules in the working directory.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        status: int = args.run(args, out, err)  # every command: (arguments, output, errors)
        out.flush()
    except DeescalateError as error:
        _say(err, _text_of(error))
        return _USAGE_ERROR
    except OSError as error:  # reading failures are _CannotRead: this is the output
        _silence(out)
        _say(err, f"cannot write output: {error.strerror or _text_of(error)}")
        return _USAGE_ERROR
    except (Exception, SystemExit) as error:  # a custom rule's own bug: report it, no traceback
        _say(err, f"error while running {args.command}: {RuleError.explain(error)}")
        return _USAGE_ERROR
    return status


def _text_of(error: BaseException) -> str:
    """An error's message, or its type when the message itself cannot be read."""
    try:
        return str(error)
    except Exception:
        return type(error).__name__


def _say(err: IO[str], message: str) -> None:
    """Write ``deescalate: message`` to ``err`` as one line, whatever the message holds.

    Control characters and text the stream cannot encode (a lone surrogate) are
    escaped rather than allowed to raise: the last thing the command does must
    not fail.
    """
    line = one_line(message)
    if not line.isprintable():
        line = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in line)
    with contextlib.suppress(OSError, ValueError):  # standard error closed: nowhere left to say it
        try:
            err.write(f"deescalate: {line}\n")
        except UnicodeError:  # a stream of a narrower encoding, in strict mode
            err.write(f"deescalate: {ascii(line)[1:-1]}\n")
        err.flush()


def _never_fail_encoding(stream: TextIO) -> None:
    """Let ``stream`` escape what its encoding cannot write, rather than raise.

    Events never hold a lone surrogate (they are refused as bad input), but the
    report must not crash whatever text reaches it, nor on a terminal whose
    encoding is not UTF-8.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        with contextlib.suppress(Exception):
            reconfigure(errors="backslashreplace")


def _silence(out: TextIO) -> None:
    """Point a failed standard output at devnull, so exit does not fail flushing it again."""
    if out is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run() -> None:
    """Console-script entry point: exits with the command's status (130 on Ctrl-C)."""
    try:
        status = main()
    except KeyboardInterrupt:  # pressed again while the first one was being reported
        status = _INTERRUPTED
    sys.exit(status)
