"""The report for a terminal: one section per figure, tables aligned, the same order as the HTML page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta

from .._durations import say_span
from .._obligations import ObligationKind
from .._terminal import Styles
from ._aggregate import TIMES, KindCounts, Report, RootCause, week_start

#: How each outcome reads.
OUTCOME_WORDS: dict[str, str] = {
    "resolved": "resolved",
    "unresolved": "followed up, not resolved",
    "ended_by_abuse": "ended for abuse",
    "customer_left": "customer left",
    "open": "still open",
}

#: How each time reads.
TIME_WORDS: dict[str, str] = {
    "acknowledgement": "to acknowledgement",
    "agreement": "to agreement",
    "follow_up": "to follow-up completed",
}

#: How each kind of obligation reads (one of them).
OBLIGATION_WORDS: dict[str, str] = {
    ObligationKind.CALLBACK.value: "promised callback",
    ObligationKind.PROGRESS_REPORT.value: "progress report",
    ObligationKind.FOLLOW_UP.value: "follow-up",
    ObligationKind.ESCALATION.value: "escalation",
}

#: The most rows of a table the text shows (the JSON has them all).
TOP = 15


def count(number: int, word: str) -> str:
    """``"1 event"``, ``"2,000 events"``."""
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def span(value: timedelta | None) -> str:
    """A time as people read it (``2 days 3 h``), or ``-``."""
    return "-" if value is None else say_span(value)


def share(count: int, total: int) -> str:
    """``count`` as a percentage of ``total``, one decimal."""
    return f"{100 * count / total:.1f}%" if total else "-"


def table(head: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Aligned columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]

    def line(row: Sequence[str]) -> str:
        cells = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return (indent + "  ".join(cells)).rstrip()

    return [line(head), *(line(row) for row in rows)]


def _kinds_rows(rows: Sequence[KindCounts], extra: bool) -> list[list[str]]:
    out = []
    for row in rows[:TOP]:
        cells = [row.name]
        if extra:
            cells.append(f"{row.interactions:,}")
        cells += [f"{row.violations:,}", f"{row.warnings:,}", f"{row.refused:,}"]
        if extra:
            cells.append(f"{row.total / row.interactions:.2f}" if row.interactions else "-")
        out.append(cells)
    return out


def _more(rows: Sequence[object], what: str) -> list[str]:
    hidden = len(rows) - TOP
    return [f"  ... and {count(hidden, what)} more (see --format json)"] if hidden > 0 else []


def format_text(report: Report, styles: Styles | None = None) -> str:
    """The report for people, section by section (see docs/how-to/complaint-log.md)."""
    s = styles or Styles(io.StringIO())
    total = report.total
    policies = ", ".join(f"{name} ({count:,})" for name, count in report.policies().items())
    out = [
        s.bold(
            f"Complaint log: {count(total, 'interaction')}, {count(report.events, 'event')}"
            + (f", under {policies}" if policies else "")
        )
    ]
    if report.since is not None or report.until is not None:
        since = report.since.isoformat() if report.since else "the start"
        until = report.until.isoformat() if report.until else "the end"
        out.append(f"Interactions opened from {since} until {until} (not included)")
    if report.bad_files:
        out.append(s.violation(f"{count(report.bad_files, 'file')} not reviewed (bad input, named above)"))

    out += ["", s.bold("Outcomes")]
    out += table(
        ("outcome", "interactions", "share"),
        [
            (OUTCOME_WORDS[name], f"{count:,}", share(count, total))
            for name, count in report.outcomes().items()
        ],
    )
    out += ["", s.bold("Final stages")]
    out += table(
        ("stage", "interactions", "share"),
        [(stage, f"{count:,}", share(count, total)) for stage, count in report.stages().items()],
    )

    out += ["", s.bold("Times, from the opening")]
    rows = []
    for name in TIMES:
        stats = report.time(name)
        rows.append((TIME_WORDS[name], f"{stats.count:,}", span(stats.median), span(stats.p90)))
    out += table(("time", "reached by", "median", "90th percentile"), rows)

    totals = report.finding_totals()
    out += [
        "",
        s.bold(
            f"Findings by rule: {count(totals['violation'], 'violation')}, "
            f"{count(totals['warning'], 'warning')}, {totals['refused']:,} refused"
        ),
    ]
    rules = report.rules()
    if rules:
        out += table(("rule", "violations", "warnings", "refused"), _kinds_rows(rules, False))
        out += _more(rules, "rule")
    else:
        out.append("  No findings: every rule was followed.")

    owners = report.by_owner()
    out += ["", s.bold("Coaching: findings by owner")]
    out += table(
        ("owner", "interactions", "violations", "warnings", "refused", "per interaction"),
        _kinds_rows(owners, True),
    )
    out += _more(owners, "owner")

    weeks = report.weeks()
    out += ["", s.bold("Trend: findings by week")]
    out += table(
        ("week", "starts", "opened", "violations", "warnings", "refused"),
        [
            (
                w.name,
                week_start(w.name).isoformat(),
                f"{w.interactions:,}",
                f"{w.violations:,}",
                f"{w.warnings:,}",
                f"{w.refused:,}",
            )
            for w in weeks
        ],
    )

    escalations = report.escalations.by(0)
    rejections = report.rejections.by(0)
    late = report.late.by(0)
    out += [
        "",
        s.bold("Escalations: ")
        + f"{escalations.get(('before_asked',), 0):,} before the customer asked for a manager, "
        f"{escalations.get(('after_asked',), 0):,} after",
        s.bold("Rejected remedies: ") + f"{count(rejections.get(('rejections',), 0), 'rejection')} in "
        f"{count(rejections.get(('interactions',), 0), 'interaction')}",
        s.bold("Met late (after the deadline): ")
        + ", ".join(count(late.get((kind,), 0), words) for kind, words in OBLIGATION_WORDS.items())
        + " (a late callback is a broken promise)",
    ]
    out += _owed(report, s)
    out += _causes(report.root_causes(), s)
    return "\n".join(out) + "\n"


def _owed(report: Report, s: Styles) -> list[str]:
    if report.now is None:
        return []
    counted = report.owed.by(0, 1)
    opened = sum(n for (kind, state), n in counted.items() if state == "open")
    overdue = sum(n for (kind, state), n in counted.items() if state == "overdue")
    head = f"Owed at {report.now.isoformat()}: {count(opened + overdue, 'open obligation')}"
    out = ["", s.bold(head + (f", {overdue:,} overdue" if overdue else ""))]
    if opened + overdue:
        out += table(
            ("obligation", "open", "overdue"),
            [
                (
                    words + "s",
                    f"{counted.get((kind, 'open'), 0) + counted.get((kind, 'overdue'), 0):,}",
                    f"{counted.get((kind, 'overdue'), 0):,}",
                )
                for kind, words in OBLIGATION_WORDS.items()
            ],
        )
    later = counted.get(("later_than_now", ""), 0)
    if later:
        out.append(f"  {count(later, 'interaction')} with events after that time: not counted here")
    return out


def _causes(causes: list[RootCause], s: Styles) -> list[str]:
    out = ["", s.bold("Recurring root causes, by fault (grouped ignoring case and spacing)")]
    recurring = [cause for cause in causes if cause.recurring]
    once = len(causes) - len(recurring)
    if not recurring:
        out.append("  None recurs yet.")
    fault = None
    for shown, cause in enumerate(recurring):
        if shown == TOP:
            out.append(
                f"  ... and {count(len(recurring) - TOP, 'recurring root cause')} more (see --format json)"
            )
            break
        if cause.fault != fault:
            fault = cause.fault
            out.append(f"  {fault}")
        prevention = (
            "prevention recorded in all"
            if cause.prevention == cause.interactions
            else f"prevention recorded in {cause.prevention}"
        )
        out.append(f"    {cause.interactions:>5,} interactions  {prevention:<28}  {cause.text}")
    if once:
        out.append(f"  {count(once, 'other root cause')} seen once")
    return out
