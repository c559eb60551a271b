"""Hypothesis strategies and a stateful test base for workflows and policies.

The only module of deescalate that imports hypothesis (install it with
``pip install 'deescalate-fsm[testing]'``); the core never does.

* :func:`events` draws valid events of any or a given type, with chosen fields fixed.
* :func:`transcripts` draws whole transcripts (``interaction_opened`` first) that
  reach every stage often: uniformly random events almost never get past
  ``acknowledged``, so each step prefers the events the stage graph allows at the
  interaction's current stage, and among those the ones that move it forward.
  ``violations=False`` keeps them free of violations under a policy. Events mostly
  follow each other within minutes, and now and then after a wait close to a
  deadline the interaction has open (just within it or just beyond), so deadlines
  are both met and missed.
* :func:`interactions` draws interactions at a chosen stage.
* :class:`InteractionMachine` is a :class:`~hypothesis.stateful.RuleBasedStateMachine`
  that drives a live interaction under a policy with steered events; subclass it
  and add invariants. Its failing runs shrink to the fewest deliveries.

The assertion helpers of :mod:`deescalate.assertions` are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any, ClassVar

import attrs

try:
    from hypothesis import Phase, reject, settings
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "deescalate.testing needs Hypothesis: pip install 'deescalate-fsm[testing]'"
    ) from missing
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ._apply import Mode, Outcome, Status, apply, open_interaction, replay
from ._errors import EventError
from ._events import EVENT_CLASSES, ApologyScope, CallbackPromised, EndReason, Event, Fault, InteractionOpened
from ._explore import default_key
from ._interaction import Interaction
from ._machine import ROUTES
from ._obligations import deadlines
from ._policy import FACTS_FIRST, Policy
from ._stages import Stage
from .assertions import assert_clean, assert_ends_at, assert_fires, assert_not_fires

__all__ = [
    "FIELDS",
    "PROMISE_DELAYS",
    "START",
    "InteractionMachine",
    "assert_clean",
    "assert_ends_at",
    "assert_fires",
    "assert_not_fires",
    "events",
    "interactions",
    "openings",
    "transcripts",
]

#: When generated transcripts start (events follow at non-decreasing times); a machine's
#: printed steps count their times from it.
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
#: How long after it is made a drawn callback promise is due (its ``by`` after its ``at``).
PROMISE_DELAYS: st.SearchStrategy[timedelta] = st.integers(0, 3 * 3600).map(lambda s: timedelta(seconds=s))

#: A strategy for every field of every event type (``at``, ``event_id`` and
#: ``callback_promised``'s ``by``, drawn :data:`PROMISE_DELAYS` after ``at``, apart).
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
    "callback_promised": {"detail": st.none() | _texts},
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
    any time with a UTC offset, ``event_id`` to none or a fresh uuid. A
    ``callback_promised`` is due :data:`PROMISE_DELAYS` after ``at`` unless ``by``
    is fixed (then ``at`` comes that long before ``by``, unless fixed too).
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
    if type == CallbackPromised.type:
        if "by" not in fixed:
            fields["by"] = PROMISE_DELAYS
            return st.fixed_dictionaries(fields).map(_promised_after)
        if "at" not in fixed:
            fields["at"] = st.tuples(PROMISE_DELAYS, _offsets)
            return st.fixed_dictionaries(fields).map(_promised_before)
    return st.fixed_dictionaries(fields).map(lambda values: EVENT_CLASSES[type](**values))


def _shifted(moment: datetime, span: timedelta) -> datetime:
    """``moment + span``, or ``moment`` itself where that would leave the calendar."""
    try:
        return moment + span
    except OverflowError:
        return moment


def _promised_after(values: dict[str, Any]) -> Event:
    """A callback promise from drawn fields, ``by`` drawn as a delay after ``at``."""
    return CallbackPromised(**{**values, "by": _shifted(values["at"], values["by"])})


def _promised_before(values: dict[str, Any]) -> Event:
    """A callback promise from drawn fields, ``at`` drawn as a delay before the fixed ``by``."""
    delay, offset = values["at"]
    by: datetime = values["by"]
    if not isinstance(by, datetime) or by.utcoffset() is None:
        return CallbackPromised(**values)  # refused, naming the field
    return CallbackPromised(**{**values, "at": _shifted(by, -delay).astimezone(offset)})


def _draw_event(draw: Draw, kind: str, at: datetime) -> Event:
    """A valid event of type ``kind`` at ``at``: the steered strategies' inner loop, kept cheap."""
    fields = {name: draw(strategy) for name, strategy in FIELDS[kind].items()}
    if kind == "callback_promised":
        fields["by"] = _shifted(at, draw(PROMISE_DELAYS))
    return EVENT_CLASSES[kind](at=at, event_id=draw(_event_ids), **fields)


#: A time step's one choice: up to two minutes, in seconds, as such; then 40 values for a wait
#: close to a span (a duration, or the time left to a deadline), half within, half beyond it.
_GAPS = st.integers(0, 160)
_ORDINARY = 120
_NEAR = 20


def _spans(policy: Policy) -> tuple[timedelta, ...]:
    """The policy's durations: the spans a running machine's time steps come close to."""
    params = policy.params
    spans = (params.escalate_within, params.progress_every, params.follow_up_within)
    return tuple(span for span in spans if span is not None)


def _gap(draw: Draw, spans: tuple[timedelta, ...] | list[timedelta]) -> timedelta:
    """How long after the event before the next one comes, from one choice that shrinks to no gap.

    Mostly up to two minutes; one step in four comes close to one of ``spans``
    (the time left to a deadline, or a policy's duration), half of those up to
    three minutes within it and half up to three minutes beyond, so deadlines are
    met and missed.
    """
    value: int = draw(_GAPS)
    if value <= _ORDINARY or not spans:
        return timedelta(seconds=value if value <= _ORDINARY else value - _ORDINARY)
    beyond, rest = divmod(value - _ORDINARY - 1, _NEAR)
    margin = timedelta(seconds=10 * rest)
    if not beyond:
        return max(spans[rest % len(spans)] - margin, timedelta(0))
    # Half the waits beyond a span wait beyond the longest: past every deadline then.
    span = max(spans) if rest % 2 == 0 else spans[rest // 2 % len(spans)]
    return span + margin + timedelta(seconds=1)


class _Clock:
    """The time of a steered transcript's next event: gaps that meet and miss its deadlines."""

    def __init__(self, policy: Policy, start: datetime) -> None:
        self.dues = deadlines(policy.params)
        self.moment = start

    def tick(self, draw: Draw, interaction: Interaction) -> datetime:
        """Move on by a gap, close now and then to the time left to one of ``interaction``'s deadlines."""
        moment = self.moment
        left = [due - moment for due in self.dues(interaction) if due is not None and due >= moment]
        self.moment = _shifted(moment, _gap(draw, left))
        return self.moment


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
        self.key = default_key(policy)

    def next_type(
        self, draw: Draw, stage: Stage, avoid: frozenset[str] = frozenset()
    ) -> str:
        """The next event type at ``stage`` (never one in ``avoid``, if anything else will do)."""
        roll: int = draw(st.integers(0, 9))
        pool = _ALL_TYPES if roll == 9 else self.pool(roll, stage)
        allowed = [kind for kind in pool if kind not in avoid] or [k for k in _STAY[stage] if k not in avoid]
        kind: str = draw(st.sampled_from(allowed or pool))
        return kind

    def pool(self, roll: int, stage: Stage, forward: int = 5) -> list[str]:
        """The event types a steered step at ``stage`` picks from, by a ``roll`` of 0..8.

        Blocked, rolls below 7 give the types that keep the stage; otherwise rolls
        below ``forward`` give the forward ones, and the rest every type possible at
        ``stage``. (A roll of 9, anything at all, is the caller's.)
        """
        if self.blocked and roll < 7:
            pool = _STAY[stage]
        else:
            pool = _FORWARD[stage] if roll < forward else _POSSIBLE[stage]
        return pool or _STAY[stage]

    def refuses(self, interaction: Interaction, event: Event) -> bool:
        """True when strict mode would refuse ``event`` (never in advisory mode)."""
        if self.mode is not Mode.STRICT:
            return False
        return apply(interaction, event, self.policy, self.mode).status is Status.REFUSED

    def draw_event(self, draw: Draw, interaction: Interaction, kind: str, at: datetime) -> Event:
        """An event of ``kind``, redrawn up to twice if strict mode would refuse it."""
        for _ in range(3):
            event = _draw_event(draw, kind, at)
            if not self.refuses(interaction, event):
                break
        return event

    def saw(self, before: Interaction, outcome: Outcome) -> None:
        """Note what became of the last event: blocked until something changes the interaction."""
        if outcome.status is Status.REFUSED:
            self.blocked = True
        elif outcome.applied and self.key(outcome.interaction) != self.key(before):
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
    clock = _Clock(policy, first.at)
    out: list[Event] = [first]
    delivered: list[str] = []
    steering = _Steering(policy, mode)
    for _ in range(draw(st.integers(0, max_events))):
        moment = clock.tick(draw, interaction)
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
    clock = _Clock(policy, first.at)
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
        moment = clock.tick(draw, interaction)
        interaction = steering.step(draw, interaction, kind, moment)[1].interaction
    if interaction.stage is not target:
        reject()
    return interaction


#: Each event type's index in :data:`_ALL_TYPES`, the fixed list a machine step's type is read from.
_TYPE_INDEX = {kind: n for n, kind in enumerate(_ALL_TYPES)}
# The choices of a machine step, built once (building a strategy costs more than drawing from it).
_ROLLS = st.integers(0, 9)
_PICKS = st.integers(0, 119)  # 120: a multiple of every pool size up to 6, near enough even for the rest
_ANY_INDEX = st.integers(0, len(_ALL_TYPES))
_AGAIN = st.integers(0, 1)
_RUNNER = st.runner()
#: ``_ONLY[n]``: a choice whose one permitted value is ``n``.
_ONLY = tuple(st.integers(n, n) for n in range(len(_ALL_TYPES) + 1))
#: Attempts at an event's fields before strict mode's refusal of the last one is accepted.
_ATTEMPTS = 3
#: How many of a machine step's nine steered rolls move forward when not blocked: more
#: than the strategies' five, since the zero roll, which Hypothesis draws more often
#: than the others, is unsteered here.
_FORWARD_ROLLS = 7


@st.composite
def _delivery(draw: st.DrawFn) -> Event | None:
    """The running machine's next event, steered, from choices that mean the same in any state.

    A failing run shrinks well only if deleting a step leaves the later steps' events
    as they were, but steering reads a choice against the interaction's state (a
    roll picks a pool of types for the current stage), and the state changes when an
    earlier step goes. So a step draws a roll (0..9) and a pick (0..119), and
    :func:`_event` records the type chosen in a choice of its own. A roll of 0 is
    unsteered: the recorded type is read as it stands. Shrinking lowers each roll
    to 0 without changing any event, after which deleting a step changes no other.
    """
    machine: InteractionMachine = draw(_RUNNER)
    roll: int = draw(_ROLLS)
    pick: int = draw(_PICKS)
    if roll == 0:
        return draw(_EVENT[None])
    pool = machine.steering.pool(roll - 1, machine.interaction.stage, forward=_FORWARD_ROLLS)
    return draw(_EVENT[_TYPE_INDEX[pool[pick % len(pool)]]])


@st.composite
def _event(draw: st.DrawFn, chosen: int | None) -> Event | None:
    """A step's event of type ``_ALL_TYPES[chosen]`` (``chosen`` None: unsteered).

    It draws the type's index in :data:`_ALL_TYPES` plus one, the time step (see
    :func:`_gap`: it comes close to the policy's durations, never reading the
    state) and up to three attempts at the fields, each but the last followed by whether to try
    again. When steered, the index and each try-again are choices with one
    permitted value, what the steering chose (a redraw when strict mode would
    refuse the fields), so the choices hold the event; unsteered, the same choices
    are read as they stand, and an index of 0 delivers nothing (None). A step
    shrunk to its simplest choices is that, and short enough (five choices with the
    two Hypothesis draws for each step) for the shrinker to delete in one piece.
    """
    machine: InteractionMachine = draw(_RUNNER)
    steered = chosen is not None
    index: int = draw(_ANY_INDEX if chosen is None else _ONLY[chosen + 1])
    if index == 0:
        return None
    kind = _ALL_TYPES[index - 1]
    at = _shifted(machine.moment, _gap(draw, machine.spans))
    event = _draw_event(draw, kind, at)
    for _ in range(_ATTEMPTS - 1):
        if steered:
            again = machine.steering.refuses(machine.interaction, event)
            draw(_ONLY[again])
        else:
            again = bool(draw(_AGAIN))
        if not again:
            break
        event = _draw_event(draw, kind, at)
    return event


_EVENT: dict[int | None, st.SearchStrategy[Event | None]] = {
    chosen: _event(chosen) for chosen in [None, *range(len(_ALL_TYPES))]
}
_DELIVERY = _delivery()


def _next_event_of(machine: InteractionMachine) -> st.SearchStrategy[Event | None]:
    return machine.next_event()


def _mark(outcome: Outcome) -> str:
    """What became of a delivery, for the printout of a failing run (empty when simply applied)."""
    rules = ", ".join(dict.fromkeys(f.rule for f in outcome.violations))
    if outcome.status is Status.REFUSED:
        return f"refused by {rules}"
    if outcome.status is Status.INVALID:
        return "invalid: " + "; ".join(f.message for f in outcome.violations)
    if not outcome.applied:
        return f"ignored: {outcome.status.value}"
    return f"applied with violations: {rules}" if rules else ""  # advisory mode applies them


def _source(event: Event) -> str:
    """Python that builds ``event``, times counted from :data:`START`: how a printed step shows it."""
    fields = []
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if field.name == "event_id" and value is None:
            continue
        if isinstance(value, datetime) and value.tzinfo is START.tzinfo:
            seconds = int((value - START).total_seconds())
            if value == START + timedelta(seconds=seconds):
                text = "START" if seconds == 0 else f"START + timedelta(seconds={seconds})"
                fields.append(f"{field.name}={text}")
                continue
        shown = f"{type(value).__name__}.{value.name}" if isinstance(value, Enum) else repr(value)
        fields.append(f"{field.name}={shown}")
    return f"{type(event).__name__}({', '.join(fields)})"


class InteractionMachine(RuleBasedStateMachine):
    """A live interaction under :attr:`policy` in :attr:`mode`, fed steered events.

    Subclass it, set ``policy`` (and ``mode``), add ``@invariant()`` methods that
    read ``self.interaction`` (and ``self.outcome``, the last event's outcome;
    ``self.transcript``, every event delivered), and run it with
    ``TestMyPolicy = MyMachine.TestCase``. It checks that strict mode never lets a
    violation through and, at the end of each run, that replaying the history
    gives the same interaction (call ``super().teardown()`` if you override
    ``teardown``). A failing run shrinks to the fewest deliveries that break an
    invariant, and its printout shows each event on one line, marking a delivery
    that was not applied (``# refused by let-them-vent``) or, in advisory mode, one
    applied with violations.
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
        self.spans = _spans(self.policy)
        # What the printout of the step running shows: its event's argument, the event, a mark.
        self._shown: tuple[str, Event, str] | None = None

    @initialize(opening=openings(at=START))
    def opened(self, opening: InteractionOpened) -> None:
        """Open the interaction with a drawn ``interaction_opened``."""
        self.interaction = open_interaction(opening, self.policy)
        self.transcript = [opening]
        self._shown = ("opening", opening, "")

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

    def next_event(self) -> st.SearchStrategy[Event | None]:
        """The strategy for the next event (None delivers nothing): steered by the stage, later in time.

        Override it to feed other events. Failing runs shrink well when its choices
        mean the same whatever the interaction's state, as the default's do: a
        strategy that reads them against the state (say, sampling from the event
        types possible at the current stage) turns later steps into other events
        when shrinking deletes an earlier one.
        """
        return _DELIVERY

    @rule(event=st.runner().flatmap(_next_event_of))
    def deliver(self, event: Event | None) -> None:
        """Deliver one steered event and apply it (None, what shrinking makes of a step, delivers nothing)."""
        if event is None:
            return
        self.moment = event.at
        self.transcript.append(event)
        before = self.interaction
        self.outcome = apply(before, event, self.policy, self.mode)
        self.steering.saw(before, self.outcome)
        self.interaction = self.outcome.interaction
        self._shown = ("event", event, _mark(self.outcome))

    def _repr_step(self, rule: Any, data: Any, result: Any) -> str:
        # Hypothesis prints each step of a failing run with this, once the step ran: the
        # event shows on one line, its time counted from START, and a delivery that was
        # not applied says why, as a comment.
        shown, self._shown = self._shown, None
        if shown is not None and isinstance(data, dict) and shown[0] in data:
            data = {**data, shown[0]: _source(shown[1])}
        line: str = super()._repr_step(rule, data, result)
        return f"{line}  # {shown[2]}" if shown is not None and shown[2] else line

    @invariant()
    def strict_mode_lets_no_violation_through(self) -> None:
        """In strict mode, an event with a violation is never applied."""
        outcome = self.outcome
        if self.mode is Mode.STRICT and outcome is not None and outcome.applied:
            assert not outcome.violations, f"strict mode applied {outcome.violations}"

    def teardown(self) -> None:
        """The history is the whole truth: replaying it rebuilds the interaction."""
        assert replay(self.interaction.history, self.policy) == self.interaction
