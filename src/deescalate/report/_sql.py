"""The report over a store (``deescalate.store``): aggregated in SQL, in one read transaction.

What SQL can count, it counts, grouped in the database: findings by rule, kind,
owner and day (the days folded into ISO weeks here), the events delivered, the
obligations open at ``now``. What needs an interaction's events in order (times,
outcomes, escalations before or after the customer asked, rejected remedies, the
root cause and its prevention) comes from one streaming query over the events of
those types, ordered by interaction, walked one interaction at a time with the
same code as the transcripts' report: so the two reports agree on the same
interactions. Nothing is held per interaction but the one being walked.

Works on SQLite and PostgreSQL, whose differences (the day of a UTC time, a
consistent snapshot) are settled in :func:`_day` and :func:`_reading`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._codec import parse_event
from .._errors import ArgumentTypeError, DeescalateError, describe, one_line
from .._loading import load_policy
from ..store import _engine, _schema
from ..store._errors import StoreError
from ._aggregate import WATCHED, Builder, Report, checked_window, walk
from ._errors import StoreUnreadable
from ._export import Exporter, interaction_row, utc

_i, _e, _f, _d, _o = (
    _schema.interactions,
    _schema.events,
    _schema.findings,
    _schema.deliveries,
    _schema.obligations,
)


def _day(column: Any, dialect: str) -> Any:
    """The UTC calendar day of a stored time, as SQL."""
    if dialect == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.substr(column, 1, 10)  # SQLite keeps UTC times as ISO-8601 text


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@contextlib.contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction: every query sees the same snapshot of the store."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _engine_of(store: object) -> tuple[Engine, str, bool]:
    """The engine, how the store is named in exports, and whether it was made here (to dispose of).

    A URL gets the engine a :class:`~deescalate.store.Store` would (``_engine.url_of``
    and ``create``), without the store's preparing of its schema: a report only reads.
    """
    engine = getattr(store, "engine", store)
    if isinstance(engine, Engine):
        return engine, _engine.shown(engine.url), False
    if isinstance(store, str):
        url = _engine.url_of(store if "://" in store else f"sqlite:///{os.path.abspath(store)}")
        if url.get_backend_name() == "sqlite":
            path = url.database
            if path not in (None, "", ":memory:") and not os.path.exists(path):
                raise StoreUnreadable(f"no store at {path}: the file does not exist")
        try:
            return _engine.create(url), _engine.shown(url), True
        except StoreError as error:
            raise StoreUnreadable(str(error)) from None
    raise ArgumentTypeError("store", f"must be a Store, an SQLAlchemy Engine or a URL, got {describe(store)}")


def report_store(
    store: object,
    *,
    policy: str | None = None,
    now: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    export: str | os.PathLike[str] | None = None,
) -> Report:
    """The complaint log over a store's interactions, aggregated in SQL.

    ``store`` is a :class:`~deescalate.store.Store`, its ``engine``, or a database
    URL (a path without ``://`` is a SQLite file, which must exist). The findings
    are those the store recorded when each event was delivered, refused attempts
    included; ``policy`` keeps only the interactions opened under that policy (a
    name, or ``module:attribute``). The window, ``now`` and ``export`` are as for
    :func:`~deescalate.report.report_transcripts`. A database error is a
    :class:`~deescalate.report.StoreUnreadable` of one line.
    """
    checked_window(now, since, until)
    if policy is not None and not isinstance(policy, str):
        raise ArgumentTypeError("policy", f"must be a policy's name, got {describe(policy)}")
    policy_name: str | None = policy
    if policy is not None and ":" in policy:
        policy_name = load_policy(policy).name
    engine, source, made = _engine_of(store)
    try:
        with _reading(engine) as connection:
            _check_schema(connection)
            return _aggregate(connection, source, policy_name, now, since, until, export)
    except sa.exc.SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise StoreUnreadable(f"cannot read the store {source}: {one_line(str(reason), 300)}") from None
    finally:
        if made:
            engine.dispose()


def _check_schema(connection: Connection) -> None:
    if not sa.inspect(connection).has_table(_schema.schema.name):
        raise StoreUnreadable("not a store: the database has no deescalate_schema table")
    version = connection.execute(sa.select(_schema.schema.c.version)).scalar_one_or_none()
    if version is None or version > _schema.SCHEMA_VERSION:
        raise StoreUnreadable(
            f"the store's schema version ({version}) is not one this library reads "
            f"({_schema.SCHEMA_VERSION} or older): upgrade deescalate-fsm"
        )


def _aggregate(
    connection: Connection,
    source: str,
    policy: str | None,
    now: datetime | None,
    since: datetime | None,
    until: datetime | None,
    export: str | os.PathLike[str] | None,
) -> Report:
    dialect = connection.dialect.name
    window = []
    if policy is not None:
        window.append(_i.c.policy == policy)
    if since is not None:
        window.append(_i.c.opened_at >= since)
    if until is not None:
        window.append(_i.c.opened_at < until)
    chosen = sa.select(_i.c.interaction_id).where(*window)
    builder = Builder(now, since, until)

    # Events delivered to the interactions (bad input aside: it never reached one).
    builder.events = connection.execute(
        sa.select(sa.func.count())
        .select_from(_d)
        .where(_d.c.fate != "bad_input", _d.c.interaction_id.in_(chosen))
    ).scalar_one()

    # Findings by rule, kind, owner and day (grouped over a subquery: the kind and the day
    # are expressions with parameters, which PostgreSQL matches by text, not by value).
    judged = (
        sa.select(
            _f.c.rule,
            sa.case((_f.c.fate == "refused", "refused"), else_=_f.c.severity).label("kind"),
            _f.c.owner,
            _day(_f.c.at, dialect).label("day"),
        )
        .where(_f.c.fate.in_(("applied", "invalid", "refused")), _f.c.interaction_id.in_(chosen))
        .subquery()
    )
    grouped = sa.select(judged.c.rule, judged.c.kind, judged.c.owner, judged.c.day, sa.func.count()).group_by(
        judged.c.rule, judged.c.kind, judged.c.owner, judged.c.day
    )
    for rule, counted_as, owner, when, count in connection.execute(grouped):
        moment = datetime.combine(_as_date(when), datetime.min.time(), UTC)
        builder.add_finding(rule, counted_as, owner, moment, count)

    # Obligations open at now, for the interactions whose events all came before it.
    if now is not None:
        later = connection.execute(
            sa.select(sa.func.count()).select_from(_i).where(*window, _i.c.last_at > now)
        ).scalar_one()
        builder.add_later_than_now(later)
        open_now = (
            sa.select(_o.c.kind, (_o.c.due < now).label("overdue"))
            .join(_i, _i.c.interaction_id == _o.c.interaction_id)
            .where(*window, _i.c.last_at <= now)
            .subquery()
        )
        owed = sa.select(open_now.c.kind, open_now.c.overdue, sa.func.count()).group_by(
            open_now.c.kind, open_now.c.overdue
        )
        for obligation, overdue, count in connection.execute(owed):
            builder.add_owed(obligation, bool(overdue), count)

    # Each interaction's events of the types a report reads, in order: one pass.
    watched = sorted(WATCHED | {"interaction_opened"})
    rows = connection.execution_options(stream_results=True, yield_per=2000).execute(
        sa.select(_i.c.interaction_id, _i.c.policy, _i.c.stage, _e.c.position, _e.c.event)
        .join(_e, _e.c.interaction_id == _i.c.interaction_id)
        .where(*window, _e.c.type.in_(watched))
        .order_by(_i.c.interaction_id, _e.c.position)
    )
    exporter = Exporter(export) if export is not None else None
    counts = _per_interaction(connection, window) if exporter is not None else None
    try:
        if exporter is not None:
            exporter.__enter__()
        for interaction_id, group in itertools.groupby(rows, key=lambda row: row[0]):
            taken = list(group)
            policy_name, stage = taken[0][1], taken[0][2]
            try:
                events = [(row[3], parse_event(row[4])) for row in taken]
            except DeescalateError as error:
                raise StoreUnreadable(
                    f"interaction {interaction_id!r} has an event the store should not hold: {error}"
                ) from None
            walked = walk(events)
            builder.add_interaction(policy_name, stage, walked, 0)
            if exporter is not None and counts is not None:
                _export_interaction(exporter, counts, interaction_id, policy_name, stage, walked, source)
        if exporter is not None:
            _export_rows(connection, exporter, window, source)
    finally:
        if exporter is not None:
            exporter.close()
    return builder.build()


def _per_interaction(connection: Connection, window: list[Any]) -> Iterator[tuple[Any, ...]]:
    """For the export: each interaction's row and finding counts, ordered by interaction (a stream)."""
    kinds = {
        name: sa.select(sa.func.count())
        .where(_f.c.interaction_id == _i.c.interaction_id, condition)
        .scalar_subquery()
        for name, condition in (
            ("violations", sa.and_(_f.c.fate != "refused", _f.c.severity == "violation")),
            ("warnings", sa.and_(_f.c.fate != "refused", _f.c.severity == "warning")),
            ("refused", _f.c.fate == "refused"),
        )
    }
    delivered = (
        sa.select(sa.func.count())
        .where(_d.c.interaction_id == _i.c.interaction_id, _d.c.fate != "bad_input")
        .scalar_subquery()
    )
    query = (
        sa.select(
            _i.c.interaction_id,
            _i.c.owner,
            _i.c.opened_at,
            _i.c.last_at,
            delivered,
            kinds["violations"],
            kinds["warnings"],
            kinds["refused"],
        )
        .where(*window)
        .order_by(_i.c.interaction_id)
    )
    # On the same connection, in the same snapshot, beside the stream of events.
    yield from connection.execution_options(stream_results=True, yield_per=2000).execute(query)


def _export_interaction(
    exporter: Exporter,
    counts: Iterator[tuple[Any, ...]],
    interaction_id: str,
    policy: str,
    stage: str,
    walked: Any,
    source: str,
) -> None:
    for row in counts:  # both streams are ordered by interaction id
        if row[0] == interaction_id:
            break
    else:  # pragma: no cover - every walked interaction has its row
        return
    exporter.write(
        "interactions",
        interaction_row(
            walked,
            interaction_id=interaction_id,
            source=source,
            policy=policy,
            stage=stage,
            owner=row[1],
            opened_at=row[2],
            last_at=row[3],
            events=row[4],
            violations=row[5],
            warnings=row[6],
            refused=row[7],
        ),
    )


def _export_rows(connection: Connection, exporter: Exporter, window: list[Any], source: str) -> None:
    chosen = sa.select(_i.c.interaction_id).where(*window)
    stream = connection.execution_options(stream_results=True, yield_per=2000)
    findings = stream.execute(
        sa.select(_f)
        .where(_f.c.interaction_id.in_(chosen))
        .order_by(_f.c.interaction_id, _f.c.delivery_id, _f.c.seq)
    )
    for row in findings:
        exporter.write(
            "findings",
            {
                "interaction_id": row.interaction_id,
                "source": source,
                "index": row.position,
                "at": utc(row.at),
                "event_type": row.event_type,
                "rule": row.rule,
                "severity": row.severity,
                "status": row.fate,
                "owner": row.owner,
                "message": row.message,
                "delivery_id": row.delivery_id,
            },
        )
    deliveries = stream.execute(
        sa.select(_d).where(_d.c.interaction_id.in_(chosen)).order_by(_d.c.interaction_id, _d.c.delivery_id)
    )
    for row in deliveries:
        exporter.write(
            "deliveries",
            {
                "interaction_id": row.interaction_id,
                "source": source,
                "index": row.position,
                "at": utc(row.at),
                "event_type": row.event_type,
                "event_id": row.event_id,
                "status": row.fate,
                "delivery_id": row.delivery_id,
                "received_at": utc(row.received_at),
            },
        )
