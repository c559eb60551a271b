"""Properties over generated event sequences."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deescalate import (
    FACTS_FIRST,
    Mode,
    Severity,
    Stage,
    Status,
    apply,
    dump_event,
    dump_snapshot,
    event_from_dict,
    event_to_dict,
    load_snapshot,
    parse_event,
    replay,
)
from strategies import any_event, policies, run_all, sequences


@given(st.data(), policies, st.sampled_from(list(Mode)))
def test_applying_a_well_typed_event_never_raises(data: st.DataObject, policy, mode: Mode) -> None:
    opening, events = data.draw(sequences(policy))
    interaction, _ = run_all(opening, events, policy, mode)
    for _ in range(5):
        outcome = apply(interaction, data.draw(any_event), policy, mode)
        assert outcome.status in set(Status)


@given(st.data(), policies)
def test_strict_mode_never_lets_a_violating_event_change_the_interaction(data: st.DataObject, policy) -> None:
    opening, events = data.draw(sequences(policy))
    _, outcomes = run_all(opening, events, policy, Mode.STRICT)
    interaction = None
    for outcome in outcomes:
        if any(f.severity is Severity.VIOLATION for f in outcome.findings):
            assert not outcome.applied
            if interaction is not None:
                assert outcome.interaction is interaction
        interaction = outcome.interaction
    assert all(f.severity is Severity.WARNING for f in interaction.findings) if interaction else True


@given(st.data(), policies)
def test_advisory_and_strict_agree_on_sequences_without_violations(data: st.DataObject, policy) -> None:
    opening, events = data.draw(sequences(policy, clean=data.draw(st.booleans())))
    advisory, adv = run_all(opening, events, policy, Mode.ADVISORY)
    if any(f.severity is Severity.VIOLATION for o in adv for f in o.findings):
        return
    strict, stri = run_all(opening, events, policy, Mode.STRICT)
    assert strict == advisory
    assert [(o.status, o.findings) for o in stri] == [(o.status, o.findings) for o in adv]


@given(st.data())
def test_clean_sequences_are_clean_in_both_modes(data: st.DataObject) -> None:
    opening, events = data.draw(sequences(FACTS_FIRST, clean=True))
    advisory, _ = run_all(opening, events, FACTS_FIRST, Mode.ADVISORY)
    strict, _ = run_all(opening, events, FACTS_FIRST, Mode.STRICT)
    assert advisory == strict
    assert not any(f.is_violation for f in strict.findings)


@given(any_event)
def test_event_json_round_trip_is_the_identity(event) -> None:
    assert event_from_dict(event_to_dict(event)) == event
    assert parse_event(dump_event(event)) == event


@given(st.data(), policies, st.sampled_from(list(Mode)))
def test_snapshot_round_trip_is_the_identity(data: st.DataObject, policy, mode: Mode) -> None:
    opening, events = data.draw(sequences(policy))
    interaction, _ = run_all(opening, events, policy, mode)
    loaded = load_snapshot(dump_snapshot(interaction, policy), policy)
    assert loaded == interaction
    assert dump_snapshot(loaded, policy) == dump_snapshot(interaction, policy)
    signed = dump_snapshot(interaction, policy, key=b"k")
    assert load_snapshot(signed, policy, key=b"k") == interaction


@given(st.data(), policies, st.sampled_from(list(Mode)))
def test_replaying_the_history_reproduces_the_interaction(data: st.DataObject, policy, mode: Mode) -> None:
    opening, events = data.draw(sequences(policy))
    interaction, outcomes = run_all(opening, events, policy, mode)
    assert replay(interaction.history, policy) == interaction
    applied = [o for o in outcomes if o.applied]
    assert len(interaction.history) == 1 + len(applied)
    assert interaction.findings == tuple(f for o in applied for f in o.findings)


@given(st.data(), policies)
def test_nothing_leaves_a_terminal_stage(data: st.DataObject, policy) -> None:
    opening, events = data.draw(sequences(policy, max_size=60))
    _, outcomes = run_all(opening, events, policy, Mode.ADVISORY)
    terminal = None
    for outcome in outcomes:
        if terminal is not None:
            assert outcome.interaction.stage is terminal
            assert outcome.status in (Status.INVALID, Status.DUPLICATE)
        elif outcome.interaction.stage.terminal:
            terminal = outcome.interaction.stage


@settings(max_examples=300)
@given(sequences(FACTS_FIRST, clean=True))
def test_wave_is_only_ever_open_in_venting(sequence) -> None:
    opening, events = sequence
    _, outcomes = run_all(opening, events, FACTS_FIRST, Mode.ADVISORY)
    for outcome in outcomes:
        interaction = outcome.interaction
        assert not interaction.wave_open or interaction.stage is Stage.VENTING
        assert (interaction.pending_remedy is not None) == (interaction.stage is Stage.REMEDY_PROPOSED) or (
            interaction.stage is Stage.ENDED
        )


def test_the_steered_sequences_reach_every_stage() -> None:
    reached: dict[Stage, int] = dict.fromkeys(Stage, 0)

    @settings(max_examples=200, database=None, derandomize=True)
    @given(sequences(FACTS_FIRST, clean=True))
    def collect(sequence) -> None:
        _, outcomes = run_all(*sequence, FACTS_FIRST, Mode.STRICT)
        for stage in {o.interaction.stage for o in outcomes}:
            reached[stage] += 1

    collect()
    assert all(reached.values()), reached
