"""Hypothesis strategies and a stateful test base for workflows and policies.

The only module of deescalate that imports hypothesis (install it with
``pip install 'deescalate[testing]'``); the core never does.

* :func:`events` draws valid events of any or a given type, with chosen fields fixed.
* :func:`transcripts` draws whole transcripts (``interaction_opened`` first) that
  reach every stage often: uniformly random events almost never get past
  ``acknowledged``, so each step prefers the events the stage graph allows at the
  interaction's current stage, and among those the ones that move it forward.
  ``violations=False`` keeps them free of violations under a policy.
* :func:`interactions` draws interactions at a chosen stage.
* :class:`InteractionMachine` is a :class:`~hypothesis.stateful.RuleBasedStateMachine`
  that drives a live interaction under a policy; subclass it and add invariants.

The assertion helpers of :mod:`deescalate.assertions` are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import attrs

try:
    from hypothesis import Phase, reject, settings
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "deescalate.testing needs Hypothesis: pip install 'deescalate[testing]'"
    ) from missing
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ._apply import Mode, Outcome, Status, apply, open_interaction, replay
from ._errors import EventError
from ._events import EVENT_CLASSES, ApologyScope, EndReason, Event, Fault, InteractionOpened
from ._explore import state_key
from ._interaction import Interaction
from ._machine import ROUTES
from ._policy import FACTS_FIRST, Policy
from ._stages import Stage
from .assertions import assert_clean, assert_ends_at, assert_fires

__all__ = [
    "FIELDS",
    "InteractionMachine",
    "assert_clean",
    "assert_ends_at",
    "assert_fires",
    "events",
    "interactions",
    "openings",
    "transcripts",
]

#: When generated transcripts start (events follow at non-decreasing times).
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

#: A draw function: hypothesis's ``draw`` in a composite, or ``data.draw``.
Draw = Callable[[st.SearchStrategy[Any]], Any]

_texts = st.text(max_size=12)
_amounts = st.one_of(
    st.integers(min_value=0, max_value=500),
    st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False),
)
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_event_ids = st.none() | st.uuids().map(str)

#: A strategy for every field of every event type (``at`` and ``event_id`` apart).
FIELDS: Mapping[str, Mapping[str, st.SearchStrategy[Any]]] = {
    "interaction_opened": {
        "interaction_id": _texts,
        "customer_name": st.none() | _texts,
        "authority_limit": st.none() | _amounts,
    },
    "customer_vented": {"intensity": st.integers(0, 10)},
    "venting_subsided": {},
    "concerns_acknowledged": {
        "summary": st.lists(st.sampled_from(["", " ", "late", "rude"]) | _texts, max_size=3).map(tuple),
        "used_name": st.booleans(),
    },
    "empathy_expressed": {},
    "fact_recorded": {"source": st.sampled_from(["customer", "warehouse", "courier"]), "detail": _texts},
    "facts_established": {"fault": st.sampled_from(list(Fault)), "root_cause": _texts},
    "apology_offered": {"scope": st.sampled_from(list(ApologyScope)), "names_individual": st.booleans()},
    "remedy_proposed": {"remedy": _texts.filter(str.strip) | st.just("refund"), "value": _amounts},
    "remedy_rejected": {"counter_request": st.none() | _texts},
    "remedy_accepted": {"restated": st.booleans(), "confirmation_sent": st.booleans()},
    "progress_reported": {"detail": _texts},
    "follow_up_completed": {"resolved": st.booleans(), "prevention": st.sampled_from(["", "checklist"])},
    "manager_requested": {},
    "escalated": {"to": st.sampled_from(["supervisor", "manager"]), "authority_limit": st.none() | _amounts},
    "abuse_observed": {"detail": _texts},
    "abuse_warning_given": {},
    "conversation_ended": {"reason": st.sampled_from(list(EndReason))},
}

_ORDER = {stage: n for n, stage in enumerate(Stage)}
_ALL_TYPES = sorted(t for t in EVENT_CLASSES if t != "interaction_opened")
#: Event types possible at each stage (every type where none is: terminal stages).
_POSSIBLE: dict[Stage, list[str]] = {
    stage: sorted(t for t, by in ROUTES.items() if stage in by) or _ALL_TYPES for stage in Stage
}
#: Event types that leave each stage where it is (the ones a test at that stage can add).
_STAY: dict[Stage, list[str]] = {
    stage: sorted(t for t, by in ROUTES.items() if stage in by and by[stage].dest in (None, stage))
    or _ALL_TYPES
    for stage in Stage
}


#: For each target stage, the event types that lead into another terminal stage: drawing
#: them would end a walk towards the target short of it.
_AVOID: dict[Stage, frozenset[str]] = {
    target: frozenset(
        kind
        for kind, by in ROUTES.items()
        if any(r.dest is not None and r.dest.terminal and r.dest is not target for r in by.values())
    )
    for target in Stage
}


def _ahead(stage: Stage, dest: Stage | None) -> bool:
    return dest is not None and dest is not Stage.ENDED and _ORDER[dest] > _ORDER[stage]


#: Event types that move an interaction at each stage towards followed_up (or that a
#: forward move needs first: a wave must subside, sources must be heard).
_FORWARD: dict[Stage, list[str]] = {
    stage: sorted(
        t
        for t, by in ROUTES.items()
        if stage in by and _ahead(stage, by[stage].dest)
    )
    + {Stage.VENTING: ["venting_subsided"], Stage.ACKNOWLEDGED: ["fact_recorded"]}.get(stage, [])
    for stage in Stage
}


def _strategy(value: Any) -> st.SearchStrategy[Any]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def events(type: str | None = None, **fixed: Any) -> st.SearchStrategy[Event]:
    """Valid events of ``type`` (any type but ``interaction_opened`` when None).

    Keyword arguments fix fields, to a value or to a strategy:
    ``events("remedy_proposed", value=st.integers(101, 500))``. ``at`` defaults to
    any time with a UTC offset, ``event_id`` to none or a fresh uuid.
    """
    if type is None:
        return st.one_of([events(kind, **fixed) for kind in _ALL_TYPES])
    if type not in EVENT_CLASSES:
        raise EventError("type", f"unknown event type {type!r}")
    known = {f.name for f in attrs.fields(EVENT_CLASSES[type])}
    for name in fixed:
        if name not in known:
            raise EventError(name, f"is not a field of {type}")
    fields = {
        "at": st.datetimes(timezones=_offsets),
        "event_id": _event_ids,
        **FIELDS[type],
        **{name: _strategy(value) for name, value in fixed.items()},
    }
    return st.fixed_dictionaries(fields).map(lambda values: EVENT_CLASSES[type](**values))


def _draw_event(draw: Draw, kind: str, at: datetime) -> Event:
    """A valid event of type ``kind`` at ``at``: the steered strategies' inner loop, kept cheap."""
    fields = {name: draw(strategy) for name, strategy in FIELDS[kind].items()}
    return EVENT_CLASSES[kind](at=at, event_id=draw(_event_ids), **fields)


def openings(**fixed: Any) -> st.SearchStrategy[InteractionOpened]:
    """Valid ``interaction_opened`` events, with any fields fixed as in :func:`events`."""
    return events("interaction_opened", **fixed).map(_as_opening)


def _as_opening(event: Event) -> InteractionOpened:
    assert isinstance(event, InteractionOpened)
    return event


class _Steering:
    """Chooses each next event type: mostly forward, and after a refusal, what might unblock it.

    A forward move refused in strict mode usually lacks something only an event that
    keeps the stage provides (an apology first, another source heard, an escalation
    to more authority), so until one of those changes the interaction, those are
    drawn most of the time.
    """

    def __init__(self, policy: Policy, mode: Mode) -> None:
        self.policy = policy
        self.mode = mode
        self.blocked = False

    def next_type(
        self, draw: Draw, stage: Stage, avoid: frozenset[str] = frozenset()
    ) -> str:
        """The next event type at ``stage`` (never one in ``avoid``, if anything else will do)."""
        roll: int = draw(st.integers(0, 9))
        if self.blocked and roll < 7:
            pool = _STAY[stage]
        else:
            pool = _FORWARD[stage] if roll < 5 else _POSSIBLE[stage] if roll < 9 else _ALL_TYPES
        allowed = [kind for kind in pool if kind not in avoid] or [k for k in _STAY[stage] if k not in avoid]
        kind: str = draw(st.sampled_from(allowed or pool))
        return kind

    def draw_event(self, draw: Draw, interaction: Interaction, kind: str, at: datetime) -> Event:
        """An event of ``kind``, redrawn up to twice if strict mode would refuse it."""
        for _ in range(3):
            event = _draw_event(draw, kind, at)
            if self.mode is not Mode.STRICT:
                break
            if apply(interaction, event, self.policy, self.mode).status is not Status.REFUSED:
                break
        return event

    def saw(self, before: Interaction, outcome: Outcome) -> None:
        """Note what became of the last event: blocked until something changes the interaction."""
        if outcome.status is Status.REFUSED:
            self.blocked = True
        elif outcome.applied and state_key(outcome.interaction) != state_key(before):
            self.blocked = False

    def step(self, draw: Draw, interaction: Interaction, kind: str, at: datetime) -> tuple[Event, Outcome]:
        """Draw an event of ``kind`` and apply it."""
        event = self.draw_event(draw, interaction, kind, at)
        outcome = apply(interaction, event, self.policy, self.mode)
        self.saw(interaction, outcome)
        return event, outcome


@st.composite
def transcripts(
    draw: st.DrawFn,
    policy: Policy = FACTS_FIRST,
    *,
    max_events: int = 40,
    violations: bool = False,
    opening: st.SearchStrategy[InteractionOpened] | None = None,
) -> tuple[Event, ...]:
    """Transcripts: ``interaction_opened``, then up to ``max_events`` events in time order.

    Generation is steered through the stages (see the module docs). With
    ``violations=False`` every event is one strict mode applies under ``policy``
    (no violation; warnings may occur), so the transcript reviews clean; with
    ``violations=True`` any event may come, including invalid ones and repeated
    deliveries (a new event carrying an ``event_id`` already seen).
    """
    first = draw(opening if opening is not None else openings(at=START))
    interaction = open_interaction(first, policy)
    mode = Mode.ADVISORY if violations else Mode.STRICT
    moment = first.at
    out: list[Event] = [first]
    delivered: list[str] = []
    steering = _Steering(policy, mode)
    for _ in range(draw(st.integers(0, max_events))):
        moment += timedelta(seconds=draw(st.integers(0, 600)))
        kind = steering.next_type(draw, interaction.stage)
        if violations and delivered and draw(st.integers(0, 9)) == 0:  # a webhook delivers twice
            event = attrs.evolve(_draw_event(draw, kind, moment), event_id=draw(st.sampled_from(delivered)))
            outcome = apply(interaction, event, policy, mode)
        else:
            event, outcome = steering.step(draw, interaction, kind, moment)
        if event.event_id is not None:
            delivered.append(event.event_id)
        if not violations and outcome.status is not Status.APPLIED:
            continue
        interaction = outcome.interaction
        out.append(event)
    return tuple(out)


@st.composite
def interactions(
    draw: st.DrawFn,
    stage: Stage | str | None = None,
    policy: Policy = FACTS_FIRST,
    *,
    violations: bool = False,
    max_events: int = 100,
) -> Interaction:
    """Interactions at ``stage`` (any stage when None), built by a steered transcript under ``policy``.

    Without ``violations`` they got there with no violation. If the stage cannot be
    reached within ``max_events`` events, the example is rejected (so a policy
    that makes a stage unreachable shows up as an unsatisfiable test).
    """
    target = Stage(stage) if stage is not None else draw(st.sampled_from(list(Stage)))
    mode = Mode.ADVISORY if violations else Mode.STRICT
    first = draw(openings(at=START))
    interaction = open_interaction(first, policy)
    moment = first.at
    steering = _Steering(policy, mode)
    avoid = _AVOID[target]
    for _ in range(max_events):
        here = interaction.stage
        if here is target:
            if here.terminal or draw(st.integers(0, 2)) > 0:
                return interaction
            kind = draw(st.sampled_from([k for k in _STAY[here] if k not in avoid] or _STAY[here]))
        elif here.terminal:
            break
        elif target is Stage.ENDED and draw(st.integers(0, 2)) == 0:
            kind = "conversation_ended"
        elif _ORDER[here] < _ORDER[target]:
            kind = steering.next_type(draw, here, avoid)
        else:  # past the target: a customer venting again is the way back
            kind = draw(st.sampled_from(["customer_vented", *(k for k in _STAY[here] if k not in avoid)]))
        moment += timedelta(seconds=draw(st.integers(0, 600)))
        interaction = steering.step(draw, interaction, kind, moment)[1].interaction
    if interaction.stage is not target:
        reject()
    return interaction


@st.composite
def _steered_event(draw: st.DrawFn, machine: InteractionMachine) -> Event:
    kind = machine.steering.next_type(draw, machine.interaction.stage)
    at = machine.moment + timedelta(seconds=draw(st.integers(0, 600)))
    return machine.steering.draw_event(draw, machine.interaction, kind, at)


def _next_event_of(machine: InteractionMachine) -> st.SearchStrategy[Event]:
    return machine.next_event()


class InteractionMachine(RuleBasedStateMachine):
    """A live interaction under :attr:`policy` in :attr:`mode`, fed steered events.

    Subclass it, set ``policy`` (and ``mode``), add ``@invariant()`` methods that
    read ``self.interaction`` (and ``self.outcome``, the last event's outcome;
    ``self.transcript``, every event delivered), and run it with
    ``TestMyPolicy = MyMachine.TestCase``. It checks that strict mode never lets a
    violation through and, at the end of each run, that replaying the history
    gives the same interaction (call ``super().teardown()`` if you override
    ``teardown``).
    """

    policy: ClassVar[Policy] = FACTS_FIRST
    mode: ClassVar[Mode] = Mode.STRICT

    def __init__(self) -> None:
        super().__init__()
        opening = InteractionOpened(at=START, interaction_id="machine", customer_name="Sam")
        self.interaction: Interaction = open_interaction(opening, self.policy)
        self.transcript: list[Event] = [opening]
        self.outcome: Outcome | None = None
        self.moment = START
        self.steering = _Steering(self.policy, self.mode)

    @initialize(opening=openings(at=START))
    def opened(self, opening: InteractionOpened) -> None:
        """Open the interaction with a drawn ``interaction_opened``."""
        self.interaction = open_interaction(opening, self.policy)
        self.transcript = [opening]

    @classmethod
    def _to_test_case(cls) -> Any:  # type: ignore[override]  # hypothesis caches the base one
        # Behind ``TestCase``. Hypothesis's explain phase re-runs a failing example
        # once per step to annotate it, which takes minutes on runs of fifty
        # events; it is left out unless a user's settings put it back.
        case = super()._to_test_case()
        if Phase.explain in case.settings.phases and not getattr(case, "_deescalate_phases", False):
            case.settings = settings(case.settings, phases=[p for p in Phase if p is not Phase.explain])
            setattr(case, "_deescalate_phases", True)  # noqa: B010
        return case

    def next_event(self) -> st.SearchStrategy[Event]:
        """The strategy for the next event: steered by the interaction's stage, later in time."""
        return _steered_event(self)

    @rule(event=st.runner().flatmap(_next_event_of))
    def deliver(self, event: Event) -> None:
        """Deliver one steered event and apply it."""
        self.moment = event.at
        self.transcript.append(event)
        before = self.interaction
        self.outcome = apply(before, event, self.policy, self.mode)
        self.steering.saw(before, self.outcome)
        self.interaction = self.outcome.interaction

    @invariant()
    def strict_mode_lets_no_violation_through(self) -> None:
        """In strict mode, an event with a violation is never applied."""
        outcome = self.outcome
        if self.mode is Mode.STRICT and outcome is not None and outcome.applied:
            assert not outcome.violations, f"strict mode applied {outcome.violations}"

    def teardown(self) -> None:
        """The history is the whole truth: replaying it rebuilds the interaction."""
        assert replay(self.interaction.history, self.policy) == self.interaction
