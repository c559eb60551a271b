"""The store's tables, declared once with SQLAlchemy Core, and the path between schema versions.

Five tables, all prefixed ``deescalate_`` so the store can share a database:

``deescalate_schema``
    One row: the schema version the database is at.
``deescalate_interactions``
    One row per interaction, its current state for queries: stage, owner, the policy it
    was opened under (name and parameters), its version (how many events were applied),
    and ``next_due``, the earliest deadline among its open obligations.
``deescalate_events``
    The event log: one row per applied event, at ``position`` 0, 1, 2... (0 is
    ``interaction_opened``), as contract JSON, with its findings. ``(interaction_id,
    event_id)`` is unique, so the database itself refuses a duplicate delivery.
``deescalate_obligations``
    The interaction's open obligations (kind, opened, due): the scheduler's question,
    "what is due by then?", reads this table through its index on ``due``.
``deescalate_deliveries``
    The journal: every delivery and its fate (applied, refused, invalid, duplicate,
    late, bad input), with the payload as received.
``deescalate_findings``
    Every finding of every delivery, applied or not (a strict store's refusals are kept
    for coaching), with the owner the interaction had when it was judged.

Times are stored in UTC: ``timestamp with time zone`` on PostgreSQL, ISO-8601 text on
SQLite, which compares in time order because every value has the same form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

#: The schema this code reads and writes. Raise it with a migration below.
SCHEMA_VERSION = 1


#: How many converted times :class:`UtcDateTime` remembers (all dialects together).
_REMEMBERED = 256
_CONVERTED: dict[tuple[str, datetime], Any] = {}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime, stored in UTC, read back aware (UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """SQLAlchemy's conversion of a time for ``dialect`` (this type's, then the
        dialect's DateTime), remembered for the times met last: a delivery writes the
        same time into several columns (the event's time into the journal, the log and
        the interaction's row), and converting one costs a few microseconds. The result
        depends on the instant alone, the same for equal times."""
        convert = super().bind_processor(dialect)
        if convert is None:
            return None
        name = dialect.name

        def remembered(value: datetime | None) -> Any:
            if value is None:
                return convert(value)
            key = (name, value)
            found = _CONVERTED.get(key)
            if found is None:
                if len(_CONVERTED) >= _REMEMBERED:
                    _CONVERTED.clear()
                found = _CONVERTED[key] = convert(value)
            return found

        return remembered

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A 64-bit key that counts on PostgreSQL, a plain INTEGER PRIMARY KEY (the rowid) on SQLite.
_BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

schema = sa.Table(
    "deescalate_schema",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)

interactions = sa.Table(
    "deescalate_interactions",
    metadata,
    sa.Column("interaction_id", sa.Text, primary_key=True),
    sa.Column("policy", sa.Text, nullable=False),
    #: The policy's parameters when the interaction was opened, as JSON (``Params.to_json``).
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    #: How many events were applied (the next one goes at this position).
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("customer_name", sa.Text, nullable=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    #: The time of the last applied event.
    sa.Column("last_at", UtcDateTime, nullable=False),
    sa.Column("next_due", UtcDateTime, nullable=True),
    sa.Index("deescalate_interactions_stage", "stage"),
    sa.Index("deescalate_interactions_owner", "owner"),
    sa.Index("deescalate_interactions_next_due", "next_due"),
)

events = sa.Table(
    "deescalate_events",
    metadata,
    sa.Column(
        "interaction_id",
        sa.Text,
        sa.ForeignKey("deescalate_interactions.interaction_id"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.Text, nullable=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    #: The event as contract JSON (one transcript line).
    sa.Column("event", sa.Text, nullable=False),
    #: Its findings, as JSON: ``[{"rule", "severity", "message"}, ...]``.
    sa.Column("findings", sa.Text, nullable=False),
    #: The delivery that applied it.
    sa.Column("delivery_id", _BigKey, nullable=False),
    sa.UniqueConstraint("interaction_id", "event_id", name="deescalate_events_event_id"),
)

obligations = sa.Table(
    "deescalate_obligations",
    metadata,
    sa.Column(
        "interaction_id",
        sa.Text,
        sa.ForeignKey("deescalate_interactions.interaction_id"),
        primary_key=True,
    ),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("due", UtcDateTime, nullable=False),
    sa.Index("deescalate_obligations_due", "due"),
)

deliveries = sa.Table(
    "deescalate_deliveries",
    metadata,
    sa.Column("delivery_id", _BigKey, primary_key=True, autoincrement=True),
    sa.Column("interaction_id", sa.Text, nullable=False),
    #: When the store received it (the store's clock, not the event's).
    sa.Column("received_at", UtcDateTime, nullable=False),
    #: applied, refused, invalid, duplicate, late or bad_input.
    sa.Column("fate", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    #: The policy it was judged under (None when it never reached one).
    sa.Column("policy", sa.Text, nullable=True),
    sa.Column("event_type", sa.Text, nullable=True),
    sa.Column("event_id", sa.Text, nullable=True),
    sa.Column("at", UtcDateTime, nullable=True),
    #: Where the event was applied, when it was.
    sa.Column("position", sa.Integer, nullable=True),
    #: The event as contract JSON; for bad input, the payload as received.
    sa.Column("payload", sa.Text, nullable=False),
    #: Why it was not applied, in one line (invalid, bad input).
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("deescalate_deliveries_interaction", "interaction_id", "delivery_id"),
    sa.Index("deescalate_deliveries_received", "received_at"),
    sa.Index("deescalate_deliveries_fate", "fate"),
)

findings = sa.Table(
    "deescalate_findings",
    metadata,
    sa.Column(
        "delivery_id",
        _BigKey,
        sa.ForeignKey("deescalate_deliveries.delivery_id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("interaction_id", sa.Text, nullable=False),
    #: The delivery's fate: applied (the finding is in the history), refused or invalid.
    sa.Column("fate", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    #: Who had the interaction when the event was judged: the coaching table's rows.
    sa.Column("owner", sa.Text, nullable=False),
    sa.Index("deescalate_findings_at", "at"),
    sa.Index("deescalate_findings_rule", "rule"),
    sa.Index("deescalate_findings_interaction", "interaction_id"),
)

#: How to bring a database at version ``v`` to ``v + 1``: ``MIGRATIONS[v](connection)``,
#: run in one transaction with the version's update. Empty while there is one version.
MIGRATIONS: dict[int, Callable[[Connection], Any]] = {}
