"""The report as JSON, for dashboards: stable keys, documented in docs/how-to/complaint-log.md.

Keys are only ever added (a new ``version`` says so), never renamed or removed.
Every list comes in a fixed order, and every stage, outcome, time, kind and
obligation kind is listed even at zero, so a dashboard never meets a missing key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .._obligations import ObligationKind
from ._aggregate import TIMES, KindCounts, Report, as_plain, week_start

#: The value of the ``format`` key.
REPORT_FORMAT = "deescalate-report"
#: The value of the ``version`` key: raised when keys are added.
REPORT_VERSION = 1


def _seconds(span: timedelta | None) -> int | None:
    return None if span is None else int(span.total_seconds())


def _kinds(row: KindCounts, with_interactions: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"violations": row.violations, "warnings": row.warnings, "refused": row.refused}
    if with_interactions:
        data["interactions"] = row.interactions
    return data


def to_dict(report: Report) -> dict[str, Any]:
    """The report as a JSON object (``deescalate report --format json``)."""
    owed: dict[str, Any] | None = None
    if report.now is not None:
        counted = report.owed.by(0, 1)
        owed = {
            "open": {kind.value: counted.get((kind.value, "open"), 0) for kind in ObligationKind},
            "overdue": {kind.value: counted.get((kind.value, "overdue"), 0) for kind in ObligationKind},
            "later_than_now": counted.get(("later_than_now", ""), 0),
        }
    totals = report.finding_totals()
    escalations = report.escalations.by(0)
    rejections = report.rejections.by(0)
    late = report.late.by(0)
    times = {}
    for name in TIMES:
        stats = report.time(name)
        times[name] = {
            "interactions": stats.count,
            "median_seconds": _seconds(stats.median),
            "p90_seconds": _seconds(stats.p90),
        }
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "since": as_plain(report.since),
        "until": as_plain(report.until),
        "now": as_plain(report.now),
        "interactions": report.total,
        "events": report.events,
        "bad_files": report.bad_files,
        "policies": report.policies(),
        "stages": report.stages(),
        "outcomes": report.outcomes(),
        "times": times,
        "findings": {
            "violations": totals["violation"],
            "warnings": totals["warning"],
            "refused": totals["refused"],
        },
        "rules": [{"rule": row.name, **_kinds(row, False)} for row in report.rules()],
        "owners": [{"owner": row.name, **_kinds(row, True)} for row in report.by_owner()],
        "weeks": [
            {"week": row.name, "starts": week_start(row.name).isoformat(), **_kinds(row, True)}
            for row in report.weeks()
        ],
        "escalations": {
            "before_asked": escalations.get(("before_asked",), 0),
            "after_asked": escalations.get(("after_asked",), 0),
        },
        "rejected_remedies": {
            "rejections": rejections.get(("rejections",), 0),
            "interactions": rejections.get(("interactions",), 0),
        },
        "late": {kind.value: late.get((kind.value,), 0) for kind in ObligationKind},
        "obligations": owed,
        "root_causes": [
            {
                "fault": cause.fault,
                "root_cause": cause.text,
                "key": cause.key,
                "interactions": cause.interactions,
                "prevention_recorded": cause.prevention,
            }
            for cause in report.root_causes()
        ],
    }
