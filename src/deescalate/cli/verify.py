"""``deescalate verify``: the command-line face of :mod:`deescalate.verify`.

It loads the policy (and any invariants or alphabet) named on the command line,
shows progress on a terminal, prints the report as text or JSON, and writes the
test paths, counterexamples and refused steps as transcripts that ``deescalate
review`` reads. The exit status tells a proven failure (1) from a search that ran
out before it could tell (3), so a CI job never fails a sound policy for a small
budget.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

from .._codec import dump_event
from .._errors import DeescalateError
from .._events import Event
from .._loading import load_attribute, load_policy
from ._shared import Styles, add_format_option, add_policy_option, plural

if TYPE_CHECKING:  # the exploration is imported when the command runs, not at start-up
    from ..verify import Invariant, Report

__all__ = ["EXIT", "configure", "format_text", "run"]

#: The exit status for each verdict of the whole report (2 is for bad arguments).
EXIT = {"holds": 0, "fails": 1, "inconclusive": 3}


class _CannotWrite(DeescalateError):
    """A test path or counterexample file could not be written."""


def _at_least(least: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``verify``'s description and arguments to its parser."""
    parser.description = (
        "Explore, breadth first, every interaction a policy allows in strict mode and "
        "check that followed_up stays reachable, every stage is reachable and every rule can fire. "
        "Each property holds, fails (with a transcript that shows it) or is inconclusive (the search "
        "ran out first; the report names the option to raise)."
    )
    parser.epilog = (
        "Exit status: 0 every property holds; 1 one fails; 2 bad arguments; "
        "3 none fails but some are inconclusive."
    )
    add_policy_option(parser)
    parser.add_argument(
        "--depth", type=_at_least(1), default=8, metavar="N", help="events explored (default 8)"
    )
    parser.add_argument(
        "--max-states",
        type=_at_least(1),
        default=200_000,
        metavar="N",
        help="distinct interactions explored at most (default 200000)",
    )
    parser.add_argument(
        "--escape",
        type=_at_least(0),
        default=40,
        metavar="N",
        help="how many events past --depth to look for ways out, at most (default 40)",
    )
    parser.add_argument(
        "--invariant",
        action="append",
        default=[],
        metavar="module:attribute",
        help="a function of an interaction that must hold everywhere (repeatable)",
    )
    parser.add_argument(
        "--alphabet",
        metavar="module:attribute",
        help="the events to try at each step, instead of the default alphabet",
    )
    add_format_option(parser)
    parser.add_argument(
        "--paths",
        metavar="DIR",
        help="write test paths, counterexamples and refused steps there as .jsonl transcripts",
    )
    parser.set_defaults(run=run)


def _invariants(specs: Iterable[str]) -> list[Invariant]:
    from ..verify import Invariant

    out = []
    for spec in specs:
        target = load_attribute(spec, "invariant")
        if not callable(target):
            raise DeescalateError(f"invariant {spec!r} is a {type(target).__name__}, not a function")
        out.append(Invariant.of(target))
    return out


def _alphabet(spec: str | None) -> tuple[Event, ...] | None:
    if spec is None:
        return None
    target = load_attribute(spec, "alphabet")
    items = tuple(target) if isinstance(target, list | tuple) else None
    if not items or not all(isinstance(item, Event) for item in items):
        raise DeescalateError(f"alphabet {spec!r} must be a non-empty list or tuple of events")
    return items


class _Progress:
    """A one-line progress display on a terminal; silent elsewhere."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.on = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.perf_counter()

    def __call__(self, states: int, depth: int) -> None:
        if self.on:
            self.stream.write(f"\r\033[Kexploring: {states:,} interactions, {depth} events deep")
            self.stream.flush()

    def done(self, states: int) -> None:
        if self.on:
            seconds = time.perf_counter() - self.started
            rate = states / seconds if seconds else 0
            summary = f"explored {states:,} interactions in {seconds:.1f} s ({rate:,.0f}/s)"
            self.stream.write(f"\r\033[K{summary}\n")


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) + ".jsonl"


def _write(directory: Path, name: str, events: Iterable[Event]) -> None:
    path = directory / _file_name(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(dump_event(e) + "\n" for e in events), encoding="utf-8")
    except OSError as error:
        raise _CannotWrite(f"cannot write {path}: {error.strerror or error}") from None


def _write_paths(report: Report, directory: Path) -> None:
    for path in report.paths:
        _write(directory, path.name, path.events)
    for result in report.properties:
        if result.counterexample is not None:
            _write(directory, f"counterexample-{result.name}", result.counterexample)
        if result.refused_step is not None:
            _write(directory, f"refused-step-{result.name}", result.refused_step)


_HEADLINE = {"holds": "Verified", "fails": "Not verified", "inconclusive": "Inconclusive"}
_MARK = {"holds": "holds", "fails": "FAILS", "inconclusive": "INCONCLUSIVE"}


def format_text(report: Report, styles: Styles, paths: str | None = None) -> str:
    """The verification report for people: "Verified" only when every property holds."""
    scope = f"{report.states:,} distinct interactions explored, {report.depth} events deep"
    if report.deepest > report.depth:
        scope += f" (up to {report.deepest} looking for ways out)"
    if report.closed:
        scope += ", every one the policy allows"
    elif not report.complete:
        scope += ", stopped at the state budget"
    out = [styles.bold(f"{_HEADLINE[report.verdict.value]} {report.policy}: {scope}")]
    width = max(len(p.name) for p in report.properties)
    pad = max(len(_MARK[p.verdict.value]) for p in report.properties)
    paint = {"holds": styles.dim, "fails": styles.violation, "inconclusive": styles.warning}
    for result in report.properties:
        label = _MARK[result.verdict.value]
        mark = paint[result.verdict.value](label) + " " * (pad - len(label))
        out.append(f"  {mark}  {result.name:<{width}}  {result.detail}")
        if result.counterexample is not None:
            out.append(
                f"         shortest counterexample ({plural(len(result.counterexample), 'event')}; "
                "save it as a .jsonl file and replay it with deescalate review):"
            )
            out.extend(f"           {dump_event(e)}" for e in result.counterexample)
        if result.refused_step is not None:
            out.append(
                f"         refused step ({plural(len(result.refused_step), 'event')}: the furthest way "
                f"forward, then the event {', '.join(result.refused_by)} refuses there; "
                "deescalate review --strict shows it refused):"
            )
            out.extend(f"           {dump_event(e)}" for e in result.refused_step)
    stages = sum(p.name.startswith("reach-") for p in report.paths)
    where = f", written to {paths}" if paths else " (write them with --paths DIR)"
    out.append(
        f"Test paths: {stages} shortest to a stage, {len(report.paths) - stages} covering every "
        f"transition taken{where}"
    )
    if report.longest_way_out is not None:
        out.append(f"Longest way out: {report.longest_way_out} events from an interaction to followed_up")
    if report.untaken:
        out.append(f"Transitions no explored transcript takes: {', '.join(report.untaken)}")
    total = len(report.properties)
    failing = sum(p.verdict.value == "fails" for p in report.properties)
    unsure = sum(p.verdict.value == "inconclusive" for p in report.properties)
    if failing:
        also = f"; {unsure} inconclusive" if unsure else ""
        out.append(styles.violation(f"{failing} of {total} properties fail{also}."))
    elif unsure:
        summary = f"Nothing fails, but {unsure} of {total} properties are inconclusive"
        out.append(styles.warning(f"{summary}: raise the option each one names."))
    else:
        out.append(f"All {total} properties hold.")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate verify``; 0 when every property holds, 1 when one fails, 3 when unsure."""
    from ..verify import verify

    policy = load_policy(args.policy)
    invariants = _invariants(args.invariant)
    alphabet = _alphabet(args.alphabet)
    progress = _Progress(err)
    report = verify(
        policy,
        depth=args.depth,
        max_states=args.max_states,
        escape=args.escape,
        alphabet=alphabet,
        invariants=invariants,
        progress=progress,
    )
    progress.done(report.states)
    if args.paths:
        _write_paths(report, Path(args.paths))
    if args.format == "json":
        out.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        out.write(format_text(report, Styles(out), args.paths))
    return EXIT[report.verdict.value]
