"""Breadth-first exploration of the interactions a policy allows, in strict mode.

Starting from ``interaction_opened``, every event of the alphabet is tried on every
interaction found so far, level by level, so the first time an interaction (or
rather its equivalence class, see :func:`state_key`) is found, it is found by a
shortest transcript. Each class is one *node*; applied events are *edges*.

The graph remembers, per node, the parent edge it was first reached by (for
shortest counterexamples), the edges out of it once expanded, whether that
expansion was complete (``max_states`` may have dropped a new target), and the
edges into it (to work out which nodes can still reach ``followed_up``). Nodes
are plain indexes into parallel lists: exploring hundreds of thousands of
interactions must stay cheap.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from datetime import timedelta

import attrs

from ._apply import Mode, Status, open_interaction, step
from ._builtin_rules import INVALID_TRANSITION
from ._errors import ArgumentValueError
from ._events import Event, InteractionOpened
from ._interaction import Interaction
from ._machine import ROUTES
from ._policy import Policy
from ._stages import Stage

#: A function telling which interactions are equivalent: equal keys, same future.
Key = Callable[[Interaction], Hashable]

_STATE_FIELDS = tuple(f.name for f in attrs.fields(Interaction) if f.name != "history")
_read_state = operator.attrgetter(*_STATE_FIELDS)
#: The counters a capped key bounds, and every other field it reads as is.
_COUNTERS = ("rejections", "abuse_warnings")
_read_uncounted = operator.attrgetter(*(f for f in _STATE_FIELDS if f not in _COUNTERS))


def state_key(interaction: Interaction) -> Hashable:
    """What every rule and effect can see of ``interaction``: all but its history's order.

    That is every field except ``history``, plus the set of fact sources heard and
    the set of ``event_id``s applied (the two things the history is consulted for).
    Two interactions with equal keys accept and refuse the same future events, with
    the same findings, under any rule that reads only these, which every built-in
    rule does. A custom rule that reads more (past findings, timestamps) needs a key
    that includes it. :func:`default_key` is this key with the counters capped,
    which is what :func:`~deescalate.verify.verify` uses unless given another.
    """
    history = interaction.history
    return (_read_state(interaction), frozenset(history.sources()), history.event_ids())


def default_key(policy: Policy) -> Key:
    """:func:`state_key`, with the counters capped where ``policy``'s parameters stop reading them.

    ``rejections`` counts up to ``max_rejections`` and ``abuse_warnings`` up to
    ``warnings_before_ending``: the built-in rules only ask whether a counter has
    reached its threshold, so an interaction with five warnings has the same
    future as one with the one warning the policy asks for. Without the cap an
    agent could warn an abusive customer forever and the interactions would never
    run out; with it, the interactions a policy allows are finitely many, so the
    search can close. A rule that reads a counter beyond its threshold needs a key
    that keeps it (:func:`state_key`, or your own).
    """
    rejections, warnings = policy.params.max_rejections, policy.params.warnings_before_ending

    def capped_state_key(interaction: Interaction) -> Hashable:
        history = interaction.history
        return (
            _read_uncounted(interaction),
            rejections if interaction.rejections > rejections else interaction.rejections,
            warnings if interaction.abuse_warnings > warnings else interaction.abuse_warnings,
            frozenset(history.sources()),
            history.event_ids(),
        )

    return capped_state_key


_STRICT, _APPLIED, _INVALID = Mode.STRICT, Status.APPLIED, INVALID_TRANSITION.id

#: A transition of the stage graph: the stage it leaves and the event type taking it.
Transition = tuple[Stage, str]


class Graph:
    """The explored nodes and edges; grown by :meth:`expand`, read by the properties."""

    def __init__(
        self,
        policy: Policy,
        alphabet: Sequence[Event],
        opening: InteractionOpened,
        key: Key,
        max_states: int,
    ) -> None:
        if not alphabet:
            raise ArgumentValueError("alphabet", "is empty: there is nothing to explore")
        self.policy = policy
        self.alphabet = tuple(alphabet)
        self.opening = opening
        self.key = key
        self.max_states = max_states
        self._stamped: list[tuple[Event, ...]] = []
        # Letters the stage graph allows at each stage: the others are invalid transitions,
        # which change nothing and fire no rule of the policy, so they are not even tried.
        self._possible = {
            stage: [n for n, e in enumerate(self.alphabet) if stage in ROUTES.get(e.type, {})]
            for stage in Stage
        }
        self.keys: dict[Hashable, int] = {}
        self.interactions: list[Interaction] = []
        self.parent: list[int] = []
        self.letter: list[int] = []
        self.depth: list[int] = []
        #: (letter, target) of each applied event, once the node is expanded.
        self.edges: list[list[tuple[int, int]] | None] = []
        #: 1 once the node was expanded with every edge kept; 0 while unexpanded, or when
        #: ``max_states`` dropped a new target of its expansion.
        self.complete = bytearray()
        self.into: list[list[int]] = []
        #: Per node, a bit for each letter whose event had findings (warnings) but was applied.
        self.noisy: list[int] = []
        #: Whether followed_up can be reached from the node (through explored edges).
        self.finishes = bytearray()
        #: The ids of the rules that fired on some explored step.
        self.fired: set[str] = set()
        #: The stage-graph transitions some explored step took.
        self.taken: set[Transition] = set()
        #: True once a node could not be added because of ``max_states``.
        self.truncated = False
        self._add(open_interaction(opening, policy), -1, -1, 0)

    def __len__(self) -> int:
        return len(self.interactions)

    def event(self, letter: int, position: int) -> Event:
        """Alphabet event ``letter``, stamped as the ``position``-th event after the opening."""
        return self._stamped_at(position)[letter]

    def _stamped_at(self, position: int) -> tuple[Event, ...]:
        """The alphabet, stamped as the ``position``-th event after the opening."""
        while len(self._stamped) < position:
            at = self.opening.at + timedelta(minutes=len(self._stamped) + 1)
            self._stamped.append(tuple(attrs.evolve(e, at=at) for e in self.alphabet))
        return self._stamped[position - 1]

    def _add(self, interaction: Interaction, parent: int, letter: int, depth: int) -> int:
        node = len(self.interactions)
        self.keys[self.key(interaction)] = node
        self.interactions.append(interaction)
        self.parent.append(parent)
        self.letter.append(letter)
        self.depth.append(depth)
        self.edges.append(None)
        self.complete.append(0)
        self.into.append([])
        self.noisy.append(0)
        self.finishes.append(interaction.stage is Stage.FOLLOWED_UP)
        return node

    def expand(self, node: int) -> list[int]:
        """Try every letter on ``node``; return the nodes found new.

        The rules that fire and the transitions taken are noted on the way.
        """
        interaction = self.interactions[node]
        depth = self.depth[node]
        stage = interaction.stage
        policy, key, keys, fired, taken = self.policy, self.key, self.keys, self.fired, self.taken
        stamped = self._stamped_at(depth + 1)
        edges: list[tuple[int, int]] = []
        new: list[int] = []
        dropped = False
        noisy = 0
        for letter in self._possible[stage]:
            event = stamped[letter]
            after, findings, status = step(interaction, event, policy, _STRICT)
            if status is not _APPLIED:
                if findings:
                    fired.update(f.rule for f in findings if f.rule != _INVALID)
                continue
            if findings:
                fired.update(f.rule for f in findings)
                noisy |= 1 << letter
            taken.add((stage, event.type))
            k = key(after)
            target = keys.get(k)
            if target is None:
                if len(self.interactions) >= self.max_states:
                    self.truncated = dropped = True
                    continue
                target = self._add(after, node, letter, depth + 1)
                new.append(target)
            edges.append((letter, target))
            if target != node:
                self.into[target].append(node)
        self.edges[node] = edges
        self.complete[node] = not dropped
        self.noisy[node] = noisy
        if not self.finishes[node] and any(self.finishes[t] for _, t in edges):
            self._spread_finishing(node)
        return new

    def settled(self, node: int) -> bool:
        """True when all that can follow ``node`` is in the graph (it is over, or fully expanded)."""
        return bool(self.complete[node]) or self.interactions[node].stage.terminal

    def _spread_finishing(self, node: int) -> None:
        finishes, into = self.finishes, self.into
        finishes[node] = True
        queue = deque([node])
        while queue:
            for source in into[queue.popleft()]:
                if not finishes[source]:
                    finishes[source] = True
                    queue.append(source)

    def letters_to(self, node: int) -> list[int]:
        """The letters of the shortest transcript that first reached ``node``."""
        out: list[int] = []
        while self.parent[node] >= 0:
            out.append(self.letter[node])
            node = self.parent[node]
        out.reverse()
        return out

    def transcript(self, letters: Sequence[int]) -> tuple[Event, ...]:
        """The opening and the events for ``letters``, stamped one minute apart."""
        return (self.opening, *(self.event(letter, n) for n, letter in enumerate(letters, 1)))

    def path_to(self, node: int) -> tuple[Event, ...]:
        """The shortest transcript reaching ``node``."""
        return self.transcript(self.letters_to(node))
