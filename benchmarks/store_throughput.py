"""Deliveries through ``deescalate.store``, beside the raw driver running the same statements.

Each backend (a SQLite file in WAL mode; PostgreSQL through psycopg 3) is measured in
worker processes started for the purpose, each with its own :class:`Store` and its own
raw connection to the same database:

* **Throughput.** A worker delivers whole interactions, one webhook call per event:
  ``benchmarks/_transcripts.clean_14`` (14 events, an interaction opened, judged, its
  remedy agreed and followed up), each event a JSON object (a ``dict``, as a web
  framework hands a handler the request body), each interaction its own id. From one
  process, and from two at once (each to interactions of its own): deliveries per
  second, wall time, from the first delivery to the last one committed.
* **The raw-SQL floor**, in the same rounds: the statements the store ran for the same
  deliveries, recorded from a store when the worker starts (its engine's connections
  hand out a recording cursor) -- on SQLite ``BEGIN IMMEDIATE``, on PostgreSQL
  ``SELECT ... FOR UPDATE``; the journal's ``INSERT``, the event's ``INSERT``, the
  compare-and-set ``UPDATE``, the obligations' rows when they change; ``COMMIT`` --
  run again with the raw driver (``sqlite3`` with the store's PRAGMAs; psycopg 3) on
  parameters precomputed: the database's own cost and the driver's, without deescalate
  or SQLAlchemy. (The store's PostgreSQL pool also pings a connection when it hands
  it out, ``pool_pre_ping``: one round trip the floor does not make.)
* **Length.** One delivery (a progress report) into an interaction already 15 events
  in, and into one 1,500 events in, with a warm store (it holds the interaction, as it
  does once it has seen it); and cold, from a store that keeps nothing in memory
  (``cache_size=0``), like a process seeing the interaction for the first time: it
  replays the interaction's log once. The long interactions take one more event each
  round (they stay within 2% of 1,500); each short one is fresh, exactly 15 in.

Times are wall-clock (``time.perf_counter``): the database's work (for PostgreSQL, in
its own server processes) and the waits for its locks are part of a delivery. Rounds of
the store and the floor alternate; each figure is the median round. The PostgreSQL
server is the one named by ``DEESCALATE_TEST_POSTGRES_URL``, or a throwaway cluster
started with ``tools/postgres.sh``; either way a fresh database is created for the run
and dropped after it.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import attrs

from ._timing import Effort
from ._transcripts import clean_14, example, long_transcript

ENVIRONMENT = "DEESCALATE_TEST_POSTGRES_URL"
ROOT = Path(__file__).resolve().parent.parent

#: How many events the long interaction of the length rows holds.
LONG = 1_500
#: How many events the short one holds.
SHORT = 15


@attrs.frozen
class Throughput:
    """Deliveries per second through the store and through the raw-SQL floor."""

    store: float
    floor: float
    processes: int


@attrs.frozen
class Lengths:
    """Microseconds per delivery into an interaction ``SHORT`` and ``LONG`` events in."""

    warm_short: float
    warm_long: float
    cold_short: float
    cold_long: float


@attrs.frozen
class BackendCost:
    """One backend's rows, or why it was skipped."""

    name: str
    skipped: str | None = None
    one: Throughput | None = None
    two: Throughput | None = None
    lengths: Lengths | None = None


# -- the workers ------------------------------------------------------------------------


@attrs.frozen
class _Step:
    """One statement of the floor: how to run it, its SQL, its parameters.

    ``how`` is ``begin`` (SQLite's ``BEGIN IMMEDIATE``), ``exec``, ``many``
    (``executemany``), ``select`` (fetch the row), ``journal`` (the journal's INSERT:
    keep the new delivery id) or ``update`` (the compare-and-set: one row, or fail).
    ``slot`` is where the delivery id goes in the parameters (an index or a key), for
    the statements that carry it.
    """

    how: str
    sql: str
    parameters: Any
    slot: int | str | None = None


def _transcript(interaction_id: str) -> list[dict[str, Any]]:
    """clean_14 as interaction ``interaction_id``, each event a JSON object as a webhook's body."""
    return [json.loads(_renamed(line, interaction_id)) for line in clean_14()]


def _renamed(line: str, interaction_id: str) -> str:
    """A line of the example transcripts (interaction T-1001) as one of ``interaction_id``."""
    return line.replace('"T-1001"', json.dumps(interaction_id))


def _columns(sql: str) -> list[str]:
    found = re.match(r"INSERT INTO \w+ \(([^)]*)\)", sql)
    assert found is not None, sql
    return [name.strip() for name in found.group(1).split(",")]


def _substituted(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {key: _substituted(item, old, new) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_substituted(item, old, new) for item in value)
    return value


class _Worker:
    """One process's store and raw connection to the same database."""

    def __init__(self, url: str, index: int) -> None:
        import sqlalchemy as sa

        from deescalate.store import Store

        self.url = url
        self.index = index
        self.backend = sa.make_url(url).get_backend_name()
        self.store = Store(url)
        self.raw = self._connect()
        self.plan = self._recorded()
        self.lengths: _LengthRun | None = None

    def _connect(self) -> Any:
        import sqlalchemy as sa

        parsed = sa.make_url(self.url)
        if self.backend == "sqlite":
            # As the store's engine opens a file: the driver's transactions off, the same PRAGMAs.
            raw = sqlite3.connect(parsed.database or "", timeout=30, isolation_level=None)
            for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL"):
                raw.execute(f"PRAGMA {pragma}")
            return raw
        import psycopg

        return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))

    def _recorded(self) -> list[list[_Step]]:
        """The statements the store runs for each delivery of one interaction, as the floor's plan.

        Recorded from a store of its own, closed afterwards, whose engine hands out
        connections with a recording cursor: a delivery runs its statements on the
        driver's cursor (out of SQLAlchemy's cursor events' sight), and the store
        measured must run as an application's does, untouched.
        """
        from deescalate.store import Store

        template = f"tpl-{self.index}-{uuid.uuid4().hex[:8]}"
        self.template = template
        statements: list[tuple[str, Any, bool]] = []
        plan: list[list[_Step]] = []
        begin = [_Step("begin", "BEGIN IMMEDIATE", None)] if self.backend == "sqlite" else []
        with Store(self.url) as recorder:
            connect = recorder.engine.raw_connection
            recorder.engine.raw_connection = lambda: _Recording(connect(), statements)  # type: ignore[method-assign,assignment,return-value]
            for payload in _transcript(template):
                statements.clear()
                delivery = recorder.deliver(template, payload)
                assert delivery.record.fate == "applied", delivery
                steps = [self._step(sql, values, many) for sql, values, many in statements]
                plan.append(begin + [step for step in steps if step.sql != "BEGIN IMMEDIATE"])
        return plan

    def _step(self, sql: str, parameters: Any, many: bool) -> _Step:
        head = " ".join(sql.split())
        slot: int | str | None = None
        if head.startswith(("INSERT INTO deescalate_events ", "INSERT INTO deescalate_findings ")):
            named = isinstance(parameters[0] if many else parameters, dict)
            slot = "delivery_id" if named else _columns(head).index("delivery_id")
        if many:
            return _Step("many", sql, list(parameters), slot)
        if head.startswith("SELECT"):
            return _Step("select", sql, parameters)
        if head.startswith("INSERT INTO deescalate_deliveries "):
            return _Step("journal", sql, parameters)
        if head.startswith("UPDATE deescalate_interactions "):
            return _Step("update", sql, parameters)
        return _Step("exec", sql, parameters, slot)

    # -- throughput ---------------------------------------------------------------------

    def throughput(self, what: str, tag: str, count: int) -> tuple[float, float, int]:
        """Deliver ``count`` whole interactions through the store or the floor: (start, end, deliveries)."""
        ids = [f"{tag}-w{self.index}-{n}" for n in range(count)]
        if what == "store":
            jobs = [(interaction_id, _transcript(interaction_id)) for interaction_id in ids]
            deliver = self.store.deliver
            done = []
            start = time.perf_counter()
            for interaction_id, payloads in jobs:
                for payload in payloads:
                    done.append(deliver(interaction_id, payload))
            end = time.perf_counter()
            assert all(delivery.record.fate == "applied" for delivery in done), done
            return start, end, len(done)
        plans = [[self._for(step, one) for step in steps] for one in ids for steps in self.plan]
        start = time.perf_counter()
        for steps in plans:
            self._floor_delivery(steps)
        end = time.perf_counter()
        return start, end, len(plans)

    def _for(self, step: _Step, interaction_id: str) -> _Step:
        return attrs.evolve(step, parameters=_substituted(step.parameters, self.template, interaction_id))

    def _floor_delivery(self, steps: list[_Step]) -> None:
        """One delivery's statements on the raw driver, in one transaction (SQLite's
        begins with its ``begin`` step; psycopg begins at the first statement)."""
        raw = self.raw
        returning = self.backend != "sqlite"  # the journal's key: RETURNING, or SQLite's lastrowid
        cursor = raw.cursor()
        delivery_id = 0
        try:
            for step in steps:
                how = step.how
                if how == "begin":
                    cursor.execute(step.sql)
                elif how == "select":
                    cursor.execute(step.sql, step.parameters).fetchone()
                elif how == "journal":
                    done = cursor.execute(step.sql, step.parameters)
                    delivery_id = done.fetchone()[0] if returning else done.lastrowid
                elif how == "update":
                    if cursor.execute(step.sql, step.parameters).rowcount != 1:
                        raise AssertionError("the floor's compare-and-set missed")
                elif how == "many":
                    many = [_with_id(one, step.slot, delivery_id) for one in step.parameters]
                    cursor.executemany(step.sql, many)
                else:
                    cursor.execute(step.sql, _with_id(step.parameters, step.slot, delivery_id))
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            cursor.close()

    # -- cost by length -----------------------------------------------------------------

    def lengths_setup(self, warm: int, cold: int, rounds: int) -> None:
        self.lengths = _LengthRun(self.url, warm, cold, rounds)

    def lengths_round(self, what: str, number: int) -> float:
        assert self.lengths is not None
        return self.lengths.run(what, number)

    def close(self) -> None:
        self.raw.close()
        self.store.close()
        if self.lengths is not None:
            self.lengths.close()


class _RecordingCursor:
    """A driver's cursor that notes each statement and its parameters, then runs it."""

    def __init__(self, cursor: Any, statements: list[tuple[str, Any, bool]]) -> None:
        self._cursor = cursor
        self._statements = statements

    def execute(self, sql: str, parameters: Any = ()) -> _RecordingCursor:
        self._statements.append((sql, parameters, False))
        self._cursor.execute(sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Any) -> _RecordingCursor:
        parameters = list(parameters)
        self._statements.append((sql, parameters, True))
        self._cursor.executemany(sql, parameters)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _Recording:
    """A pooled connection whose cursors record (see :class:`_RecordingCursor`)."""

    def __init__(self, connection: Any, statements: list[tuple[str, Any, bool]]) -> None:
        self._connection = connection
        self._statements = statements

    def cursor(self) -> _RecordingCursor:
        return _RecordingCursor(self._connection.cursor(), self._statements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _with_id(parameters: Any, slot: int | str | None, delivery_id: int) -> Any:
    if slot is None:
        return parameters
    if isinstance(slot, str):
        return {**parameters, slot: delivery_id}
    return (*parameters[:slot], delivery_id, *parameters[slot + 1 :])


def _progress(at: datetime, event_id: str) -> dict[str, Any]:
    return {
        "type": "progress_reported",
        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event_id": event_id,
        "detail": "printed, packed and handed to the courier",
    }


class _LengthRun:
    """Interactions ``SHORT`` and ``LONG`` events in, and one delivery into each, warm or cold.

    The long interactions are built once (``warm`` of them for the warm store, ``cold``
    for the cold one) and each round adds one event to each, so they stay within a few
    percent of ``LONG``. The short ones are fresh each round, exactly ``SHORT`` in.
    """

    def __init__(self, url: str, warm: int, cold: int, rounds: int) -> None:
        from deescalate import parse_event
        from deescalate.store import Store

        self.warm_store = Store(url)
        self.cold_store = Store(url, cache_size=0)
        self.parse = parse_event
        self.counter = 0
        self.long: dict[str, list[tuple[str, datetime]]] = {}
        self.short: dict[str, list[tuple[str, datetime]]] = {"warm": [], "cold": []}
        for kind, count in (("warm", warm), ("cold", cold)):
            self.long[kind] = [self._long(f"LEN{kind}{n}x{uuid.uuid4().hex[:6]}") for n in range(count)]
        for kind, count in (("warm", warm), ("cold", cold)):
            self.short[kind] = [
                self._short(f"SHORT-{kind}-{n}-{uuid.uuid4().hex[:6]}") for n in range(count * rounds)
            ]
        self.lists = {
            "warm_long": self.long["warm"],
            "cold_long": self.long["cold"],
            "warm_short": self.short["warm"],
            "cold_short": self.short["cold"],
        }

    def _long(self, tag: str) -> tuple[str, datetime]:
        lines = long_transcript(LONG + 1, tag)[:LONG]  # not followed up yet: progress goes on
        events = [self.parse(line.decode()) for line in lines]
        self.warm_store.ingest(events)
        assert len(self.warm_store.get(f"{tag}-1").history) == LONG
        return f"{tag}-1", events[-1].at

    def _short(self, interaction_id: str) -> tuple[str, datetime]:
        lines = [_renamed(line, interaction_id) for line in example("clean.jsonl")[:12]]
        events = [self.parse(line) for line in lines]
        last = events[-1].at
        for n in (1, 2, 3):
            events.append(self.parse(json.dumps(_progress(last + timedelta(seconds=n), f"p-{n}"))))
        self.warm_store.ingest(events)
        return interaction_id, events[-1].at

    def run(self, what: str, number: int) -> float:
        """One delivery into each of ``number`` interactions of the kind ``what``: seconds per delivery."""
        store = self.warm_store if what.startswith("warm") else self.cold_store
        pool = self.lists[what]
        if what.endswith("short"):
            chosen, pool[:number] = pool[:number], []  # fresh ones, exactly SHORT in
        else:
            chosen = pool[:number]
        jobs = []
        for interaction_id, last in chosen:
            self.counter += 1
            jobs.append((interaction_id, _progress(last + timedelta(seconds=10), f"b-{self.counter}")))
        deliver = store.deliver
        done = []
        start = time.perf_counter()
        for interaction_id, payload in jobs:
            done.append(deliver(interaction_id, payload))
        seconds = time.perf_counter() - start
        assert all(delivery.record.fate == "applied" for delivery in done), done
        if what.endswith("long"):
            for n, (interaction_id, last) in enumerate(chosen):
                pool[n] = (interaction_id, last + timedelta(seconds=10))
        return seconds / len(jobs)

    def close(self) -> None:
        self.warm_store.close()
        self.cold_store.close()


def _serve(pipe: Pipe, url: str, index: int) -> None:
    """A worker process: runs the parent's commands on its :class:`_Worker` until told to stop."""
    try:
        worker = _Worker(url, index)
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
        return
    pipe.send(("ready", None))
    while True:
        command, arguments = pipe.recv()
        if command == "stop":
            worker.close()
            pipe.send(("done", None))
            return
        try:
            pipe.send(("done", getattr(worker, command)(*arguments)))
        except BaseException:
            pipe.send(("error", traceback.format_exc()))


class _Workers:
    """Worker processes, started with ``spawn`` (nothing shared but the database)."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Pipe] = []
        self.processes = []
        for index in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, url, index), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
        for pipe in self.pipes:
            self._answer(pipe)

    @staticmethod
    def _answer(pipe: Pipe) -> Any:
        try:
            status, value = pipe.recv()
        except EOFError:
            raise RuntimeError("a benchmark worker exited") from None
        if status == "error":
            raise RuntimeError(f"a benchmark worker failed:\n{value}")
        return value

    def ask(self, indices: range | list[int], command: str, *arguments: Any) -> list[Any]:
        """Send the command to each worker of ``indices`` at once; their answers, in order."""
        for index in indices:
            self.pipes[index].send((command, arguments))
        return [self._answer(self.pipes[index]) for index in indices]

    def close(self) -> None:
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                pipe.send(("stop", ()))
                self._answer(pipe)
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


# -- measuring --------------------------------------------------------------------------


def _throughput(workers: _Workers, processes: int, interactions: int, rounds: int) -> Throughput:
    """Store and floor rounds alternating, ``processes`` workers delivering at once."""
    seconds: dict[str, list[float]] = {"store": [], "floor": []}
    total = 0
    for round_ in range(rounds + 1):  # round 0 warms up
        for what in ("store", "floor"):
            tag = f"{what}{processes}r{round_}x{uuid.uuid4().hex[:6]}"
            spans = workers.ask(range(processes), "throughput", what, tag, interactions)
            total = sum(count for _, _, count in spans)
            elapsed = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
            if round_:
                seconds[what].append(elapsed / total)
    return Throughput(
        store=1 / statistics.median(seconds["store"]),
        floor=1 / statistics.median(seconds["floor"]),
        processes=processes,
    )


def _lengths(workers: _Workers, effort: Effort) -> Lengths:
    warm, cold, rounds = effort.scaled(12, 1), effort.scaled(2, 1), effort.scaled(15, 2)
    workers.ask([0], "lengths_setup", warm, cold, rounds + 1)
    samples: dict[str, list[float]] = {"warm_short": [], "warm_long": [], "cold_short": [], "cold_long": []}
    # The warm rounds first, then the cold ones (a cold delivery's replay leaves garbage
    # behind that would land on whatever runs next); short and long take turns going first.
    for kind, number in (("warm", warm), ("cold", cold)):
        for round_ in range(rounds + 1):
            pair = [f"{kind}_short", f"{kind}_long"]
            for what in pair if round_ % 2 else reversed(pair):
                [value] = workers.ask([0], "lengths_round", what, number)
                if round_:
                    samples[what].append(value)
    return Lengths(**{what: statistics.median(values) * 1e6 for what, values in samples.items()})


def _backend(name: str, url: str, effort: Effort) -> BackendCost:
    workers = _Workers(url, 2)
    try:
        # 24 interactions (336 deliveries) a round: on SQLite every round then holds a few of
        # the checkpoints that move the WAL into the database file (one per 1,000 pages
        # written, about 80 deliveries), which the median would otherwise leave out.
        interactions, rounds = effort.scaled(24, 1), effort.scaled(15, 2)
        one = _throughput(workers, 1, interactions, rounds)
        two = _throughput(workers, 2, interactions, rounds)
        lengths = _lengths(workers, effort)
    finally:
        workers.close()
    return BackendCost(name, one=one, two=two, lengths=lengths)


def _sqlite(effort: Effort) -> BackendCost:
    with tempfile.TemporaryDirectory(prefix="deescalate-bench-") as directory:
        return _backend("SQLite file (WAL)", f"sqlite:///{directory}/store.db", effort)


@contextlib.contextmanager
def _postgres_server() -> Iterator[tuple[str | None, str]]:
    """The PostgreSQL server to use: (its URL, or None, and where it comes from or why none)."""
    url = os.environ.get(ENVIRONMENT)
    if url:
        yield url, ENVIRONMENT
        return
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        yield None, f"no PostgreSQL: {ENVIRONMENT} is unset and no initdb under /usr/lib/postgresql"
        return
    directory = tempfile.mkdtemp(prefix="deescalate-bench-pg.")
    script = str(ROOT / "tools" / "postgres.sh")
    try:
        started = subprocess.run([script, "start", directory], capture_output=True, text=True, check=False)
        if started.returncode != 0:
            yield None, f"tools/postgres.sh could not start a cluster: {started.stderr.strip()[-300:]}"
            return
        try:
            yield started.stdout.strip(), "tools/postgres.sh"
        finally:
            subprocess.run([script, "stop", directory], capture_output=True, check=False)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def _fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url``, dropped afterwards: its URL."""
    import psycopg
    import sqlalchemy as sa
    from psycopg import sql

    server = sa.make_url(url)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"deescalate_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))


def _postgres(effort: Effort) -> BackendCost:
    name = "PostgreSQL"
    with _postgres_server() as (url, source):
        if url is None:
            return BackendCost(name, skipped=source)
        with _fresh_database(url) as fresh:
            return _backend(name, fresh, effort)


#: The backends, in the table's order.
BACKENDS: tuple[Callable[[Effort], BackendCost], ...] = (_sqlite, _postgres)


def measure(effort: Effort) -> list[BackendCost]:
    return [backend(effort) for backend in BACKENDS]
