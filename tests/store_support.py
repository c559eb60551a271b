"""Test support for the store: the databases its tests run on, and a consistency check.

The same tests run on SQLite (a file in the test's temporary directory) and on
PostgreSQL, when ``DEESCALATE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts
one with ``tools/postgres.sh``). Each PostgreSQL test gets a schema of its own, so
tests never see each other's tables. When the variable is set, an unreachable
server fails the tests rather than skipping them; without it they skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from deescalate import replay

POSTGRES_ENV = "DEESCALATE_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str:
    """The server's URL, or skip: the variable is not set."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL store tests need {POSTGRES_ENV}, a server's SQLAlchemy URL "
            "(.ci/run starts one: tools/postgres.sh start DIR prints it)"
        )
    return url


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh schema on the test server, dropped afterwards."""
    url = sa.make_url(postgres_url())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.SQLAlchemyError as error:
        pytest.fail(f"{POSTGRES_ENV} is set but the server cannot be used: {error}")
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL on each backend: a SQLite file, and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_schema")
    return url


def check_consistent(url: str) -> dict[str, int]:
    """Check every invariant the store keeps between its tables; returns counts.

    Per interaction: its row's version is the number of its events, their positions
    run 0, 1, 2... with no gap, each was applied by an ``applied`` delivery at that
    position and no other delivery is ``applied``, its event ids are distinct, and
    the interaction the store gives equals replaying its events.
    """
    from deescalate.store import Store
    from deescalate.store._schema import deliveries, events, interactions

    store = Store(url, mode="advisory")
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(sa.select(interactions.c.interaction_id, interactions.c.version)).all()
            counts = {"interactions": len(rows), "events": 0, "deliveries": 0}
            counts["deliveries"] = connection.execute(
                sa.select(sa.func.count()).select_from(deliveries)
            ).scalar_one()
            for interaction_id, version in rows:
                log = connection.execute(
                    sa.select(events.c.position, events.c.event_id, events.c.delivery_id)
                    .where(events.c.interaction_id == interaction_id)
                    .order_by(events.c.position)
                ).all()
                assert [row.position for row in log] == list(range(version)), interaction_id
                ids = [row.event_id for row in log if row.event_id is not None]
                assert len(ids) == len(set(ids)), interaction_id
                applied = connection.execute(
                    sa.select(deliveries.c.delivery_id, deliveries.c.position)
                    .where(deliveries.c.interaction_id == interaction_id, deliveries.c.fate == "applied")
                    .order_by(deliveries.c.position)
                ).all()
                assert [(row.delivery_id, row.position) for row in applied] == [
                    (row.delivery_id, row.position) for row in log
                ], interaction_id
                counts["events"] += version
                interaction = store.get(interaction_id)
                assert len(interaction.history) == version
                assert interaction == replay(interaction.history, store.policy_of(interaction_id))
            orphans = connection.execute(
                sa.select(sa.func.count())
                .select_from(events)
                .where(~events.c.interaction_id.in_(sa.select(interactions.c.interaction_id)))
            ).scalar_one()
            assert orphans == 0
    finally:
        store.close()
    return counts
