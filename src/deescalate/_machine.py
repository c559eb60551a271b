"""The routes of the stage graph, and the one ``transitions`` Machine built from the same table.

Both come from :data:`~deescalate._table.TRANSITIONS`. :data:`ROUTES` is the lookup
that applying an event makes: for the event's type and the interaction's stage,
where the interaction goes and what it requires, so the hot path is two
dictionary look-ups instead of a trigger call. It is read off the table's rows
the way transitions reads them: each row is one transition from each of its
sources, to ``dest`` (an internal transition, keeping the stage, when ``dest``
is None), on the condition ``requires``.

The Machine (:func:`stage_machine`) is built from :func:`machine_config`, the same
rows, with no model: it never stores an interaction. (transitions attaches
per-model state and trigger methods, 9-14 KB a model; an interaction is our own
small typed value.) It is built, and transitions imported, only when asked for:
``deescalate review`` and ``apply`` never need it, and importing transitions and
building the Machine was nearly a tenth of its start-up. The tests check that
the routes read out of the Machine's compiled events (:func:`routes_of`) are
:data:`ROUTES`, and that triggering the Machine itself on a model in every stage
agrees with every route.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import attrs

from ._stages import Stage
from ._table import INITIAL, TRANSITIONS
from ._value import value_repr

if TYPE_CHECKING:
    from transitions import Machine


def machine_config() -> dict[str, Any]:
    """The keyword arguments that build the stage graph's Machine (diagrams reuse them)."""
    return {
        "states": [stage.value for stage in Stage],
        "initial": INITIAL.value,
        "transitions": [
            {
                "trigger": move.event,
                "source": [stage.value for stage in move.sources],
                "dest": move.dest.value if move.dest is not None else None,
                "conditions": [move.requires] if move.requires else [],
            }
            for move in TRANSITIONS
        ],
        "auto_transitions": False,
        "send_event": True,
    }


@cache
def stage_machine() -> Machine:
    """The stage graph's Machine, shared by every caller, built on first use."""
    from transitions import Machine

    return Machine(model=None, **machine_config())


@attrs.frozen(repr=False)
class Route:
    """Where an event of one type takes an interaction from one stage."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    dest: Stage
    #: Name of the interaction attribute that must be true for the move (or None).
    requires: str | None


def _table_routes() -> dict[str, dict[Stage, Route]]:
    routes: dict[str, dict[Stage, Route]] = {}
    for move in TRANSITIONS:
        by_stage = routes.setdefault(move.event, {})
        for source in move.sources:
            if source in by_stage:  # transitions would try both, in order: the table has one
                raise ValueError(f"the table has two moves for {move.event} from {source}")
            by_stage[source] = Route(
                dest=move.dest if move.dest is not None else source, requires=move.requires or None
            )
    return routes


def routes_of(machine: Machine) -> dict[str, dict[Stage, Route]]:
    """The routes ``machine`` has compiled, read out of its events (the tests check: :data:`ROUTES`)."""
    routes: dict[str, dict[Stage, Route]] = {}
    for trigger, event in machine.events.items():
        by_stage = routes.setdefault(trigger, {})
        for source, transitions in event.transitions.items():
            (transition,) = transitions  # the table has one move per (event, stage)
            conditions = [str(condition.func) for condition in transition.conditions]
            by_stage[Stage(source)] = Route(
                dest=Stage(transition.dest) if transition.dest is not None else Stage(source),
                requires=conditions[0] if conditions else None,
            )
    return routes


#: ``ROUTES[event_type][stage]``: the route, or no entry when the move is impossible.
ROUTES: dict[str, dict[Stage, Route]] = _table_routes()
