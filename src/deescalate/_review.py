"""Reviewing a whole transcript: replay it under a policy and collect every finding.

The review itself never reads a clock. What is still owed to the customer at the
end of the transcript is asked *at* a time the caller passes in
(:meth:`Review.obligations`, ``to_dict(now=...)``), as ``deescalate review --now``
does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._apply import Mode, Status, checked_mode, checked_policy, open_interaction, step
from ._errors import ArgumentTypeError, ArgumentValueError, EventError, RuleError, describe
from ._events import InteractionOpened
from ._findings import Finding, Severity
from ._interaction import Interaction
from ._policy import FACTS_FIRST, Policy
from ._value import value_repr
from .transcript import Line

if TYPE_CHECKING:  # imported when asked for: a review without --now never needs them
    from ._obligations import OpenObligation


@attrs.frozen(repr=False)
class ReviewedFinding:
    """A finding, with the transcript line of the event it is about."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    line: Line
    finding: Finding
    #: What became of the event (applied, refused in strict mode, invalid).
    status: Status


@attrs.frozen(repr=False)
class Review:
    """The result of replaying a transcript: the final interaction and every finding."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

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
    #: The time of the transcript's last event: the latest ``at`` of all its events,
    #: applied or not (by default, the last applied event's).
    last_at: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.interaction.history.last.at, takes_self=True)
    )

    @property
    def violations(self) -> int:
        """How many findings are violations."""
        return sum(1 for f in self.findings if f.finding.severity is Severity.VIOLATION)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(1 for f in self.findings if f.finding.severity is Severity.WARNING)

    def obligations(self, now: datetime) -> tuple[OpenObligation, ...]:
        """What is still owed to the customer at the end of the transcript, seen at ``now``.

        The obligations the final interaction has open under the review's policy,
        soonest due first, each with whether it is overdue at ``now`` (its deadline
        passed before ``now``). ``now`` is the caller's time, a timezone-aware
        datetime no earlier than :attr:`last_at`: nothing here reads a clock.
        """
        from ._obligations import OpenObligation, checked_now, open_obligations

        now = checked_now(now)
        if now < self.last_at:
            raise ArgumentValueError(
                "now",
                f"is earlier than the transcript's last event ({self.last_at.isoformat()})",
            )
        return tuple(
            OpenObligation(item, item.due < now)
            for item in open_obligations(self.interaction, self.policy)
        )

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """The JSON report of ``deescalate review --format json`` (and ``--now``).

        Each finding has the event's ``index``, ``type``, the ``rule``, ``severity``
        and ``message``, then its 1-based ``line``, what became of the event
        (``status``: ``applied``, ``refused`` or ``invalid``), the rule's ``advice``
        (``""`` when it gives none) and the event's ``event_id`` (or None). Given
        ``now``, the report also holds ``now`` and the ``obligations`` still open
        at the end, as :meth:`obligations` gives them. ``params`` holds the
        policy's parameters (its own included), durations as ISO-8601 text.
        """
        data: dict[str, Any] = {
            "interaction_id": self.interaction.interaction_id,
            "policy": self.policy.name,
            "mode": self.mode.value,
            "stage": self.interaction.stage.value,
            "violations": self.violations,
            "warnings": self.warnings,
            "findings": [self._finding_dict(item) for item in self.findings],
            "params": self.policy.params.to_json(),
        }
        if now is not None:
            owed = self.obligations(now)
            data["now"] = now.isoformat()
            data["obligations"] = [item.to_dict() for item in owed]
        return data

    def _finding_dict(self, item: ReviewedFinding) -> dict[str, Any]:
        line, finding = item.line, item.finding
        # Every finding comes from the review's policy (or is invalid-transition, which
        # every policy answers for), so its rule is always there to give advice.
        return {
            "index": line.index,
            "type": finding.event_type,
            "rule": finding.rule,
            "severity": finding.severity.value,
            "message": finding.message,
            "line": line.number,
            "status": item.status.value,
            "advice": self.policy.rule(finding.rule).advice,
            "event_id": line.event.event_id,
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
    line = first
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
    # A transcript file is in time order, so its last line is its latest; lines built
    # by hand may end with late ones, earlier than the last applied event.
    last_at = max(line.event.at, interaction.history.last.at)
    return Review(
        interaction, policy, mode, tuple(findings), count, tuple(duplicates), tuple(late), last_at
    )


def _checked_line(line: object, position: int) -> Line | None:
    if line is None or isinstance(line, Line):
        return line
    raise ArgumentTypeError(
        f"lines[{position}]",
        f"must be a Line (read text with read_transcript(...) first), got {describe(line)}",
    )
