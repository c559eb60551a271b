"""Per-event cost of ``apply`` (strict, facts-first) beside a bare ``transitions`` trigger and a floor.

All three cycle the events of examples/clean.jsonl (12 events after the opening):

- deescalate opens a fresh interaction each cycle (opening included in the cost)
  and applies the events strictly under facts-first;
- transitions: a Machine of the same shape (states and transitions from the same
  table) with one condition on every transition and one model, triggered by name;
- the floor: what a hand-written guard would do, a dict look-up of (stage, event
  type) and one guard call per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from transitions import Machine

import deescalate as d
from deescalate._machine import ROUTES, machine_config

from ._timing import Effort, median_seconds
from ._transcripts import example


@attrs.frozen
class ApplyCost:
    """Microseconds per event."""

    deescalate: float
    transitions: float
    floor: float


def _clean_events() -> tuple[d.InteractionOpened, list[d.Event]]:
    opening, *events = [d.parse_event(line) for line in example("clean.jsonl")]
    assert isinstance(opening, d.InteractionOpened)
    return opening, events


def _deescalate_cycle(opening: d.InteractionOpened, events: list[d.Event]) -> Callable[[], object]:
    policy, strict, apply, open_interaction = d.FACTS_FIRST, d.Mode.STRICT, d.apply, d.open_interaction

    def cycle() -> d.Interaction:
        interaction = open_interaction(opening, policy)
        for event in events:
            interaction = apply(interaction, event, policy, strict).interaction
        return interaction

    final = cycle()
    assert final.stage is d.Stage.FOLLOWED_UP
    assert len(final.history) == len(events) + 1
    return cycle


def _transitions_cycle(events: list[d.Event]) -> Callable[[], object]:
    config = machine_config()

    def allowed(event_data: Any) -> bool:
        return True

    config["transitions"] = [{**t, "conditions": [allowed]} for t in config["transitions"]]

    class Model:
        state: str

    model = Model()
    Machine(model=model, **config)  # binds one trigger method per event type to the model
    triggers = [getattr(model, event.type) for event in events]

    def cycle() -> None:
        model.state = "venting"
        for trigger in triggers:
            trigger()

    cycle()
    assert model.state == "followed_up"
    return cycle


def _floor_cycle(events: list[d.Event]) -> Callable[[], object]:
    table = {
        (stage.value, event_type): route.dest.value
        for event_type, by_stage in ROUTES.items()
        for stage, route in by_stage.items()
    }

    def guard(state: str, event: d.Event) -> bool:
        return True

    pairs = [(event.type, event) for event in events]

    def cycle() -> str:
        state = "venting"
        for event_type, event in pairs:
            dest = table.get((state, event_type))
            if dest is not None and guard(state, event):
                state = dest
        return state

    assert cycle() == "followed_up"
    return cycle


def clean_cycle() -> tuple[Callable[[], object], int]:
    """The deescalate cycle of this row, and how many events one cycle applies."""
    opening, events = _clean_events()
    return _deescalate_cycle(opening, events), len(events)


def measure(effort: Effort) -> ApplyCost:
    opening, events = _clean_events()
    cycles = {
        "deescalate": _deescalate_cycle(opening, events),
        "transitions": _transitions_cycle(events),
        "floor": _floor_cycle(events),
    }
    number = effort.scaled(2000, 200)
    rounds = effort.scaled(31, 3)
    seconds = median_seconds(cycles, number=number, rounds=rounds, warmup=number // 10)
    return ApplyCost(**{name: per_cycle / len(events) * 1e6 for name, per_cycle in seconds.items()})
