"""Terse builders for tests: events with increasing timestamps, and interactions by script."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from deescalate import (
    EVENT_CLASSES,
    FACTS_FIRST,
    Event,
    Interaction,
    InteractionOpened,
    Mode,
    Policy,
    apply,
    open_interaction,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_clock = itertools.count()

#: Valid default fields for every event type, so a test names only what it cares about.
DEFAULTS: dict[str, dict[str, Any]] = {
    "interaction_opened": {"interaction_id": "T-1", "customer_name": "Dana"},
    "customer_vented": {"intensity": 7},
    "venting_subsided": {},
    "concerns_acknowledged": {"summary": ("late delivery",), "used_name": True},
    "empathy_expressed": {},
    "fact_recorded": {"source": "warehouse", "detail": "shipped late"},
    "facts_established": {"fault": "company", "root_cause": "missed pick-up"},
    "apology_offered": {"scope": "inconvenience", "names_individual": False},
    "remedy_proposed": {"remedy": "free express reshipment", "value": 20},
    "remedy_rejected": {},
    "remedy_accepted": {"restated": True, "confirmation_sent": True},
    "progress_reported": {"detail": "shipped today"},
    "callback_promised": {"detail": "once the courier answers"},
    "follow_up_completed": {"resolved": True, "prevention": "pick-ups are now tracked"},
    "manager_requested": {},
    "escalated": {"to": "supervisor"},
    "abuse_observed": {"detail": "insults"},
    "abuse_warning_given": {},
    "conversation_ended": {"reason": "customer_left"},
}


def ev(kind: str, **fields: Any) -> Event:
    """An event of type ``kind`` with valid defaults, overridden by ``fields``."""
    values = {**DEFAULTS[kind], **fields}
    values.setdefault("at", START + timedelta(seconds=next(_clock)))
    if kind == "callback_promised":
        values.setdefault("by", values["at"] + timedelta(hours=1))
    return EVENT_CLASSES[kind](**values)


def opened(**fields: Any) -> InteractionOpened:
    event = ev("interaction_opened", **fields)
    assert isinstance(event, InteractionOpened)
    return event


#: Scripts that bring a fresh interaction to each stage without any finding (facts-first).
TO_ACKNOWLEDGED = ["customer_vented", "venting_subsided", "concerns_acknowledged"]
TO_FACTS = [
    *TO_ACKNOWLEDGED,
    ("fact_recorded", {"source": "warehouse"}),
    ("fact_recorded", {"source": "courier"}),
    "facts_established",
]
TO_REMEDY = [*TO_FACTS, "remedy_proposed"]
TO_AGREED = [*TO_REMEDY, "remedy_accepted", "progress_reported"]
TO_FOLLOWED_UP = [*TO_AGREED, "follow_up_completed"]


def events(script: list[Any]) -> list[Event]:
    out = []
    for step in script:
        kind, fields = (step, {}) if isinstance(step, str) else step
        out.append(ev(kind, **fields))
    return out


def run(
    script: list[Any],
    policy: Policy = FACTS_FIRST,
    mode: Mode = Mode.ADVISORY,
    **opening: Any,
) -> Interaction:
    """The interaction after opening and applying ``script`` (names or (name, fields))."""
    interaction = open_interaction(opened(**opening), policy)
    for event in events(script):
        interaction = apply(interaction, event, policy, mode).interaction
    return interaction


def fired(interaction: Interaction, event: Event, policy: Policy = FACTS_FIRST) -> list[str]:
    """The rule ids that fire when ``event`` is applied (advisory) to ``interaction``."""
    return [f.rule for f in apply(interaction, event, policy, Mode.ADVISORY).findings]
