"""Exhaustive verification: built-in policies verify clean; planted defects are found, shortest first."""

from __future__ import annotations

import json

import pytest

from build import ev, events, opened
from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    ConversationEnded,
    EndReason,
    Mode,
    Stage,
    apply,
    open_interaction,
    read_transcript,
    review,
    rule,
)
from deescalate._table import TRANSITIONS
from deescalate.verify import Invariant, default_alphabet, default_opening, state_key, verify


@rule("survey-first", severity="violation", on="follow_up_completed", message="no satisfaction survey was sent")
def survey_first(interaction, event, params):
    # The planted defect: nothing in any alphabet ever sends a survey.
    return not getattr(event, "survey_sent", False)


@rule("no-follow-up-after-abuse", severity="violation", on="follow_up_completed", message="the customer was abusive")
def no_follow_up_after_abuse(interaction, event, params):
    return interaction.abuse_observed


@rule("ceo-escalation", severity="warning", on="escalated", message="escalated straight to the CEO")
def ceo_escalation(interaction, event, params):
    return event.to == "ceo"  # the alphabet never escalates to the CEO: a dead rule


def never_followed_up(interaction):
    return interaction.stage is not Stage.FOLLOWED_UP


def replayed(transcript, policy, mode=Mode.STRICT):
    lines = read_transcript(json.dumps(_as_json(e)) for e in transcript)
    return review(lines, policy, mode)


def _as_json(event):
    from deescalate import event_to_dict

    return event_to_dict(event)


@pytest.fixture(scope="module")
def facts_first_report():
    return verify(FACTS_FIRST)


# -- the built-in policies -------------------------------------------------------------


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
def test_the_builtin_policies_verify_clean_at_the_default_depth(policy) -> None:
    report = verify(policy)
    assert report.depth == 8 and report.complete
    assert [(p.name, p.holds) for p in report.properties] == [
        ("no-dead-ends", True),
        ("every-stage-reachable", True),
        ("no-dead-rules", True),
    ]
    assert report.holds
    assert all(p.counterexample is None for p in report.properties)


def test_facts_first_reaches_followed_up_at_depth_5_without_dead_ends() -> None:
    shallow = verify(FACTS_FIRST, depth=4)
    assert not shallow.property("every-stage-reachable").holds
    assert "followed_up" in shallow.property("every-stage-reachable").detail
    report = verify(FACTS_FIRST, depth=5)
    assert report.property("every-stage-reachable").holds
    assert report.property("no-dead-ends").holds


def test_a_rule_that_needs_a_deeper_search_is_reported_dead_only_below_that_depth() -> None:
    # Two rejected remedies (and the proposal after them) take 7 events.
    assert "hand-off-when-stuck" in verify(FACTS_FIRST, depth=6).property("no-dead-rules").detail
    assert verify(FACTS_FIRST, depth=7).property("no-dead-rules").holds


# -- planted defects ---------------------------------------------------------------------


def test_a_rule_blocking_every_follow_up_is_a_dead_end_from_the_opening() -> None:
    report = verify(FACTS_FIRST.with_rules(survey_first), depth=5, escape=4)
    dead_end = report.property("no-dead-ends")
    assert not dead_end.holds and not report.holds
    assert dead_end.counterexample == (default_opening(),)  # the shortest: nothing after the opening
    assert "the furthest it gets is agreed" in dead_end.detail
    assert "survey-first" in dead_end.detail


def test_a_dead_end_after_some_events_has_a_shortest_counterexample_that_replays() -> None:
    policy = FACTS_FIRST.with_rules(no_follow_up_after_abuse)
    dead_end = verify(policy, depth=5, escape=4).property("no-dead-ends")
    assert not dead_end.holds
    transcript = dead_end.counterexample
    assert [e.type for e in transcript] == ["interaction_opened", "abuse_observed"]
    outcome = replayed(transcript, policy)
    assert outcome.interaction.abuse_observed and outcome.violations == 0
    assert "no-follow-up-after-abuse" in dead_end.detail


def test_a_rule_that_can_never_fire_is_a_dead_rule(facts_first_report) -> None:
    report = verify(FACTS_FIRST.with_rules(ceo_escalation))
    dead = report.property("no-dead-rules")
    assert not dead.holds and dead.counterexample is None
    assert "ceo-escalation" in dead.detail and "hand-off-when-stuck" not in dead.detail
    assert report.property("no-dead-ends").holds
    assert report.states == facts_first_report.states  # a warning changes nothing explored


def test_an_invariant_first_broken_at_depth_5_has_a_counterexample_of_5_events() -> None:
    assert verify(FACTS_FIRST, depth=4, invariants=[never_followed_up]).holds is False  # dead rules
    assert verify(FACTS_FIRST, depth=4, invariants=[never_followed_up]).property(
        "invariant:never_followed_up"
    ).holds
    report = verify(FACTS_FIRST, depth=5, invariants=[never_followed_up])
    broken = report.property("invariant:never_followed_up")
    assert not broken.holds
    assert len(broken.counterexample) == 1 + 5
    assert replayed(broken.counterexample, FACTS_FIRST).interaction.stage is Stage.FOLLOWED_UP
    assert broken.detail == "does not hold after 5 event(s)"


def test_an_invariant_that_raises_fails_with_what_it_raised() -> None:
    def needs_facts(interaction):
        return interaction.facts.root_cause  # None before the facts: AttributeError

    broken = verify(FACTS_FIRST, depth=2, invariants=[Invariant("needs-facts", needs_facts)]).property(
        "invariant:needs-facts"
    )
    assert not broken.holds and broken.counterexample == (default_opening(),)
    assert broken.detail.startswith("raised AttributeError")


# -- exploration ----------------------------------------------------------------------------


def test_interactions_with_the_same_state_are_explored_once() -> None:
    warehouse_first = events(
        ["concerns_acknowledged", ("fact_recorded", {"source": "warehouse"}), ("fact_recorded", {"source": "courier"})]
    )
    courier_first = [warehouse_first[0], warehouse_first[2], warehouse_first[1]]

    def run(script):
        interaction = open_interaction(opened())
        for event in script:
            interaction = apply(interaction, event).interaction
        return interaction

    assert run(warehouse_first) != run(courier_first)  # different histories...
    assert state_key(run(warehouse_first)) == state_key(run(courier_first))  # ...same future
    assert state_key(run(warehouse_first[:2])) != state_key(run(courier_first[:2]))  # other source heard


def test_event_ids_are_part_of_the_state() -> None:
    interaction = open_interaction(opened())
    with_id = apply(interaction, ev("empathy_expressed", event_id="d-1")).interaction
    without = apply(interaction, ev("empathy_expressed")).interaction
    assert state_key(with_id) != state_key(without)


def test_the_state_budget_stops_the_search_and_says_so() -> None:
    report = verify(FACTS_FIRST, max_states=500)
    assert report.states == 500 and not report.complete
    assert not report.property("no-dead-ends").holds or report.property("no-dead-ends").detail


def test_an_alphabet_without_follow_ups_leaves_no_way_out() -> None:
    alphabet = [e for e in default_alphabet(FACTS_FIRST) if e.type != "follow_up_completed"]
    report = verify(FACTS_FIRST, depth=5, escape=4, alphabet=alphabet)
    dead_end = report.property("no-dead-ends")
    assert not dead_end.holds
    assert "no event of the alphabet moves it on" in dead_end.detail
    assert "report-progress" in report.property("no-dead-rules").detail


def test_the_default_alphabet_follows_the_policy_parameters() -> None:
    generous = FACTS_FIRST.with_params(authority_limit=1000, min_fact_sources=3)
    values = sorted(e.value for e in default_alphabet(generous) if e.type == "remedy_proposed")
    assert values[0] <= 1000 < values[1]
    assert len({e.source for e in default_alphabet(generous) if e.type == "fact_recorded"}) == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"depth": 0}, "depth must be an integer >= 1"),
        ({"max_states": 0}, "max_states"),
        ({"escape": -1}, "escape"),
        ({"alphabet": []}, "alphabet is empty"),
        ({"alphabet": [opened()]}, "other than interaction_opened"),
    ],
)
def test_bad_arguments_are_refused(arguments, message) -> None:
    with pytest.raises(ValueError, match=message):
        verify(FACTS_FIRST, **arguments)


def test_a_policy_can_be_named() -> None:
    assert verify("apologize-first", depth=2).policy == "apologize-first"


def test_the_report_as_json(facts_first_report) -> None:
    data = json.loads(json.dumps(facts_first_report.to_dict()))
    assert {"policy", "depth", "states", "properties"} <= set(data)
    assert data["policy"] == "facts-first" and data["depth"] == 8 and data["states"] == facts_first_report.states
    assert data["properties"][0] == {
        "name": "no-dead-ends",
        "holds": True,
        "counterexample": None,
        "detail": "followed_up can be reached from every explored interaction",
    }
    broken = verify(FACTS_FIRST.with_rules(no_follow_up_after_abuse), depth=3, escape=3).to_dict()
    counterexample = broken["properties"][0]["counterexample"]
    assert [e["type"] for e in counterexample] == ["interaction_opened", "abuse_observed"]


# -- test paths -------------------------------------------------------------------------------


def test_there_is_a_shortest_path_to_every_stage(facts_first_report) -> None:
    reach = {p.stage: p for p in facts_first_report.paths if p.name.startswith("reach-")}
    assert set(reach) == set(Stage)
    assert len(reach[Stage.VENTING].events) == 1
    assert len(reach[Stage.ENDED].events) == 2
    assert len(reach[Stage.FOLLOWED_UP].events) == 1 + 5


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
def test_every_test_path_replays_through_review_to_the_stage_it_claims(policy) -> None:
    report = verify(policy, depth=7)
    for path in report.paths:
        for mode in Mode:
            outcome = replayed(path.events, policy, mode)
            assert outcome.interaction.stage is path.stage, path.name
            assert outcome.violations == 0, path.name
            times = [e.at for e in path.events]
            assert times == sorted(times)


def test_the_covering_paths_take_every_transition_the_policy_allows(facts_first_report) -> None:
    taken = set()
    for path in facts_first_report.paths:
        if not path.name.startswith("cover-"):
            continue
        interaction = open_interaction(path.events[0])
        for event in path.events[1:]:
            taken.add((interaction.stage, event.type))
            interaction = apply(interaction, event).interaction
    every = {(s, m.event) for m in TRANSITIONS for s in m.sources}
    untaken = {f"{s.value} --{t}-->" for s, t in every - taken}
    assert untaken == set(facts_first_report.untaken)
    # facts-first forbids establishing facts, or proposing, straight from venting
    assert untaken == {"venting --facts_established-->", "venting --remedy_proposed-->"}
    covering = [p for p in facts_first_report.paths if p.name.startswith("cover-")]
    assert len(covering) <= 12


def test_the_longest_way_out_is_reported(facts_first_report) -> None:
    assert facts_first_report.longest_way_out == 7


def test_ending_the_conversation_is_not_a_way_out() -> None:
    # Every alphabet event but the ending, blocked: only ending remains, which does not count.
    @rule("only-ending", severity="violation", on=["concerns_acknowledged", "facts_established"], message="no")
    def only_ending(interaction, event, params):
        return True

    report = verify(FACTS_FIRST.with_rules(only_ending), depth=3)
    assert not report.property("no-dead-ends").holds
    ended = ConversationEnded(at=default_opening().at, reason=EndReason.CUSTOMER_LEFT)
    assert ended.type in {e.type for p in report.paths for e in p.events}
