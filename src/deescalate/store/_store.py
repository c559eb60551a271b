"""The store: interactions kept in a database, one row per event, every delivery journaled."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._apply import (
    Mode,
    Status,
    checked_event,
    checked_mode,
    open_interaction,
    step,
)
from .._codec import parse_event
from .._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    EventError,
    PolicyError,
    describe,
    one_line,
)
from .._events import Event, InteractionOpened
from .._findings import Finding, Severity
from .._interaction import Interaction
from .._obligations import Obligation, ObligationKind, checked_now, open_obligations
from .._policy import BUILTIN_POLICIES, Policy
from .._stages import Stage
from . import _delivery, _driver, _engine, _statements
from ._delivery import ID_LIMIT, Current, Received, checked_id, id_problem, received
from ._errors import StoreError, UnknownInteraction
from ._records import Delivery, DeliveryRecord, DueObligation, Fate, StoredFinding, StoredInteraction
from ._schema import deliveries as _deliveries
from ._schema import findings as _findings
from ._schema import interactions as _interactions
from ._schema import obligations as _obligations

#: A payload as a helpdesk sends it: an event, its JSON object, or its JSON text.
Payload = Event | Mapping[str, Any] | str | bytes

#: How many interactions a store keeps in memory, most recently used first.
CACHE_SIZE = 4096


def _registry(policies: object) -> dict[str, Policy]:
    found = dict(BUILTIN_POLICIES)
    if policies is None:
        return found
    if isinstance(policies, Policy | str | bytes):
        raise ArgumentTypeError(
            "policies", f"must be policies (a list, or a dict by name), got {describe(policies)}"
        )
    if isinstance(policies, Mapping):
        for name, policy in policies.items():
            if not isinstance(policy, Policy):
                raise ArgumentTypeError(
                    f"policies[{describe(name)}]", f"must be a Policy, got {describe(policy)}"
                )
            if name != policy.name:
                raise ArgumentValueError(
                    f"policies[{describe(name)}]",
                    f"is policy {describe(policy.name)}: a policy is registered by its own name",
                )
            found[name] = policy
        return found
    if not isinstance(policies, Iterable):
        raise ArgumentTypeError(
            "policies", f"must be policies (a list, or a dict by name), got {describe(policies)}"
        )
    for index, policy in enumerate(policies):
        if not isinstance(policy, Policy):
            raise ArgumentTypeError(f"policies[{index}]", f"must be a Policy, got {describe(policy)}")
        found[policy.name] = policy
    return found


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Interactions kept in a database: delivered to, queried, and never lost.

    ``url`` is any SQLAlchemy URL of SQLite or PostgreSQL: ``"sqlite:///complaints.db"``
    (a file, the embedded default), ``"postgresql+psycopg://user@host/db"`` (a fleet of
    workers sharing one database), or None for an in-memory database (tests). The schema
    is created on first use.

    ``policies`` are the policies interactions may be opened under, found by name (the
    built-in ones are always there); ``policy`` is the one an interaction is opened under
    when its delivery names none; ``mode`` is how deliveries are judged unless they say
    (strict: an event with a violation is refused). ``clock`` stamps each delivery's
    ``received_at``; it is the only clock the store reads. With ``create=False`` a
    database holding no store raises :class:`StoreError` instead of getting one (a
    reader pointed at the wrong database must not create an empty store there).

    A store is safe to share between threads, and any number of processes may open the
    same database: deliveries to one interaction are serialised by the database.
    """

    def __init__(
        self,
        url: str | sa.URL | None = None,
        *,
        policies: Iterable[Policy] | Mapping[str, Policy] | None = None,
        policy: Policy | str = "facts-first",
        mode: Mode | str = Mode.STRICT,
        clock: Callable[[], datetime] = _utc_now,
        cache_size: int = CACHE_SIZE,
        create: bool = True,
    ) -> None:
        self._url = _engine.url_of(url)
        self._policies = _registry(policies)
        #: (name, parameters as recorded) pairs already checked against the registry.
        self._recorded: dict[tuple[str, str], Policy] = {}
        self._policy = self._policy_named(policy, "policy")
        self._mode = checked_mode(mode)
        if not callable(clock):
            raise ArgumentTypeError("clock", f"must be a function returning the time, got {describe(clock)}")
        self._clock = clock
        if type(cache_size) is not int or cache_size < 0:
            raise ArgumentValueError(
                "cache_size", f"must be a whole number, 0 or more, got {describe(cache_size)}"
            )
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Current] = OrderedDict()
        self._lock = threading.Lock()
        backend, database = self._url.get_backend_name(), self._url.database
        self._memory = backend == "sqlite" and database in (None, "", ":memory:")
        #: The in-memory database is one connection: its users take turns.
        self._turn = threading.RLock()
        self.engine: Engine = _engine.create(self._url)
        """The SQLAlchemy engine, for queries of your own (reports, dashboards)."""
        self._sql = _statements.Statements(self.engine.dialect)
        self._writing = functools.partial(_driver.writing, keep=self._memory)
        with self._turn:
            self.schema_version = _engine.prepare(self.engine, self._url, create=create is not False)
            """The schema version the database is at."""

    # -- the policy registry -------------------------------------------------------------

    @property
    def policies(self) -> Mapping[str, Policy]:
        """The policies interactions may be opened under, by name."""
        return dict(self._policies)

    def _policy_named(self, policy: object, argument: str) -> Policy:
        if isinstance(policy, Policy):
            known = self._policies.get(policy.name)
            if known is None:
                raise PolicyError(
                    f"policy {describe(policy.name)} is not in this store's registry: "
                    "pass it in Store(policies=[...])"
                )
            if known != policy:
                raise PolicyError(
                    f"policy {describe(policy.name)} differs from the one of that name "
                    "in this store's registry"
                )
            return known
        if isinstance(policy, str):
            known = self._policies.get(policy)
            if known is None:
                names = ", ".join(sorted(self._policies))
                raise PolicyError(f"no policy {describe(policy)} in this store's registry (it has: {names})")
            return known
        raise ArgumentTypeError(argument, f"must be a Policy or a policy's name, got {describe(policy)}")

    def _recorded_policy(self, interaction_id: str, name: str, params: str) -> Policy:
        """The registry's policy ``name``, which must still have the parameters recorded."""
        known = self._recorded.get((name, params))
        if known is not None:
            return known  # checked before: the registry does not change
        policy = self._policies.get(name)
        if policy is None:
            raise PolicyError(
                f"interaction {describe(interaction_id)} was opened under policy {describe(name)}, "
                "which this store's registry lacks: pass it in Store(policies=[...])"
            )
        if json.loads(params) != policy.params.to_json():
            raise PolicyError(
                f"policy {describe(name)} has changed since interaction {describe(interaction_id)} "
                "was opened under it "
                f"(its parameters then: {params}): an interaction is judged under one policy throughout"
            )
        self._recorded[name, params] = policy
        return policy

    # -- delivering ----------------------------------------------------------------------

    def deliver(
        self,
        interaction_id: str,
        event: Payload,
        *,
        mode: Mode | str | None = None,
        policy: Policy | str | None = None,
    ) -> Delivery:
        """Deliver one event to an interaction, as a helpdesk webhook does; every delivery is journaled.

        ``event`` is an :class:`~deescalate.Event`, its JSON object or its JSON text.
        What became of it is the returned :class:`Delivery`'s ``fate``: applied,
        refused (strict mode, a violation), invalid (not possible at its stage, or for
        an interaction not opened yet), duplicate (its ``event_id`` was applied),
        late (earlier than the last applied event) or bad input (not an event, or an
        event of another interaction; the payload is kept as received).

        ``interaction_opened`` opens the interaction under ``policy`` (or the store's
        default); later deliveries may name no policy or the same one, anything else
        raises :class:`~deescalate.PolicyError` and writes nothing. Delivering is
        atomic: the event, its findings, the journal and the interaction's row are
        written together, or (if the process dies) not at all.
        """
        return self._deliver(interaction_id, [received(event)], mode, policy)[0]

    def ingest(
        self,
        events: Iterable[Event],
        *,
        mode: Mode | str | None = None,
        policy: Policy | str | None = None,
    ) -> list[Delivery]:
        """Deliver a whole transcript of one interaction in one transaction, idempotently.

        The events the journal already holds for the interaction, in the same order,
        are skipped: ingesting a transcript twice changes nothing, and ingesting it
        again after it grew delivers only the new events. A transcript that differs
        from what was delivered before raises :class:`StoreError` and writes nothing.
        Returns the deliveries made (none when nothing was new).
        """
        if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
            raise ArgumentTypeError("events", f"must be an iterable of events, got {describe(events)}")
        items = [received(checked_event(item, f"events[{index}]")) for index, item in enumerate(events)]
        if not items:
            return []
        first = items[0].event
        if not isinstance(first, InteractionOpened):
            raise EventError("type", "a transcript starts with interaction_opened")
        interaction_id = first.interaction_id
        return self._deliver(interaction_id, items, mode, policy, resume=True)

    def _deliver(
        self,
        interaction_id: str,
        items: list[Received],
        mode: object,
        policy: object,
        resume: bool = False,
    ) -> list[Delivery]:
        interaction_id = checked_id(interaction_id, "interaction_id")
        chosen = self._mode if mode is None else checked_mode(mode)
        named = None if policy is None else self._policy_named(policy, "policy")
        received_at = checked_now(self._clock(), "clock()")

        # One event to an interaction this process holds is judged before the transaction,
        # so the database's lock is held for writing only; the judgement is used if the
        # interaction is still the one held when the transaction reads (or, on SQLite,
        # compare-and-sets) it, and made again on what it reads otherwise.
        delivering = _delivery.Delivering(self._sql, interaction_id, chosen, received_at)
        prejudged = None if resume else self._prejudged(delivering, items[0], named)
        held = prejudged.current if prejudged is not None and self._sql.sqlite else None

        def work(cursor: Any) -> list[tuple[Delivery, Current | None]]:
            run = _delivery.Run(self, cursor, delivering, named, held=held)
            if resume:
                skip = run.already_delivered(items)
                return [run.one(item) for item in items[skip:]]
            [item] = items  # a webhook's delivery: one event
            return [run.one(item, prejudged)]

        with self._turn if self._memory else _NO_LOCK:
            try:
                results = _engine.retried(
                    self.engine, work, f"cannot deliver to {describe(interaction_id)}", self._writing
                )
            except StoreError:
                self._forget(interaction_id)
                raise
        current = next((state for _, state in reversed(results) if state is not None), None)
        if current is not None:
            self._remember(interaction_id, current)
        return [delivery for delivery, _ in results]

    def _prejudged(
        self, delivering: _delivery.Delivering, item: Received, policy: Policy | None
    ) -> _delivery.Judgement | None:
        """``item`` judged on the interaction this process holds, if it holds it (and under
        the policy the delivery names, if any)."""
        event = item.event
        if event is None or isinstance(event, InteractionOpened):
            return None
        held = self._cached(delivering.interaction_id)
        if held is None or (policy is not None and policy is not held.policy):
            return None
        return delivering.judged(held, item)

    # -- the cache of current interactions ----------------------------------------------

    def _cached(self, interaction_id: str) -> Current | None:
        with self._lock:
            found = self._cache.get(interaction_id)
            if found is not None:
                self._cache.move_to_end(interaction_id)
            return found

    def _remember(self, interaction_id: str, current: Current) -> None:
        if not self._cache_size:
            return
        with self._lock:
            known = self._cache.get(interaction_id)
            if known is None or known.version <= current.version:
                self._cache[interaction_id] = current
                self._cache.move_to_end(interaction_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _forget(self, interaction_id: str) -> None:
        with self._lock:
            self._cache.pop(interaction_id, None)

    def _current(self, log: _delivery.Log, interaction_id: str, row: Sequence[Any]) -> Current:
        """The interaction at its row's version (``row`` is the version, the policy's name
        and its parameters, as :data:`._statements.LOAD` reads them): the cached one,
        caught up from the log if another worker moved it on, or (first sight) replayed
        from its events, which ``log(interaction_id, start)`` reads (position and
        contract JSON, in order)."""
        version, name, params = row
        policy = self._recorded_policy(interaction_id, name, params)
        cached = self._cached(interaction_id)
        if cached is not None and cached.version == version and cached.policy is policy:
            return cached
        if cached is None or cached.version > version or cached.policy is not policy:
            interaction, start = None, 0
        else:
            interaction, start = cached.interaction, cached.version
        for position, text in log(interaction_id, start):
            event = parse_event(text)
            if interaction is None:
                if position != 0 or not isinstance(event, InteractionOpened):
                    raise StoreError(
                        f"interaction {describe(interaction_id)}: "
                        "its log does not start with interaction_opened"
                    )
                interaction = open_interaction(event, policy)
                continue
            interaction, _, status = step(interaction, event, policy, Mode.ADVISORY)
            if status is not Status.APPLIED or len(interaction.history) != position + 1:
                raise StoreError(
                    f"interaction {describe(interaction_id)}: "
                    f"its event at position {position} does not replay "
                    f"({status.value}): the log was changed outside the store"
                )
        held = 0 if interaction is None else len(interaction.history)
        if interaction is None or held != version:
            raise StoreError(
                f"interaction {describe(interaction_id)}: its log holds {held} "
                f"events, its row says {version}: the log was changed outside the store"
            )
        current = Current(version, interaction, policy, open_obligations(interaction, policy))
        self._remember(interaction_id, current)
        return current

    # -- queries -------------------------------------------------------------------------

    def get(self, interaction_id: str) -> Interaction:
        """The interaction as it is now: equal to replaying its events under its policy.

        Raises :class:`UnknownInteraction` when the store has none of that id.
        """
        return self._read_current(interaction_id).interaction

    def policy_of(self, interaction_id: str) -> Policy:
        """The policy ``interaction_id`` was opened under (from the registry)."""
        return self._read_current(interaction_id).policy

    def _read_current(self, interaction_id: str) -> Current:
        interaction_id = checked_id(interaction_id, "interaction_id")
        with self._reading() as connection:
            row = connection.execute(_statements.LOAD, {"interaction_id": interaction_id}).first()
            if row is None:
                raise UnknownInteraction(interaction_id)

            def log(interaction_id: str, start: int) -> Any:
                values = {"interaction_id": interaction_id, "start": start}
                return connection.execute(_statements.LOG_FROM, values)

            return self._current(log, interaction_id, row)

    def events(self, interaction_id: str) -> tuple[Event, ...]:
        """The events applied to ``interaction_id``, in order: its history."""
        return tuple(self.get(interaction_id).history)

    def interaction(self, interaction_id: str) -> StoredInteraction:
        """The current-state row of ``interaction_id``."""
        interaction_id = checked_id(interaction_id, "interaction_id")
        found = self._rows(
            sa.select(*_SUMMARY).where(_interactions.c.interaction_id == interaction_id), _summary
        )
        if not found:
            raise UnknownInteraction(interaction_id)
        summary: StoredInteraction = found[0]
        return summary

    def interactions(
        self,
        *,
        stage: Stage | str | None = None,
        owner: str | None = None,
        policy: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[StoredInteraction]:
        """The interactions' current-state rows, by id; only those at ``stage``, with ``owner``
        or opened under ``policy`` when given. Page through many with ``limit`` and
        ``after`` (the last id of the page before)."""
        query = sa.select(*_SUMMARY).order_by(_interactions.c.interaction_id)
        if after is not None:
            query = query.where(_interactions.c.interaction_id > _text("after", after))
        if stage is not None:
            if not isinstance(stage, str):
                raise ArgumentTypeError("stage", f"must be a Stage, got {describe(stage)}")
            try:
                stage = Stage(stage)
            except ValueError:
                raise ArgumentValueError("stage", f"is not a stage: {describe(stage)}") from None
            query = query.where(_interactions.c.stage == stage.value)
        if owner is not None:
            query = query.where(_interactions.c.owner == _text("owner", owner))
        if policy is not None:
            query = query.where(_interactions.c.policy == _text("policy", policy))
        return self._rows(_limited(query, limit), _summary)

    def due(self, at: datetime, *, limit: int | None = None) -> list[DueObligation]:
        """The obligations due or overdue at ``at`` across all interactions, soonest first.

        The scheduler's question: it reads the obligations' index on their due time,
        so it costs what it finds, not the size of the store. ``at`` is the caller's
        time (timezone-aware); "due" means a deadline at ``at`` or earlier.
        """
        at = checked_now(at, "at")
        query = (
            sa.select(
                _obligations.c.interaction_id,
                _obligations.c.kind,
                _obligations.c.opened_at,
                _obligations.c.due,
                _interactions.c.owner,
            )
            .join(_interactions, _interactions.c.interaction_id == _obligations.c.interaction_id)
            .where(_obligations.c.due <= at)
            .order_by(_obligations.c.due, _obligations.c.interaction_id, _obligations.c.kind)
        )

        def made(row: Any) -> DueObligation:
            obligation = Obligation(ObligationKind(row.kind), row.opened_at, row.due)
            return DueObligation(row.interaction_id, obligation, row.due < at, row.owner)

        return self._rows(_limited(query, limit), made)

    def findings(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        interaction_id: str | None = None,
        rule: str | None = None,
        fate: Fate | str | None = None,
        limit: int | None = None,
    ) -> list[StoredFinding]:
        """The findings of events whose time is in ``[since, until)``, oldest first: of applied
        events, and of refused and invalid ones (``fate``), for coaching."""
        table = _findings
        query = sa.select(table).order_by(table.c.at, table.c.delivery_id, table.c.seq)
        query = _between(query, table.c.at, since, until)
        if interaction_id is not None:
            query = query.where(table.c.interaction_id == _text("interaction_id", interaction_id))
        if rule is not None:
            query = query.where(table.c.rule == _text("rule", rule))
        if fate is not None:
            query = query.where(table.c.fate == _fate(fate).value)

        def made(row: Any) -> StoredFinding:
            finding = Finding(row.rule, Severity(row.severity), row.message, row.event_type)
            return StoredFinding(
                row.delivery_id, row.interaction_id, Fate(row.fate), row.position, row.at, row.owner, finding
            )

        return self._rows(_limited(query, limit), made)

    def deliveries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        interaction_id: str | None = None,
        fate: Fate | str | None = None,
        limit: int | None = None,
        after: int | None = None,
    ) -> list[DeliveryRecord]:
        """The journal: deliveries received in ``[since, until)`` (the store's clock), in the
        order received; of one interaction, or of one ``fate``, when given. Page through
        many with ``limit`` and ``after`` (the last ``delivery_id`` of the page before)."""
        table = _deliveries
        query = sa.select(table).order_by(table.c.delivery_id)
        if after is not None:
            if type(after) is not int or not 0 <= after < 2**62:
                raise ArgumentValueError("after", f"must be a delivery_id, got {describe(after)}")
            query = query.where(table.c.delivery_id > after)
        query = _between(query, table.c.received_at, since, until)
        if interaction_id is not None:
            query = query.where(table.c.interaction_id == _text("interaction_id", interaction_id))
        if fate is not None:
            query = query.where(table.c.fate == _fate(fate).value)
        records = self._rows(_limited(query, limit), lambda row: row)
        if not records:
            return []
        found: dict[int, list[Finding]] = {}
        ids = [row.delivery_id for row in records]
        with self._reading() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = (
                    sa.select(_findings)
                    .where(_findings.c.delivery_id.in_(chunk))
                    .order_by(_findings.c.delivery_id, _findings.c.seq)
                )
                for row in connection.execute(query):
                    found.setdefault(row.delivery_id, []).append(
                        Finding(row.rule, Severity(row.severity), row.message, row.event_type)
                    )
        return [_record(row, tuple(found.get(row.delivery_id, ()))) for row in records]

    # -- plumbing ------------------------------------------------------------------------

    def _reading(self) -> Any:
        return _Reading(self)

    def _rows(self, query: Any, made: Callable[[Any], Any]) -> list[Any]:
        with self._reading() as connection:
            return [made(row) for row in connection.execute(query)]

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {_engine.shown(self._url)}>"


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


_NO_LOCK = _NoLock()


class _Reading:
    """A read transaction (and, in memory, the store's turn); database errors become StoreError."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Connection:
        store = self._store
        try:
            if store._memory:
                self._stack.enter_context(store._turn)
            connection = self._stack.enter_context(store.engine.connect())
            self._stack.enter_context(connection.begin())
            return connection
        except sa.exc.DBAPIError as error:
            self._stack.close()
            raise StoreError(f"cannot read the store: {one_line(str(error.orig), 300)}") from None
        except BaseException:
            self._stack.close()
            raise

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if isinstance(error, sa.exc.DBAPIError):
            self._stack.close()
            raise StoreError(f"cannot read the store: {one_line(str(error.orig), 300)}") from None
        self._stack.__exit__(kind, error, trace)


_SUMMARY = (
    _interactions.c.interaction_id,
    _interactions.c.policy,
    _interactions.c.stage,
    _interactions.c.owner,
    _interactions.c.version,
    _interactions.c.customer_name,
    _interactions.c.opened_at,
    _interactions.c.last_at,
    _interactions.c.next_due,
)


def _summary(row: Any) -> StoredInteraction:
    return StoredInteraction(
        row.interaction_id,
        row.policy,
        Stage(row.stage),
        row.owner,
        row.version,
        row.customer_name,
        row.opened_at,
        row.last_at,
        row.next_due,
    )


def _record(row: Any, found: tuple[Finding, ...]) -> DeliveryRecord:
    return DeliveryRecord(
        row.delivery_id,
        row.interaction_id,
        row.received_at,
        Fate(row.fate),
        Mode(row.mode),
        row.policy,
        row.event_type,
        row.event_id,
        row.at,
        row.position,
        row.payload,
        row.error,
        found,
    )


def _text(argument: str, value: object) -> str:
    """A string to compare a column with: any a database can take (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise ArgumentTypeError(argument, f"must be a string, got {describe(value)}")
    problem = id_problem(value) if value and len(value) <= ID_LIMIT else None
    if problem is not None or "\x00" in value or not _encodable(value):
        raise ArgumentValueError(argument, problem or "holds a NUL character or a lone surrogate")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fate(value: object) -> Fate:
    if not isinstance(value, str):
        raise ArgumentTypeError("fate", f"must be a Fate, got {describe(value)}")
    try:
        return Fate(value)
    except ValueError:
        names = ", ".join(fate.value for fate in Fate)
        raise ArgumentValueError("fate", f"must be one of {names}, got {describe(value)}") from None


def _limited(query: Any, limit: object) -> Any:
    if limit is None:
        return query
    if type(limit) is not int or not 0 <= limit < 2**62:
        raise ArgumentValueError("limit", f"must be a whole number, 0 or more, got {describe(limit)}")
    return query.limit(limit)


def _between(query: Any, column: Any, since: object, until: object) -> Any:
    if since is not None:
        query = query.where(column >= checked_now(since, "since"))
    if until is not None:
        query = query.where(column < checked_now(until, "until"))
    return query
