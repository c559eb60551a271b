"""Breadth-first exploration of the interactions a policy allows, in strict mode.

Starting from ``interaction_opened``, every event of the alphabet is tried on every
interaction found so far, level by level, so the first time an interaction (or
rather its equivalence class, see :func:`state_key`) is found, it is found by a
shortest transcript. Each class is one *node*; applied events are *edges*.

Time is relative to each interaction's last event. An alphabet event is stamped
*on time*, a minute after the last event but never past a deadline the interaction
has open (a promised callback, a progress report or follow-up due, a request for
a manager); an event marked late (:func:`~deescalate.verify.late`) is stamped a
minute after the last of the open deadlines. So whether a deadline has passed only
ever changes by a late event, and the default key can read each deadline as open,
passed or absent instead of as a time: the timing rules see equal keys alike.

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
from datetime import datetime, timedelta

import attrs

from ._alphabet import START, is_late, stamped
from ._apply import Mode, Status, open_interaction, step
from ._builtin_rules import INVALID_TRANSITION
from ._errors import ArgumentValueError
from ._events import Event, FactRecorded, InteractionOpened
from ._interaction import Interaction
from ._machine import ROUTES
from ._obligations import deadlines
from ._policy import Policy
from ._stages import Stage

#: A function telling which interactions are equivalent: equal keys, same future.
Key = Callable[[Interaction], Hashable]

#: The fields holding times: a key reads them relative to the interaction's last event.
_TIMES = ("callback_due", "accepted_at", "progress_since", "manager_requested_at")
_STATE_FIELDS = tuple(f.name for f in attrs.fields(Interaction) if f.name not in ("history", *_TIMES))
_read_state = operator.attrgetter(*_STATE_FIELDS)
_read_times = operator.attrgetter(*_TIMES)
#: The counters a capped key bounds, and every other field it reads as is.
_COUNTERS = ("rejections", "abuse_warnings")
_read_uncounted = operator.attrgetter(*(f for f in _STATE_FIELDS if f not in _COUNTERS))


def state_key(interaction: Interaction) -> Hashable:
    """What every rule and effect can see of ``interaction``: all but its history's order and the clock.

    That is every field except ``history``, the times among them (a callback due,
    an acceptance, a progress report, a request for a manager) taken relative to
    the last event, plus the set of fact sources heard and the set of
    ``event_id`` values applied (the two things the history is consulted for). Two
    interactions with equal keys accept and refuse the same future events, coming
    as long after their last event, with the same findings, under any rule that
    reads only these, which every built-in rule does. A custom rule that reads more
    (past findings, the history's timestamps) needs a key that includes it.
    :func:`default_key` is this key with the counters capped and each deadline
    read as open or passed, which is what :func:`~deescalate.verify.verify` uses
    unless given another.
    """
    history = interaction.history
    last = history.last.at
    times = tuple(None if t is None else t - last for t in _read_times(interaction))
    return (_read_state(interaction), times, frozenset(history.sources()), history.event_ids())


def default_key(policy: Policy) -> Key:
    """:func:`state_key`, with the counters capped and the deadlines read as open or passed.

    ``rejections`` counts up to ``max_rejections`` and ``abuse_warnings`` up to
    ``warnings_before_ending``: the built-in rules only ask whether a counter has
    reached its threshold, so an interaction with five warnings has the same
    future as one with the one warning the policy asks for. Without the cap an
    agent could warn an abusive customer forever and the interactions would never
    run out; with it, the interactions a policy allows are finitely many, so the
    search can close. A rule that reads a counter beyond its threshold needs a key
    that keeps it (:func:`state_key`, or your own).

    The times are read the same way: each deadline (a promised callback, the
    progress report and the follow-up due under ``policy``'s durations, an
    escalation the customer asked for) is absent, open, or passed (due before the
    last event), which is all the timing rules ask of it when events come as the
    explorer stamps them (see :mod:`deescalate.verify`).
    """
    return _DefaultKey(policy)


class _DefaultKey:
    """:func:`default_key`'s function, which can also take the sets it reads from a parent's key.

    Reading the fact sources and the ``event_id`` values off the history costs a
    scan of it for every step explored; the explorer knows them from the key of the
    interaction it stepped from, plus the one event (see :meth:`after`).
    """

    __slots__ = ("dues", "rejections", "warnings")

    def __init__(self, policy: Policy) -> None:
        params = policy.params
        self.rejections, self.warnings = params.max_rejections, params.warnings_before_ending
        self.dues = deadlines(params)

    def __call__(self, interaction: Interaction) -> Hashable:
        history = interaction.history
        return self.of(interaction, frozenset(history.sources()), history.event_ids())

    def after(self, key: tuple[Hashable, ...], event: Event, interaction: Interaction) -> Hashable:
        """The key of ``interaction``, which applying ``event`` made of an interaction keyed ``key``."""
        sources: frozenset[str] = key[-2]  # type: ignore[assignment]
        ids: frozenset[str] = key[-1]  # type: ignore[assignment]
        if type(event) is FactRecorded and event.source not in sources:
            sources = sources | {event.source}
        if event.event_id is not None:
            ids = ids | {event.event_id}
        return self.of(interaction, sources, ids)

    def of(
        self, interaction: Interaction, sources: frozenset[str], ids: frozenset[str]
    ) -> tuple[Hashable, ...]:
        """The key of ``interaction``, given the fact sources it heard and the ids it applied."""
        if interaction.callback_due is None and interaction.accepted_at is None and (
            interaction.manager_requested_at is None
        ):
            passed: tuple[bool | None, ...] = _ABSENT  # the usual case: no deadline at all
        else:
            last = interaction.history.last.at
            passed = tuple(None if due is None else due < last for due in self.dues(interaction))
        rejections, warnings = self.rejections, self.warnings
        return (
            _read_uncounted(interaction),
            rejections if interaction.rejections > rejections else interaction.rejections,
            warnings if interaction.abuse_warnings > warnings else interaction.abuse_warnings,
            passed,
            sources,
            ids,
        )


_ABSENT: tuple[bool | None, ...] = (None, None, None, None)


#: How long after the last event an on-time event comes (unless a deadline is sooner),
#: and a late one after the last open deadline.
_STEP = timedelta(minutes=1)


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
        #: Per letter, whether it is tried late (after every open deadline).
        self.late = tuple(is_late(e) for e in self.alphabet)
        # A late letter with an on-time twin is skipped where no deadline is open: it
        # would be the very same event.
        letters = list(zip(self.alphabet, self.late, strict=True))
        on_time = {stamped(e, START) for e, late in letters if not late}
        self._twin = tuple(late and stamped(e, START) in on_time for e, late in letters)
        self._dues = deadlines(policy.params)
        #: The alphabet's events stamped at each time used so far, filled in as needed.
        self._stamped: dict[datetime, list[Event | None]] = {}
        # Letters the stage graph allows at each stage: the others are invalid transitions,
        # which change nothing and fire no rule of the policy, so they are not even tried.
        self._possible = {
            stage: [n for n, e in enumerate(self.alphabet) if stage in ROUTES.get(e.type, {})]
            for stage in Stage
        }
        self.keys: dict[Hashable, int] = {}
        #: Each node's key, when it is the default one (see _DefaultKey.after).
        self._fast = key if isinstance(key, _DefaultKey) else None
        self._key_of: list[tuple[Hashable, ...]] = []
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
        first = open_interaction(opening, policy)
        self._add(first, key(first), -1, -1, 0)

    def __len__(self) -> int:
        return len(self.interactions)

    def times(self, interaction: Interaction) -> tuple[datetime, datetime | None]:
        """When an on-time event and a late one come after ``interaction``'s last event.

        On time is a minute later, or at the soonest open deadline if that comes
        first; late is a minute after the last open deadline (None when none is open).
        """
        last = interaction.history.last.at
        soon = last + _STEP
        latest: datetime | None = None
        if (
            interaction.callback_due is None
            and interaction.accepted_at is None
            and interaction.manager_requested_at is None
        ):
            return soon, None  # the usual case: no deadline at all
        for due in self._dues(interaction):
            if due is not None and due >= last:
                if due < soon:
                    soon = due
                if latest is None or due > latest:
                    latest = due
        return soon, None if latest is None else latest + _STEP

    def _row(self, at: datetime) -> list[Event | None]:
        row = self._stamped.get(at)
        if row is None:
            row = self._stamped[at] = [None] * len(self.alphabet)
        return row

    def event_after(self, interaction: Interaction, letter: int) -> Event:
        """Alphabet event ``letter``, stamped to come next after ``interaction`` (on time or late)."""
        soon, late = self.times(interaction)
        at = late if late is not None and self.late[letter] else soon
        row = self._row(at)
        event = row[letter]
        if event is None:
            event = row[letter] = stamped(self.alphabet[letter], at)
        return event

    def _add(self, interaction: Interaction, key: Hashable, parent: int, letter: int, depth: int) -> int:
        node = len(self.interactions)
        self.keys[key] = node
        if self._fast is not None:
            self._key_of.append(key)  # type: ignore[arg-type]  # a _DefaultKey's: a tuple
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
        alphabet, lates, twins = self.alphabet, self.late, self._twin
        soon, late = self.times(interaction)
        on_time = self._row(soon)
        delayed = on_time if late is None else self._row(late)
        fast = self._fast
        parent_key = self._key_of[node] if fast is not None else ()
        edges: list[tuple[int, int]] = []
        new: list[int] = []
        dropped = False
        noisy = 0
        for letter in self._possible[stage]:
            if lates[letter]:
                if late is None and twins[letter]:
                    continue
                row, at = delayed, late or soon
            else:
                row, at = on_time, soon
            event = row[letter]
            if event is None:
                event = row[letter] = stamped(alphabet[letter], at)
            after, findings, status = step(interaction, event, policy, _STRICT)
            if status is not _APPLIED:
                if findings:
                    fired.update(f.rule for f in findings if f.rule != _INVALID)
                continue
            if findings:
                fired.update(f.rule for f in findings)
                noisy |= 1 << letter
            taken.add((stage, event.type))
            k = key(after) if fast is None else fast.after(parent_key, event, after)
            target = keys.get(k)
            if target is None:
                if len(self.interactions) >= self.max_states:
                    self.truncated = dropped = True
                    continue
                target = self._add(after, k, node, letter, depth + 1)
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
        """The opening and the events for ``letters``, each stamped after the ones before.

        The stamps depend on the deadlines open, so the events are applied (strict
        mode) as they go; an event not applied leaves the next one stamped after
        the same interaction.
        """
        interaction = self.interactions[0]
        events: list[Event] = [self.opening]
        for letter in letters:
            event = self.event_after(interaction, letter)
            events.append(event)
            interaction, _, _ = step(interaction, event, self.policy, _STRICT)
        return tuple(events)

    def path_to(self, node: int) -> tuple[Event, ...]:
        """The shortest transcript reaching ``node``: the history of the interaction found there."""
        return tuple(self.interactions[node].history)
