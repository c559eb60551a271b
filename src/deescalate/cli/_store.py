"""What the store's commands share: the ``--db`` option, and opening the store it names."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._errors import ArgumentValueError

if TYPE_CHECKING:
    from ..store import Store


def add_db_option(parser: Any, *, required: bool = True, purpose: str = "the store") -> None:
    """``--db``, worded once; ``purpose`` says what the store is for in this command."""
    parser.add_argument(
        "--db",
        required=required,
        metavar="URL",
        help=f"{purpose}: a database URL (sqlite:///complaints.db, postgresql+psycopg://host/db) "
        "or the path of a SQLite file",
    )


def url_of(db: str) -> str:
    """``--db`` as a URL: a path without ``://`` is a SQLite file."""
    if "://" in db:
        return db
    if not db:
        raise ArgumentValueError("--db", "is empty: give a database URL or a SQLite file's path")
    return f"sqlite:///{os.path.abspath(db)}"


def open_store(db: str, *, existing: bool, **options: Any) -> Store:
    """The store ``--db`` names. With ``existing``, it must already be there (a SQLite
    file, and the store's tables in it): a command that only reads must not create an
    empty store at a mistyped path."""
    try:
        from ..store import Store
    except ImportError as error:
        raise ArgumentValueError(
            "--db", f"needs the store's extra ({error.name} is missing): pip install 'deescalate-fsm[store]'"
        ) from None
    url = url_of(db)
    if existing:
        import sqlalchemy as sa

        parsed = sa.make_url(url) if "://" in url else None
        if parsed is not None and parsed.get_backend_name() == "sqlite":
            path = parsed.database
            if path not in (None, "", ":memory:") and not os.path.exists(path):
                raise ArgumentValueError("--db", f"no store at {path}: the file does not exist")
    return Store(url, create=not existing, **options)
