"""The shipped testing kit: strategies that are valid and reach every stage; the stateful base."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from deescalate import (
    APOLOGIZE_FIRST,
    EVENT_CLASSES,
    FACTS_FIRST,
    EventError,
    Mode,
    RemedyProposed,
    Severity,
    Stage,
    apply,
    open_interaction,
)
from deescalate.assertions import assert_clean
from deescalate.testing import InteractionMachine, events, interactions, openings, transcripts

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
@FAST
@given(data=st.data())
def test_events_of_each_type_are_valid_values_of_that_type(kind, data) -> None:
    event = data.draw(events(kind))
    assert type(event) is EVENT_CLASSES[kind]
    assert event.at.utcoffset() is not None


@FAST
@given(events("remedy_proposed", value=st.integers(101, 500), remedy="refund"))
def test_fixed_fields_take_a_value_or_a_strategy(event) -> None:
    assert isinstance(event, RemedyProposed) and event.remedy == "refund" and 101 <= event.value <= 500


@FAST
@given(events())
def test_events_without_a_type_are_any_type_but_the_opening(event) -> None:
    assert event.type in EVENT_CLASSES and event.type != "interaction_opened"


def test_unknown_types_and_fields_are_refused_by_name() -> None:
    with pytest.raises(EventError, match="field 'type': unknown event type 'remedy_offered'"):
        events("remedy_offered")
    with pytest.raises(EventError, match="field 'price': is not a field of remedy_proposed"):
        events("remedy_proposed", price=10)


@pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)
@FAST
@given(data=st.data())
def test_clean_transcripts_review_clean_in_both_modes(policy, data) -> None:
    transcript = data.draw(transcripts(policy))
    assert transcript[0].type == "interaction_opened"
    assert [e.at for e in transcript] == sorted(e.at for e in transcript)
    strict = assert_clean(transcript, policy, mode=Mode.STRICT)
    advisory = assert_clean(transcript, policy)
    assert strict.interaction == advisory.interaction


def test_transcripts_with_violations_allowed_do_have_them() -> None:
    from hypothesis import find

    transcript = find(
        transcripts(FACTS_FIRST, violations=True),
        lambda t: any(
            f.severity is Severity.VIOLATION
            for f in _review(t).interaction.findings
        ),
        settings=settings(database=None, max_examples=500),
    )
    assert len(transcript) >= 2


def _review(transcript):
    interaction = open_interaction(transcript[0])
    for event in transcript[1:]:
        interaction = apply(interaction, event, FACTS_FIRST, Mode.ADVISORY).interaction
    return type("R", (), {"interaction": interaction})


def test_transcripts_reach_every_stage_within_200_examples() -> None:
    first_seen: dict[Stage, int] = {}
    count = 0

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(transcripts(FACTS_FIRST))
    def visit(transcript) -> None:
        nonlocal count
        count += 1
        interaction = open_interaction(transcript[0])
        first_seen.setdefault(interaction.stage, count)
        for event in transcript[1:]:
            interaction = apply(interaction, event).interaction
            first_seen.setdefault(interaction.stage, count)

    visit()
    assert set(first_seen) == set(Stage), first_seen
    # Counted: every stage, followed_up included, is reached well within the budget.
    assert max(first_seen.values()) <= 100, first_seen


@pytest.mark.parametrize("stage", list(Stage))
@FAST
@given(data=st.data())
def test_interactions_at_a_stage_are_at_that_stage_without_violations(stage, data) -> None:
    interaction = data.draw(interactions(stage, APOLOGIZE_FIRST))
    assert interaction.stage is stage
    assert all(f.severity is Severity.WARNING for f in interaction.findings)


@FAST
@given(openings(authority_limit=25))
def test_openings_take_fixed_fields(opening) -> None:
    assert opening.authority_limit == 25 and open_interaction(opening).authority_limit == 25


class AuthorityMachine(InteractionMachine):
    policy = FACTS_FIRST.with_params(authority_limit=40)

    @invariant()
    def no_agreed_remedy_beyond_the_owners_reach(self) -> None:
        agreed = self.interaction.agreed_remedy
        if agreed is not None and self.interaction.owner == "agent":
            assert agreed.value <= 40 or self.interaction.history[0].authority_limit is not None


TestAuthorityMachine = AuthorityMachine.TestCase
TestAuthorityMachine.settings = settings(max_examples=30, stateful_step_count=30, deadline=None)


class NeverAgreesMachine(InteractionMachine):
    @invariant()
    def never_agreed(self) -> None:
        assert self.interaction.stage is not Stage.AGREED, "reached agreed"


def test_a_user_invariant_in_the_stateful_base_is_found_broken() -> None:
    with pytest.raises(AssertionError, match="reached agreed"):
        run_state_machine_as_test(
            NeverAgreesMachine,
            settings=settings(
                NeverAgreesMachine.TestCase.settings, stateful_step_count=15, database=None, derandomize=True
            ),
        )


def test_the_stateful_base_leaves_out_the_slow_explain_phase() -> None:
    assert Phase.explain not in NeverAgreesMachine.TestCase.settings.phases
    assert Phase.shrink in NeverAgreesMachine.TestCase.settings.phases


def test_the_core_and_the_cli_never_import_hypothesis_or_pytest() -> None:
    code = (
        "import sys, deescalate, deescalate.cli, deescalate.verify, deescalate.assertions;"
        "print(sorted(m for m in ('hypothesis', 'pytest', '_pytest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
