"""Hypothesis strategies for the property tests: valid events and steered event sequences.

Uniformly random events rarely get past ``acknowledged``, so sequences are steered:
at each step they draw, most of the time, an event type that the stage graph allows
at the interaction's current stage, and sometimes any event type at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from deescalate import (
    APOLOGIZE_FIRST,
    EVENT_CLASSES,
    FACTS_FIRST,
    ApologyScope,
    EndReason,
    Event,
    Fault,
    Interaction,
    InteractionOpened,
    Mode,
    Policy,
    Stage,
    apply,
    open_interaction,
)
from deescalate._machine import ROUTES

texts = st.text(max_size=12)
amounts = st.one_of(
    st.integers(min_value=0, max_value=500),
    st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False),
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
event_ids = st.one_of(st.none(), st.sampled_from(["e1", "e2", "e3"]), st.uuids().map(str))

FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "interaction_opened": {
        "interaction_id": texts,
        "customer_name": st.none() | texts,
        "authority_limit": st.none() | amounts,
    },
    "customer_vented": {"intensity": st.integers(0, 10)},
    "venting_subsided": {},
    "concerns_acknowledged": {
        "summary": st.lists(st.sampled_from(["", " ", "late", "rude"]) | texts, max_size=3).map(tuple),
        "used_name": st.booleans(),
    },
    "empathy_expressed": {},
    "fact_recorded": {"source": st.sampled_from(["customer", "warehouse", "courier"]), "detail": texts},
    "facts_established": {"fault": st.sampled_from(list(Fault)), "root_cause": texts},
    "apology_offered": {"scope": st.sampled_from(list(ApologyScope)), "names_individual": st.booleans()},
    "remedy_proposed": {"remedy": texts.filter(str.strip) | st.just("refund"), "value": amounts},
    "remedy_rejected": {"counter_request": st.none() | texts},
    "remedy_accepted": {"restated": st.booleans(), "confirmation_sent": st.booleans()},
    "progress_reported": {"detail": texts},
    "follow_up_completed": {"resolved": st.booleans(), "prevention": st.sampled_from(["", "checklist"])},
    "manager_requested": {},
    "escalated": {"to": st.sampled_from(["supervisor", "manager"]), "authority_limit": st.none() | amounts},
    "abuse_observed": {"detail": texts},
    "abuse_warning_given": {},
    "conversation_ended": {"reason": st.sampled_from(list(EndReason))},
}

_ORDER = {stage: n for n, stage in enumerate(Stage)}
#: For each active stage, the event types that move an interaction towards followed_up.
FORWARD: dict[Stage, list[str]] = {
    stage: sorted(
        t
        for t, by in ROUTES.items()
        if stage in by and by[stage].dest is not Stage.ENDED and _ORDER[by[stage].dest] > _ORDER[stage]
    )
    + (["fact_recorded"] if stage is Stage.ACKNOWLEDGED else [])
    + (["venting_subsided"] if stage is Stage.VENTING else [])
    for stage in Stage
    if not stage.terminal
}

policies = st.sampled_from([FACTS_FIRST, APOLOGIZE_FIRST, FACTS_FIRST.with_params(max_rejections=0)])


@st.composite
def events_of(draw: st.DrawFn, kind: str, at: datetime | None = None) -> Event:
    """A valid event of type ``kind`` (at ``at``, or any aware time)."""
    fields = {name: draw(strategy) for name, strategy in FIELDS[kind].items()}
    moment = at if at is not None else draw(st.datetimes(timezones=offsets))
    return EVENT_CLASSES[kind](at=moment, event_id=draw(event_ids), **fields)


any_event = st.sampled_from(sorted(EVENT_CLASSES)).flatmap(events_of)


@st.composite
def sequences(
    draw: st.DrawFn, policy: Policy = FACTS_FIRST, max_size: int = 40, clean: bool = False
) -> tuple[InteractionOpened, list[Event]]:
    """An opening and the events after it, in time order, steered through the stages.

    With ``clean=True``, events that strict mode would refuse under ``policy`` (or
    that are invalid) are redrawn, so the sequence has no violation.
    """
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    opening = draw(events_of("interaction_opened", at=moment))
    assert isinstance(opening, InteractionOpened)
    interaction = open_interaction(opening, policy)
    out: list[Event] = []
    for _ in range(draw(st.integers(0, max_size))):
        moment += timedelta(seconds=draw(st.integers(0, 600)))
        stage = interaction.stage
        possible = sorted(t for t, by in ROUTES.items() if stage in by) or sorted(EVENT_CLASSES)
        ahead = FORWARD.get(stage, possible)
        roll = draw(st.integers(0, 9))
        pool = ahead if roll < 5 else possible if roll < 9 else sorted(EVENT_CLASSES)
        kind = draw(st.sampled_from(pool))
        event = draw(events_of(kind, at=moment))
        outcome = apply(interaction, event, policy, Mode.STRICT if clean else Mode.ADVISORY)
        if clean and not outcome.applied:
            continue
        interaction = outcome.interaction
        out.append(event)
    return opening, out


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
