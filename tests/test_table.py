"""The stage graph: the table, the routes read from it, and the shared Machine built from it."""

from __future__ import annotations

import pytest
from transitions import Machine

from deescalate import ACTIVE, EVENT_CLASSES, TRANSITIONS, Stage
from deescalate._machine import ROUTES, machine_config, routes_of, stage_machine

V, A, F, R, G, FU, E = (
    "venting",
    "acknowledged",
    "facts_gathered",
    "remedy_proposed",
    "agreed",
    "followed_up",
    "ended",
)
ACTIVE_NAMES = [V, A, F, R, G]

# The contract's "stage effect" column, written out independently of _table.py:
# event type -> {source stage: destination stage} ("=" keeps the stage).
CONTRACT = {
    "customer_vented": {V: "=", A: V, F: V, R: V, G: V},
    "venting_subsided": {V: "="},  # and only while a wave is open
    "concerns_acknowledged": {V: A, A: "=", F: "=", R: "=", G: "="},
    "empathy_expressed": dict.fromkeys(ACTIVE_NAMES, "="),
    "fact_recorded": dict.fromkeys(ACTIVE_NAMES, "="),
    "facts_established": {V: F, A: F, F: "="},
    "apology_offered": dict.fromkeys(ACTIVE_NAMES, "="),
    "remedy_proposed": {V: R, A: R, F: R, R: R},
    "remedy_rejected": {R: F},
    "remedy_accepted": {R: G},
    "progress_reported": {G: "="},
    "follow_up_completed": {G: FU},
    "callback_promised": dict.fromkeys(ACTIVE_NAMES, "="),
    "manager_requested": dict.fromkeys(ACTIVE_NAMES, "="),
    "escalated": dict.fromkeys(ACTIVE_NAMES, "="),
    "abuse_observed": dict.fromkeys(ACTIVE_NAMES, "="),
    "abuse_warning_given": dict.fromkeys(ACTIVE_NAMES, "="),
    "conversation_ended": dict.fromkeys(ACTIVE_NAMES, E),
}


def test_every_event_type_but_the_opening_has_moves() -> None:
    assert set(CONTRACT) == set(EVENT_CLASSES) - {"interaction_opened"}
    assert {move.event for move in TRANSITIONS} == set(CONTRACT)


@pytest.mark.parametrize("event_type", sorted(CONTRACT))
@pytest.mark.parametrize("stage", list(Stage), ids=str)
def test_routes_follow_the_contract(event_type: str, stage: Stage) -> None:
    expected = CONTRACT[event_type].get(stage.value)
    route = ROUTES[event_type].get(stage)
    if expected is None:
        assert route is None
    else:
        assert route is not None
        assert route.dest.value == (stage.value if expected == "=" else expected)


def test_only_venting_subsided_needs_an_open_wave() -> None:
    needs = {(t, s) for t, by in ROUTES.items() for s, r in by.items() if r.requires}
    assert needs == {("venting_subsided", Stage.VENTING)}
    assert ROUTES["venting_subsided"][Stage.VENTING].requires == "wave_open"


def test_terminal_stages_have_no_way_out() -> None:
    for by_stage in ROUTES.values():
        assert Stage.FOLLOWED_UP not in by_stage
        assert Stage.ENDED not in by_stage


class _Model:
    """A stand-in model to drive a private copy of the Machine by real triggers."""

    def __init__(self, state: str, wave_open: bool) -> None:
        self.state = state
        self.wave_open = wave_open


@pytest.mark.parametrize("wave_open", [False, True])
def test_triggering_the_machine_agrees_with_every_route(wave_open: bool) -> None:
    # A private Machine from the same configuration, so the shared one never holds a model.
    machine = Machine(model=None, **machine_config())
    for event_type in CONTRACT:
        for stage in Stage:
            model = _Model(stage.value, wave_open)
            machine.add_model(model, initial=stage.value)
            try:
                moved = getattr(model, event_type)()
            except Exception:  # MachineError: the trigger is not valid from this state
                moved = False
            route = ROUTES[event_type].get(stage)
            possible = route is not None and (route.requires is None or wave_open)
            assert moved == possible, (event_type, stage, wave_open)
            if possible:
                assert route is not None
                assert model.state == route.dest.value
            machine.remove_model(model)


def test_the_routes_are_the_ones_the_machine_compiled() -> None:
    assert routes_of(stage_machine()) == ROUTES
    assert routes_of(Machine(model=None, **machine_config())) == ROUTES


def test_one_shared_machine_holds_no_interaction() -> None:
    machine = stage_machine()
    assert stage_machine() is machine
    assert machine.models == []
    assert set(machine.states) == {stage.value for stage in Stage}
    assert machine.initial == "venting"
    assert not machine.auto_transitions


def test_active_stages_are_the_non_terminal_ones() -> None:
    assert [s.value for s in ACTIVE] == ACTIVE_NAMES
    assert Stage.FOLLOWED_UP.terminal and Stage.ENDED.terminal
    assert not any(stage.terminal for stage in ACTIVE)
