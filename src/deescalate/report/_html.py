"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no network at all.

The charts are drawn by matplotlib (the ``report`` extra), imported only here and
only when a page is made, through its object-oriented API on an Agg canvas: no
pyplot, so no global backend is chosen and no window can open, and the settings
used are scoped to each drawing (``rc_context``). Each chart is an ``<svg
role="img">`` with a title and a description saying what it shows, followed by a
table of the same figures: the chart's text alternative, for screen readers and
for copying. A Content-Security-Policy forbids every fetch, so the page works
offline and nothing it holds can call out.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from .._obligations import ObligationKind
from ._aggregate import TIMES, KindCounts, Report, week_start
from ._errors import ReportError
from ._text import OBLIGATION_WORDS, OUTCOME_WORDS, TIME_WORDS, share, span

#: Colours, readable for the common kinds of colour blindness (ColorBrewer PuOr/RdBu), dark enough on white.
COLOURS = {
    "violation": "#b2182b",
    "warning": "#e08214",
    "refused": "#4d4d4d",
    "resolved": "#1b7837",
    "unresolved": "#7fbf7b",
    "ended_by_abuse": "#762a83",
    "customer_left": "#c2a5cf",
    "open": "#878787",
    "median": "#2166ac",
    "p90": "#92c5de",
    "prevented": "#1b7837",
    "not_prevented": "#e08214",
}

#: The page's Content-Security-Policy: nothing may be fetched, only the page's own styles apply.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

#: How many bars a chart of rules or root causes shows at most (the tables show them all).
BARS = 12

_CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #d0d0d0; --card: #fff; --page: #f4f5f7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 0 0 8px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px;
         margin: 16px 0 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .value { font-size: 1.6rem; font-weight: 650; display: block; }
.card .label { color: var(--muted); font-size: .9rem; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px;
          margin-bottom: 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
@media (max-width: 980px) { .grid { grid-template-columns: 1fr; } }
figure { margin: 0 0 8px; }
figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: 4px; }
th, td { padding: 4px 8px; white-space: nowrap; border-bottom: 1px solid var(--line); text-align: right;
         vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; }
th[scope=row] { white-space: normal; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 24px;
           align-items: start; }
thead th { font-weight: 600; color: var(--muted); }
.bad { color: #b2182b; font-weight: 600; }
.note { color: var(--muted); font-size: .9rem; }
details summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
footer { max-width: 1240px; margin: 0 auto; padding: 8px 24px 32px; color: var(--muted); font-size: .85rem; }
"""


def check_available() -> None:
    """Raise :class:`ReportError` when matplotlib (the ``report`` extra) is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportError(
            "--format html draws its charts with matplotlib: pip install 'deescalate-fsm[report]'"
        ) from None


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# -- charts ---------------------------------------------------------------------------------------


class _Charts:
    """Draws each chart with matplotlib and returns it as inline SVG, its ids its own."""

    def __init__(self) -> None:
        check_available()
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._matplotlib = matplotlib
        self._figure = Figure
        self._canvas = FigureCanvasAgg

    def svg(
        self,
        name: str,
        title: str,
        description: str,
        draw: Callable[[Any], None],
        height: float = 3.2,
        wide: bool = False,
    ) -> str:
        settings: Any = {
            "svg.fonttype": "none",  # text stays text: smaller, searchable, readable by tools
            "svg.hashsalt": f"deescalate-{name}",  # the same page for the same report
            "font.size": 10,
            "font.family": ["DejaVu Sans"],
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
        }
        with self._matplotlib.rc_context(settings):
            # Sized so that text comes out near 14 px on a laptop's screen, in a half or a whole row.
            figure = self._figure(figsize=(11.5 if wide else 5.4, height), layout="constrained")
            self._canvas(figure)
            draw(figure)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        return _inline(buffer.getvalue(), name, title, description)


def _inline(svg: str, name: str, title: str, description: str) -> str:
    """Matplotlib's SVG document as an element of the page: no prolog, ids prefixed, titled."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', svg)
    opening = re.match(r"<svg[^>]*>", svg)
    assert opening is not None
    tag = re.sub(r'\s(width|height)="[^"]*"', "", opening.group(0))
    tag = tag[:-1] + f' role="img" aria-labelledby="{name}-title {name}-desc">'
    labels = f'<title id="{name}-title">{_e(title)}</title><desc id="{name}-desc">{_e(description)}</desc>'
    return tag + labels + svg[opening.end() :]


def _hbar(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], xlabel: str
) -> Callable[[Any], None]:
    """A horizontal bar chart, stacked when there are several series, first label on top."""

    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        rows = list(range(len(labels)))[::-1]
        left = [0.0] * len(labels)
        for label, colour, values in series:
            axes.barh(rows, values, left=left, color=colour, label=label, height=0.62)
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(rows, labels)
        axes.set_xlabel(xlabel)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="x", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        if len(series) > 1:
            axes.legend(loc="lower right", frameon=False)
        for row, total in zip(rows, left, strict=True):
            axes.annotate(
                f"{total:,.0f}",
                (total, row),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
        axes.margins(x=0.08)

    return draw


# -- the page ---------------------------------------------------------------------------------------


def _table(
    head: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "", text_columns: Sequence[int] = ()
) -> str:
    cells = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    body = []
    for row in rows:
        tds = []
        for n, cell in enumerate(row):
            value = f"{cell:,}" if isinstance(cell, int) else str(cell)
            if n == 0:
                tds.append(f'<th scope="row">{_e(value)}</th>')
            else:
                css = ' class="text"' if n in text_columns else ""
                tds.append(f"<td{css}>{_e(value)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(title: str, body: str, wide: bool = False, anchor: str = "") -> str:
    css = ' class="wide"' if wide else ""
    ident = f' id="{anchor}"' if anchor else ""
    return f"<section{css}{ident}><h2>{_e(title)}</h2>{body}</section>"


def _kinds_rows(rows: Sequence[KindCounts], extra: bool) -> list[list[object]]:
    out: list[list[object]] = []
    for row in rows:
        cells: list[object] = [row.name]
        if extra:
            cells.append(row.interactions)
        cells += [row.violations, row.warnings, row.refused]
        if extra:
            cells.append(f"{row.total / row.interactions:.2f}" if row.interactions else "-")
        out.append(cells)
    return out


def format_html(report: Report) -> str:
    """The report as one HTML page (``deescalate report --format html``): self-contained, offline."""
    charts = _Charts()
    total = report.total
    outcomes = report.outcomes()
    totals = report.finding_totals()
    parts: list[str] = []

    # Outcomes
    labels = [OUTCOME_WORDS[name] for name in outcomes]
    described = "; ".join(f"{OUTCOME_WORDS[n]}: {c:,} ({share(c, total)})" for n, c in outcomes.items())
    body = ""
    if total:
        body += (
            "<figure>"
            + charts.svg(
                "outcomes",
                "Interactions by outcome",
                f"Of {total:,} interactions: {described}.",
                _outcome_bars(labels, list(outcomes.values()), list(outcomes)),
                height=2.6,
            )
            + "</figure>"
        )
    body += _table(
        ("outcome", "interactions", "share"),
        [(OUTCOME_WORDS[n], c, share(c, total)) for n, c in outcomes.items()],
    )
    stages = report.stages()
    body += (
        "<details><summary>Final stages</summary>"
        + _table(("stage", "interactions", "share"), [(s, c, share(c, total)) for s, c in stages.items()])
        + "</details>"
    )
    parts.append(_section("Outcomes", body, anchor="outcomes"))

    # Times
    stats = {name: report.time(name) for name in TIMES}
    reached = [name for name in TIMES if stats[name].count]
    body = ""
    if reached:
        medians = [(stats[n].median or timedelta()).total_seconds() for n in reached]
        p90s = [(stats[n].p90 or timedelta()).total_seconds() for n in reached]
        described = "; ".join(
            f"{TIME_WORDS[n]}: median {span(stats[n].median)}, 90th percentile {span(stats[n].p90)}"
            for n in reached
        )
        body += (
            "<figure>"
            + charts.svg(
                "times",
                "Times from the opening: median and 90th percentile",
                described + ".",
                _time_bars([TIME_WORDS[n] for n in reached], medians, p90s),
                height=2.6,
            )
            + "</figure>"
        )
    body += _table(
        ("time", "reached by", "median", "90th percentile"),
        [(TIME_WORDS[n], stats[n].count, span(stats[n].median), span(stats[n].p90)) for n in TIMES],
    )
    parts.append(_section("Times, from the opening", body, anchor="times"))

    # Findings by rule
    rules = report.rules()
    body = (
        f'<p class="lead">{totals["violation"]:,} violations, {totals["warning"]:,} warnings, '
        f"{totals['refused']:,} refused attempts.</p>"
    )
    if rules:
        shown = rules[:BARS]
        described = "; ".join(
            f"{r.name}: {r.violations} violations, {r.warnings} warnings, {r.refused} refused" for r in shown
        )
        series = [
            ("violations", COLOURS["violation"], [r.violations for r in shown]),
            ("warnings", COLOURS["warning"], [r.warnings for r in shown]),
        ]
        if any(r.refused for r in shown):
            series.append(("refused", COLOURS["refused"], [r.refused for r in shown]))
        body += (
            "<figure>"
            + charts.svg(
                "rules",
                f"Findings by rule (the {len(shown)} most frequent)",
                described + ".",
                _hbar([r.name for r in shown], series, "findings"),
                height=1.0 + 0.28 * len(shown),
                wide=True,
            )
            + "</figure>"
        )
        body += _table(("rule", "violations", "warnings", "refused"), _kinds_rows(rules, False))
    else:
        body += "<p>No findings: every rule was followed.</p>"
    parts.append(_section("Findings by rule", body, wide=True, anchor="rules"))

    # Trend
    weeks = report.weeks()
    body = ""
    if weeks:
        described = "; ".join(
            f"{w.name}: {w.interactions} opened, {w.violations} violations, {w.warnings} warnings"
            for w in weeks
        )
        body += (
            "<figure>"
            + charts.svg(
                "weeks",
                "Findings by week",
                described + ".",
                _trend(weeks),
                height=3.0,
                wide=True,
            )
            + "</figure>"
        )
    body += _table(
        ("week", "starts", "opened", "violations", "warnings", "refused"),
        [
            (w.name, week_start(w.name).isoformat(), w.interactions, w.violations, w.warnings, w.refused)
            for w in weeks
        ],
    )
    parts.append(_section("Trend: findings by week", body, wide=True, anchor="weeks"))

    # Coaching
    owners = report.by_owner()
    parts.append(
        _section(
            "Coaching: findings by owner",
            '<p class="note">Each finding counts against whoever had the interaction when the event '
            "was judged; interactions counts every interaction the owner handled.</p>"
            + _table(
                ("owner", "interactions", "violations", "warnings", "refused", "per interaction"),
                _kinds_rows(owners, True),
            ),
            wide=True,
            anchor="owners",
        )
    )

    # Follow-through
    escalations = report.escalations.by(0)
    rejections = report.rejections.by(0)
    late = report.late.by(0)
    body = '<div class="columns">' + _table(
        ("", "count"),
        [
            ("escalations before the customer asked for a manager", escalations.get(("before_asked",), 0)),
            ("escalations after the customer asked", escalations.get(("after_asked",), 0)),
            ("remedies rejected", rejections.get(("rejections",), 0)),
            ("interactions with a rejected remedy", rejections.get(("interactions",), 0)),
        ],
    )
    body += _table(
        ("met late (after the deadline)", "count"),
        [(OBLIGATION_WORDS[k.value] + "s", late.get((k.value,), 0)) for k in ObligationKind],
    )
    if report.now is not None:
        owed = report.owed.by(0, 1)
        body += _table(
            ("still owed", "open", "overdue"),
            [
                (
                    OBLIGATION_WORDS[k.value] + "s",
                    owed.get((k.value, "open"), 0) + owed.get((k.value, "overdue"), 0),
                    owed.get((k.value, "overdue"), 0),
                )
                for k in ObligationKind
            ],
            caption=f"at {report.now.isoformat()}",
        )
    later = report.owed.by(0).get(("later_than_now",), 0)
    body += "</div>"
    if report.now is not None and later:
        body += f'<p class="note">{later:,} interactions have events after that time: not counted.</p>'
    parts.append(_section("Escalations, remedies and promises", body, wide=True, anchor="follow-through"))

    # Root causes
    causes = report.root_causes()
    recurring = [c for c in causes if c.recurring]
    body = (
        '<p class="note">Root causes are grouped ignoring case and runs of spaces; each group shows '
        "its most frequent spelling. Recurring: the root cause of two interactions or more.</p>"
    )
    if recurring:
        top = sorted(recurring, key=lambda c: (-c.interactions, c.fault, c.key))[:BARS]
        described = "; ".join(
            f"{c.text} ({c.fault}): {c.interactions} interactions, prevention recorded in {c.prevention}"
            for c in top
        )
        body += (
            "<figure>"
            + charts.svg(
                "causes",
                f"Recurring root causes (the {len(top)} most frequent)",
                described + ".",
                _hbar(
                    [_short(f"{c.text} [{c.fault}]") for c in top],
                    [
                        ("prevention recorded", COLOURS["prevented"], [c.prevention for c in top]),
                        (
                            "no prevention",
                            COLOURS["not_prevented"],
                            [c.interactions - c.prevention for c in top],
                        ),
                    ],
                    "interactions",
                ),
                height=1.0 + 0.28 * len(top),
                wide=True,
            )
            + "</figure>"
        )
        body += _table(
            ("fault", "root cause", "interactions", "prevention recorded"),
            [(c.fault, c.text, c.interactions, c.prevention) for c in recurring],
            text_columns=(1,),
        )
    else:
        body += "<p>No root cause recurs yet.</p>"
    once = len(causes) - len(recurring)
    if once:
        body += f'<p class="note">{once:,} other root causes were seen once.</p>'
    parts.append(_section("Recurring root causes, by fault", body, wide=True, anchor="root-causes"))

    overdue = sum(n for k, n in report.owed if k[1] == "overdue")
    cards = [
        (f"{total:,}", "interactions"),
        (share(outcomes["resolved"], total), "resolved"),
        (f"{totals['violation']:,}", "violations"),
        (f"{totals['warning']:,}", "warnings"),
        (span(stats["agreement"].median), "median time to agreement"),
    ]
    if report.now is not None:
        cards.append((f"{overdue:,}", "obligations overdue"))
    lead = f"{report.events:,} events under {', '.join(report.policies()) or 'no policy'}"
    if report.since is not None or report.until is not None:
        lead += (
            f"; interactions opened from {report.since.isoformat() if report.since else 'the start'}"
            f" until {report.until.isoformat() if report.until else 'the end'}"
        )
    if report.now is not None:
        lead += f"; obligations as at {report.now.isoformat()}"
    bad = (
        f'<p class="bad">{report.bad_files:,} files could not be reviewed (bad input).</p>'
        if report.bad_files
        else ""
    )
    card_html = "".join(
        f'<div class="card"><span class="value">{_e(v)}</span><span class="label">{_e(label)}</span></div>'
        for v, label in cards
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<title>Complaint log</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<header><h1>Complaint log</h1><p class="lead">{_e(lead)}</p>{bad}'
        f'<div class="cards">{card_html}</div></header>'
        f'<main><div class="grid">{"".join(parts)}</div></main>'
        "<footer>Made by deescalate report. Every chart is followed by a table of the same figures.</footer>"
        "</body></html>\n"
    )


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _outcome_bars(labels: list[str], values: list[int], names: list[str]) -> Callable[[Any], None]:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        rows = list(range(len(labels)))[::-1]
        axes.barh(rows, values, color=[COLOURS[n] for n in names], height=0.62)
        axes.set_yticks(rows, labels)
        axes.set_xlabel("interactions")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="x", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        for row, value in zip(rows, values, strict=True):
            axes.annotate(
                f"{value:,}", (value, row), xytext=(3, 0), textcoords="offset points", va="center", fontsize=9
            )
        axes.margins(x=0.08)

    return draw


#: The ticks of the times' logarithmic axis: seconds, and how they read.
_TIME_TICKS: tuple[tuple[float, str], ...] = (
    (1, "1 s"),
    (60, "1 min"),
    (600, "10 min"),
    (3_600, "1 h"),
    (86_400, "1 day"),
    (7 * 86_400, "1 week"),
    (30 * 86_400, "30 days"),
    (365 * 86_400, "1 year"),
)


def _time_bars(labels: list[str], medians: list[float], p90s: list[float]) -> Callable[[Any], None]:
    """Median and 90th percentile of each time, on a logarithmic axis: minutes and days side by side."""

    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        rows = list(range(len(labels)))[::-1]
        medians_shown = [max(value, 1.0) for value in medians]
        p90s_shown = [max(value, 1.0) for value in p90s]
        axes.barh(
            [r + 0.18 for r in rows], medians_shown, height=0.34, color=COLOURS["median"], label="median"
        )
        axes.barh(
            [r - 0.18 for r in rows], p90s_shown, height=0.34, color=COLOURS["p90"], label="90th percentile"
        )
        axes.set_xscale("log")
        longest, shortest = max(p90s_shown), min(medians_shown)
        low = max([at for at, _ in _TIME_TICKS if at <= shortest] or [1.0])
        ticks = [(at, text) for at, text in _TIME_TICKS if low <= at <= longest * 3]
        axes.set_xticks([at for at, _ in ticks], [text for _, text in ticks])
        axes.minorticks_off()
        axes.set_xlim(low, ticks[-1][0] * 1.5)
        axes.set_yticks(rows, labels)
        axes.set_xlabel("time from the opening (logarithmic scale)")
        axes.grid(axis="x", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncols=2, frameon=False)

    return draw


def _trend(weeks: list[KindCounts]) -> Callable[[Any], None]:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        x = list(range(len(weeks)))
        axes.plot(
            x, [w.violations for w in weeks], marker="o", color=COLOURS["violation"], label="violations"
        )
        axes.plot(x, [w.warnings for w in weeks], marker="s", color=COLOURS["warning"], label="warnings")
        if any(w.refused for w in weeks):
            axes.plot(x, [w.refused for w in weeks], marker="^", color=COLOURS["refused"], label="refused")
        step = max(1, len(weeks) // 12)
        axes.set_xticks(x[::step], [w.name for w in weeks][::step], rotation=0)
        axes.set_ylabel("findings")
        axes.set_ylim(bottom=0)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="y", color="#dddddd", linewidth=0.8)
        axes.legend(loc="upper left", frameon=False, ncols=3)

    return draw
