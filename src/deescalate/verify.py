"""Exhaustive verification of a policy: explore every interaction it allows, check properties.

A policy is code that will stand between an agent and an angry customer, so a
company should know, before anyone meets it, that it cannot trap a conversation
(no way left to reach ``followed_up``), that every stage can be reached, and that
none of its rules is dead weight. :func:`verify` explores every interaction the
policy allows in strict mode, breadth first from ``interaction_opened``, trying an
*alphabet* of representative events at each step (:func:`default_alphabet`), and
checks:

``no-dead-ends``
    From every active interaction found within ``depth`` events, ``followed_up``
    can still be reached (ending the conversation is not a way out). Interactions
    without a way out yet are explored further (``escape`` events at most) until
    one is found, or until everything that can follow them has been explored
    without one: only that proves a dead end.
``every-stage-reachable``
    Every stage is reached within ``depth`` events.
``no-dead-rules``
    Every rule of the policy fires on some explored step within ``depth`` events
    (a built-in timing rule whose duration the policy turns off is not expected to).
``invariant:<name>``
    Each user invariant (a function of an interaction) holds on every interaction
    found within ``depth`` events.

Each property gets a :class:`Verdict`. ``holds`` and ``fails`` are proven: a
failing property comes with its *shortest* counterexample, a transcript (the
opening first) that ``deescalate review`` accepts, and a dead end also with the
step the policy refuses where the trap closes. When the search runs out (of
depth, of ``escape``, of ``max_states``) before it can tell, the verdict is
``inconclusive`` and says which limit to raise: an unfinished search is never
reported as a failure.

Time is relative: each event comes *on time*, a minute after the one before but
never past a deadline the interaction has open (a promised callback, a progress
report or follow-up due, a request for a manager), or, for an alphabet event
marked with :func:`late`, a minute after every open deadline has passed. The
default alphabet promises a callback and has late progress reports, follow-ups
and escalations, so every timing rule can fire; the timestamps of your own
alphabet's events are replaced this way too.

Interactions that every rule sees alike are explored once (see
:func:`default_key`), which keeps the search small, and finite: the counters are
capped where the policy stops reading them, and each deadline is read as open or
passed, never as a time. The report also carries *test
paths* for integrations: the shortest transcript to each stage, and a few
transcripts that together take every transition of the stage graph that the
policy allows.

Like the rest of the core this module does no I/O; the ``deescalate verify``
command writes the files and shows progress.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import attrs

from ._alphabet import LATE, START, default_alphabet, default_opening, late
from ._apply import Mode, Status, open_interaction, step
from ._builtin_rules import escalate_promptly, follow_up_on_time, report_progress_on_time
from ._codec import event_to_dict
from ._durations import MAX_DURATION
from ._errors import ArgumentTypeError, ArgumentValueError, describe
from ._events import CallbackPromised, Event, InteractionOpened
from ._explore import Graph, Key, Transition, default_key, state_key
from ._findings import Finding
from ._interaction import Interaction
from ._loading import load_policy
from ._machine import ROUTES
from ._policy import FACTS_FIRST, Policy
from ._stages import Stage

__all__ = [
    "LATE",
    "START",
    "Invariant",
    "Progress",
    "PropertyResult",
    "Report",
    "TestPath",
    "Verdict",
    "default_alphabet",
    "default_key",
    "default_opening",
    "late",
    "state_key",
    "verify",
]

#: Called now and then during exploration with (distinct interactions so far, depth reached).
Progress = Callable[[int, int], None]

_ORDER = {stage: n for n, stage in enumerate(Stage)}


class Verdict(StrEnum):
    """What became of a property: proven to hold, proven to fail, or not settled by the search."""

    #: Proven within the scope the detail states.
    HOLDS = "holds"
    #: Proven broken; the counterexample (when one transcript can show it) demonstrates it.
    FAILS = "fails"
    #: The search ran out (of depth, escape or states) before it could tell; the
    #: detail says which option to raise.
    INCONCLUSIVE = "inconclusive"


def _verdict(value: Verdict | str | bool) -> Verdict:
    """A verdict from a :class:`Verdict`, its value, or a bool (True holds, False fails)."""
    if isinstance(value, bool):
        return Verdict.HOLDS if value else Verdict.FAILS
    if isinstance(value, str):
        try:
            return Verdict(value)
        except ValueError:
            pass
    raise ArgumentValueError("verdict", f"must be holds, fails or inconclusive, got {describe(value)}")


@attrs.frozen
class Invariant:
    """A named condition every explored interaction must meet.

    ``check`` returns something true when the interaction is fine; a string result
    is taken as true unless empty. Plain functions passed to :func:`verify` become
    invariants named after the function.
    """

    name: str
    check: Callable[[Interaction], object] = attrs.field(eq=False)

    @classmethod
    def of(cls, value: Invariant | Callable[[Interaction], object]) -> Invariant:
        """``value`` as an invariant (a function is named by its ``__name__``)."""
        if isinstance(value, Invariant):
            return value
        if not callable(value):
            raise ArgumentTypeError(
                "invariants", f"an invariant is a function of an interaction, got {describe(value)}"
            )
        return cls(getattr(value, "__name__", repr(value)), value)


@attrs.frozen
class PropertyResult:
    """One property's verdict, and the transcripts that show a failure.

    ``holds`` (True only for :attr:`Verdict.HOLDS`) is kept for code that only asks
    whether all is well; ask :attr:`verdict` to tell a failure from an unfinished
    search.
    """

    name: str
    #: holds, fails or inconclusive (a bool is taken as holds or fails).
    verdict: Verdict = attrs.field(converter=_verdict)
    #: The shortest transcript (``interaction_opened`` first) that breaks the
    #: property, or None unless it fails and one transcript can show it.
    counterexample: tuple[Event, ...] | None = None
    #: What was found, in a sentence; for an inconclusive verdict, what ran out.
    detail: str = ""
    #: For a dead end: a transcript from the opening, through the counterexample, to
    #: the furthest the trapped interaction gets, then the event the policy refuses
    #: there (strict mode). None when no event of the alphabet even tries to move on.
    refused_step: tuple[Event, ...] | None = None
    #: The rules whose violations refuse the last event of :attr:`refused_step`.
    refused_by: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        """True when the property is proven to hold."""
        return self.verdict is Verdict.HOLDS

    def to_dict(self) -> dict[str, Any]:
        """The property as JSON-ready data; transcripts as lists of transcript-format events."""
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "holds": self.holds,
            "counterexample": _events(self.counterexample),
            "detail": self.detail,
            "refused_step": _events(self.refused_step),
            "refused_by": list(self.refused_by),
        }


def _events(events: tuple[Event, ...] | None) -> list[dict[str, Any]] | None:
    return None if events is None else [event_to_dict(e) for e in events]


@attrs.frozen
class TestPath:
    """A transcript for integration tests, with the stage it ends at."""

    __test__ = False  # not a pytest test class

    name: str
    stage: Stage
    events: tuple[Event, ...]


@attrs.frozen
class Report:
    """What :func:`verify` found."""

    policy: str
    depth: int
    #: The most further events searched for ways out; None for no limit but ``max_states``.
    escape: int | None
    #: Distinct interactions (equivalence classes) explored.
    states: int
    #: The most events any explored interaction is from the opening (beyond ``depth``
    #: when dead-end candidates were explored further).
    deepest: int
    #: False when ``max_states`` cut the exploration short.
    complete: bool
    properties: tuple[PropertyResult, ...]
    #: Shortest transcripts to each reachable stage, then transcripts covering the
    #: stage graph's transitions.
    paths: tuple[TestPath, ...]
    #: Transitions of the stage graph that no explored transcript takes.
    untaken: tuple[str, ...]
    #: The most events any explored active interaction needs to reach followed_up.
    longest_way_out: int | None
    #: True when the search explored every interaction the policy allows (under the
    #: alphabet and key), within ``depth`` events or looking for ways out, each
    #: with every event of the alphabet: nothing is left to find.
    closed: bool = False

    @property
    def verdict(self) -> Verdict:
        """fails if any property fails; else inconclusive if any is; else holds."""
        verdicts = {p.verdict for p in self.properties}
        for verdict in (Verdict.FAILS, Verdict.INCONCLUSIVE):
            if verdict in verdicts:
                return verdict
        return Verdict.HOLDS

    @property
    def holds(self) -> bool:
        """True when every property holds."""
        return all(p.holds for p in self.properties)

    def property(self, name: str) -> PropertyResult:
        """The result of the property called ``name``."""
        for result in self.properties:
            if result.name == name:
                return result
        known = ", ".join(p.name for p in self.properties)
        raise ArgumentValueError("name", f"no property {describe(name)} in this report (it has: {known})")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``deescalate verify --format json`` object)."""
        return {
            "policy": self.policy,
            "verdict": self.verdict.value,
            "holds": self.holds,
            "depth": self.depth,
            "escape": self.escape,
            "states": self.states,
            "deepest": self.deepest,
            "complete": self.complete,
            "closed": self.closed,
            "longest_way_out": self.longest_way_out,
            "properties": [p.to_dict() for p in self.properties],
            "paths": [{"name": p.name, "stage": p.stage.value, "events": len(p.events)} for p in self.paths],
            "untaken_transitions": list(self.untaken),
        }


def _count(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(name, f"must be an integer >= {least}, got {describe(value)}")
    if value < least:
        raise ArgumentValueError(name, f"must be an integer >= {least}, got {value}")
    return value


def _alphabet(policy: Policy, alphabet: Iterable[Event] | None) -> tuple[Event, ...]:
    if alphabet is None:
        return default_alphabet(policy)
    if isinstance(alphabet, str | bytes | Event) or not isinstance(alphabet, Iterable):
        raise ArgumentTypeError("alphabet", f"must be an iterable of events, got {describe(alphabet)}")
    letters = tuple(alphabet)
    for event in letters:
        if not isinstance(event, Event):
            raise ArgumentTypeError("alphabet", f"must hold events, got {describe(event)}")
        if isinstance(event, InteractionOpened):
            raise ArgumentValueError("alphabet", "must hold events other than interaction_opened")
        if isinstance(event, CallbackPromised) and event.by - event.at > MAX_DURATION:
            most = f"{MAX_DURATION.days:,} days"  # the longest deadline a policy takes
            reason = f"a callback_promised may be due {most} after it is made at most"
            raise ArgumentValueError("alphabet", reason)
    if not letters:
        raise ArgumentValueError("alphabet", "is empty: there is nothing to explore")
    return letters


def _invariants(
    invariants: Iterable[Invariant | Callable[[Interaction], object]],
) -> list[Invariant]:
    if isinstance(invariants, Invariant) or callable(invariants) or not isinstance(invariants, Iterable):
        raise ArgumentTypeError("invariants", f"must be a list of invariants, got {describe(invariants)}")
    return [Invariant.of(item) for item in invariants]


def verify(
    policy: Policy | str = FACTS_FIRST,
    *,
    depth: int = 8,
    max_states: int = 200_000,
    escape: int | None = 40,
    alphabet: Iterable[Event] | None = None,
    invariants: Iterable[Invariant | Callable[[Interaction], object]] = (),
    key: Key | None = None,
    opening: InteractionOpened | None = None,
    progress: Progress | None = None,
) -> Report:
    """Explore every interaction ``policy`` allows up to ``depth`` events; give each property a verdict.

    ``alphabet`` replaces :func:`default_alphabet` (its events' times are replaced:
    each comes on time, or late if marked with :func:`late`); ``opening`` the
    standard ``interaction_opened``; ``key`` the equivalence of :func:`default_key`.
    Interactions with no way to ``followed_up`` yet are explored further until
    settled, ``escape`` events past the depth at most (None: no limit). At most
    ``max_states`` distinct interactions are kept, so memory stays bounded; what
    that leaves unsettled is inconclusive, never a failure. Bad arguments raise
    :class:`~deescalate.ArgumentTypeError` or :class:`~deescalate.ArgumentValueError`.
    """
    if not isinstance(policy, Policy | str):
        raise ArgumentTypeError("policy", f"must be a Policy or a policy's name, got {describe(policy)}")
    policy = load_policy(policy)
    _count("depth", depth, 1)
    _count("max_states", max_states, 1)
    if escape is not None:
        _count("escape", escape, 0)
    letters = _alphabet(policy, alphabet)
    checks = _invariants(invariants)
    if key is not None and not callable(key):
        raise ArgumentTypeError("key", f"must be a function of an interaction, got {describe(key)}")
    if opening is not None and not isinstance(opening, InteractionOpened):
        raise ArgumentTypeError("opening", f"must be an interaction_opened event, got {describe(opening)}")
    if progress is not None and not callable(progress):
        raise ArgumentTypeError("progress", f"must be a function, got {describe(progress)}")
    graph = Graph(
        policy, letters, opening or default_opening(), default_key(policy) if key is None else key, max_states
    )
    report = progress or (lambda states, level: None)

    level = [0]
    for reached in range(depth):
        found: list[int] = []
        for count, node in enumerate(level, 1):
            found.extend(graph.expand(node))
            if count % 500 == 0:
                report(len(graph), reached + 1)
        level = found
        report(len(graph), reached + 1)
        if not level:
            break
    within = len(graph)  # nodes 0..within-1 were found within the depth, in BFS order
    cut = graph.truncated
    _look_for_ways_out(graph, within, depth, escape, report)
    closed = all(graph.settled(n) for n in range(len(graph)))
    scope = _Scope(depth, escape, max_states, closed, cut, graph.truncated)
    properties = (
        _no_dead_ends(graph, within, scope),
        _every_stage(graph, scope),
        _no_dead_rules(graph, scope),
        *(_invariant(graph, within, scope, check) for check in checks),
    )
    return Report(
        policy=policy.name,
        depth=depth,
        escape=escape,
        states=len(graph),
        deepest=max(graph.depth),
        complete=not graph.truncated,
        properties=properties,
        paths=(*_stage_paths(graph), *_covering_paths(graph)),
        untaken=tuple(f"{s.value} --{t}-->" for s, t in _transitions() if (s, t) not in graph.taken),
        longest_way_out=_longest_way_out(graph, within),
        closed=closed,
    )


@attrs.frozen
class _Scope:
    """How far the search went, for the properties to say what their verdicts cover."""

    depth: int
    escape: int | None
    max_states: int
    #: Every interaction the policy allows was explored.
    closed: bool
    #: ``max_states`` dropped interactions found within the depth.
    cut: bool
    #: ``max_states`` dropped some interaction.
    truncated: bool

    def budget(self) -> str:
        return f"the state budget of {self.max_states:,} interactions ran out: raise --max-states"


# -- exploring further for ways out ---------------------------------------------------


def _stuck(graph: Graph, within: int) -> list[int]:
    """The active interactions found within the depth with no way to followed_up found (yet)."""
    finishes, interactions = graph.finishes, graph.interactions
    return [n for n in range(within) if not finishes[n] and not interactions[n].stage.terminal]


def _look_for_ways_out(graph: Graph, within: int, depth: int, escape: int | None, report: Progress) -> None:
    """Expand what stuck interactions lead to, until each finds a way out or all they lead to is known.

    Level by level, so the ``escape`` limit is a number of events. While no stuck
    interaction finds a way out, each level only looks on from what the last one
    found; when some do, what the others lead to is worked out afresh, so the
    search stops following interactions that only the freed ones led to.
    """
    limit = None if escape is None else depth + escape
    finishes, edges, depths, interactions = graph.finishes, graph.edges, graph.depth, graph.interactions
    seen: set[int] = set()

    def unexpanded(starts: Iterable[int]) -> list[int]:
        """The unexpanded nodes (within the limit) that ``starts`` lead to without finishing."""
        queue = deque(starts)
        out: list[int] = []
        while queue:
            node = queue.popleft()
            out_edges = edges[node]
            if out_edges is None:
                if not interactions[node].stage.terminal and (limit is None or depths[node] < limit):
                    out.append(node)
                continue
            for _, target in out_edges:
                if target not in seen and not finishes[target]:
                    seen.add(target)
                    queue.append(target)
        return out

    stuck = _stuck(graph, within)
    seen.update(stuck)
    frontier = unexpanded(stuck)
    extra = 0
    while frontier:
        extra += 1
        expanded = []
        for node in frontier:
            if not finishes[node] and edges[node] is None:
                graph.expand(node)
                expanded.append(node)
        report(len(graph), depth + extra)
        still = [n for n in stuck if not finishes[n]]
        if not still:
            return
        if len(still) < len(stuck):
            stuck = still
            seen = set(stuck)
            frontier = unexpanded(stuck)
        else:
            frontier = unexpanded(expanded)


def _unsettled(graph: Graph) -> bytearray:
    """Per node, 1 when it may reach an interaction not (fully) explored without finishing first.

    A node with no way out found that is not marked is a proven dead end: all
    that can follow it was explored and none of it is followed_up.
    """
    finishes, into = graph.finishes, graph.into
    marked = bytearray(len(graph))
    queue = deque(n for n in range(len(graph)) if not finishes[n] and not graph.settled(n))
    for node in queue:
        marked[node] = 1
    while queue:
        for source in into[queue.popleft()]:
            if not marked[source] and not finishes[source]:
                marked[source] = 1
                queue.append(source)
    return marked


def _what_ran_out(graph: Graph, starts: list[int], scope: _Scope) -> str:
    """Which limit left the interactions ``starts`` lead to unexplored, and the option to raise."""
    seen = set(starts)
    queue = deque(starts)
    held = cut = False
    while queue and not (held and cut):
        node = queue.popleft()
        out_edges = graph.edges[node]
        if out_edges is None:
            held = held or not graph.interactions[node].stage.terminal
            continue
        cut = cut or not graph.complete[node]
        for _, target in out_edges:
            if target not in seen and not graph.finishes[target]:
                seen.add(target)
                queue.append(target)
    reasons = []
    if held and scope.escape is not None:
        past = f"{scope.escape} event(s) past the depth"
        reasons.append(f"the search for ways out stopped {past}: raise --escape")
    if cut or graph.truncated:
        reasons.append(scope.budget())
    return " and ".join(reasons) or scope.budget()


# -- properties -------------------------------------------------------------------------


def _events_after(count: int) -> str:
    return "from the opening" if count == 0 else f"after these {count} event(s)"


def _no_dead_ends(graph: Graph, within: int, scope: _Scope) -> PropertyResult:
    name = "no-dead-ends"
    stuck = _stuck(graph, within)
    if not stuck:
        detail = f"followed_up can be reached from every interaction within {scope.depth} events"
        return PropertyResult(name, Verdict.HOLDS, None, detail)
    unsettled = _unsettled(graph)
    proven = [n for n in stuck if not unsettled[n]]
    open_ = [n for n in stuck if unsettled[n]]
    if not proven:
        detail = (
            f"no way to followed_up found yet from {_interactions(open_)} within {scope.depth} events "
            f"(the first {_after(graph.depth[open_[0]])}); {_what_ran_out(graph, open_, scope)}"
        )
        return PropertyResult(name, Verdict.INCONCLUSIVE, None, detail)
    node = proven[0]  # BFS order: the shallowest
    closure, where, refused_step, refused_by = _where_stuck(graph, node)
    detail = (
        f"{_events_after(graph.depth[node])}, followed_up can never be reached "
        f"(all {closure:,} interactions that can follow were explored); {where}"
    )
    if open_:
        detail += f" ({_interactions(open_)} more could not be settled: {_what_ran_out(graph, open_, scope)})"
    return PropertyResult(name, Verdict.FAILS, graph.path_to(node), detail, refused_step, refused_by)


def _interactions(nodes: list[int]) -> str:
    return "1 interaction" if len(nodes) == 1 else f"{len(nodes):,} interactions"


def _after(events: int) -> str:
    return "is the opening" if events == 0 else f"after {events} event(s)"


def _where_stuck(
    graph: Graph, start: int
) -> tuple[int, str, tuple[Event, ...] | None, tuple[str, ...]]:
    """Where the interactions reachable from ``start`` get furthest, and what refuses them there.

    Returns how many interactions can follow ``start``, a sentence saying where
    they stop and which rules stop them, and the refused step with the rules
    refusing it (see :func:`_refused_step`).
    """
    order = _reachable(graph, start, quiet=False)
    active = [n for n in order if not graph.interactions[n].stage.terminal]
    furthest = max((graph.interactions[n].stage for n in active), key=_ORDER.__getitem__)
    onwards = [
        letter
        for letter, event in enumerate(graph.alphabet)
        if (route := ROUTES.get(event.type, {}).get(furthest)) is not None
        and route.dest is not Stage.ENDED
        and _ORDER[route.dest] > _ORDER[furthest]
    ]
    refusals: list[tuple[str, ...]] = []
    for node in [n for n in active if graph.interactions[n].stage is furthest][:100]:
        for letter in onwards:
            _, findings, status = _attempt(graph, node, letter)
            if status is Status.REFUSED:
                refusals.append(tuple(f.rule for f in findings if f.is_violation))
    closure = len(order) - 1
    if not refusals:
        where = f"the furthest it gets is {furthest}, and no event of the alphabet moves it on"
        return closure, where, None, ()
    # Name the rules that refused every attempt to move on, if any; else all that refused one.
    every = [r for r in refusals[0] if all(r in rules for rules in refusals)]
    blockers = every or list(dict.fromkeys(r for rules in refusals for r in rules))
    where = f"the furthest it gets is {furthest}, where moving on is refused by: {', '.join(blockers)}"
    return closure, where, *(_refused_step(graph, start, furthest, onwards) or (None, ()))


def _reachable(graph: Graph, start: int, quiet: bool) -> dict[int, tuple[int, int] | None]:
    """The nodes reachable from ``start`` in BFS order, each with the (node, letter) it was reached by.

    With ``quiet``, only along events that were applied without any finding.
    """
    back: dict[int, tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        noisy = graph.noisy[node] if quiet else 0
        for letter, target in graph.edges[node] or ():
            if target not in back and not (noisy >> letter) & 1:
                back[target] = (node, letter)
                queue.append(target)
    return back


def _attempt(graph: Graph, node: int, letter: int) -> tuple[Interaction, tuple[Finding, ...], Status]:
    """``letter`` tried on ``node`` in strict mode."""
    event = graph.event_after(graph.interactions[node], letter)
    return step(graph.interactions[node], event, graph.policy, Mode.STRICT)


def _refused_step(
    graph: Graph, start: int, furthest: Stage, onwards: list[int]
) -> tuple[tuple[Event, ...], tuple[str, ...]] | None:
    """A transcript through ``start`` to the furthest stage, then an event the policy refuses there.

    The way there draws no finding at all if it can (so the refusal is what a
    reviewer sees), and the refused event draws as few findings as it can; then
    the shorter, the better.
    """
    for quiet in (True, False):
        back = _reachable(graph, start, quiet)
        candidates: list[tuple[int, int, int, int]] = []
        for node in [n for n in back if graph.interactions[n].stage is furthest][:100]:
            for letter in onwards:
                _, findings, status = _attempt(graph, node, letter)
                if status is Status.REFUSED:
                    candidates.append((len(findings), len(candidates), node, letter))
        for _, _, node, letter in sorted(candidates):
            walk: list[int] = []
            at = back[node]
            while at is not None:
                walk.append(at[1])
                at = back[at[0]]
            shown = _refused(graph, [*graph.letters_to(start), *reversed(walk), letter])
            if shown is not None:
                return shown
    return None


def _refused(graph: Graph, letters: list[int]) -> tuple[tuple[Event, ...], tuple[str, ...]] | None:
    """The transcript for ``letters`` and the rules refusing its last event, if replaying it agrees.

    The explored interactions stand for whole classes of equivalent ones; replaying
    the very transcript shows the refusal a reviewer will see (and guards against
    a key that merged interactions some rule tells apart).
    """
    events = graph.transcript(letters)
    interaction = open_interaction(graph.opening, graph.policy)
    for event in events[1:-1]:
        interaction, _, status = step(interaction, event, graph.policy, Mode.STRICT)
        if status is not Status.APPLIED:
            return None
    _, findings, status = step(interaction, events[-1], graph.policy, Mode.STRICT)
    if status is not Status.REFUSED:
        return None
    return events, tuple(dict.fromkeys(f.rule for f in findings if f.is_violation))


def _coverage(name: str, missing: str, scope: _Scope, done: str, never: str, unseen: str) -> PropertyResult:
    """A property that everything (stages, rules) is met: it fails only once the search closed."""
    if not missing:
        return PropertyResult(name, Verdict.HOLDS, None, done)
    if scope.closed:
        return PropertyResult(name, Verdict.FAILS, None, f"{never}: {missing}")
    detail = f"{unseen} within {scope.depth} events: {missing}; {_deeper(scope)}"
    return PropertyResult(name, Verdict.INCONCLUSIVE, None, detail)


def _every_stage(graph: Graph, scope: _Scope) -> PropertyResult:
    reached = {interaction.stage for interaction in graph.interactions}
    missing = ", ".join(stage.value for stage in Stage if stage not in reached)
    return _coverage(
        "every-stage-reachable", missing, scope, "every stage is reached",
        "never reached, by any interaction the policy allows", "not reached",
    )


def _deeper(scope: _Scope) -> str:
    if scope.cut:
        return scope.budget()
    if scope.truncated:
        return f"raise --depth and --max-states (the state budget of {scope.max_states:,} ran out)"
    return "raise --depth"


#: The built-in timing rules that a duration of the policy turns off when it is None.
_TURNED_OFF_BY = (
    (report_progress_on_time.check, "progress_every"),
    (follow_up_on_time.check, "follow_up_within"),
    (escalate_promptly.check, "escalate_within"),
)


def _turned_off(policy: Policy) -> dict[str, str]:
    """The rules of ``policy`` that cannot fire because it turns their duration off, with the duration."""
    off: dict[str, str] = {}
    for item in policy.rules:
        for check, name in _TURNED_OFF_BY:
            if item.check is check and getattr(policy.params, name) is None:
                off[item.id] = name
    return off


def _no_dead_rules(graph: Graph, scope: _Scope) -> PropertyResult:
    off = _turned_off(graph.policy)
    dead = ", ".join(r.id for r in graph.policy.rules if r.id not in graph.fired and r.id not in off)
    done = "every rule fires on some explored step"
    if off:
        done += " but those the policy turns off: "
        done += ", ".join(f"{rule_id} ({name} is None)" for rule_id, name in off.items())
    return _coverage(
        "no-dead-rules", dead, scope, done,
        "never fired, on any step the policy allows", "never fired",
    )


def _invariant(graph: Graph, within: int, scope: _Scope, invariant: Invariant) -> PropertyResult:
    """``invariant``, checked on every explored interaction, those within the depth first.

    They come in BFS order, so a failure found within the depth has the shortest
    counterexample; then come those found looking for ways out.
    """
    name = f"invariant:{invariant.name}"
    for node in range(len(graph)):
        try:
            ok = invariant.check(graph.interactions[node])
        except Exception as error:  # a broken invariant is a failing one, shown with its input
            ok, why = False, f"raised {type(error).__name__}: {error}"
        else:
            why = "does not hold"
        if not ok:
            events = graph.path_to(node)
            detail = f"{why} after {len(events) - 1} event(s)"
            if node >= within:
                detail += f" (found beyond {scope.depth} events: a greater depth may find a shorter one)"
            return PropertyResult(name, Verdict.FAILS, events, detail)
    if scope.closed:
        return PropertyResult(name, Verdict.HOLDS, None, "holds on every interaction the policy allows")
    if scope.cut:
        detail = f"holds on the {within:,} interactions explored, but {scope.budget()}"
        return PropertyResult(name, Verdict.INCONCLUSIVE, None, detail)
    detail = f"holds on every interaction within {scope.depth} events"
    return PropertyResult(name, Verdict.HOLDS, None, detail)


def _longest_way_out(graph: Graph, within: int) -> int | None:
    distance = {n: 0 for n in range(len(graph)) if graph.interactions[n].stage is Stage.FOLLOWED_UP}
    queue = deque(distance)
    while queue:
        node = queue.popleft()
        for source in graph.into[node]:
            if source not in distance:
                distance[source] = distance[node] + 1
                queue.append(source)
    ways = [
        distance[n]
        for n in range(within)
        if n in distance and not graph.interactions[n].stage.terminal
    ]
    return max(ways) if ways else None


# -- test paths ---------------------------------------------------------------------------


def _transitions() -> list[Transition]:
    return [(stage, event_type) for event_type, by in ROUTES.items() for stage in by]


def _stage_paths(graph: Graph) -> list[TestPath]:
    """The first (shortest, when found within the depth) transcript to each stage."""
    first: dict[Stage, int] = {}
    for node in range(len(graph)):
        first.setdefault(graph.interactions[node].stage, node)
    return [TestPath(f"reach-{s.value}", s, graph.path_to(first[s])) for s in Stage if s in first]


def _covering_paths(graph: Graph) -> list[TestPath]:
    """Few transcripts that together take every transition the exploration took."""
    left = set(graph.taken)
    paths: list[TestPath] = []
    while left:
        letters: list[int] = []
        node = 0
        while True:
            step = _nearest_untaken(graph, node, left)
            if step is None:
                break
            for source, letter, target in step:
                left.discard((graph.interactions[source].stage, graph.alphabet[letter].type))
                letters.append(letter)
                node = target
        if not letters:  # what is left cannot be reached from the opening through explored edges
            break
        stage = graph.interactions[node].stage
        paths.append(TestPath(f"cover-{len(paths) + 1}", stage, graph.transcript(letters)))
    return paths


def _nearest_untaken(graph: Graph, start: int, left: set[Transition]) -> list[tuple[int, int, int]] | None:
    """The shortest walk of explored edges from ``start`` ending in a transition in ``left``."""
    back: dict[int, tuple[int, int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        stage = graph.interactions[node].stage
        for letter, target in graph.edges[node] or ():
            if (stage, graph.alphabet[letter].type) in left:
                walk = [(node, letter, target)]
                step = back[node]
                while step is not None:
                    walk.append(step)
                    step = back[step[0]]
                walk.reverse()
                return walk
            if target not in back:
                back[target] = (node, letter, target)
                queue.append(target)
    return None
