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
    without a way out yet are explored ``escape`` events further before they are
    called dead ends.
``every-stage-reachable``
    Every stage is reached within ``depth`` events.
``no-dead-rules``
    Every rule of the policy fires on some explored step within ``depth`` events.
``invariant:<name>``
    Each user invariant (a function of an interaction) holds on every interaction
    found within ``depth`` events.

A failing property comes with its *shortest* counterexample, a transcript (the
opening first) that ``deescalate review`` accepts. Interactions that every rule
sees alike are explored once (see :func:`state_key`), which keeps the search small.
The report also carries *test paths* for integrations: the shortest transcript to
each stage, and a few transcripts that together take every transition of the
stage graph that the policy allows.

Like the rest of the core this module does no I/O; the ``deescalate verify``
command writes the files and shows progress.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ._alphabet import default_alphabet, default_opening
from ._apply import Mode, Status, apply
from ._codec import event_to_dict
from ._events import Event, InteractionOpened
from ._explore import Graph, Key, Transition, state_key
from ._interaction import Interaction
from ._loading import load_policy
from ._machine import ROUTES
from ._policy import FACTS_FIRST, Policy
from ._stages import Stage

__all__ = [
    "Invariant",
    "Progress",
    "PropertyResult",
    "Report",
    "TestPath",
    "default_alphabet",
    "default_opening",
    "state_key",
    "verify",
]

#: Called now and then during exploration with (distinct interactions so far, depth reached).
Progress = Callable[[int, int], None]

_ORDER = {stage: n for n, stage in enumerate(Stage)}


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
            raise TypeError(f"an invariant is a function of an interaction, got {value!r}")
        return cls(getattr(value, "__name__", repr(value)), value)


@attrs.frozen
class PropertyResult:
    """Whether one property holds, and if not, the shortest transcript that breaks it."""

    name: str
    holds: bool
    #: The shortest transcript (``interaction_opened`` first) that breaks the
    #: property, or None when it holds or no single transcript can show it.
    counterexample: tuple[Event, ...] | None = None
    #: What was found, in a sentence.
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The property as JSON-ready data; the counterexample as contract events."""
        return {
            "name": self.name,
            "holds": self.holds,
            "counterexample": None
            if self.counterexample is None
            else [event_to_dict(e) for e in self.counterexample],
            "detail": self.detail,
        }


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
    escape: int
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

    @property
    def holds(self) -> bool:
        """True when every property holds."""
        return all(p.holds for p in self.properties)

    def property(self, name: str) -> PropertyResult:
        """The result of the property called ``name``."""
        for result in self.properties:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``deescalate verify --format json`` object)."""
        return {
            "policy": self.policy,
            "depth": self.depth,
            "escape": self.escape,
            "states": self.states,
            "deepest": self.deepest,
            "complete": self.complete,
            "holds": self.holds,
            "longest_way_out": self.longest_way_out,
            "properties": [p.to_dict() for p in self.properties],
            "paths": [{"name": p.name, "stage": p.stage.value, "events": len(p.events)} for p in self.paths],
            "untaken_transitions": list(self.untaken),
        }


def verify(
    policy: Policy | str = FACTS_FIRST,
    *,
    depth: int = 8,
    max_states: int = 200_000,
    escape: int = 10,
    alphabet: Iterable[Event] | None = None,
    invariants: Iterable[Invariant | Callable[[Interaction], object]] = (),
    key: Key = state_key,
    opening: InteractionOpened | None = None,
    progress: Progress | None = None,
) -> Report:
    """Explore every interaction ``policy`` allows up to ``depth`` events; check the properties.

    ``alphabet`` replaces :func:`default_alphabet`; ``opening`` the standard
    ``interaction_opened``; ``key`` the equivalence of :func:`state_key`. At most
    ``max_states`` distinct interactions are explored (the report says when that cut
    the search short).
    """
    policy = load_policy(policy)
    for name, value, least in (("depth", depth, 1), ("max_states", max_states, 1), ("escape", escape, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    letters = tuple(default_alphabet(policy) if alphabet is None else alphabet)
    for event in letters:
        if not isinstance(event, Event) or isinstance(event, InteractionOpened):
            raise ValueError(f"the alphabet must hold events other than interaction_opened, got {event!r}")
    checks = [Invariant.of(item) for item in invariants]
    graph = Graph(policy, letters, opening or default_opening(), key, max_states)
    report = progress or (lambda states, level: None)

    level = [0]
    for reached in range(depth):
        found: list[int] = []
        for count, node in enumerate(level, 1):
            found.extend(graph.expand(node, record=True))
            if count % 500 == 0:
                report(len(graph), reached + 1)
        level = found
        report(len(graph), reached + 1)
        if not level:
            break
    within = len(graph)  # nodes 0..within-1 were found within the depth, in BFS order

    _look_for_ways_out(graph, within, depth, escape, report)
    properties = (
        _no_dead_ends(graph, within, depth, escape),
        _every_stage(graph, within, depth),
        _no_dead_rules(graph, depth),
        *(_invariant(graph, within, check) for check in checks),
    )
    return Report(
        policy=policy.name,
        depth=depth,
        escape=escape,
        states=len(graph),
        deepest=max(graph.depth),
        complete=not graph.truncated,
        properties=properties,
        paths=(*_stage_paths(graph, within), *_covering_paths(graph)),
        untaken=tuple(f"{s.value} --{t}-->" for s, t in _transitions() if (s, t) not in graph.taken),
        longest_way_out=_longest_way_out(graph, within),
    )


# -- exploring further for ways out ---------------------------------------------------


def _stuck(graph: Graph, within: int) -> list[int]:
    return [
        n
        for n in range(within)
        if not graph.finishes[n] and not graph.interactions[n].stage.terminal
    ]


def _look_for_ways_out(graph: Graph, within: int, depth: int, escape: int, report: Progress) -> None:
    """Expand, up to ``escape`` more levels, what stuck interactions lead to."""
    for extra in range(escape):
        stuck = _stuck(graph, within)
        if not stuck or graph.truncated:
            return
        seen = set(stuck)
        queue = deque(stuck)
        frontier = []
        while queue:
            node = queue.popleft()
            edges = graph.edges[node]
            if edges is None:
                if graph.depth[node] < depth + escape and not graph.interactions[node].stage.terminal:
                    frontier.append(node)
                continue
            for _, target in edges:
                if target not in seen and not graph.finishes[target]:
                    seen.add(target)
                    queue.append(target)
        if not frontier:
            return
        for node in frontier:
            graph.expand(node, record=False)
        report(len(graph), depth + extra + 1)


# -- properties -------------------------------------------------------------------------


def _no_dead_ends(graph: Graph, within: int, depth: int, escape: int) -> PropertyResult:
    name = "no-dead-ends"
    stuck = _stuck(graph, within)
    if not stuck:
        return PropertyResult(name, True, None, "followed_up can be reached from every explored interaction")
    node = stuck[0]  # BFS order: the shallowest
    reached = graph.depth[node]
    where = "from the opening" if reached == 0 else f"after these {reached} event(s)"
    horizon = depth + escape - reached
    detail = f"{where}, followed_up cannot be reached in {horizon} more events; {_where_stuck(graph, node)}"
    if graph.truncated:
        detail += " (the state budget ran out: raise max_states to be sure)"
    return PropertyResult(name, False, graph.path_to(node), detail)


def _where_stuck(graph: Graph, start: int) -> str:
    """Where the interactions reachable from ``start`` get furthest, and what refuses them there."""
    seen = {start}
    queue = deque([start])
    while queue:
        for _, target in graph.edges[queue.popleft()] or ():
            if target not in seen:
                seen.add(target)
                queue.append(target)
    active = [n for n in seen if not graph.interactions[n].stage.terminal]
    furthest = max((graph.interactions[n].stage for n in active), key=_ORDER.__getitem__)
    refusals: list[tuple[str, ...]] = []
    for node in sorted(n for n in active if graph.interactions[n].stage is furthest)[:100]:
        interaction = graph.interactions[node]
        for letter, event in enumerate(graph.alphabet):
            route = ROUTES.get(event.type, {}).get(furthest)
            if route is None or route.dest is Stage.ENDED or _ORDER[route.dest] <= _ORDER[furthest]:
                continue
            attempt = graph.event(letter, graph.depth[node] + 1)
            outcome = apply(interaction, attempt, graph.policy, Mode.STRICT)
            if outcome.status is Status.REFUSED:
                refusals.append(tuple(f.rule for f in outcome.violations))
    if not refusals:
        return f"the furthest it gets is {furthest}, and no event of the alphabet moves it on"
    # Name the rules that refused every attempt to move on, if any; else all that refused one.
    every = [r for r in refusals[0] if all(r in rules for rules in refusals)]
    blockers = every or list(dict.fromkeys(r for rules in refusals for r in rules))
    return f"the furthest it gets is {furthest}, where moving on is refused by: {', '.join(blockers)}"


def _every_stage(graph: Graph, within: int, depth: int) -> PropertyResult:
    reached = {graph.interactions[n].stage for n in range(within)}
    missing = [stage.value for stage in Stage if stage not in reached]
    if not missing:
        return PropertyResult("every-stage-reachable", True, None, "every stage is reached")
    detail = f"never reached within {depth} events: {', '.join(missing)}"
    return PropertyResult("every-stage-reachable", False, None, detail)


def _no_dead_rules(graph: Graph, depth: int) -> PropertyResult:
    dead = [rule.id for rule in graph.policy.rules if rule.id not in graph.fired]
    if not dead:
        return PropertyResult("no-dead-rules", True, None, "every rule fires on some explored step")
    detail = f"never fired within {depth} events: {', '.join(dead)} (a greater depth may tell)"
    return PropertyResult("no-dead-rules", False, None, detail)


def _invariant(graph: Graph, within: int, invariant: Invariant) -> PropertyResult:
    name = f"invariant:{invariant.name}"
    for node in range(within):
        try:
            ok = invariant.check(graph.interactions[node])
        except Exception as error:  # a broken invariant is a failing one, shown with its input
            ok, why = False, f"raised {type(error).__name__}: {error}"
        else:
            why = "does not hold"
        if not ok:
            events = graph.path_to(node)
            return PropertyResult(name, False, events, f"{why} after {len(events) - 1} event(s)")
    return PropertyResult(name, True, None, "holds on every explored interaction")


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


def _stage_paths(graph: Graph, within: int) -> list[TestPath]:
    first: dict[Stage, int] = {}
    for node in range(within):
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
