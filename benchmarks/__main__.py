"""``python -m benchmarks [--quick] [--only GROUP]...``: measure every hot path and print one table.

``--quick`` runs everything with tiny counts, to check the suite works; its numbers
mean nothing. ``--only startup`` (or ``apply``, ``webhook``, ``review``, ``memory``,
``store``; repeatable) measures only those rows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import (
    apply_vs_transitions,
    memory,
    report_scale,
    review_throughput,
    startup,
    store_throughput,
    webhook_cycle,
)
from ._report import Row, machine, table
from ._timing import Effort


def _us(value: float) -> str:
    return f"{value:.2f} us"


def _rate(micros: float) -> str:
    return f"{1e6 / micros:,.0f} ev/s"


def _deliveries(per_second: float) -> str:
    return f"{per_second:,.0f} del/s"


def _kb(value: float) -> str:
    return f"{value / 1024:.2f} KB"


def _note(what: str) -> None:
    print(f"measuring {what}...", file=sys.stderr, flush=True)


def _apply_rows(effort: Effort) -> list[Row]:
    _note("apply")
    apply = apply_vs_transitions.measure(effort)
    return [
        Row("apply, strict, facts-first (per event)", _us(apply.deescalate),
            "bare transitions trigger, 1 condition", _us(apply.transitions),
            apply.deescalate / apply.transitions, bar=1.5, goal=1.0),
        Row("apply, strict, facts-first (per event)", _us(apply.deescalate),
            "hand-written floor: dict look-up + 1 guard", _us(apply.floor),
            apply.deescalate / apply.floor),
    ]


def _webhook_rows(effort: Effort) -> list[Row]:
    _note("the webhook cycle")
    webhook = webhook_cycle.measure(effort)
    return [
        Row("webhook: load snapshot, apply, dump (15 in)", _us(webhook.cycle),
            "apply per event, timed in the same rounds", _us(webhook.apply),
            webhook.cycle / webhook.apply, bar=4.0),
        Row("webhook: load snapshot, apply, dump (15 in)", _us(webhook.cycle),
            f"JSON floor: loads + dumps ({webhook.snapshot_bytes:,} B)", _us(webhook.json_floor),
            webhook.cycle / webhook.json_floor, bar=5.0),
    ]


def _review_rows(effort: Effort) -> list[Row]:
    _note("review throughput")
    review = review_throughput.measure(effort)
    return [
        Row(f"review, one {review.long_files.events:,}-event transcript file",
            _rate(review.long_files.review),
            "JSON floor: read the file + json.loads lines", _rate(review.long_files.floor),
            review.long_files.review / review.long_files.floor, bar=5.0, goal=3.0),
        Row(f"review, 1,000 short transcript files ({review.short_files.events:,} ev)",
            _rate(review.short_files.review),
            "JSON floor: read the files + json.loads lines", _rate(review.short_files.floor),
            review.short_files.review / review.short_files.floor, bar=5.0, goal=3.0),
        Row(f"  the same {review.long_memory.events:,} lines, held in memory",
            _rate(review.long_memory.review),
            "JSON floor: json.loads the lines", _rate(review.long_memory.floor),
            review.long_memory.review / review.long_memory.floor),
        Row(f"  the same {review.short_memory.events:,} short lines, held in memory",
            _rate(review.short_memory.review),
            "JSON floor: json.loads the lines", _rate(review.short_memory.floor),
            review.short_memory.review / review.short_memory.floor),
        Row(f"review per event, {review.long_memory.events:,} events", _us(review.long_alone),
            f"review per event, {review.tenth_events:,} events", _us(review.tenth),
            review.long_alone / review.tenth, bar=1.2),
    ]


def _memory_rows(effort: Effort) -> list[Row]:
    _note("memory (100,000 interactions, four ways)")
    mem = memory.measure(effort)
    count = f"{mem.count:,}"
    return [
        Row(f"memory per interaction, 14 events, own events (x{count})", _kb(mem.own_events),
            "floor: the same parsed events alone", _kb(mem.events_only),
            mem.own_events / mem.events_only, bar=2.0, goal=1.0, unit="KB", checked=mem.own_events / 1024),
        Row(f"memory per interaction, 14 events, shared events (x{count})", _kb(mem.shared_events),
            "transitions model on a shared Machine", _kb(mem.transitions_model),
            mem.shared_events / mem.transitions_model, bar=2.0, goal=1.0, unit="KB",
            checked=mem.shared_events / 1024),
    ]


def _startup_rows(effort: Effort) -> list[Row]:
    _note("CLI start-up")
    start = startup.measure(effort)
    return [
        Row("CLI start-up: deescalate review (13 events)", f"{start.review:.1f} ms",
            "python -c pass", f"{start.python:.1f} ms", start.review / start.python, bar=4.0),
        Row("CLI start-up: deescalate review (13 events)", f"{start.review:.1f} ms",
            'python -c "import attrs, transitions"', f"{start.dependencies:.1f} ms",
            start.review / start.dependencies, bar=1.5),
        Row("CLI start-up: deescalate review (13 events)", f"{start.review:.1f} ms",
            "import the core modules review runs on", f"{start.core:.1f} ms",
            start.review / start.core),
    ]


def _store_rows(effort: Effort) -> list[Row]:
    _note("the store (SQLite, then PostgreSQL; worker processes)")
    found: list[Row] = []
    for backend in store_throughput.measure(effort):
        name = backend.name
        if backend.skipped is not None:
            found.append(Row(f"store.deliver, {name}", "skipped", backend.skipped, "-", float("nan")))
            continue
        assert backend.one is not None
        assert backend.two is not None
        assert backend.lengths is not None
        for run in (backend.one, backend.two):
            processes = "1 process" if run.processes == 1 else f"{run.processes} processes"
            found.append(
                Row(f"store.deliver, {name}, {processes}", _deliveries(run.store),
                    "raw-SQL floor: the same statements, same driver", _deliveries(run.floor),
                    run.floor / run.store, bar=3.0)
            )
        lengths, long, short = backend.lengths, f"{store_throughput.LONG:,}", f"{store_throughput.SHORT}"
        found += [
            Row(f"  {name}: delivery {long} events in (warm store)", _us(lengths.warm_long),
                f"delivery {short} events in (warm store)", _us(lengths.warm_short),
                lengths.warm_long / lengths.warm_short, bar=1.3),
            Row(f"  {name}: delivery {long} events in (cold: replays it)", _us(lengths.cold_long),
                f"delivery {short} events in (cold: replays it)", _us(lengths.cold_short),
                lengths.cold_long / lengths.cold_short),
        ]
    return found


#: Each group of rows, by the name ``--only`` takes, in the order of the table.
GROUPS: dict[str, Callable[[Effort], list[Row]]] = {
    "apply": _apply_rows,
    "webhook": _webhook_rows,
    "review": _review_rows,
    "memory": _memory_rows,
    "startup": _startup_rows,
    "store": _store_rows,
    "report": report_scale.rows,
}


def rows(effort: Effort, only: Sequence[str] = ()) -> list[Row]:
    """The table's rows: every group's, or only those named."""
    return [row for name, group in GROUPS.items() if not only or name in only for row in group(effort)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts: check the suite runs")
    parser.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        default=[],
        metavar="GROUP",
        help=f"measure only this group of rows (repeatable): {', '.join(GROUPS)}",
    )
    arguments = parser.parse_args()
    effort = Effort(quick=arguments.quick)
    measured = rows(effort, arguments.only)
    print(machine() + (" -- QUICK RUN, numbers not meaningful" if effort.quick else ""))
    print(table(measured))


if __name__ == "__main__":
    main()
