"""The applied-event log of an interaction, shared between its versions.

An interaction is an immutable value, yet applying an event must not copy its
whole past (a 20,000-event transcript has to review in linear time). So every
version of one interaction shares an append-only :class:`_Log`, and a
:class:`History` is a *prefix view* of it: ``(log, length)``. Appending to the
newest version extends the log in place, which older versions cannot see (they
only read their first ``length`` entries). Appending to an older version (a
branch: two different events applied to the same value) copies that prefix into
a new log first, so versions never see each other's futures. One lock, shared by
all logs, makes the "am I the newest?" check and the append one step, so threads
cannot interleave.

The log also answers, for this lineage, where each ``event_id`` (duplicate
deliveries) and each fact ``source`` (distinct sources heard) first appeared.

Readers never see a log change under them: a reader that iterates one of the
log's dicts (which another thread may be extending) does so under the same lock
as appending; readers of its lists need none, because lists only grow and every
reader stops at its own ``length``.
A process may hold 100,000 live interactions, so the log stays small: findings
are stored only once an event has some, the ids of a short log are a list
scanned in C (smaller than a dict, as quick at that size) that becomes a dict
once the log is long, and the sources dict is made at the first fact.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from ._errors import ArgumentTypeError, HistoryIndexError, describe
from ._events import Event, FactRecorded
from ._findings import Finding

#: Up to this many entries, the ids are a list: a scan is as quick as a dict look-up.
_SHORT = 32

#: Taken to extend any log: the critical section is a few list appends.
_APPEND = threading.Lock()

_NO_FINDINGS: tuple[Finding, ...] = ()


class _Log:
    __slots__ = ("events", "findings", "ids", "sources")

    def __init__(self) -> None:
        self.events: list[Event] = []
        #: Each entry's findings, or None while no entry has any.
        self.findings: list[tuple[Finding, ...]] | None = None
        #: Each entry's event_id (or None) while the log is short; then the first
        #: position of each event_id.
        self.ids: list[str | None] | dict[str, int] = []
        #: The first position of each fact source, once a fact was recorded.
        self.sources: dict[str, int] | None = None

    def push(self, event: Event, findings: tuple[Finding, ...]) -> None:
        events = self.events
        position = len(events)
        events.append(event)
        if findings:
            if self.findings is None:
                self.findings = [_NO_FINDINGS] * position
            self.findings.append(findings)
        elif self.findings is not None:
            self.findings.append(findings)
        ids = self.ids
        if isinstance(ids, list):
            ids.append(event.event_id)
            if position == _SHORT:
                first: dict[str, int] = {}
                for at, event_id in enumerate(ids):
                    if event_id is not None:
                        first.setdefault(event_id, at)
                self.ids = first  # the list stays intact for readers holding it
        elif event.event_id is not None:
            ids.setdefault(event.event_id, position)
        if type(event) is FactRecorded:
            if self.sources is None:
                self.sources = {}
            self.sources.setdefault(event.source, position)

    def prefix(self, length: int) -> _Log:
        """A new log holding this one's first ``length`` entries (a branch point).

        Copied with slices and filtered indexes, not by pushing each entry again:
        exploring a policy branches at every step.
        """
        log = _Log()
        log.events = self.events[:length]
        if self.findings is not None:
            log.findings = self.findings[:length]
        ids = self.ids
        if isinstance(ids, list):
            log.ids = ids[:length]
        elif length > _SHORT:
            log.ids = {event_id: at for event_id, at in ids.items() if at < length}
        else:
            log.ids = [event.event_id for event in log.events]
        if self.sources is not None:
            log.sources = {source: at for source, at in self.sources.items() if at < length} or None
        return log


def _index(value: object) -> int:
    if isinstance(value, int):  # a bool, or an int subclass
        return int(value)
    raise ArgumentTypeError("index", f"a history is indexed by integers or slices, got {describe(value)}")


class History(Sequence[Event]):
    """The events applied to an interaction, in order, each with its findings.

    A read-only sequence of events; equal when the same events were applied with
    the same findings. Only the interaction machinery extends it.
    """

    __slots__ = ("_length", "_log")

    def __init__(self, log: _Log, length: int) -> None:
        self._log = log
        self._length = length

    @classmethod
    def of(cls, entries: Iterable[tuple[Event, tuple[Finding, ...]]]) -> History:
        """A history holding ``entries`` (event, findings) as given, in order."""
        log = _Log()
        for event, findings in entries:
            log.push(event, findings)
        return cls(log, len(log.events))

    def appended(self, event: Event, findings: tuple[Finding, ...]) -> History:
        """This history with one more event: O(1) unless this version was branched from."""
        log, length = self._log, self._length
        _APPEND.acquire()  # not `with`: this runs once per applied event
        try:
            newest = len(log.events) == length
            if newest:
                log.push(event, findings)
                return History(log, length + 1)
            branch = log.prefix(length)  # under the lock: the log may be growing
        finally:
            _APPEND.release()
        branch.push(event, findings)
        return History(branch, length + 1)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return tuple(self._log.events[: self._length][index])
        if type(index) is not int:
            index = _index(index)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise HistoryIndexError(
                "index", f"{index} is out of range for a history of {self._length} events"
            )
        return self._log.events[index]

    @property
    def last(self) -> Event:
        """The most recently applied event (every history holds its opening at least)."""
        return self._log.events[self._length - 1]

    def __iter__(self) -> Iterator[Event]:
        return itertools.islice(self._log.events, self._length)

    def entries(self) -> Iterator[tuple[Event, tuple[Finding, ...]]]:
        """Each applied event with the findings it had when it was applied."""
        log, length = self._log, self._length
        findings = log.findings
        return zip(
            itertools.islice(log.events, length),
            itertools.repeat(_NO_FINDINGS, length)
            if findings is None
            else itertools.islice(findings, length),
            strict=True,
        )

    def findings(self) -> tuple[Finding, ...]:
        """Every finding recorded for the applied events, in order."""
        findings = self._log.findings
        if findings is None:
            return _NO_FINDINGS
        return tuple(itertools.chain.from_iterable(itertools.islice(findings, self._length)))

    def has_event_id(self, event_id: str) -> bool:
        """True when an event with this ``event_id`` was applied."""
        ids, length = self._log.ids, self._length
        if isinstance(ids, dict):
            return ids.get(event_id, length) < length
        return event_id in (ids if len(ids) == length else ids[:length])

    def has_source(self, source: str) -> bool:
        """True when a fact from this ``source`` was recorded."""
        sources = self._log.sources
        return sources is not None and sources.get(source, self._length) < self._length

    def event_ids(self) -> frozenset[str]:
        """The ``event_id`` of every applied event that had one."""
        ids, length = self._log.ids, self._length
        if isinstance(ids, dict):
            _APPEND.acquire()  # another thread may be adding ids to this dict
            try:
                pairs = list(ids.items())
            finally:
                _APPEND.release()
            return frozenset(event_id for event_id, at in pairs if at < length)
        return frozenset(event_id for event_id in ids[:length] if event_id is not None)

    def sources(self) -> tuple[str, ...]:
        """The distinct fact sources recorded, in the order first heard."""
        sources = self._log.sources
        if sources is None:
            return ()
        _APPEND.acquire()  # another thread may be adding sources to this dict
        try:
            pairs = list(sources.items())
        finally:
            _APPEND.release()
        return tuple(s for s, at in pairs if at < self._length)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        if self._length != other._length:
            return False
        if self._log is other._log:
            return True
        return all(a == b for a, b in zip(self.entries(), other.entries(), strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self.entries()))

    def __repr__(self) -> str:
        return f"History({list(self)!r})"
