"""Applying events: modes, invalid transitions, duplicates, effects, history and replay."""

from __future__ import annotations

import threading

import attrs
import pytest

from build import TO_ACKNOWLEDGED, TO_AGREED, TO_FACTS, TO_FOLLOWED_UP, TO_REMEDY, ev, events, opened, run
from deescalate import (
    FACTS_FIRST,
    EventError,
    Facts,
    Fault,
    Mode,
    Remedy,
    Stage,
    Status,
    apply,
    open_interaction,
    replay,
)


def test_opening_starts_in_venting_with_no_wave_and_the_agent_owning_it() -> None:
    interaction = open_interaction(opened(interaction_id="T-9", customer_name="Ana"))
    assert interaction.interaction_id == "T-9"
    assert interaction.customer_name == "Ana"
    assert interaction.stage is Stage.VENTING
    assert not interaction.wave_open
    assert (interaction.owner, interaction.authority_limit) == ("agent", 100)
    assert len(interaction.history) == 1
    assert interaction.findings == ()


def test_opening_takes_its_limit_from_the_event_then_the_policy() -> None:
    assert open_interaction(opened(authority_limit=25)).authority_limit == 25
    assert open_interaction(opened(), FACTS_FIRST.with_params(authority_limit=7)).authority_limit == 7


def test_opening_needs_an_interaction_opened_event() -> None:
    with pytest.raises(EventError) as error:
        open_interaction(ev("customer_vented"))  # type: ignore[arg-type]
    assert error.value.field == "type"


def test_a_clean_workflow_reaches_followed_up_without_findings() -> None:
    interaction = run(TO_FOLLOWED_UP, mode=Mode.STRICT)
    assert interaction.stage is Stage.FOLLOWED_UP
    assert interaction.findings == ()
    assert len(interaction.history) == 1 + len(TO_FOLLOWED_UP)


# -- strict and advisory -----------------------------------------------------------------


def test_strict_mode_refuses_a_violation_and_changes_nothing() -> None:
    interaction = run(["customer_vented"])
    outcome = apply(interaction, ev("concerns_acknowledged"), FACTS_FIRST, Mode.STRICT)
    assert outcome.status is Status.REFUSED
    assert outcome.refused and not outcome.applied
    assert outcome.interaction is interaction
    assert [f.rule for f in outcome.findings] == ["let-them-vent"]


def test_advisory_mode_applies_a_violation_and_records_it() -> None:
    interaction = run(["customer_vented"])
    outcome = apply(interaction, ev("concerns_acknowledged"), FACTS_FIRST, Mode.ADVISORY)
    assert outcome.status is Status.APPLIED
    assert outcome.interaction.stage is Stage.ACKNOWLEDGED
    assert [f.rule for f in outcome.interaction.findings] == ["let-them-vent"]


def test_warnings_never_refuse() -> None:
    interaction = run([*TO_REMEDY])
    outcome = apply(interaction, ev("remedy_accepted", confirmation_sent=False), FACTS_FIRST, Mode.STRICT)
    assert outcome.applied
    assert [f.rule for f in outcome.warnings] == ["confirm-in-writing"]
    assert outcome.interaction.findings == outcome.findings


def test_strict_is_the_default_mode() -> None:
    interaction = run(["customer_vented"])
    assert apply(interaction, ev("concerns_acknowledged")).refused


def test_findings_carry_the_event_type() -> None:
    outcome = apply(run(["customer_vented"]), ev("concerns_acknowledged"), mode=Mode.ADVISORY)
    assert outcome.findings[0].event_type == "concerns_acknowledged"
    assert outcome.findings[0].is_violation


# -- invalid transitions ------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(Mode))
def test_an_invalid_event_changes_nothing_in_every_mode(mode: Mode) -> None:
    interaction = run(TO_ACKNOWLEDGED)
    outcome = apply(interaction, ev("remedy_accepted"), FACTS_FIRST, mode)
    assert outcome.status is Status.INVALID
    assert outcome.interaction is interaction
    assert [(f.rule, f.severity.value) for f in outcome.findings] == [("invalid-transition", "violation")]
    assert "not possible at stage acknowledged" in outcome.findings[0].message


def test_an_invalid_event_gets_no_other_finding() -> None:
    # remedy_proposed in agreed is impossible; the remedy rules do not judge it.
    interaction = run(TO_AGREED)
    outcome = apply(interaction, ev("remedy_proposed", value=10_000), mode=Mode.ADVISORY)
    assert [f.rule for f in outcome.findings] == ["invalid-transition"]


@pytest.mark.parametrize("terminal", ["follow_up", "ended"])
def test_nothing_follows_a_terminal_stage(terminal: str) -> None:
    script = TO_FOLLOWED_UP if terminal == "follow_up" else [*TO_ACKNOWLEDGED, "conversation_ended"]
    interaction = run(script)
    assert interaction.stage.terminal
    outcome = apply(interaction, ev("customer_vented"), mode=Mode.ADVISORY)
    assert outcome.status is Status.INVALID
    assert "the interaction is over" in outcome.findings[0].message


def test_venting_subsided_without_an_open_wave_is_invalid() -> None:
    outcome = apply(run([]), ev("venting_subsided"), mode=Mode.ADVISORY)
    assert outcome.status is Status.INVALID
    assert "no venting wave is open" in outcome.findings[0].message


def test_a_second_interaction_opened_is_invalid() -> None:
    outcome = apply(run([]), opened(), mode=Mode.ADVISORY)
    assert outcome.status is Status.INVALID
    assert "only be the first event" in outcome.findings[0].message


# -- duplicate deliveries ---------------------------------------------------------------


def test_a_duplicate_delivery_is_ignored_without_a_finding() -> None:
    interaction = run([])
    first = apply(interaction, ev("customer_vented", event_id="d-1"), mode=Mode.ADVISORY)
    again = apply(first.interaction, ev("customer_vented", event_id="d-1", intensity=2))
    assert again.status is Status.DUPLICATE
    assert again.findings == ()
    assert again.interaction is first.interaction


def test_the_opening_event_id_counts_for_duplicates() -> None:
    interaction = open_interaction(opened(event_id="o-1"))
    assert apply(interaction, ev("customer_vented", event_id="o-1")).status is Status.DUPLICATE


def test_a_refused_event_can_be_delivered_again_while_it_is_not_late() -> None:
    interaction = run(["customer_vented"])
    event = ev("concerns_acknowledged", event_id="a-1")
    assert apply(interaction, event).refused
    assert apply(interaction, event).refused  # judged again, not taken for a duplicate
    later = apply(interaction, ev("venting_subsided")).interaction
    # Delivered again after a later event: it would be applied out of time order.
    again = apply(later, event)
    assert again.status is Status.LATE and again.late and again.interaction is later and not again.findings
    # Sent again as a new event (a new time), it is judged and applied.
    assert apply(later, attrs.evolve(event, at=later.history.last.at)).applied


def test_events_without_ids_are_never_duplicates() -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    for _ in range(3):
        interaction = apply(interaction, ev("empathy_expressed")).interaction
    assert len(interaction.history) == 6


# -- effects ----------------------------------------------------------------------------


def test_venting_opens_a_wave_and_subsiding_closes_it() -> None:
    interaction = run(["customer_vented"])
    assert interaction.wave_open
    assert not run(["customer_vented", "venting_subsided"]).wave_open


@pytest.mark.parametrize("script", [TO_ACKNOWLEDGED, TO_FACTS, TO_REMEDY, TO_AGREED])
def test_venting_from_any_active_stage_goes_back_to_venting_with_a_wave(script) -> None:
    interaction = run([*script, "customer_vented"])
    assert interaction.stage is Stage.VENTING
    assert interaction.wave_open
    assert interaction.pending_remedy is None


def test_venting_keeps_what_was_learnt() -> None:
    interaction = run([*TO_REMEDY, "customer_vented"])
    assert interaction.facts == Facts(Fault.COMPANY, "missed pick-up")
    assert interaction.summary == ("late delivery",)
    assert interaction.fact_source_count == 2


def test_leaving_venting_without_subsiding_closes_the_wave() -> None:
    interaction = run(["customer_vented", "concerns_acknowledged"])
    assert interaction.stage is Stage.ACKNOWLEDGED
    assert not interaction.wave_open


def test_facts_can_be_updated_in_facts_gathered() -> None:
    interaction = run([*TO_FACTS, ("facts_established", {"fault": "customer", "root_cause": "typo"})])
    assert interaction.stage is Stage.FACTS_GATHERED
    assert interaction.facts == Facts(Fault.CUSTOMER, "typo")


def test_a_new_proposal_replaces_the_pending_one() -> None:
    interaction = run([*TO_REMEDY, ("remedy_proposed", {"remedy": "refund", "value": 40})])
    assert interaction.pending_remedy == Remedy("refund", 40)


def test_a_rejection_withdraws_the_remedy_and_counts_against_the_owner() -> None:
    interaction = run([*TO_REMEDY, ("remedy_rejected", {"counter_request": "a refund"})])
    assert interaction.stage is Stage.FACTS_GATHERED
    assert interaction.pending_remedy is None
    assert interaction.rejections == 1


def test_acceptance_makes_the_pending_remedy_the_agreed_one() -> None:
    interaction = run([*TO_REMEDY, "remedy_accepted"])
    assert interaction.stage is Stage.AGREED
    assert interaction.agreed_remedy == Remedy("free express reshipment", 20)
    assert interaction.pending_remedy is None
    assert not interaction.progress_reported


def test_escalation_changes_the_owner_and_keeps_the_stage() -> None:
    before = run([*TO_REMEDY, "remedy_rejected", "manager_requested"])
    after = run(
        [*TO_REMEDY, "remedy_rejected", "manager_requested", ("escalated", {"to": "manager", "authority_limit": 300})]
    )
    assert after.stage is before.stage is Stage.FACTS_GATHERED
    assert (after.owner, after.authority_limit, after.rejections) == ("manager", 300, 0)
    assert before.manager_requested and not after.manager_requested
    assert after.facts == before.facts and after.summary == before.summary


def test_only_warnings_after_the_first_abuse_count() -> None:
    interaction = run([*TO_ACKNOWLEDGED, "abuse_warning_given", "abuse_observed", "abuse_warning_given"])
    assert interaction.abuse_observed
    assert interaction.abuse_warnings == 1


def test_ending_the_conversation() -> None:
    interaction = run([*TO_ACKNOWLEDGED, ("conversation_ended", {"reason": "customer_left"})])
    assert interaction.stage is Stage.ENDED
    assert not interaction.active


# -- values, history and replay ------------------------------------------------------------


def test_applying_never_changes_the_interaction_it_was_given() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    snapshot = (interaction.stage, len(interaction.history), interaction.findings)
    apply(interaction, ev("fact_recorded"), mode=Mode.ADVISORY)
    apply(interaction, ev("remedy_proposed"), mode=Mode.ADVISORY)
    assert (interaction.stage, len(interaction.history), interaction.findings) == snapshot


def test_branches_from_one_interaction_do_not_see_each_other() -> None:
    base = run(TO_ACKNOWLEDGED)
    left = apply(base, ev("fact_recorded", source="a", event_id="x")).interaction
    right = apply(base, ev("fact_recorded", source="b", event_id="y")).interaction
    assert [e.type for e in left.history] == [e.type for e in right.history]
    assert left.history[-1].source == "a" and right.history[-1].source == "b"  # type: ignore[attr-defined]
    assert left.fact_sources == ("a",) and right.fact_sources == ("b",)
    # The right branch has no "x" and the left no "y".
    assert apply(right, ev("empathy_expressed", event_id="x")).applied
    assert apply(left, ev("empathy_expressed", event_id="y")).applied
    assert len(base.history) == 4


def test_threads_applying_to_one_interaction_get_consistent_branches() -> None:
    base = run(TO_ACKNOWLEDGED)
    results: dict[int, object] = {}

    def worker(n: int) -> None:
        interaction = base
        for i in range(50):
            interaction = apply(interaction, ev("fact_recorded", source=f"s{n}-{i}")).interaction
        results[n] = interaction

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, interaction in results.items():
        sources = interaction.fact_sources  # type: ignore[attr-defined]
        assert sources == tuple(f"s{n}-{i}" for i in range(50))
        assert interaction.fact_source_count == 50  # type: ignore[attr-defined]
        assert replay(interaction.history) == interaction  # type: ignore[attr-defined]


def test_history_is_a_read_only_sequence() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    history = interaction.history
    assert history[0].type == "interaction_opened"
    assert history[-1].type == "concerns_acknowledged"
    assert [e.type for e in history[1:3]] == ["customer_vented", "venting_subsided"]
    with pytest.raises(IndexError):
        history[4]
    assert not hasattr(history, "append")


def test_replay_reproduces_the_interaction_with_its_findings() -> None:
    interaction = run([*TO_ACKNOWLEDGED, ("remedy_proposed", {"value": 999}), "remedy_accepted"])
    assert interaction.findings
    again = replay(interaction.history)
    assert again == interaction
    assert hash(again) == hash(interaction)


def test_replay_needs_an_opening() -> None:
    with pytest.raises(EventError):
        replay(events(["customer_vented"]))
    with pytest.raises(EventError):
        replay([])


def test_interactions_are_hashable_and_compare_by_value() -> None:
    start = opened()
    script = events(TO_REMEDY)
    one = replay([start, *script])
    two = replay([start, *script])
    assert one == two and one.history is not two.history
    assert len({one, two}) == 1
    assert one != replay([start, *script[:-1]])


def test_applying_shares_the_history_instead_of_copying_it() -> None:
    # Linear-time review depends on this: the newest version extends a shared log.
    interaction = run(TO_ACKNOWLEDGED)
    after = apply(interaction, ev("fact_recorded")).interaction
    assert after.history._log is interaction.history._log
    assert len(after.history) == len(interaction.history) + 1


def test_a_long_interaction_keeps_one_log() -> None:
    interaction = run(["customer_vented", "venting_subsided", "concerns_acknowledged"])
    log = interaction.history._log
    for n in range(5000):
        interaction = apply(interaction, ev("fact_recorded", source=f"s{n % 7}")).interaction
    assert interaction.history._log is log
    assert len(interaction.history) == 5004
    assert interaction.fact_source_count == 7
