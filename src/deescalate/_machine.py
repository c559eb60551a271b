"""The one ``transitions`` Machine of the stage graph, and the routes read out of it.

The Machine is built once, from :data:`~deescalate._table.TRANSITIONS`, with no
model: it never stores an interaction. (transitions attaches per-model state and
trigger methods, 9-14 KB a model; an interaction is our own small typed value.)
Applying an event asks which transition the Machine has for the event's type at
the interaction's stage; :data:`ROUTES` holds the Machine's answers, read out of
its compiled events once, so the hot path is two dictionary look-ups instead of
a trigger call. The tests check that triggering the Machine itself on a model in
every stage agrees with every route.
"""

from __future__ import annotations

from typing import Any

import attrs
from transitions import Machine

from ._stages import Stage
from ._table import INITIAL, TRANSITIONS


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


#: The stage graph's Machine, shared by every interaction and every policy.
STAGE_MACHINE: Machine = Machine(model=None, **machine_config())


@attrs.frozen
class Route:
    """Where an event of one type takes an interaction from one stage."""

    dest: Stage
    #: Name of the interaction attribute that must be true for the move (or None).
    requires: str | None


def _routes(machine: Machine) -> dict[str, dict[Stage, Route]]:
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
ROUTES: dict[str, dict[Stage, Route]] = _routes(STAGE_MACHINE)
