"""Per-event cost of `apply` (strict, facts-first) beside a bare `transitions` trigger.

Both cycle the events of examples/clean.jsonl (12 events after the opening). The
transitions side is a Machine of the same shape (states and transitions from the
same table) with one condition on every transition and one model; the deescalate
side opens a fresh interaction each cycle and applies the events strictly.
Warm-up, then repeated rounds; the median round is reported, per event.

    python benchmarks/apply_vs_transitions.py
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path
from typing import Any

from transitions import Machine

import deescalate as d
from deescalate._machine import machine_config

ROUNDS, CYCLES = 15, 2000


def median_us_per_event(cycle: Any, events_per_cycle: int) -> float:
    for _ in range(200):  # warm-up
        cycle()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CYCLES):
            cycle()
        samples.append((time.perf_counter() - start) / (CYCLES * events_per_cycle) * 1e6)
    return statistics.median(samples)


def main() -> None:
    lines = Path(__file__).parent.parent.joinpath("examples", "clean.jsonl").read_text().splitlines()
    opening, *events = [d.parse_event(line) for line in lines if line.strip()]
    assert isinstance(opening, d.InteractionOpened)
    policy, strict = d.FACTS_FIRST, d.Mode.STRICT

    def apply_cycle() -> None:
        interaction = d.open_interaction(opening, policy)
        for event in events:
            interaction = d.apply(interaction, event, policy, strict).interaction

    final = d.open_interaction(opening, policy)
    for event in events:
        outcome = d.apply(final, event, policy, strict)
        assert outcome.applied, outcome
        final = outcome.interaction
    assert final.stage is d.Stage.FOLLOWED_UP

    config = machine_config()

    def allowed(event_data: Any) -> bool:
        return True

    config["transitions"] = [{**t, "conditions": [allowed]} for t in config["transitions"]]

    class Model:
        pass

    model = Model()
    Machine(model=model, **config)  # binds one trigger method per event type to the model
    triggers = [getattr(model, event.type) for event in events]

    def transitions_cycle() -> None:
        model.state = "venting"  # type: ignore[attr-defined]
        for trigger in triggers:
            trigger()

    transitions_cycle()
    assert model.state == "followed_up"  # type: ignore[attr-defined]

    ours = median_us_per_event(apply_cycle, len(events))
    theirs = median_us_per_event(transitions_cycle, len(events))
    print(f"python {platform.python_version()} on {platform.machine()}, {ROUNDS} rounds x {CYCLES} cycles")
    print(f"deescalate apply (strict, facts-first): {ours:6.2f} us/event (opening included)")
    print(f"bare transitions trigger (1 condition): {theirs:6.2f} us/event")
    print(f"ratio: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
