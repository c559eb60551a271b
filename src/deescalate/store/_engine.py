"""Connecting to the database: SQLite (the embedded default) or PostgreSQL, and the schema's upkeep.

What differs between the two is settled here, once:

* **SQLite.** A file is opened in WAL mode (readers never block the writer), with
  ``synchronous=NORMAL`` (a killed process loses nothing committed; only a power cut
  can lose the last commits, never corrupt the file) and a 30 s busy timeout. A
  write transaction starts with ``BEGIN IMMEDIATE``: it takes the database's write
  lock before reading the interaction, so two processes never decide from the same
  version. ``Store()`` is an in-memory database, one connection shared by the store.
* **PostgreSQL** (``postgresql+psycopg://``; a bare ``postgresql://`` means psycopg 3
  too). A write transaction locks the interaction's row (``SELECT ... FOR UPDATE``):
  deliveries to one interaction queue up, deliveries to others run side by side.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from .._errors import ArgumentTypeError, ArgumentValueError, describe, one_line
from . import _schema
from ._errors import StoreError

#: How many times a write is tried when the database reports a conflict it expects
#: a retry to cure (a lost race to open an interaction, a busy SQLite file, a
#: PostgreSQL serialization failure or deadlock).
ATTEMPTS = 12

_T = TypeVar("_T")
_C = TypeVar("_C")

#: The mark (in the pooled connection's ``info``) of a transaction that writes.
_WRITE = "deescalate_write"


def url_of(url: object) -> sa.URL:
    """``url`` (a string, a ``sqlalchemy.URL`` or None for in-memory SQLite) as a URL.

    A bare ``postgresql://`` URL names psycopg 3, the driver the store is built on.
    """
    if url is None:
        return sa.make_url("sqlite://")
    if not isinstance(url, str | sa.URL):
        raise ArgumentTypeError("url", f"must be a database URL (a string), got {describe(url)}")
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as error:
        raise ArgumentValueError(
            "url", f"is not a database URL: {describe(url)} ({one_line(str(error), 200)})"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: sa.URL) -> str:
    """The URL as it may be printed: without its password."""
    return url.render_as_string(hide_password=True)


def create(url: sa.URL) -> Engine:
    """An engine for ``url``, configured for the store (see the module's notes)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite(url)
    if backend == "postgresql":
        try:
            return sa.create_engine(url, pool_pre_ping=True)
        except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as error:
            raise StoreError(
                f"cannot use {shown(url)}: {one_line(str(error), 200)} "
                "(install the store's extra: pip install 'deescalate-fsm[store]')"
            ) from None
    raise ArgumentValueError(
        "url", f"names {backend!r}: the store runs on SQLite or PostgreSQL ({shown(url)})"
    )


def _sqlite(url: sa.URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        options["poolclass"] = StaticPool  # one connection: the in-memory database lives in it
    try:
        engine = sa.create_engine(url, **options)
    except sa.exc.ArgumentError as error:
        raise StoreError(f"cannot use {shown(url)}: {one_line(str(error), 200)}") from None

    @sa_event.listens_for(engine, "connect")
    def _configure(connection: Any, _: Any) -> None:
        connection.isolation_level = None  # the driver's own transactions off: ours begin below
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    def _begin(dbapi_connection: Any) -> None:
        # The dialect's own do_begin, which leaves beginning to the driver (whose
        # transactions are off, above): BEGIN IMMEDIATE for a write (see writing()),
        # else BEGIN. Not a "begin" event listener: any connection event listener makes
        # SQLAlchemy dispatch events around every statement, about 8 us each here. Run
        # where do_begin runs, a failure (a busy database) is wrapped as any DBAPI error.
        write = dbapi_connection.info.pop(_WRITE, False)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        finally:
            cursor.close()

    engine.dialect.do_begin = _begin  # type: ignore[method-assign]
    return engine


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed when the block ends, rolled back if it raises.

    On SQLite it begins with ``BEGIN IMMEDIATE``: the pooled connection is marked for
    the dialect's ``do_begin`` (see ``_sqlite``), which takes the mark off.
    """
    with engine.connect() as connection:
        info = connection.connection.info
        info[_WRITE] = True
        try:
            with connection.begin():
                yield connection
        finally:
            info.pop(_WRITE, None)


def retried(
    engine: Engine,
    work: Callable[[_C], _T],
    what: str,
    transaction: Callable[[Engine], contextlib.AbstractContextManager[_C]] = writing,  # type: ignore[assignment]
) -> _T:
    """``work`` in a write transaction, tried again (a few times, after a short random
    pause) when the database reports a conflict; any other database error is a
    :class:`StoreError` naming ``what`` was being done.

    ``transaction`` opens the transaction and hands ``work`` its handle: by default
    :func:`writing`'s SQLAlchemy connection; the delivery path passes
    :func:`._driver.writing`, whose handle is the driver's cursor.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(engine) as connection:
                return work(connection)
        except sa.exc.DBAPIError as error:
            if attempt == ATTEMPTS or not _transient(error):
                raise StoreError(f"{what}: {_reason(error)}") from None
        except sa.exc.SQLAlchemyError as error:  # the pool's own (no connection free in time)
            raise StoreError(f"{what}: {one_line(str(error), 300)}") from None
        time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 8)))
    raise AssertionError("unreachable")  # pragma: no cover


def _transient(error: sa.exc.DBAPIError) -> bool:
    """True for the errors a retry may cure: a lost race (a unique key taken meanwhile),
    a busy SQLite database, a PostgreSQL serialization failure or deadlock."""
    if isinstance(error, sa.exc.IntegrityError):
        return True
    code = getattr(error.orig, "sqlstate", None)
    if code in ("40001", "40P01"):  # serialization_failure, deadlock_detected
        return True
    return isinstance(error, sa.exc.OperationalError) and "locked" in str(error.orig)


def _reason(error: sa.exc.DBAPIError) -> str:
    return one_line(str(error.orig) if error.orig is not None else str(error), 300)


class _NoStore(StoreError):
    """The database holds no store, and it was not to be created."""


def prepare(engine: Engine, url: sa.URL, *, create: bool = True) -> int:
    """Create the schema on first use, or bring an older one up to date; returns its version.

    Concurrent first uses are safe: SQLite serialises them by its write lock,
    PostgreSQL by an advisory lock held for the transaction.
    """

    def work(connection: Connection) -> int:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7261002514)"))
        if not sa.inspect(connection).has_table(_schema.schema.name):
            if not create:
                raise _NoStore(f"no store at {shown(url)}: it has no deescalate tables")
            _schema.metadata.create_all(connection)
            connection.execute(_schema.schema.insert().values(id=1, version=_schema.SCHEMA_VERSION))
            return _schema.SCHEMA_VERSION
        version = connection.execute(sa.select(_schema.schema.c.version)).scalar_one_or_none()
        if version is None:
            raise StoreError(f"{shown(url)} has a deescalate_schema table without a version: not a store")
        if version > _schema.SCHEMA_VERSION:
            raise StoreError(
                f"{shown(url)} holds a store of schema version {version}, newer than this library "
                f"reads ({_schema.SCHEMA_VERSION}): upgrade deescalate-fsm"
            )
        while version < _schema.SCHEMA_VERSION:
            _schema.MIGRATIONS[version](connection)
            version += 1
            connection.execute(_schema.schema.update().values(version=version))
        return int(version)

    return retried(engine, work, f"cannot prepare the store at {shown(url)}")
