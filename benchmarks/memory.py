"""Memory per resident interaction after a 14-event clean transcript, 100,000 of them.

Measured with tracemalloc: the bytes still allocated once the interactions are built
and everything temporary is collected, divided by their number. Four ways:

- ``own_events``: each interaction parsed its own events from its own lines (its
  own ids and timestamps, fresh strings), as in a process holding many live
  interactions. This is the honest figure;
- ``events_only``: the same parsed events held in a list, with no interaction: the
  floor, what the events themselves cost before deescalate adds anything;
- ``shared_events``: 100,000 interactions built from the same 14 event objects, so
  only what deescalate adds (interaction, history, log) is counted;
- ``transitions_model``: a bare model added to one shared transitions Machine of the
  same shape, holding nothing but its state. Only 5,000 of them: ``add_model``
  checks the models already there one by one, so adding 100,000 takes minutes,
  and the cost per model does not depend on how many there are.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import attrs
from transitions import Machine

import deescalate as d
from deescalate._machine import machine_config

from ._timing import Effort
from ._transcripts import clean_14, renamed


@attrs.frozen
class MemoryCost:
    """Bytes per interaction (or per model)."""

    own_events: float
    events_only: float
    shared_events: float
    transitions_model: float
    count: int
    models: int


def _bytes_each(count: int, make: Callable[[int], object]) -> float:
    keep: list[object] = [None] * count
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(count):
            keep[n] = make(n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / count


def _applied(events: list[d.Event]) -> d.Interaction:
    opening, *rest = events
    assert isinstance(opening, d.InteractionOpened)
    interaction = d.open_interaction(opening)
    for event in rest:
        interaction = d.apply(interaction, event, d.FACTS_FIRST, d.Mode.STRICT).interaction
    return interaction


def measure(effort: Effort) -> MemoryCost:
    count = effort.scaled(100_000, 5_000)
    models = min(count, 5_000)
    lines = clean_14()
    shared = [d.parse_event(line) for line in lines]
    final = _applied(shared)
    assert final.stage is d.Stage.FOLLOWED_UP
    assert len(final.history) == 14
    assert not final.findings

    def own_events(n: int) -> object:
        return _applied([d.parse_event(line) for line in renamed(lines, n)])

    def events_only(n: int) -> object:
        return [d.parse_event(line) for line in renamed(lines, n)]

    def shared_events(n: int) -> object:
        return _applied(shared)

    machine = Machine(model=None, **machine_config())

    class Model:
        state: str

    def transitions_model(n: int) -> object:
        model = Model()
        machine.add_model(model)
        return model

    return MemoryCost(
        own_events=_bytes_each(count, own_events),
        events_only=_bytes_each(count, events_only),
        shared_events=_bytes_each(count, shared_events),
        transitions_model=_bytes_each(models, transitions_model),
        count=count,
        models=models,
    )
