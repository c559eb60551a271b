"""The delivery path's statements: declared once with SQLAlchemy Core, compiled once per store.

Each is built with bind parameters and executed with a dict of values (see
:mod:`._driver` for why at the driver). An INSERT sets every column but a generated
key; an UPDATE's WHERE parameters are named apart from the columns it sets.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ._driver import Compiled, learn
from ._schema import deliveries, events, findings, interactions, obligations

#: The interaction's row: its version and the policy it was opened under.
LOAD = sa.select(interactions.c.version, interactions.c.policy, interactions.c.params).where(
    interactions.c.interaction_id == sa.bindparam("interaction_id")
)
#: The interaction's events from position ``start`` on, in order.
LOG_FROM = (
    sa.select(events.c.position, events.c.event)
    .where(
        events.c.interaction_id == sa.bindparam("interaction_id"),
        events.c.position >= sa.bindparam("start"),
    )
    .order_by(events.c.position)
)
#: The payloads journaled for the interaction, in the order received, but bad input.
JOURNALED = (
    sa.select(deliveries.c.payload)
    .where(
        deliveries.c.interaction_id == sa.bindparam("interaction_id"),
        deliveries.c.fate != "bad_input",
    )
    .order_by(deliveries.c.delivery_id)
)
#: The compare-and-set: the new state, where the row is still at the version read.
ADVANCE = interactions.update().where(
    interactions.c.interaction_id == sa.bindparam("at_interaction"),
    interactions.c.version == sa.bindparam("at_version"),
)
_ADVANCED = ("stage", "owner", "version", "last_at", "next_due")
CLEAR_OBLIGATIONS = obligations.delete().where(obligations.c.interaction_id == sa.bindparam("interaction_id"))
#: An open obligation's new times (its kind still owed, its deadline moved).
MOVE_OBLIGATION = obligations.update().where(
    obligations.c.interaction_id == sa.bindparam("at_interaction"),
    obligations.c.kind == sa.bindparam("at_kind"),
)
_MOVED = ("opened_at", "due")


def _inserted(table: sa.Table) -> list[str]:
    """The columns an INSERT into ``table`` sets: all but a key the database generates."""
    return [
        column.key for column in table.columns if not (column.primary_key and column.autoincrement is True)
    ]


class Statements:
    """The delivery path's statements compiled for one dialect."""

    __slots__ = (
        "advance",
        "clear_obligations",
        "event",
        "findings",
        "journal",
        "journaled",
        "load",
        "log_from",
        "move_obligation",
        "obligations",
        "open",
        "sqlite",
    )

    def __init__(self, dialect: Dialect) -> None:
        learn(dialect)
        #: SQLite: ``BEGIN IMMEDIATE`` locks the whole database (see ``Run.held``).
        self.sqlite = dialect.name == "sqlite"
        # PostgreSQL locks the interaction's row for the transaction; SQLite's whole
        # database is already locked by BEGIN IMMEDIATE.
        load = LOAD.with_for_update() if dialect.name == "postgresql" else LOAD
        self.load = Compiled(load, dialect)
        self.log_from = Compiled(LOG_FROM, dialect)
        self.journaled = Compiled(JOURNALED, dialect)
        self.advance = Compiled(ADVANCE, dialect, _ADVANCED)
        self.clear_obligations = Compiled(CLEAR_OBLIGATIONS, dialect)
        self.move_obligation = Compiled(MOVE_OBLIGATION, dialect, _MOVED)
        self.open = Compiled(interactions.insert(), dialect, _inserted(interactions))
        self.journal = Compiled(deliveries.insert(), dialect, _inserted(deliveries))
        self.event = Compiled(events.insert(), dialect, _inserted(events))
        self.obligations = Compiled(obligations.insert(), dialect, _inserted(obligations))
        self.findings = Compiled(findings.insert(), dialect, _inserted(findings))
