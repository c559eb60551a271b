"""Exhaustive verification: built-in policies verify clean; planted defects are found, shortest first;
a search that runs out is inconclusive, never a failure."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import attrs
import pytest

from build import ev, events, opened
from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    ArgumentTypeError,
    ArgumentValueError,
    CallbackPromised,
    ConversationEnded,
    DeescalateError,
    EndReason,
    Mode,
    Stage,
    Status,
    apply,
    open_interaction,
    read_transcript,
    review,
    rule,
)
from deescalate._table import TRANSITIONS
from deescalate.verify import (
    LATE,
    START,
    Invariant,
    PropertyResult,
    Verdict,
    default_alphabet,
    default_key,
    default_opening,
    late,
    state_key,
    verify,
)


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


def assert_refused_at_the_end(transcript, policy, rules):
    """Replayed in strict mode, every event but the last is applied and the last is refused by ``rules``."""
    outcome = replayed(transcript, policy)
    last = len(transcript) - 1
    assert {item.status for item in outcome.findings if item.line.index < last} <= {Status.APPLIED}
    at_the_end = [item for item in outcome.findings if item.line.index == last]
    assert at_the_end and {item.status for item in at_the_end} == {Status.REFUSED}
    assert set(rules) <= {item.finding.rule for item in at_the_end if item.finding.is_violation}
    return outcome


def verdicts(report):
    return {p.name: p.verdict for p in report.properties}


#: Events enough to be abusive and warned forever, and little else: a small space to close.
ABUSIVE = tuple(
    e
    for e in default_alphabet(FACTS_FIRST)
    if e.type in {"customer_vented", "venting_subsided", "abuse_observed", "abuse_warning_given", "conversation_ended"}
)


#: The rules that judge time: a deadline met late.
TIMING = ("keep-the-promise", "report-progress-on-time", "follow-up-on-time", "escalate-promptly")

#: The default alphabet without time: no promised callback, nothing late. Proving a dead end
#: explores everything that can follow it, which time multiplies; the tests of dead ends
#: that are not about time explore without it, to stay fast.
TIMELESS = tuple(
    e for e in default_alphabet(FACTS_FIRST) if e.at < LATE and e.type != "callback_promised"
)


@pytest.fixture(scope="module")
def facts_first_report():
    return verify(FACTS_FIRST)


@pytest.fixture(scope="module")
def survey_report():
    return verify(FACTS_FIRST.with_rules(survey_first), depth=5, alphabet=TIMELESS)


@pytest.fixture(scope="module")
def abuse_report():
    return verify(FACTS_FIRST.with_rules(no_follow_up_after_abuse), depth=3, alphabet=TIMELESS)


# -- the built-in policies -------------------------------------------------------------


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
def test_the_builtin_policies_verify_clean_at_the_default_depth(policy) -> None:
    report = verify(policy)
    assert report.depth == 8 and report.escape == 40 and report.complete
    assert [(p.name, p.verdict) for p in report.properties] == [
        ("no-dead-ends", Verdict.HOLDS),
        ("every-stage-reachable", Verdict.HOLDS),
        ("no-dead-rules", Verdict.HOLDS),
    ]
    assert report.holds and report.verdict is Verdict.HOLDS
    assert all(p.counterexample is None and p.refused_step is None for p in report.properties)


def test_facts_first_reaches_followed_up_at_depth_5_without_dead_ends() -> None:
    shallow = verify(FACTS_FIRST, depth=4, escape=0).property("every-stage-reachable")
    assert shallow.verdict is Verdict.INCONCLUSIVE
    assert shallow.detail == "not reached within 4 events: followed_up; raise --depth"
    report = verify(FACTS_FIRST, depth=5)
    assert report.property("every-stage-reachable").holds
    assert report.property("no-dead-ends").holds


def test_a_rule_that_needs_a_deeper_search_is_inconclusive_below_that_depth() -> None:
    # Two rejected remedies (and the proposal after them) take 7 events.
    dead = verify(FACTS_FIRST, depth=6, escape=0).property("no-dead-rules")
    assert dead.verdict is Verdict.INCONCLUSIVE and dead.counterexample is None
    assert dead.detail == "never fired within 6 events: hand-off-when-stuck; raise --depth"
    assert verify(FACTS_FIRST, depth=7, escape=0).property("no-dead-rules").holds


# -- a search that runs out is inconclusive, never a failure -------------------------------


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
@pytest.mark.parametrize(
    "options",
    [
        {"max_states": 1000},
        {"max_states": 1000, "depth": 3},
        {"escape": 0},
        {"escape": 2},
        {"depth": 1},
        {"depth": 2, "escape": 1},
        {"depth": 3, "escape": 0},
        {"depth": 3, "escape": 3, "max_states": 300},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_a_sound_policy_never_fails_for_want_of_search(policy, options) -> None:
    report = verify(policy, **options)
    assert Verdict.FAILS not in verdicts(report).values(), report.properties
    assert report.verdict in {Verdict.HOLDS, Verdict.INCONCLUSIVE}
    assert all(p.counterexample is None and p.refused_step is None for p in report.properties)
    assert report.states <= options.get("max_states", 200_000)


def test_an_inconclusive_verdict_names_the_option_to_raise() -> None:
    budget = verify(FACTS_FIRST, max_states=1000).property("no-dead-ends")
    assert budget.verdict is Verdict.INCONCLUSIVE and not budget.holds
    assert budget.detail.endswith("the state budget of 1,000 interactions ran out: raise --max-states")
    escape = verify(FACTS_FIRST, escape=0).property("no-dead-ends")
    assert escape.verdict is Verdict.INCONCLUSIVE
    assert escape.detail.startswith("no way to followed_up found yet from ")
    assert escape.detail.endswith("the search for ways out stopped 0 event(s) past the depth: raise --escape")
    shallow = verify(FACTS_FIRST, depth=2, escape=1)
    assert "raise --depth" in shallow.property("every-stage-reachable").detail
    assert "raise --depth" in shallow.property("no-dead-rules").detail
    assert shallow.verdict is Verdict.INCONCLUSIVE and not shallow.holds


def test_the_state_budget_bounds_the_search() -> None:
    report = verify(FACTS_FIRST, max_states=500)
    assert report.states == 500 and not report.complete and not report.closed
    assert report.verdict is Verdict.INCONCLUSIVE
    # Even a policy with a dead end is inconclusive when the budget cannot prove it.
    trapped = verify(FACTS_FIRST.with_rules(survey_first), max_states=2000)
    assert trapped.states <= 2000
    dead_end = trapped.property("no-dead-ends")
    assert dead_end.verdict is Verdict.INCONCLUSIVE and dead_end.counterexample is None
    assert "raise --max-states" in dead_end.detail


# -- planted defects ---------------------------------------------------------------------


def test_a_rule_blocking_every_follow_up_is_a_dead_end_from_the_opening(survey_report) -> None:
    dead_end = survey_report.property("no-dead-ends")
    assert dead_end.verdict is Verdict.FAILS and not dead_end.holds and not survey_report.holds
    assert survey_report.verdict is Verdict.FAILS
    assert dead_end.counterexample == (default_opening(),)  # the shortest: nothing after the opening
    assert "followed_up can never be reached" in dead_end.detail
    assert dead_end.detail.endswith("the furthest it gets is agreed, where moving on is refused by: survey-first")
    # Every interaction the policy allows was explored to prove it, so followed_up is proven unreachable.
    assert survey_report.closed
    unreachable = survey_report.property("every-stage-reachable")
    assert unreachable.verdict is Verdict.FAILS and "followed_up" in unreachable.detail


def test_a_dead_end_comes_with_the_step_the_policy_refuses(survey_report) -> None:
    policy = FACTS_FIRST.with_rules(survey_first)
    dead_end = survey_report.property("no-dead-ends")
    step = dead_end.refused_step
    assert step[0] == default_opening() and step[-1].type == "follow_up_completed"
    assert dead_end.refused_by == ("survey-first",)
    outcome = assert_refused_at_the_end(step, policy, ["survey-first"])
    assert outcome.interaction.stage is Stage.AGREED  # the furthest it gets
    assert [item.finding.rule for item in outcome.findings] == ["survey-first"]  # nothing else to see
    times = [e.at for e in step]
    assert times == sorted(times)


def test_a_dead_end_after_some_events_has_a_shortest_counterexample_that_replays(abuse_report) -> None:
    policy = FACTS_FIRST.with_rules(no_follow_up_after_abuse)
    dead_end = abuse_report.property("no-dead-ends")
    assert dead_end.verdict is Verdict.FAILS
    transcript = dead_end.counterexample
    assert [e.type for e in transcript] == ["interaction_opened", "abuse_observed"]
    outcome = replayed(transcript, policy)
    assert outcome.interaction.abuse_observed and outcome.violations == 0
    assert "no-follow-up-after-abuse" in dead_end.detail
    # The refused step walks on from the counterexample to where the trap closes.
    assert dead_end.refused_step[: len(transcript)] == transcript
    assert dead_end.refused_by == ("no-follow-up-after-abuse",)
    assert_refused_at_the_end(dead_end.refused_step, policy, ["no-follow-up-after-abuse"])


def test_a_rule_that_can_never_fire_is_a_dead_rule_once_the_search_closes() -> None:
    policy = FACTS_FIRST.with_rules(ceo_escalation)
    shallow = verify(policy).property("no-dead-rules")
    assert shallow.verdict is Verdict.INCONCLUSIVE and "ceo-escalation" in shallow.detail
    # Without time in the alphabet the timing rules cannot fire either: leave them out too.
    report = verify(policy.without(*TIMING), depth=30, alphabet=TIMELESS)
    assert report.closed and report.complete
    dead = report.property("no-dead-rules")
    assert dead.verdict is Verdict.FAILS and dead.counterexample is None
    assert dead.detail == "never fired, on any step the policy allows: ceo-escalation"
    assert report.property("no-dead-ends").holds and report.property("every-stage-reachable").holds


def test_an_invariant_first_broken_at_depth_5_has_a_counterexample_of_5_events() -> None:
    shallow = verify(FACTS_FIRST, depth=4, escape=0, invariants=[never_followed_up])
    assert shallow.property("invariant:never_followed_up").holds
    assert shallow.property("invariant:never_followed_up").detail == "holds on every interaction within 4 events"
    report = verify(FACTS_FIRST, depth=5, invariants=[never_followed_up])
    broken = report.property("invariant:never_followed_up")
    assert broken.verdict is Verdict.FAILS
    assert len(broken.counterexample) == 1 + 5
    assert replayed(broken.counterexample, FACTS_FIRST).interaction.stage is Stage.FOLLOWED_UP
    assert broken.detail == "does not hold after 5 event(s)"


def test_an_invariant_broken_beyond_the_depth_fails_and_says_where_it_was_found() -> None:
    # Looking for ways out from depth 4 finds followed_up: a definite failure.
    broken = verify(FACTS_FIRST, depth=4, invariants=[never_followed_up]).property("invariant:never_followed_up")
    assert broken.verdict is Verdict.FAILS
    assert replayed(broken.counterexample, FACTS_FIRST).interaction.stage is Stage.FOLLOWED_UP
    assert broken.detail.endswith("(found beyond 4 events: a greater depth may find a shorter one)")


def test_an_invariant_that_raises_fails_with_what_it_raised() -> None:
    def needs_facts(interaction):
        return interaction.facts.root_cause  # None before the facts: AttributeError

    broken = verify(FACTS_FIRST, depth=2, invariants=[Invariant("needs-facts", needs_facts)]).property(
        "invariant:needs-facts"
    )
    assert broken.verdict is Verdict.FAILS and broken.counterexample == (default_opening(),)
    assert broken.detail.startswith("raised AttributeError")


def test_an_invariant_over_a_closed_space_holds_everywhere() -> None:
    def warned_only_after_abuse(interaction):
        return interaction.abuse_warnings == 0 or interaction.abuse_observed

    report = verify(FACTS_FIRST, depth=40, alphabet=ABUSIVE, invariants=[warned_only_after_abuse])
    result = report.property("invariant:warned_only_after_abuse")
    assert report.closed and result.holds
    assert result.detail == "holds on every interaction the policy allows"


# -- exploration ----------------------------------------------------------------------------


def test_interactions_with_the_same_state_are_explored_once() -> None:
    opening = opened()  # before the events: each event must be later than the one before
    warehouse, courier = ("fact_recorded", {"source": "warehouse"}), ("fact_recorded", {"source": "courier"})
    warehouse_first = events(["concerns_acknowledged", warehouse, courier])
    courier_first = events(["concerns_acknowledged", courier, warehouse])

    def run(script):
        interaction = open_interaction(opening)
        for event in script:
            interaction = apply(interaction, event).interaction
        return interaction

    assert run(warehouse_first) != run(courier_first)  # different histories...
    assert state_key(run(warehouse_first)) == state_key(run(courier_first))  # ...same future
    assert state_key(run(warehouse_first[:2])) != state_key(run(courier_first[:2]))  # other source heard
    key = default_key(FACTS_FIRST)
    assert key(run(warehouse_first)) == key(run(courier_first))
    assert key(run(warehouse_first[:2])) != key(run(courier_first[:2]))


def test_event_ids_are_part_of_the_state() -> None:
    interaction = open_interaction(opened())
    with_id = apply(interaction, ev("empathy_expressed", event_id="d-1")).interaction
    without = apply(interaction, ev("empathy_expressed")).interaction
    assert state_key(with_id) != state_key(without)
    assert default_key(FACTS_FIRST)(with_id) != default_key(FACTS_FIRST)(without)


def test_the_default_key_caps_counters_at_the_policy_thresholds() -> None:
    def warned(times, policy=FACTS_FIRST):
        interaction = apply(open_interaction(opened()), ev("abuse_observed")).interaction
        for _ in range(times):
            interaction = apply(interaction, ev("abuse_warning_given"), policy).interaction
        return interaction

    assert [warned(n).abuse_warnings for n in (0, 1, 5)] == [0, 1, 5]
    key = default_key(FACTS_FIRST)  # warnings_before_ending=1
    assert key(warned(0)) != key(warned(1)) == key(warned(5))
    assert state_key(warned(1)) != state_key(warned(5))
    strict = FACTS_FIRST.with_params(warnings_before_ending=3)
    key = default_key(strict)
    assert key(warned(2)) != key(warned(3)) == key(warned(7))

    def rejected(times):
        interaction = open_interaction(opened())
        script = events(["concerns_acknowledged", "facts_established", "apology_offered"])
        script += events(["remedy_proposed", "remedy_rejected"] * times)
        for event in script:
            interaction = apply(interaction, event, FACTS_FIRST, Mode.ADVISORY).interaction
        return interaction

    assert [rejected(n).rejections for n in (1, 2, 4)] == [1, 2, 4]
    key = default_key(FACTS_FIRST)  # max_rejections=2
    assert key(rejected(1)) != key(rejected(2)) == key(rejected(4))


def test_the_state_space_closes_though_warnings_could_go_on_forever() -> None:
    # Under state_key every further warning is a new interaction: the space grows with the depth.
    growing = [verify(FACTS_FIRST, depth=d, escape=0, alphabet=ABUSIVE, key=state_key) for d in (10, 20)]
    assert growing[0].states < growing[1].states
    assert not growing[1].closed
    # With the default key, the counters stop at the policy's thresholds: a fixpoint.
    closed = [verify(FACTS_FIRST, depth=d, alphabet=ABUSIVE) for d in (10, 20, 60)]
    assert all(report.closed for report in closed)
    assert len({report.states for report in closed}) == 1
    assert closed[0].deepest < 10


def test_the_whole_space_of_a_builtin_policy_is_finite() -> None:
    report = verify(APOLOGIZE_FIRST, depth=40)
    assert report.closed and report.complete and report.deepest < 40
    assert report.verdict is Verdict.HOLDS
    assert report.property("no-dead-ends").detail == "followed_up can be reached from every interaction within 40 events"


def test_an_alphabet_without_follow_ups_leaves_no_way_out() -> None:
    left_out = {"follow_up_completed", "manager_requested", "escalated", "abuse_observed", "abuse_warning_given"}
    alphabet = [e for e in default_alphabet(FACTS_FIRST) if e.type not in left_out]
    report = verify(FACTS_FIRST, depth=5, alphabet=alphabet)
    dead_end = report.property("no-dead-ends")
    assert dead_end.verdict is Verdict.FAILS
    assert "no event of the alphabet moves it on" in dead_end.detail
    assert dead_end.refused_step is None and dead_end.refused_by == ()
    assert report.closed  # so the dead rules are proven dead
    assert report.property("no-dead-rules").verdict is Verdict.FAILS
    assert "report-progress" in report.property("no-dead-rules").detail


def test_the_default_alphabet_follows_the_policy_parameters() -> None:
    generous = FACTS_FIRST.with_params(authority_limit=1000, min_fact_sources=3)
    values = sorted(e.value for e in default_alphabet(generous) if e.type == "remedy_proposed")
    assert values[0] <= 1000 < values[1]
    assert len({e.source for e in default_alphabet(generous) if e.type == "fact_recorded"}) == 3


def test_the_default_alphabet_promises_a_callback_and_has_late_variants() -> None:
    alphabet = default_alphabet(FACTS_FIRST)
    promises = [e for e in alphabet if isinstance(e, CallbackPromised)]
    assert len(promises) == 1 and promises[0].by > promises[0].at < LATE
    assert sorted(e.type for e in alphabet if e.at >= LATE) == ["escalated", "follow_up_completed", "progress_reported"]
    # each late variant is a marked copy of an on-time event of the alphabet
    for event in alphabet:
        if event.at >= LATE:
            assert late(event) == event and attrs.evolve(event, at=START) in alphabet


def fired_first(policy, rule_id, **options):
    """The shortest explored transcript on which ``rule_id`` fires (as a warning, so it is applied).

    A key that also remembers whether the rule fired keeps apart the interactions
    it fired on; the invariant that it never fires then fails on the first of them.
    """
    equivalent = default_key(policy)

    def fired(interaction):
        return any(f.rule == rule_id for f in interaction.findings)

    report = verify(
        policy, key=lambda i: (equivalent(i), fired(i)), invariants=[Invariant(rule_id, lambda i: not fired(i))],
        **options,
    )
    result = report.property(f"invariant:{rule_id}")
    assert result.verdict is Verdict.FAILS, result.detail
    return result.counterexample


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
@pytest.mark.parametrize("rule_id", TIMING)
def test_every_timing_rule_fires_somewhere_in_exploration(policy, rule_id) -> None:
    transcript = fired_first(policy, rule_id, depth=6, escape=0)
    times = [e.at for e in transcript]
    assert times == sorted(times) and all(t < LATE for t in times)
    outcome = replayed(transcript, policy, Mode.ADVISORY)
    last = len(transcript) - 1
    assert rule_id in {item.finding.rule for item in outcome.findings if item.line.index == last}
    assert outcome.violations == 0  # late, never wrong: a timing rule only warns
    gap = transcript[-1].at - transcript[-2].at
    if rule_id == "escalate-promptly":
        assert [e.type for e in transcript[-2:]] == ["manager_requested", "escalated"]
        assert gap > policy.params.escalate_within
    elif rule_id == "report-progress-on-time":
        assert transcript[-2].type == "remedy_accepted" and gap > policy.params.progress_every
    elif rule_id == "follow-up-on-time":
        assert transcript[-1].type == "follow_up_completed" and gap > policy.params.follow_up_within
    else:  # a promise missed by a late event, then the customer hears from the agent again
        promise = next(e for e in transcript if e.type == "callback_promised")
        assert transcript[-1].contact and transcript[-1].at > promise.by


def test_on_time_the_timing_rules_stay_quiet(facts_first_report) -> None:
    for path in facts_first_report.paths:
        outcome = replayed(path.events, FACTS_FIRST, Mode.ADVISORY)
        assert not {item.finding.rule for item in outcome.findings} & set(TIMING), path.name


def test_every_rule_fires_in_exploration_and_the_new_ones_need_their_events() -> None:
    report = verify(FACTS_FIRST, depth=6, escape=0)
    assert report.property("no-dead-rules").detail == "never fired within 6 events: hand-off-when-stuck; raise --depth"
    without_promises = [e for e in default_alphabet(FACTS_FIRST) if e.type != "callback_promised"]
    dead = verify(FACTS_FIRST, depth=6, escape=0, alphabet=without_promises).property("no-dead-rules")
    assert dead.detail == "never fired within 6 events: hand-off-when-stuck, keep-the-promise; raise --depth"
    on_time = [e for e in default_alphabet(FACTS_FIRST) if e.at < LATE]
    dead = verify(FACTS_FIRST, depth=6, escape=0, alphabet=on_time).property("no-dead-rules")
    assert dead.detail == (
        "never fired within 6 events: hand-off-when-stuck, keep-the-promise, report-progress-on-time, "
        "follow-up-on-time, escalate-promptly; raise --depth"
    )


def test_a_duration_turned_off_turns_its_rule_off_and_verification_expects_no_firing() -> None:
    policy = FACTS_FIRST.with_params(progress_every=None, escalate_within=None)
    report = verify(policy)
    assert report.verdict is Verdict.HOLDS
    assert report.property("no-dead-rules").detail == (
        "every rule fires on some explored step but those the policy turns off: "
        "report-progress-on-time (progress_every is None), escalate-promptly (escalate_within is None)"
    )
    # One with none of its durations still keeps its promises.
    none = verify(FACTS_FIRST.with_params(progress_every=None, follow_up_within=None, escalate_within=None))
    assert none.verdict is Verdict.HOLDS and "follow-up-on-time (follow_up_within is None)" in none.property(
        "no-dead-rules"
    ).detail
    assert fired_first(FACTS_FIRST.with_params(escalate_within=None), "keep-the-promise", depth=4, escape=0)


def test_the_default_key_reads_deadlines_as_open_or_passed_never_as_times() -> None:
    start = opened().at

    def promised(due_in, then=()):
        interaction = open_interaction(opened(at=start))
        script = [CallbackPromised(at=start, by=start + due_in), *then]
        for event in script:
            interaction = apply(interaction, event).interaction
        return interaction

    key = default_key(FACTS_FIRST)
    soon, later = promised(timedelta(hours=1)), promised(timedelta(hours=3))
    assert key(soon) == key(later)  # both open
    assert state_key(soon) != state_key(later)  # due in an hour, or in three
    waited = [ev("fact_recorded", at=start + timedelta(hours=2))]
    assert key(promised(timedelta(hours=1), waited)) != key(promised(timedelta(hours=3), waited))  # passed, open
    # The same story a day later is the same state, under either key.
    a_day = timedelta(days=1)
    shifted = open_interaction(opened(at=start + a_day))
    shifted = apply(shifted, CallbackPromised(at=start + a_day, by=start + a_day + timedelta(hours=1))).interaction
    assert state_key(shifted) == state_key(soon) and key(shifted) == key(soon)


def test_the_explorer_keys_each_interaction_as_the_default_key_does() -> None:
    # The explorer builds a child's key from its parent's (the sources and ids grow by one event).
    from deescalate._explore import Graph

    heard = attrs.evolve(ev("fact_recorded", source="courier"), event_id="d-1")
    alphabet = [*default_alphabet(FACTS_FIRST), heard, attrs.evolve(ev("empathy_expressed"), event_id="d-2")]
    graph = Graph(FACTS_FIRST, alphabet, default_opening(), default_key(FACTS_FIRST), 20_000)
    level = [0]
    for _ in range(5):
        level = [found for node in level for found in graph.expand(node)]
    key = default_key(FACTS_FIRST)
    assert len(graph) > 1500
    assert all(graph.keys[key(interaction)] == node for node, interaction in enumerate(graph.interactions))


def test_a_user_alphabet_s_times_are_replaced_and_late_marks_what_comes_late() -> None:
    # Events built at any time: the explorer stamps them itself, a minute apart.
    alphabet = [ev("concerns_acknowledged"), ev("manager_requested"), ev("escalated", authority_limit=150)]
    report = verify(FACTS_FIRST, depth=3, escape=0, alphabet=alphabet)
    same = verify(FACTS_FIRST, depth=3, escape=0, alphabet=[attrs.evolve(e, at=START) for e in alphabet])
    assert (report.states, [p.events for p in report.paths]) == (same.states, [p.events for p in same.paths])
    for path in report.paths:
        times = [e.at for e in path.events]
        assert all(b - a == timedelta(minutes=1) for a, b in pairwise(times)), path.name
    assert "escalate-promptly" in report.property("no-dead-rules").detail  # nothing comes late
    delayed = verify(FACTS_FIRST, depth=3, escape=0, alphabet=[*alphabet, late(alphabet[2])])
    assert "escalate-promptly" not in delayed.property("no-dead-rules").detail
    # late or on time, an escalation leaves the same state: the late one only warns on the way
    assert delayed.states == report.states


def test_late_marks_events_and_refuses_anything_else() -> None:
    promise = CallbackPromised(at=START, by=START + timedelta(hours=2))
    marked = late(promise)
    assert marked.at == LATE and marked.by == LATE + timedelta(hours=2)
    with pytest.raises(ArgumentTypeError, match="argument 'event'"):
        late("escalated")
    with pytest.raises(ArgumentTypeError, match="other than interaction_opened"):
        late(default_opening())


def test_an_on_time_event_never_passes_an_open_deadline() -> None:
    # A customer asks for a manager and the agent keeps expressing empathy, for longer
    # than an escalation may take: on time, the events wait at the deadline rather than
    # pass it. So even the key that reads exact times sees the space close.
    alphabet = [ev("concerns_acknowledged"), ev("manager_requested"), ev("empathy_expressed"), ev("escalated")]
    never = Invariant("escalated-on-time", lambda i: "escalate-promptly" not in {f.rule for f in i.findings})
    report = verify(FACTS_FIRST, depth=20, escape=0, alphabet=alphabet, invariants=[never], key=state_key)
    assert report.closed and report.deepest > 10  # more than ten one-minute steps after a request
    assert report.property("invariant:escalated-on-time").detail == "holds on every interaction the policy allows"


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"depth": 0}, ArgumentValueError, "argument 'depth': must be an integer >= 1, got 0"),
        ({"depth": "8"}, ArgumentTypeError, "argument 'depth': must be an integer >= 1, got '8'"),
        ({"depth": True}, ArgumentTypeError, "argument 'depth'"),
        ({"max_states": 0}, ArgumentValueError, "argument 'max_states'"),
        ({"escape": -1}, ArgumentValueError, "argument 'escape'"),
        ({"escape": 1.5}, ArgumentTypeError, "argument 'escape'"),
        ({"alphabet": []}, ArgumentValueError, "argument 'alphabet': is empty"),
        ({"alphabet": [opened()]}, ArgumentValueError, "other than interaction_opened"),
        ({"alphabet": ["customer_vented"]}, ArgumentTypeError, "argument 'alphabet': must hold events"),
        ({"alphabet": 3}, ArgumentTypeError, "argument 'alphabet'"),
        (
            {"alphabet": [CallbackPromised(at=START, by=START + timedelta(days=20_000))]},
            ArgumentValueError,
            "argument 'alphabet': a callback_promised may be due 10,000 days after it is made at most",
        ),
        ({"invariants": [3]}, ArgumentTypeError, "argument 'invariants'"),
        ({"invariants": never_followed_up}, ArgumentTypeError, "argument 'invariants'"),
        ({"key": "state"}, ArgumentTypeError, "argument 'key'"),
        ({"opening": ev("customer_vented")}, ArgumentTypeError, "argument 'opening'"),
        ({"progress": 1}, ArgumentTypeError, "argument 'progress'"),
    ],
)
def test_bad_arguments_are_refused_with_typed_errors(arguments, error, message) -> None:
    with pytest.raises(error, match=message) as caught:
        verify(FACTS_FIRST, **arguments)
    assert isinstance(caught.value, DeescalateError)


def test_a_bad_policy_is_refused_with_a_typed_error() -> None:
    with pytest.raises(ArgumentTypeError, match="argument 'policy'"):
        verify(42)
    with pytest.raises(DeescalateError, match="unknown policy"):
        verify("facts-last")


def test_asking_for_an_unknown_property_is_a_typed_error() -> None:
    report = verify(FACTS_FIRST, depth=1, escape=0)
    with pytest.raises(ArgumentValueError, match="no property 'no-dead-end' in this report"):
        report.property("no-dead-end")


def test_a_property_result_keeps_holds_and_takes_a_bool_verdict() -> None:
    assert PropertyResult("p", True).verdict is Verdict.HOLDS and PropertyResult("p", True).holds
    assert PropertyResult("p", False).verdict is Verdict.FAILS
    assert not PropertyResult("p", "inconclusive").holds
    with pytest.raises(ArgumentValueError):
        PropertyResult("p", "maybe")


def test_a_policy_can_be_named() -> None:
    assert verify("apologize-first", depth=2).policy == "apologize-first"


def test_the_report_as_json(facts_first_report, abuse_report) -> None:
    data = json.loads(json.dumps(facts_first_report.to_dict()))
    assert {"policy", "verdict", "holds", "depth", "escape", "states", "closed", "properties"} <= set(data)
    assert data["policy"] == "facts-first" and data["depth"] == 8 and data["states"] == facts_first_report.states
    assert data["verdict"] == "holds" and data["holds"] is True and data["escape"] == 40
    assert data["properties"][0] == {
        "name": "no-dead-ends",
        "verdict": "holds",
        "holds": True,
        "counterexample": None,
        "detail": "followed_up can be reached from every interaction within 8 events",
        "refused_step": None,
        "refused_by": [],
    }
    broken = json.loads(json.dumps(abuse_report.to_dict()))
    assert broken["verdict"] == "fails" and broken["holds"] is False
    dead_end = broken["properties"][0]
    assert dead_end["verdict"] == "fails"
    assert [e["type"] for e in dead_end["counterexample"]] == ["interaction_opened", "abuse_observed"]
    assert dead_end["refused_step"][-1]["type"] == "follow_up_completed"
    assert dead_end["refused_by"] == ["no-follow-up-after-abuse"]
    unsure = verify(FACTS_FIRST, max_states=300).to_dict()
    assert unsure["verdict"] == "inconclusive" and unsure["holds"] is False and unsure["complete"] is False


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
    dead_end = report.property("no-dead-ends")
    assert dead_end.verdict is Verdict.FAILS and dead_end.counterexample == (default_opening(),)
    assert_refused_at_the_end(dead_end.refused_step, FACTS_FIRST.with_rules(only_ending), ["only-ending"])
    ended = ConversationEnded(at=default_opening().at, reason=EndReason.CUSTOMER_LEFT)
    assert ended.type in {e.type for p in report.paths for e in p.events}
