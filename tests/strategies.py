"""The property tests' strategies: the shipped kit (deescalate.testing), shaped for these tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    Event,
    Interaction,
    InteractionOpened,
    Mode,
    Policy,
    apply,
    open_interaction,
)
from deescalate.testing import events, openings, transcripts

any_event = events() | openings()
policies = st.sampled_from([FACTS_FIRST, APOLOGIZE_FIRST, FACTS_FIRST.with_params(max_rejections=0)])


def sequences(
    policy: Policy = FACTS_FIRST, max_size: int = 40, clean: bool = False
) -> st.SearchStrategy[tuple[InteractionOpened, list[Event]]]:
    """An opening and the events after it, steered through the stages (see transcripts())."""
    return transcripts(policy, max_events=max_size, violations=not clean).map(_split)


def _split(transcript: tuple[Event, ...]) -> tuple[InteractionOpened, list[Event]]:
    opening, *rest = transcript
    assert isinstance(opening, InteractionOpened)
    return opening, rest


def run_all(
    opening: InteractionOpened, events: list[Event], policy: Policy, mode: Mode
) -> tuple[Interaction, list[Any]]:
    interaction = open_interaction(opening, policy)
    outcomes = []
    for event in events:
        outcome = apply(interaction, event, policy, mode)
        outcomes.append(outcome)
        interaction = outcome.interaction
    return interaction, outcomes
