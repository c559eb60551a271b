"""Assertions for tests of workflows and policies, with failures that show the scene.

Each helper reviews a transcript (a sequence of events with ``interaction_opened``
first, or the path of a JSON Lines file) under a policy and raises
``AssertionError`` when the claim is false. The message shows the events around
the point in question, each with its findings, and the rule's message and advice,
so a failing test explains itself without a debugger. They need no test framework;
pytest shows them at the caller's line.

A relative path is taken from the directory of the file whose code calls the
helper (the test file, in a test), as the pytest plugin's
``deescalate_load_transcript`` fixture does; code that is not in a file (a REPL,
``exec``) takes it from the current directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from ._apply import Mode, checked_event
from ._errors import EventError
from ._events import Event
from ._findings import Severity
from ._policy import FACTS_FIRST, Policy
from ._review import Review, ReviewedFinding, review
from ._stages import Stage
from .transcript import Line, read_transcript

__all__ = [
    "Transcript",
    "assert_clean",
    "assert_ends_at",
    "assert_fires",
    "assert_not_fires",
]

#: What the helpers accept as a transcript.
Transcript = Sequence[Event] | str | os.PathLike[str]

_AROUND = 2
#: deescalate's own directory: its frames are skipped when looking for the caller.
_PACKAGE = os.path.normcase(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_ours(filename: str) -> bool:
    """Whether ``filename`` is one of deescalate's own modules."""
    return os.path.normcase(os.path.abspath(filename)).startswith(_PACKAGE)


def _caller_dir() -> Path | None:
    """The directory of the file whose code called into deescalate, or None when not in a file."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_ours(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - deescalate's own code is always called from somewhere
        return None
    filename = frame.f_code.co_filename
    if filename.startswith("<") or not os.path.isfile(filename):
        return None  # a REPL, exec'd or generated code
    return Path(os.path.abspath(filename)).parent


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """``path``, taken from the directory of the calling file when relative (else the current one)."""
    target = Path(path)
    if target.is_absolute():
        return target
    return (_caller_dir() or Path.cwd()) / target


def read_lines(path: str | os.PathLike[str]) -> list[Line]:
    """The lines of the transcript file at ``path``, as given (raises OSError or EventError)."""
    with Path(path).open(encoding="utf-8") as file:
        return list(read_transcript(file))


def _lines(transcript: Transcript) -> list[Line]:
    """The transcript's lines, checked as a transcript file's would be (events, in time order)."""
    if isinstance(transcript, str | os.PathLike):
        return read_lines(resolve_path(transcript))
    lines: list[Line] = []
    for n, event in enumerate(transcript):
        checked_event(event, f"transcript[{n}]")
        if lines and event.at < lines[-1].event.at:
            raise EventError("at", f"{event.at.isoformat()} is earlier than the previous event's", n + 1)
        lines.append(Line(n, n + 1, event))
    return lines


def _scene(lines: Sequence[Line], found: Review, policy: Policy, index: int | None) -> str:
    """The events around ``index`` (or all, when short or None), each with its findings."""
    by_index: dict[int, list[ReviewedFinding]] = {}
    for item in found.findings:
        by_index.setdefault(item.line.index, []).append(item)
    if index is None or len(lines) <= 2 * _AROUND + 3:
        shown = range(len(lines))
    else:
        shown = range(max(0, index - _AROUND), min(len(lines), index + _AROUND + 1))
    out = []
    if shown.start > 0:
        out.append("     ...")
    for n in shown:
        mark = ">" if n == index else " "
        out.append(f"  {mark} {n:>3}  {lines[n].event.type}")
        for item in by_index.get(n, []):
            finding = item.finding
            out.append(f"          {finding.rule} ({finding.severity.value}): {finding.message}")
            advice = policy.rule(finding.rule).advice
            if advice and finding.severity is Severity.VIOLATION:
                out.append(f"            instead: {advice}")
    if shown.stop < len(lines):
        out.append("     ...")
    return "\n".join(out)


def assert_clean(
    transcript: Transcript,
    policy: Policy = FACTS_FIRST,
    *,
    allow_warnings: bool = True,
    mode: Mode = Mode.ADVISORY,
) -> Review:
    """Assert that ``transcript`` has no violation under ``policy`` (nor warning, if not allowed).

    Returns the :class:`~deescalate.Review` for further checks.
    """
    __tracebackhide__ = True
    lines = _lines(transcript)
    found = review(lines, policy, mode)
    bad = [
        item
        for item in found.findings
        if item.finding.severity is Severity.VIOLATION or not allow_warnings
    ]
    if bad:
        first = bad[0]
        kinds = "violation(s)" if allow_warnings else "finding(s)"
        raise AssertionError(
            f"expected a clean transcript under {policy.name}, got {len(bad)} {kinds}; "
            f"the first, at event {first.line.index}, is {first.finding.rule}: {first.finding.message}\n"
            + _scene(lines, found, policy, first.line.index)
        )
    return found


def _check_index(lines: Sequence[Line], at: int) -> None:
    """Fail unless the transcript has an event at index ``at``."""
    __tracebackhide__ = True
    if not 0 <= at < len(lines):
        raise AssertionError(f"the transcript has {len(lines)} events; there is no event {at}")


def assert_fires(
    transcript: Transcript,
    rule: str,
    at: int,
    policy: Policy = FACTS_FIRST,
    *,
    mode: Mode = Mode.ADVISORY,
) -> ReviewedFinding:
    """Assert that rule ``rule`` gives a finding for the event at index ``at`` (0 is the opening).

    Returns the matching :class:`~deescalate.ReviewedFinding`: the
    :class:`~deescalate.Finding` (``.finding``, with its message and severity), the
    transcript line it is about (``.line``) and what became of the event (``.status``).
    """
    __tracebackhide__ = True
    rule_text = policy.rule(rule).message
    lines = _lines(transcript)
    _check_index(lines, at)
    found = review(lines, policy, mode)
    for item in found.findings:
        if item.line.index == at and item.finding.rule == rule:
            return item
    elsewhere = sorted({item.line.index for item in found.findings if item.finding.rule == rule})
    where = f"it fired at event(s) {', '.join(map(str, elsewhere))}" if elsewhere else "it never fired"
    raise AssertionError(
        f"expected {rule} ({rule_text!r}) to fire at event {at} "
        f"({lines[at].event.type}) under {policy.name}; {where}\n" + _scene(lines, found, policy, at)
    )


def assert_not_fires(
    transcript: Transcript,
    rule: str,
    at: int | None = None,
    policy: Policy = FACTS_FIRST,
    *,
    mode: Mode = Mode.ADVISORY,
) -> Review:
    """Assert that rule ``rule`` gives no finding anywhere in ``transcript`` (or at index ``at``).

    ``rule`` must be a rule of ``policy``, so a misspelt id fails instead of passing.
    Returns the :class:`~deescalate.Review` for further checks.
    """
    __tracebackhide__ = True
    rule_text = policy.rule(rule).message
    lines = _lines(transcript)
    if at is not None:
        _check_index(lines, at)
    found = review(lines, policy, mode)
    fired = [item for item in found.findings if item.finding.rule == rule and at in (None, item.line.index)]
    if fired:
        first = fired[0]
        if at is None:
            where = sorted({item.line.index for item in fired})
            claim = f"never to fire under {policy.name}; it fired at event(s) {', '.join(map(str, where))}"
        else:
            claim = f"not to fire at event {at} ({lines[at].event.type}) under {policy.name}; it did"
        raise AssertionError(
            f"expected {rule} ({rule_text!r}) {claim}: {first.finding.message}\n"
            + _scene(lines, found, policy, first.line.index)
        )
    return found


def assert_ends_at(
    transcript: Transcript,
    stage: Stage | str,
    policy: Policy = FACTS_FIRST,
    *,
    mode: Mode = Mode.ADVISORY,
) -> Review:
    """Assert that reviewing ``transcript`` under ``policy`` leaves the interaction at ``stage``."""
    __tracebackhide__ = True
    expected = Stage(stage)
    lines = _lines(transcript)
    found = review(lines, policy, mode)
    actual = found.interaction.stage
    if actual is not expected:
        raise AssertionError(
            f"expected the interaction to end at {expected}, it ended at {actual} "
            f"under {policy.name} ({mode.value})\n" + _scene(lines, found, policy, len(lines) - 1)
        )
    return found
