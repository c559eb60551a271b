"""One webhook call: load the interaction's snapshot, apply the delivered event, dump the snapshot.

Loading rebuilds the interaction from its history under the recorded policy and
checks the recorded state and findings against it, as every live integration does.

The interaction is 15 events in (examples/clean.jsonl up to the agreement, then
progress reports), and the delivered event, already parsed, is one more progress
report. Beside it, in the same rounds: the JSON floor, ``json.loads`` of the same
snapshot text and ``json.dumps`` of the decoded document, which any JSON-snapshot
design pays; and applying events as in the apply row, per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import attrs

import deescalate as d

from ._timing import Effort, median_seconds
from ._transcripts import example
from .apply_vs_transitions import clean_cycle


@attrs.frozen
class WebhookCost:
    """Microseconds per webhook call, and per event applied, measured in the same rounds."""

    cycle: float
    json_floor: float
    apply: float
    snapshot_bytes: int


def _progress(n: int) -> d.Event:
    return d.ProgressReported(
        at=d.parse_event(example("clean.jsonl")[11]).at,
        event_id=f"evt-p{n}",
        detail=f"update {n}: printed, packed and handed to the courier",
    )


def fifteen_events_in() -> d.Interaction:
    """An interaction 15 events in: clean.jsonl up to the first progress report, then three more."""
    opening, *events = [d.parse_event(line) for line in example("clean.jsonl")[:12]]
    assert isinstance(opening, d.InteractionOpened)
    interaction = d.open_interaction(opening)
    for event in [*events, _progress(1), _progress(2), _progress(3)]:
        outcome = d.apply(interaction, event, d.FACTS_FIRST, d.Mode.STRICT)
        assert outcome.applied, outcome
        interaction = outcome.interaction
    assert len(interaction.history) == 15
    return interaction


def measure(effort: Effort) -> WebhookCost:
    policy, strict = d.FACTS_FIRST, d.Mode.STRICT
    text = d.dump_snapshot(fifteen_events_in(), policy)
    delivered = _progress(4)

    def cycle() -> str:
        interaction = d.load_snapshot(text, policy)
        outcome = d.apply(interaction, delivered, policy, strict)
        return d.dump_snapshot(outcome.interaction, policy)

    def json_floor() -> str:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))

    assert len(d.load_snapshot(cycle(), policy).history) == 16
    apply_cycle, applied = clean_cycle()  # row 1's work, timed again in these rounds
    runs: dict[str, Callable[[], object]] = {
        "cycle": cycle,
        "json_floor": json_floor,
        "apply": apply_cycle,
    }
    number = effort.scaled(500, 50)
    seconds = median_seconds(runs, number=number, rounds=effort.scaled(31, 3), warmup=number // 5)
    return WebhookCost(
        cycle=seconds["cycle"] * 1e6,
        json_floor=seconds["json_floor"] * 1e6,
        apply=seconds["apply"] / applied * 1e6,
        snapshot_bytes=len(text.encode()),
    )
