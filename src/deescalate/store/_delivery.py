"""Delivering events to one interaction: what arrived, how it is judged, and how it is written.

A delivery has two halves. Judging it (what the event does to the interaction, its
findings, the obligations owed after it) is pure: it needs only the interaction.
Writing it (the journal's row, the log's row, the interaction's new state, its
obligations) needs the database's lock: SQLite's whole database, PostgreSQL's row of
the interaction. So everything a write needs but the delivery id the database assigns
is prepared with the judgement, as the driver takes it: for the delivery of one
event (not an opening) to an interaction this process holds, before the transaction
begins (see ``Store._deliver``); otherwise inside it. Inside it, then, the statements
alone run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._apply import Mode, Outcome, Status, open_interaction, step
from .._codec import compact_json, dump_event, event_from_dict, parse_event
from .._errors import ArgumentTypeError, ArgumentValueError, EventError, PolicyError, describe, one_line
from .._events import Event, InteractionOpened
from .._findings import Finding
from .._interaction import Interaction
from .._obligations import Obligation, open_obligations
from .._policy import Policy
from ._driver import Compiled
from ._errors import JournalConflict, StoreError
from ._records import Delivery, DeliveryRecord, Fate
from ._statements import Statements

if TYPE_CHECKING:
    from ._store import Store

_FATES = {
    Status.APPLIED: Fate.APPLIED,
    Status.REFUSED: Fate.REFUSED,
    Status.INVALID: Fate.INVALID,
    Status.DUPLICATE: Fate.DUPLICATE,
    Status.LATE: Fate.LATE,
}

@attrs.frozen
class Received:
    """One delivery before it is judged: the event (None for bad input), its text, and why not."""

    event: Event | None
    payload: str
    error: str | None
    #: True when ``payload`` is already the event's contract JSON (an Event was delivered).
    canonical: bool = False

    @property
    def contract(self) -> str:
        """The event as contract JSON, as the log keeps it, whatever form it arrived in."""
        assert self.event is not None
        return self.payload if self.canonical else dump_event(self.event)


@attrs.frozen
class Current:
    """An interaction as this process last saw it, at ``version`` (its history's length)."""

    version: int
    interaction: Interaction
    policy: Policy
    obligations: tuple[Obligation, ...]


def _storable(text: str) -> str:
    """``text`` as any database stores it: no NUL character, no lone surrogate."""
    if "\x00" in text:
        text = text.replace("\x00", "\\u0000")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


#: The longest interaction or event id the store keeps: ids are keys of its indexes.
ID_LIMIT = 512


def checked_id(value: object, argument: str) -> str:
    """An id the store can key on: a non-empty string of at most :data:`ID_LIMIT`
    characters, with no NUL character and no lone surrogate."""
    if not isinstance(value, str):
        raise ArgumentTypeError(argument, f"must be a string, got {describe(value)}")
    problem = id_problem(value)
    if problem is not None:
        raise ArgumentValueError(argument, problem)
    return value


def id_problem(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > ID_LIMIT:
        return f"is {len(value)} characters long: the store keeps ids of at most {ID_LIMIT}"
    if "\x00" in value:
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate"
    return None


def _unstorable(event: Event, payload: str) -> str | None:
    """Why the store cannot keep ``event``, which arrived as ``payload`` (as text), as it
    is (an overlong id, a NUL character in its text, which PostgreSQL cannot store), or None."""
    if isinstance(event, InteractionOpened):
        problem = id_problem(event.interaction_id)
        if problem is not None:
            return f"field 'interaction_id': {problem}"
    if event.event_id is not None:
        problem = id_problem(event.event_id)
        if problem is not None:
            return f"field 'event_id': {problem}"
    # A NUL in the event's text shows in its payload: raw, or escaped (JSON, repr).
    nul = any(mark in payload for mark in ("\x00", "\\u0000", "\\x00"))
    for name in _field_names(type(event)):
        value = getattr(event, name)
        if isinstance(value, datetime):
            try:
                value.astimezone(UTC)
            except OverflowError:
                why = "is out of range once in UTC, as the store keeps times"
                return f"field {describe(name)}: {value.isoformat()} {why}"
        elif nul:
            texts = value if isinstance(value, tuple) else (value,)
            if any(isinstance(text, str) and "\x00" in text for text in texts):
                return f"field {describe(name)}: holds a NUL character, which the store cannot keep"
    return None


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in attrs.fields(cls))
    return names


def received(payload: object) -> Received:
    """What arrived, parsed: an event, or bad input with its reason. Never raises for bad
    input (it is journaled); raises only for a payload of no kind a helpdesk sends."""
    found = _parsed(payload)
    if found.event is not None:
        problem = _unstorable(found.event, found.payload)
        if problem is not None:
            return Received(None, found.payload, problem)
    return found


def _parsed(payload: object) -> Received:
    if isinstance(payload, Event):
        return Received(payload, dump_event(payload), None, canonical=True)
    if isinstance(payload, bytes | bytearray):
        text = bytes(payload).decode("utf-8", "backslashreplace")
        try:
            event = parse_event(bytes(payload).decode("utf-8"))
        except UnicodeDecodeError:
            return Received(None, _storable(text), "field 'line': is not valid UTF-8")
        except EventError as error:
            return Received(None, _storable(text), str(error))
        return Received(event, _storable(text), None)
    if isinstance(payload, str):
        try:
            event = parse_event(payload)
        except EventError as error:
            return Received(None, _storable(payload), str(error))
        return Received(event, _storable(payload), None)
    if isinstance(payload, Mapping):
        try:
            text = json.dumps(payload, ensure_ascii=False, default=repr)
        except (TypeError, ValueError, RecursionError):
            text = repr(payload)
        try:
            event = event_from_dict(dict(payload))
        except EventError as error:
            return Received(None, _storable(text), str(error))
        return Received(event, _storable(text), None)
    raise ArgumentTypeError(
        "event", f"must be an Event, a JSON object (dict) or JSON text, got {describe(payload)}"
    )


def canonical(payload: str) -> str:
    """A journaled event's contract JSON, whatever form it arrived in."""
    try:
        return dump_event(parse_event(payload))
    except EventError:  # pragma: no cover - only events are journaled with another fate
        return payload


def findings_json(found: Sequence[Finding]) -> str:
    return compact_json([{"rule": f.rule, "severity": f.severity.value, "message": f.message} for f in found])



#: How an interaction's log is read: ``log(interaction_id, start)`` gives the
#: (position, contract JSON) of its events from ``start`` on, in order.
Log = Callable[[str, int], Iterable[tuple[int, str]]]


@attrs.frozen
class Entry:
    """A journal entry ready to write: its row and its findings' rows as the driver takes
    them (the delivery id, which the database assigns, is put in when they are written),
    and what the delivery's record holds besides that id."""

    journal: Any
    findings: tuple[Any, ...]
    record: tuple[Any, ...]
    outcome: Outcome | None


@attrs.frozen
class Judgement:
    """An event judged on ``current``, and the writes it makes, ready for the driver.

    It holds only what follows from the interaction at ``current.version``: made before
    the transaction, it is used only if the transaction finds that same interaction.
    An applied event also carries the compare-and-set of the interaction's row
    (``advance``), the log's row (``event``) and its obligations' statements, and
    ``after``, the interaction as it will then be.
    """

    current: Current
    fate: Fate
    entry: Entry
    after: Current | None = None
    advance: Any = None
    event: Any = None
    obligations: tuple[tuple[Compiled, list[Any]], ...] = ()


class Delivering:
    """What every delivery in one call shares: where it goes, how it is judged and when it arrived."""

    __slots__ = ("interaction_id", "mode", "received_at", "sql")

    def __init__(self, sql: Statements, interaction_id: str, mode: Mode, received_at: datetime) -> None:
        self.sql = sql
        self.interaction_id = interaction_id
        self.mode = mode
        self.received_at = received_at

    def judged(self, current: Current, item: Received) -> Judgement:
        """``item`` (an event) judged on ``current``, its writes prepared."""
        event = item.event
        assert event is not None
        before = current.interaction
        interaction, found, status = step(before, event, current.policy, self.mode)
        fate = _FATES[status]
        outcome = Outcome(interaction, found, status)
        if fate is not Fate.APPLIED:
            why = found[0].message if fate is Fate.INVALID and found else None
            entry = self.entry(fate, item, current.policy, outcome, error=why, owner=before.owner)
            return Judgement(current, fate, entry)
        position = current.version
        owed = open_obligations(interaction, current.policy)
        advance = self.sql.advance.parameters(
            {
                "stage": interaction.stage.value,
                "owner": interaction.owner,
                "version": position + 1,
                "last_at": event.at,
                "next_due": owed[0].due if owed else None,
                "at_interaction": self.interaction_id,
                "at_version": position,
            }
        )
        return Judgement(
            current,
            fate,
            self.entry(fate, item, current.policy, outcome, position=position, owner=before.owner),
            Current(position + 1, interaction, current.policy, owed),
            advance,
            self.event_row(event, item.contract, findings_json(found), position),
            self.obligation_writes(owed, before=current.obligations),
        )

    def entry(
        self,
        fate: Fate,
        item: Received,
        policy: Policy | None,
        outcome: Outcome | None,
        *,
        position: int | None = None,
        error: str | None = None,
        owner: str | None = None,
    ) -> Entry:
        """The journal's entry for ``item``, whose fate is ``fate``."""
        event = item.event if fate is not Fate.BAD_INPUT else None
        found = outcome.findings if outcome is not None else ()
        text = None if error is None else one_line(error, 1000)
        interaction_id = self.interaction_id
        journal = self.sql.journal.parameters(
            {
                "interaction_id": interaction_id,
                "received_at": self.received_at,
                "fate": fate.value,
                "mode": self.mode.value,
                "policy": None if policy is None else policy.name,
                "event_type": None if event is None else event.type,
                "event_id": None if event is None else event.event_id,
                "at": None if event is None else event.at,
                "position": position,
                "payload": item.payload,
                "error": text,
            }
        )
        rows: tuple[Any, ...] = ()
        if found:
            assert event is not None
            assert owner is not None
            rows = tuple(
                self.sql.findings.parameters(
                    {
                        "delivery_id": 0,
                        "seq": seq,
                        "interaction_id": interaction_id,
                        "fate": fate.value,
                        "position": position,
                        "at": event.at,
                        "rule": finding.rule,
                        "severity": finding.severity.value,
                        "message": finding.message,
                        "event_type": finding.event_type,
                        "owner": owner,
                    }
                )
                for seq, finding in enumerate(found)
            )
        record = (
            interaction_id,
            self.received_at,
            fate,
            self.mode,
            None if policy is None else policy.name,
            None if event is None else event.type,
            None if event is None else event.event_id,
            None if event is None else event.at,
            position,
            item.payload,
            text,
            found,
        )
        return Entry(journal, rows, record, outcome)

    def event_row(self, event: Event, text: str, findings: str, position: int) -> Any:
        """The log's row for ``event``, applied at ``position``: ``text`` is its contract
        JSON, ``findings`` its findings' JSON (the delivery id put in when written)."""
        return self.sql.event.parameters(
            {
                "interaction_id": self.interaction_id,
                "position": position,
                "event_id": event.event_id,
                "type": event.type,
                "at": event.at,
                "event": text,
                "findings": findings,
                "delivery_id": 0,
            }
        )

    def obligation_writes(
        self, owed: Sequence[Obligation], before: Sequence[Obligation] = ()
    ) -> tuple[tuple[Compiled, list[Any]], ...]:
        """The statements that turn the interaction's obligation rows from ``before`` (what
        the database holds) into ``owed``, each with its rows of parameters.

        Nothing when nothing changed. When the same kinds are owed as before (a deadline
        moved: a progress report restarts the clock), only the rows that changed are
        updated; otherwise the rows there are deleted and ``owed`` inserted.
        """
        sql, interaction_id = self.sql, self.interaction_id
        if tuple(owed) == tuple(before):
            return ()
        previous = {item.kind: item for item in before}
        if previous.keys() == {item.kind for item in owed}:
            moved = [
                sql.move_obligation.parameters(
                    {
                        "opened_at": item.opened_at,
                        "due": item.due,
                        "at_interaction": interaction_id,
                        "at_kind": item.kind.value,
                    }
                )
                for item in owed
                if previous[item.kind] != item
            ]
            return ((sql.move_obligation, moved),) if moved else ()
        writes: list[tuple[Compiled, list[Any]]] = []
        if before:
            clear = sql.clear_obligations.parameters({"interaction_id": interaction_id})
            writes.append((sql.clear_obligations, [clear]))
        if owed:
            rows = [
                sql.obligations.parameters(
                    {
                        "interaction_id": interaction_id,
                        "kind": item.kind.value,
                        "opened_at": item.opened_at,
                        "due": item.due,
                    }
                )
                for item in owed
            ]
            writes.append((sql.obligations, rows))
        return tuple(writes)


class Run:
    """Deliveries to one interaction inside one write transaction, at the driver's ``cursor``."""

    def __init__(
        self,
        store: Store,
        cursor: Any,
        delivering: Delivering,
        policy: Policy | None,
        *,
        held: Current | None = None,
    ) -> None:
        self.store = store
        self.cursor = cursor
        self.delivering = delivering
        self.sql = delivering.sql
        self.interaction_id = delivering.interaction_id
        self.policy = policy
        self.current: Current | None = None
        self.loaded = False
        #: On SQLite, whose whole database ``BEGIN IMMEDIATE`` has locked, the interaction
        #: this process held when it judged the event, taken without reading its row: the
        #: compare-and-set ``UPDATE`` checks its version, and if another process moved it
        #: on, the delivery is judged again on the row (one statement fewer per delivery).
        #: None once checked, or when the row is to be read.
        self.held = held

    def _load(self) -> Current | None:
        """The interaction, its row locked for this transaction (PostgreSQL; SQLite's whole
        database is already locked by ``BEGIN IMMEDIATE``). On SQLite, the one this process
        held, unread and unchecked (see ``held``)."""
        if self.loaded:
            return self.current
        current: Current | None = self.held
        if current is None:
            row = self.sql.load.first(self.cursor, {"interaction_id": self.interaction_id})
            current = None if row is None else self.store._current(self._log, self.interaction_id, row)
        self.loaded = True
        if current is not None:
            if self.policy is not None and self.policy is not current.policy:
                raise PolicyError(
                    f"interaction {describe(self.interaction_id)} was opened under policy "
                    f"{describe(current.policy.name)}: "
                    f"delivering to it under {describe(self.policy.name)} is refused"
                )
            self.current = current
        return self.current

    def _log(self, interaction_id: str, start: int) -> list[tuple[int, str]]:
        values = {"interaction_id": interaction_id, "start": start}
        rows: list[tuple[int, str]] = self.sql.log_from.run(self.cursor, values).fetchall()
        return rows

    def already_delivered(self, items: list[Received]) -> int:
        """How many of ``items`` the journal already has for this interaction, in order.

        Events are compared as contract JSON, whatever form they were delivered in (an
        event, its JSON text or object); deliveries that were not events (bad input)
        are passed over.
        """
        self._load()
        rows = self.sql.journaled.run(self.cursor, {"interaction_id": self.interaction_id}).fetchall()
        journal = [canonical(payload) for (payload,) in rows]
        given = [item.contract if item.event is not None else item.payload for item in items]
        shared = min(len(journal), len(given))
        if journal[:shared] != given[:shared]:
            position = next(i for i in range(shared) if journal[i] != given[i])
            raise JournalConflict(
                f"interaction {describe(self.interaction_id)} was delivered other events before: "
                f"its transcript differs from the store's journal at event #{position}"
            )
        return shared

    def one(self, item: Received, prejudged: Judgement | None = None) -> tuple[Delivery, Current | None]:
        """Deliver ``item``; ``prejudged`` is its judgement on the interaction this process
        held before the transaction, used if that is the one the transaction finds."""
        event = item.event
        delivering = self.delivering
        if event is None:
            return self._write(delivering.entry(Fate.BAD_INPUT, item, None, None, error=item.error)), None
        if isinstance(event, InteractionOpened) and event.interaction_id != self.interaction_id:
            error = (
                f"interaction_id: the event is for interaction {describe(event.interaction_id)}, "
                f"not {describe(self.interaction_id)}"
            )
            return self._write(delivering.entry(Fate.BAD_INPUT, item, None, None, error=error)), None
        current = self._load()
        if current is None:
            if not isinstance(event, InteractionOpened):
                error = (
                    f"interaction {describe(self.interaction_id)} is not open: its first event must be "
                    f"interaction_opened, not {event.type}"
                )
                return self._write(delivering.entry(Fate.INVALID, item, None, None, error=error)), None
            return self._open(item, event)
        judgement = prejudged
        if judgement is None or judgement.current is not current:
            judgement = delivering.judged(current, item)
        if judgement.fate is not Fate.APPLIED:
            if self.held is not None:  # judged on the held interaction: judge it on the row
                return self._reread(item, judgement)
            return self._write(judgement.entry), None
        cursor = self.cursor
        if self.sql.advance.rowcount(cursor, judgement.advance) != 1:
            if self.held is not None:  # the held interaction was not the current one
                return self._reread(item, judgement)
            raise StoreError(f"interaction {describe(self.interaction_id)} changed under a locked delivery")
        self.held = None
        delivery = self._write(judgement.entry)
        self._log_row(judgement.event, delivery)
        for statement, rows in judgement.obligations:
            statement.execute_many(cursor, rows)
        self.current = judgement.after
        return delivery, self.current

    def _reread(self, item: Received, judgement: Judgement) -> tuple[Delivery, Current | None]:
        """Judge ``item`` again on the interaction's row (nothing was written yet); the
        judgement made on the held interaction stands if reading the row gives back that
        same held interaction (it is still at its version)."""
        self.held = self.current = None
        self.loaded = False
        return self.one(item, judgement)

    def _open(self, item: Received, event: InteractionOpened) -> tuple[Delivery, Current]:
        policy = self.policy or self.store._policy
        interaction = open_interaction(event, policy)
        owed = open_obligations(interaction, policy)
        self.sql.open.run(
            self.cursor,
            {
                "interaction_id": self.interaction_id,
                "policy": policy.name,
                "params": compact_json(policy.params.to_json()),
                "stage": interaction.stage.value,
                "owner": interaction.owner,
                "version": 1,
                "customer_name": interaction.customer_name,
                "opened_at": event.at,
                "last_at": event.at,
                "next_due": owed[0].due if owed else None,
            },
        )
        delivering = self.delivering
        outcome = Outcome(interaction, (), Status.APPLIED)
        entry = delivering.entry(Fate.APPLIED, item, policy, outcome, position=0, owner=interaction.owner)
        delivery = self._write(entry)
        self._log_row(delivering.event_row(event, item.contract, findings_json(()), 0), delivery)
        for statement, rows in delivering.obligation_writes(owed):
            statement.execute_many(self.cursor, rows)
        self.current = Current(1, interaction, policy, owed)
        return delivery, self.current

    def _write(self, entry: Entry) -> Delivery:
        """Journal ``entry`` (and its findings): the delivery, with the id the database gave it."""
        sql, cursor = self.sql, self.cursor
        delivery_id = sql.journal.inserted(cursor, entry.journal)
        if entry.findings:
            keyed = sql.findings.keyed
            rows = [keyed(row, "delivery_id", delivery_id) for row in entry.findings]
            sql.findings.execute_many(cursor, rows)
        return Delivery(entry.outcome, DeliveryRecord(delivery_id, *entry.record))

    def _log_row(self, row: Any, delivery: Delivery) -> None:
        """Write the log's ``row`` (see :meth:`Delivering.event_row`), applied by ``delivery``."""
        event = self.sql.event
        event.execute(self.cursor, event.keyed(row, "delivery_id", delivery.record.delivery_id))
