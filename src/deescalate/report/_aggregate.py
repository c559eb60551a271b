"""The complaint log as one mergeable value: counts, never lists of interactions.

A :class:`Report` is made of :class:`Counts` (how many times each key was seen), a
few totals, and the window it covers. Two reports over disjoint sets of
interactions merge into the report over their union (:meth:`Report.merge`): counts
add up. So worker processes each report on their share of the files and the parent
merges what they send back, a few kilobytes, never the events; and memory stays
flat in the number of interactions. Even the times are counts (how many
interactions took each time, to the second under a minute, to the minute under a
day, to the hour beyond: :func:`counted_time`), from which the median and 90th
percentile are exact at that resolution (nearest rank), however the corpus was split.

Every figure is read off core values: an interaction's history (its applied
events), the findings of its review, its open obligations. Nothing here reads a
clock or a file.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from .._errors import ArgumentTypeError, ArgumentValueError, describe
from .._events import EndReason, Event, Fault
from .._obligations import JUDGED_BY, ObligationKind, checked_now
from .._stages import Stage

#: A key of a count: a tuple of texts and whole numbers.
Key = tuple[str | int, ...]

#: What an interaction came to, from its final stage (and, for ``ended``, why).
OUTCOMES: tuple[str, ...] = ("resolved", "unresolved", "ended_by_abuse", "customer_left", "open")

#: The times measured, each from the interaction's opening to its first applied event of a type.
TIMES: dict[str, str] = {
    "acknowledgement": "concerns_acknowledged",
    "agreement": "remedy_accepted",
    "follow_up": "follow_up_completed",
}

#: How a finding counts: by its severity, or as refused (its event never happened).
KINDS: tuple[str, ...] = ("violation", "warning", "refused")

#: The obligation each timing rule judges late: a finding of the rule is that obligation met late.
LATE_RULES: dict[str, str] = {rule: kind.value for kind, rule in JUDGED_BY.items()}

#: The faults, in the order the report lists them.
FAULTS: tuple[str, ...] = tuple(fault.value for fault in Fault)

_ONE_SECOND = timedelta(seconds=1)


def _sorted(items: Iterable[tuple[Key, int]]) -> tuple[tuple[Key, int], ...]:
    return tuple(sorted(item for item in items if item[1]))


@attrs.frozen
class Counts:
    """How many times each key was seen: a multiset that adds up (merging is ``+``).

    Kept as sorted ``(key, count)`` pairs without zeros, so equal counts are equal
    values however they were built.
    """

    items: tuple[tuple[Key, int], ...] = ()

    @classmethod
    def of(cls, counts: Mapping[Key, int]) -> Counts:
        """The counts of a mapping from key to count (zeros dropped)."""
        return cls(_sorted(counts.items()))

    def __add__(self, other: Counts) -> Counts:
        if not self.items:
            return other
        if not other.items:
            return self
        total: Counter[Key] = Counter(dict(self.items))
        total.update(dict(other.items))
        return Counts(_sorted(total.items()))

    def __iter__(self) -> Iterator[tuple[Key, int]]:
        return iter(self.items)

    def total(self) -> int:
        """The sum of every count."""
        return sum(count for _, count in self.items)

    def by(self, *positions: int, where: Callable[[Key], bool] | None = None) -> dict[Key, int]:
        """The counts summed over every position of the key but ``positions`` (a marginal)."""
        out: Counter[Key] = Counter()
        for key, count in self.items:
            if where is None or where(key):
                out[tuple(key[p] for p in positions)] += count
        return dict(out)


_EMPTY = Counts()


def week_of(moment: datetime) -> str:
    """The ISO week of ``moment`` in UTC, as ``2026-W10`` (weeks start on Monday)."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """The Monday a week (``2026-W10``) starts on."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def cause_key(root_cause: str) -> str:
    """The key root causes are grouped by: case-folded, runs of white space as one space, trimmed.

    ``"Label printer  jammed"`` and ``"label printer jammed "`` are one root cause.
    """
    return " ".join(root_cause.split()).casefold()


def counted_time(seconds: int) -> int:
    """A time as a report counts it: to the second under a minute, to the minute under a day,
    to the hour beyond (as the text report prints it), rounded down.

    So a report holds at most a few thousand distinct times, however many
    interactions it counts, and its median and 90th percentile are exact at that
    resolution whatever way the corpus was split.
    """
    if seconds < 60:
        return seconds
    if seconds < 86_400:
        return seconds - seconds % 60
    return seconds - seconds % 3_600


def percentile(values: Iterable[tuple[int, int]], share: float) -> int | None:
    """The nearest-rank percentile of counted values ``(value, count)``, sorted by value.

    The smallest value that at least ``share`` (0 < share <= 1) of the values do not
    exceed; None when there is none.
    """
    pairs = list(values)
    total = sum(count for _, count in pairs)
    if not total:
        return None
    rank = max(1, math.ceil(share * total - 1e-9))
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]  # pragma: no cover - the ranks always fall inside


@attrs.frozen
class TimeStats:
    """One of the times: how many interactions reached it, the median and the 90th percentile."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@attrs.frozen
class KindCounts:
    """Findings of one rule, one owner or one week: violations, warnings and refused attempts."""

    name: str
    violations: int
    warnings: int
    refused: int
    #: The interactions: opened that week (weeks), handled by the owner (owners), 0 for rules.
    interactions: int = 0

    @property
    def total(self) -> int:
        """Every finding counted here."""
        return self.violations + self.warnings + self.refused


@attrs.frozen
class RootCause:
    """A root cause, grouped case- and white-space-insensitively, and how often it recurs."""

    fault: str
    #: The group's key (:func:`cause_key`).
    key: str
    #: Its most frequent spelling (white space runs as one space); the first in order at a tie.
    text: str
    #: The interactions whose established facts give it.
    interactions: int
    #: How many of those recorded a prevention when they were followed up.
    prevention: int

    @property
    def recurring(self) -> bool:
        """True when it is the root cause of two interactions or more."""
        return self.interactions >= 2


def _same(name: str, mine: datetime | None, theirs: datetime | None) -> datetime | None:
    if mine != theirs:
        raise ArgumentValueError(
            "other", f"reports with different {name} do not merge ({describe(mine)} and {describe(theirs)})"
        )
    return mine


@attrs.frozen(kw_only=True)
class Report:
    """The complaint log over a set of interactions: what happened, how long it took, what recurs.

    A value of counts: :meth:`merge` two reports over disjoint interactions and you
    get the report over both, which is how parallel workers and the tests combine
    them. Build one with :func:`~deescalate.report.report_transcripts`,
    :func:`~deescalate.report.report_store` or :class:`Builder`.
    """

    #: The time obligations were judged at (``--now``), or None: not judged.
    now: datetime | None = None
    #: Interactions opened at or after this time only, or None.
    since: datetime | None = None
    #: Interactions opened before this time only, or None.
    until: datetime | None = None
    #: Every event delivered: in transcripts, every line (applied or not).
    events: int = 0
    #: Transcript files that could not be reviewed (each reported on its own).
    bad_files: int = 0
    #: Interactions by (policy, final stage, outcome, week opened).
    interactions: Counts = _EMPTY
    #: Interactions by (time, seconds): see :data:`TIMES` and :func:`counted_time`.
    times: Counts = _EMPTY
    #: Findings by (rule, kind, owner, week): kind as in :data:`KINDS`.
    findings: Counts = _EMPTY
    #: Interactions by (owner,): everyone who handled each one (the agent, and whoever it was escalated to).
    owners: Counts = _EMPTY
    #: Escalations by ("before_asked",) or ("after_asked",): did the customer ask for a manager first?
    escalations: Counts = _EMPTY
    #: ("rejections",): remedies rejected; ("interactions",): interactions with one at least.
    rejections: Counts = _EMPTY
    #: Obligations met after their deadline, by (kind,): the findings of the timing rules.
    late: Counts = _EMPTY
    #: Obligations open at ``now`` by (kind, "open" or "overdue"); ("later_than_now", "")
    #: counts interactions with events after ``now``, left out of it.
    owed: Counts = _EMPTY
    #: Interactions by (fault, root cause key).
    causes: Counts = _EMPTY
    #: Interactions that recorded a prevention, by (fault, root cause key).
    prevented: Counts = _EMPTY
    #: Interactions by (fault, root cause key, spelling).
    spellings: Counts = _EMPTY

    def merge(self, other: Report) -> Report:
        """The report over both sets of interactions: every count added.

        Both must cover the same window and judge obligations at the same ``now``.
        """
        if not isinstance(other, Report):
            raise ArgumentTypeError("other", f"must be a Report, got {describe(other)}")
        return Report(
            now=_same("now", self.now, other.now),
            since=_same("since", self.since, other.since),
            until=_same("until", self.until, other.until),
            events=self.events + other.events,
            bad_files=self.bad_files + other.bad_files,
            **{name: getattr(self, name) + getattr(other, name) for name in _COUNTS},
        )

    @classmethod
    def merged(
        cls,
        reports: Iterable[Report],
        *,
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Report:
        """The merge of ``reports`` (an empty report over the window when there is none),
        counted in one :class:`Builder`: each report costs its own size, not the total's."""
        total = Builder(now, since, until)
        for index, report in enumerate(reports):
            if not isinstance(report, Report):
                raise ArgumentTypeError(f"reports[{index}]", f"must be a Report, got {describe(report)}")
            total.add_report(report)
        return total.build()

    # -- the figures, read off the counts -------------------------------------------------------

    @property
    def total(self) -> int:
        """How many interactions the report covers."""
        return self.interactions.total()

    def policies(self) -> dict[str, int]:
        """Interactions by the policy they were judged under."""
        return {str(k[0]): n for k, n in sorted(self.interactions.by(0).items())}

    def stages(self) -> dict[str, int]:
        """Interactions by final stage, every stage listed in workflow order."""
        found = self.interactions.by(1)
        return {stage.value: found.get((stage.value,), 0) for stage in Stage}

    def outcomes(self) -> dict[str, int]:
        """Interactions by outcome (:data:`OUTCOMES`), every outcome listed."""
        found = self.interactions.by(2)
        return {name: found.get((name,), 0) for name in OUTCOMES}

    def time(self, name: str) -> TimeStats:
        """The median and 90th percentile of one of :data:`TIMES`, over the interactions that reached it."""
        values = [(int(k[1]), n) for k, n in self.times if k[0] == name]
        count = sum(n for _, n in values)
        median, p90 = percentile(values, 0.5), percentile(values, 0.9)
        return TimeStats(
            count,
            None if median is None else median * _ONE_SECOND,
            None if p90 is None else p90 * _ONE_SECOND,
        )

    def finding_totals(self) -> dict[str, int]:
        """Every finding, by kind (:data:`KINDS`)."""
        found = self.findings.by(1)
        return {kind: found.get((kind,), 0) for kind in KINDS}

    def _table(self, position: int, interactions: Mapping[Key, int] | None = None) -> list[KindCounts]:
        found = self.findings.by(position, 1)
        names = {key[0] for key in found} | {key[0] for key in interactions or {}}
        return [
            KindCounts(
                str(name),
                found.get((name, "violation"), 0),
                found.get((name, "warning"), 0),
                found.get((name, "refused"), 0),
                (interactions or {}).get((name,), 0),
            )
            for name in names
        ]

    def rules(self) -> list[KindCounts]:
        """Findings by rule, most violations first (then warnings, refused, and the rule id)."""
        rows = self._table(0)
        rows.sort(key=lambda r: (-r.violations, -r.warnings, -r.refused, r.name))
        return rows

    def by_owner(self) -> list[KindCounts]:
        """The coaching table: findings by who had the interaction when the event was judged.

        Each row also says how many interactions the owner handled. Most violations first.
        """
        rows = self._table(2, self.owners.by(0))
        rows.sort(key=lambda r: (-r.violations, -r.warnings, -r.refused, r.name))
        return rows

    def weeks(self) -> list[KindCounts]:
        """The trend: findings by the week of their event, with the interactions opened that week.

        Every week from the first to the last is listed, quiet ones included, in order.
        """
        rows = {row.name: row for row in self._table(3, self.interactions.by(3))}
        if not rows:
            return []
        first, last = week_start(min(rows)), week_start(max(rows))
        out = []
        day = first
        while day <= last:
            name = week_of(datetime(day.year, day.month, day.day, tzinfo=UTC))
            out.append(rows.get(name, KindCounts(name, 0, 0, 0, 0)))
            day += timedelta(weeks=1)
        return out

    def root_causes(self) -> list[RootCause]:
        """Root causes grouped by fault (in :data:`FAULTS` order), most frequent first in each."""
        spelling: dict[tuple[str, str], tuple[int, str]] = {}
        for key, count in self.spellings:
            group = (str(key[0]), str(key[1]))
            best = spelling.get(group)
            if best is None or count > best[0] or (count == best[0] and str(key[2]) < best[1]):
                spelling[group] = (count, str(key[2]))
        prevented = dict(self.prevented.items)
        rows = [
            RootCause(
                str(key[0]),
                str(key[1]),
                spelling.get((str(key[0]), str(key[1])), (0, str(key[1])))[1],
                count,
                prevented.get(key, 0),
            )
            for key, count in self.causes
        ]
        order = {fault: n for n, fault in enumerate(FAULTS)}
        rows.sort(key=lambda r: (order.get(r.fault, len(order)), -r.interactions, r.key))
        return rows


#: The fields of a report that are counts, merged by adding.
_COUNTS: tuple[str, ...] = tuple(
    field.name for field in attrs.fields(Report) if field.type in (Counts, "Counts")
)


# -- one interaction ------------------------------------------------------------------------------


@attrs.frozen
class Walk:
    """What a report reads off one interaction's applied events, in one pass over them."""

    opened_at: datetime
    #: The time of each of :data:`TIMES` reached (in their order), or None.
    reached: tuple[datetime | None, ...]
    #: True when the follow-up says the problem is resolved (None: not followed up).
    resolved: bool | None
    #: Why the conversation ended, when it did.
    end_reason: str | None
    #: The prevention the follow-up recorded ("" for none, or not followed up).
    prevention: str
    #: Each applied escalation: (its position in the history, to whom, after the customer asked).
    escalations: tuple[tuple[int, str, bool], ...]
    #: Remedies the customer rejected.
    rejections: int
    #: The last established facts: (fault, root cause), or None.
    facts: tuple[str, str] | None

    @property
    def owners(self) -> frozenset[str]:
        """Everyone who handled it: the agent, then whoever it was escalated to."""
        return frozenset(("agent", *(to for _, to, _ in self.escalations)))

    def outcome(self, stage: str) -> str:
        """What it came to, from its final ``stage``: one of :data:`OUTCOMES`."""
        if stage == Stage.FOLLOWED_UP.value:
            return "unresolved" if self.resolved is False else "resolved"
        if stage == Stage.ENDED.value:
            return "ended_by_abuse" if self.end_reason == EndReason.ABUSE.value else "customer_left"
        return "open"

    def durations(self) -> Iterator[tuple[str, int]]:
        """Each of :data:`TIMES` reached, in whole seconds from the opening."""
        for name, moment in zip(TIMES, self.reached, strict=True):
            if moment is not None:
                yield name, (moment - self.opened_at) // _ONE_SECOND


#: The event types a report reads (besides the opening): :func:`walk` skips the others.
WATCHED = frozenset(
    {
        *TIMES.values(),
        "manager_requested",
        "escalated",
        "remedy_rejected",
        "conversation_ended",
        "facts_established",
    }
)


def walk(events: Iterable[tuple[int, Event]]) -> Walk:
    """Read one interaction's applied events, ``(position, event)`` in order from the opening.

    Events of other types than those a report reads may be left out (the store
    path selects only those); the opening must be there.
    """
    iterator = iter(events)
    _, first = next(iterator)
    reached: dict[str, datetime] = {}
    asked = False
    resolved: bool | None = None
    end_reason: str | None = None
    prevention = ""
    escalations: list[tuple[int, str, bool]] = []
    rejections = 0
    facts: tuple[str, str] | None = None
    for position, event in iterator:
        kind = event.type
        if kind not in WATCHED:
            continue
        if kind not in reached:
            reached[kind] = event.at
        if kind == "manager_requested":
            asked = True
        elif kind == "escalated":
            escalations.append((position, event.to, asked))  # type: ignore[attr-defined]
            asked = False
        elif kind == "remedy_rejected":
            rejections += 1
        elif kind == "follow_up_completed":
            resolved = event.resolved  # type: ignore[attr-defined]
            prevention = event.prevention  # type: ignore[attr-defined]
        elif kind == "conversation_ended":
            end_reason = event.reason.value  # type: ignore[attr-defined]
        elif kind == "facts_established":
            facts = (event.fault.value, event.root_cause)  # type: ignore[attr-defined]
    return Walk(
        opened_at=first.at,
        reached=tuple(reached.get(kind) for kind in TIMES.values()),
        resolved=resolved,
        end_reason=end_reason,
        prevention=prevention,
        escalations=tuple(escalations),
        rejections=rejections,
        facts=facts,
    )


class Builder:
    """Counts interactions into a :class:`Report`: the mutable side, kept in one process.

    Add each interaction once (:meth:`add_interaction`, its findings with
    :meth:`add_finding`, what it owes with :meth:`add_owed`), then :meth:`build`.
    """

    def __init__(
        self, now: datetime | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> None:
        self.now, self.since, self.until = now, since, until
        self.events = 0
        self.bad_files = 0
        self.counts: dict[str, Counter[Key]] = {name: Counter() for name in _COUNTS}

    def includes(self, opened_at: datetime) -> bool:
        """True when an interaction opened at ``opened_at`` is inside the window."""
        return (self.since is None or opened_at >= self.since) and (
            self.until is None or opened_at < self.until
        )

    def add_interaction(self, policy: str, stage: str, walked: Walk, events: int) -> None:
        """Count one interaction: its final stage, outcome, times, escalations, rejections, root cause."""
        c = self.counts
        self.events += events
        c["interactions"][(policy, stage, walked.outcome(stage), week_of(walked.opened_at))] += 1
        times = c["times"]
        for name, seconds in walked.durations():
            times[(name, counted_time(seconds))] += 1
        owners = c["owners"]
        for owner in walked.owners:
            owners[(owner,)] += 1
        escalations = c["escalations"]
        for _, _, after in walked.escalations:
            escalations[("after_asked" if after else "before_asked",)] += 1
        if walked.rejections:
            c["rejections"][("rejections",)] += walked.rejections
            c["rejections"][("interactions",)] += 1
        if walked.facts is not None:
            fault, text = walked.facts
            key = cause_key(text)
            c["causes"][(fault, key)] += 1
            c["spellings"][(fault, key, " ".join(text.split()))] += 1
            if walked.prevention.strip():
                c["prevented"][(fault, key)] += 1

    def add_finding(self, rule: str, kind: str, owner: str, at: datetime, count: int = 1) -> None:
        """Count a finding (``kind``: violation, warning or refused) judged with ``owner`` at time ``at``."""
        self.counts["findings"][(rule, kind, owner, week_of(at))] += count
        if kind != "refused":
            late = LATE_RULES.get(rule)
            if late is not None:
                self.counts["late"][(late,)] += count

    def add_owed(self, kind: ObligationKind | str, overdue: bool, count: int = 1) -> None:
        """Count an obligation open at ``now``, overdue or not."""
        self.counts["owed"][(str(kind), "overdue" if overdue else "open")] += count

    def add_later_than_now(self, count: int = 1) -> None:
        """Count an interaction whose events go past ``now``: its obligations are not judged."""
        self.counts["owed"][("later_than_now", "")] += count

    def add_report(self, report: Report) -> None:
        """Add a whole report's counts (over other interactions, the same window and ``now``).

        What :meth:`Report.merge` does, in place: merging many reports this way costs
        each one's size, not the size of the total so far.
        """
        for name in ("now", "since", "until"):
            _same(name, getattr(self, name), getattr(report, name))
        self.events += report.events
        self.bad_files += report.bad_files
        for name, counter in self.counts.items():
            for key, count in getattr(report, name):
                counter[key] += count

    def build(self) -> Report:
        """The report of everything added so far."""
        return Report(
            now=self.now,
            since=self.since,
            until=self.until,
            events=self.events,
            bad_files=self.bad_files,
            **{name: Counts.of(counter) for name, counter in self.counts.items()},
        )


def report_fields() -> tuple[str, ...]:
    """The names of a report's counts (for tests and exports)."""
    return _COUNTS


def as_plain(value: Any) -> Any:
    """A datetime as ISO-8601 text, anything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def checked_window(now: datetime | None, since: datetime | None, until: datetime | None) -> None:
    """Check a report's ``now`` and window: timezone-aware datetimes or None, ``until`` after
    ``since``; anything else raises a typed error naming the argument."""
    for name, moment in (("now", now), ("since", since), ("until", until)):
        if moment is not None:
            checked_now(moment, name)
    if since is not None and until is not None and until <= since:
        raise ArgumentValueError("until", "must be later than since")
