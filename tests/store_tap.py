"""A tap on the statements a store's deliveries run at the driver (for crash tests).

Deliveries hand their SQL straight to the driver's cursor (see
``deescalate/store/_driver.py``), out of SQLAlchemy's cursor events' sight; this wraps
the store's engine so that ``after(sql, cursor)`` is called after each statement a delivery
executes (and the driver's cursor that ran it), where a test may raise, drop the
connection or kill its process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deescalate.store import Store


class _Cursor:
    def __init__(self, cursor: Any, after: Callable[[str, Any], None]) -> None:
        self._cursor = cursor
        self._after = after

    def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(sql, parameters)
        self._after(sql, self._cursor)
        return self

    def executemany(self, sql: str, parameters: Any) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        self._after(sql, self._cursor)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _Connection:
    def __init__(self, connection: Any, after: Callable[[str, Any], None]) -> None:
        self._connection = connection
        self._after = after

    def cursor(self) -> _Cursor:
        return _Cursor(self._connection.cursor(), self._after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def tap(store: Store, after: Callable[[str, Any], None]) -> Callable[[], None]:
    """Call ``after(sql, cursor)`` after each statement of the store's deliveries (``cursor``
    is the driver's); returns the function that takes the tap off."""
    engine = store.engine
    connect = engine.raw_connection
    engine.raw_connection = lambda: _Connection(connect(), after)  # type: ignore[method-assign,assignment,return-value]

    def untap() -> None:
        engine.raw_connection = connect  # type: ignore[method-assign]

    return untap
