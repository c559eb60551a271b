"""Reviewing a whole transcript: replay it under a policy and collect every finding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ._apply import Mode, Status, checked_mode, checked_policy, open_interaction, step
from ._errors import ArgumentTypeError, EventError, RuleError, describe
from ._events import InteractionOpened
from ._findings import Finding, Severity
from ._interaction import Interaction
from ._policy import FACTS_FIRST, Policy
from .transcript import Line


@attrs.frozen
class ReviewedFinding:
    """A finding, with the transcript line of the event it is about."""

    line: Line
    finding: Finding
    #: What became of the event (applied, refused in strict mode, invalid).
    status: Status


@attrs.frozen
class Review:
    """The result of replaying a transcript: the final interaction and every finding."""

    interaction: Interaction
    policy: Policy
    mode: Mode
    findings: tuple[ReviewedFinding, ...]
    #: How many events the transcript held.
    events: int
    #: The transcript lines ignored as duplicate deliveries (their event_id was applied).
    duplicates: tuple[Line, ...] = ()
    #: The lines ignored for being earlier than the last applied event. A transcript
    #: file cannot have any (its reader refuses them as bad input); lines built by
    #: hand can.
    late: tuple[Line, ...] = ()

    @property
    def violations(self) -> int:
        """How many findings are violations."""
        return sum(1 for f in self.findings if f.finding.severity is Severity.VIOLATION)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(1 for f in self.findings if f.finding.severity is Severity.WARNING)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON report."""
        return {
            "interaction_id": self.interaction.interaction_id,
            "policy": self.policy.name,
            "mode": self.mode.value,
            "stage": self.interaction.stage.value,
            "violations": self.violations,
            "warnings": self.warnings,
            "findings": [
                {
                    "index": item.line.index,
                    "type": item.finding.event_type,
                    "rule": item.finding.rule,
                    "severity": item.finding.severity.value,
                    "message": item.finding.message,
                }
                for item in self.findings
            ],
        }


def review(
    lines: Iterable[Line], policy: Policy = FACTS_FIRST, mode: Mode = Mode.ADVISORY
) -> Review:
    """Replay transcript ``lines`` (see :func:`~deescalate.read_transcript`) and report.

    ``lines`` are :class:`~deescalate.Line` values, as :func:`read_transcript`
    gives them; raw text raises :class:`~deescalate.ArgumentTypeError` (read it
    first). A custom rule whose code raises gives a :class:`~deescalate.RuleError`
    placed at its line.
    """
    if type(policy) is not Policy:
        policy = checked_policy(policy)
    mode = checked_mode(mode)
    if isinstance(lines, str | bytes) or not isinstance(lines, Iterable):
        raise ArgumentTypeError(
            "lines", f"must be the Line values of read_transcript(...), got {describe(lines)}"
        )
    iterator = iter(lines)
    first = _checked_line(next(iterator, None), 0)
    if first is None or not isinstance(first.event, InteractionOpened):
        number = first.number if first is not None else 1
        raise EventError("type", "the first event must be interaction_opened", number)
    interaction = open_interaction(first.event, policy)
    findings: list[ReviewedFinding] = []
    duplicates: list[Line] = []
    late: list[Line] = []
    count = 1
    duplicate, too_late = Status.DUPLICATE, Status.LATE
    for line in iterator:
        if type(line) is not Line:
            _checked_line(line, count)
        count += 1
        try:
            interaction, found, status = step(interaction, line.event, policy, mode)
        except RuleError as error:
            raise error.at(line.index, line.number) from error.__cause__
        if found:
            for finding in found:  # one or two: a plain loop beats a comprehension's frame
                findings.append(ReviewedFinding(line, finding, status))
        elif status is duplicate:
            duplicates.append(line)
        elif status is too_late:
            late.append(line)
    return Review(interaction, policy, mode, tuple(findings), count, tuple(duplicates), tuple(late))


def _checked_line(line: object, position: int) -> Line | None:
    if line is None or isinstance(line, Line):
        return line
    raise ArgumentTypeError(
        f"lines[{position}]",
        f"must be a Line (read text with read_transcript(...) first), got {describe(line)}",
    )
