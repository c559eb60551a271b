"""The delivery path's statements, compiled once by SQLAlchemy and run on the driver's cursor.

Why not ``Connection.execute``: a delivery runs four to six statements, and on SQLite
all of them inside the database's one write lock. SQLAlchemy's work around each
execution (an execution context, the parameters processed one by one, a result
object) cost about 40 us a statement, and the transaction's bookkeeping as much
again: more than the database's own work, and every microsecond of it kept the
other workers waiting. So SQLAlchemy still writes every statement, for each dialect
(its SQL, its parameters' order and the conversion of each value, such as a datetime
into SQLite's text form), but once, when the store opens; a delivery then hands the
driver the compiled SQL and the converted values, as an application writing raw SQL
would.

Errors come out as SQLAlchemy's (``sqlalchemy.exc.DBAPIError`` and its subclasses),
so the retry rules in :mod:`._engine` read them as they read any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql.compiler import SQLCompiler

#: A converter of one parameter's value into what the driver takes.
_Processor = Callable[[Any], Any]


class Compiled:
    """One statement, compiled for one dialect: its SQL, and how to turn a dict of
    values into the driver's parameters.

    ``keys`` names the columns an INSERT or UPDATE sets (all of them, for an INSERT
    given none). An INSERT whose table has a generated key returns it: through
    ``RETURNING`` where the dialect uses it (PostgreSQL), else the cursor's
    ``lastrowid`` (SQLite).
    """

    __slots__ = ("_fixed", "_index", "_names", "_positional", "_processors", "_returning", "sql")

    def __init__(
        self, statement: sa.ClauseElement, dialect: Dialect, keys: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
        assert isinstance(compiled, SQLCompiler)
        assert not compiled.escaped_bind_names, "bind names the driver takes as they are"
        self.sql: str = compiled.string
        self._positional = dialect.positional
        # The names the SQL uses, in order for a positional driver (SQLAlchemy also keys
        # ``binds`` by an anonymous parameter's unrendered name: not one the driver sees).
        rendered = list(dict.fromkeys(compiled.bind_names.values()))
        names = list(compiled.positiontup or ()) if dialect.positional else rendered
        self._names: tuple[str, ...] = tuple(names)
        self._index = {name: index for index, name in enumerate(names)}
        processors: list[tuple[int, _Processor]] = []
        #: The values the statement carries itself (a literal compared with a column).
        self._fixed: dict[str, Any] = {}
        for name in names:
            bind = compiled.binds[name]
            if not bind.required and bind.callable is None and name not in (keys or ()):
                self._fixed[name] = bind.value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors.append((names.index(name), processor))
        self._processors = tuple(processors)
        self._returning = bool(getattr(compiled, "effective_returning", None))

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """``values`` (by bind name) as the driver takes them: converted, and a list in
        order for a positional driver (SQLite), a dict for a named one (psycopg)."""
        if self._fixed:
            values = {**self._fixed, **values}
        row = [values[name] for name in self._names]
        for index, processor in self._processors:
            row[index] = processor(row[index])
        if self._positional:
            return row
        return dict(zip(self._names, row, strict=True))

    def keyed(self, parameters: Any, name: str, value: Any) -> Any:
        """``parameters`` (as :meth:`parameters` made them) with ``name`` set to ``value``,
        which needs no conversion: a key the database assigned, known only once written."""
        if self._positional:
            row = list(parameters)
            row[self._index[name]] = value
            return row
        return {**parameters, name: value}

    def execute(self, cursor: Any, parameters: Any) -> Any:
        """Execute with ``parameters`` as the driver takes them; the cursor, for its rows."""
        return _executed(cursor, self.sql, parameters)

    def execute_many(self, cursor: Any, rows: Sequence[Any]) -> None:
        """Execute once per parameters of ``rows`` (as the driver takes them), in one call."""
        try:
            cursor.executemany(self.sql, rows)
        except Exception as error:
            raise _wrapped(error, self.sql, rows) from error

    def run(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        """Execute with ``values`` (by bind name); the cursor, for its rows."""
        return _executed(cursor, self.sql, self.parameters(values))

    def first(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        """The first row the statement returns with ``values``, or None."""
        return self.run(cursor, values).fetchone()

    def rowcount(self, cursor: Any, parameters: Any) -> int:
        """How many rows the statement changed, run with ``parameters``."""
        return int(self.execute(cursor, parameters).rowcount)

    def inserted(self, cursor: Any, parameters: Any) -> int:
        """The key the database generated for the row inserted with ``parameters``."""
        done = self.execute(cursor, parameters)
        if self._returning:
            return int(done.fetchone()[0])
        return int(done.lastrowid)


def _executed(cursor: Any, sql: str, parameters: Any) -> Any:
    try:
        cursor.execute(sql, parameters)
    except Exception as error:
        raise _wrapped(error, sql, parameters) from error
    return cursor


def _wrapped(error: Exception, sql: str, parameters: Any) -> Exception:
    """The driver's ``error`` as SQLAlchemy wraps it (``DBAPIError`` and its kinds);
    anything that is not a database error, unchanged."""
    if isinstance(error, sa.exc.DBAPIError):
        return error
    for base in _DBAPI_ERRORS:
        if isinstance(error, base):
            return sa.exc.DBAPIError.instance(sql, parameters, error, base)
    return error


#: The drivers' base error classes (PEP 249's ``Error``), learnt from each engine's dialect.
_DBAPI_ERRORS: list[type[Exception]] = []


def learn(dialect: Dialect) -> None:
    """Know ``dialect``'s driver errors, to wrap them (once per dialect, when a store opens)."""
    base = getattr(dialect.loaded_dbapi, "Error", None)
    if isinstance(base, type) and issubclass(base, Exception) and base not in _DBAPI_ERRORS:
        _DBAPI_ERRORS.append(base)


@contextlib.contextmanager
def writing(engine: Engine, *, keep: bool = False) -> Iterator[Any]:
    """A write transaction on one of the engine's pooled connections, at the driver:
    the cursor. Committed when the block ends, rolled back if it raises.

    SQLite's begins with ``BEGIN IMMEDIATE``: the write lock is taken first, so two
    processes never decide from the same version. PostgreSQL's driver begins a
    transaction at the first statement. A connection the database dropped is
    discarded from the pool, not handed out again, unless it is to be ``kept`` (an
    in-memory database lives in its one connection). Wraps the errors of the drivers
    :func:`learn` was told of.
    """
    dialect = engine.dialect
    try:
        connection = engine.raw_connection()
    except Exception as error:  # the database refused, or is gone: as SQLAlchemy says it
        raise _wrapped(error, "connect", ()) from error
    cursor = None
    try:
        cursor = connection.cursor()
        if dialect.name == "sqlite":
            _executed(cursor, "BEGIN IMMEDIATE", ())
        yield cursor
        try:
            connection.commit()
        except Exception as error:
            raise _wrapped(error, "COMMIT", ()) from error
    except BaseException as error:
        _abandon(connection, cursor, error, dialect, keep=keep)
        raise
    finally:
        with contextlib.suppress(Exception):
            if cursor is not None:
                cursor.close()
        connection.close()


def _abandon(connection: Any, cursor: Any, error: BaseException, dialect: Dialect, *, keep: bool) -> None:
    """Roll back after ``error``; a connection that is lost (or cannot roll back) is
    invalidated, so the pool opens a new one, unless it is to be ``kept`` (the one
    connection an in-memory database lives in: a new one would be empty)."""
    if keep:
        with contextlib.suppress(Exception):
            connection.rollback()
        return
    orig = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    lost = isinstance(orig, Exception) and _is_disconnect(dialect, orig, connection, cursor)
    if not lost:
        try:
            connection.rollback()
            return
        except Exception:
            pass
    connection.invalidate()


def _is_disconnect(dialect: Dialect, error: Exception, connection: Any, cursor: Any) -> bool:
    try:
        return bool(dialect.is_disconnect(error, connection.dbapi_connection, cursor))  # type: ignore[arg-type]
    except Exception:  # the dialect cannot tell: a connection that cannot roll back is dropped anyway
        return False
