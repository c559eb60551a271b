"""The complaint log over a store (``deescalate report --db``): aggregated in SQL, equal to the transcripts'.

The hand-worked corpus of tests/report_corpus.py is ingested into a store; the
report over the store must then be the report over the transcript files, figure
for figure. A strict store refuses events, and its refusals are counted as such.
Each test runs on a SQLite file, and on PostgreSQL (a schema of its own, dropped
afterwards) when ``DEESCALATE_TEST_POSTGRES_URL`` names a server.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from deescalate import parse_event
from deescalate.cli import main
from deescalate.report import COLUMNS, TABLES, StoreUnreadable, report_transcripts, to_dict
from deescalate.report._sql import report_store
from deescalate.store import Store
from report_corpus import CORPUS, write

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def url(store_url: str) -> str:
    """A fresh, empty database: a SQLite file, or a schema of its own on the PostgreSQL server
    (the store's tests' own fixture, tests/store_support.py)."""
    return store_url


def ingest(store: Store, names: str, mode: str = "advisory") -> None:
    for name in names:
        store.ingest([parse_event(line) for line in CORPUS[name]], mode=mode)


def test_the_store_report_is_the_transcripts_report(url: str, tmp_path: Path) -> None:
    with Store(url) as store:
        ingest(store, "ABCDE")
        from_store = report_store(store, now=NOW)
    from_files = report_transcripts([str(write(tmp_path / "corpus"))], now=NOW)
    assert to_dict(from_store) == to_dict(from_files)
    assert from_store == from_files


def test_the_window_and_the_policy_select_interactions(url: str) -> None:
    with Store(url) as store:
        ingest(store, "ABCDE")
        since, until = datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 12, tzinfo=UTC)
        data = to_dict(report_store(store, since=since, until=until))
        assert data["interactions"] == 2 and data["events"] == 11 + 4
        assert data["findings"] == {"violations": 2, "warnings": 3, "refused": 0}
        assert to_dict(report_store(store, policy="apologize-first"))["interactions"] == 0
        assert to_dict(report_store(store, policy="facts-first"))["interactions"] == 5


def test_a_strict_store_counts_its_refusals(url: str) -> None:
    with Store(url) as store:
        ingest(store, "B", mode="strict")
        data = to_dict(report_store(store, now=NOW))
    # The apology over the venting customer is refused with its three violations, and so is
    # the follow-up without a prevention (prevent-recurrence): B stays agreed, still open.
    assert data["findings"] == {"violations": 0, "warnings": 1, "refused": 4}
    rows = {row["rule"]: (row["violations"], row["warnings"], row["refused"]) for row in data["rules"]}
    assert rows == {
        "let-them-vent": (0, 0, 1),
        "no-company-apology-before-facts": (0, 0, 1),
        "no-scapegoating": (0, 0, 1),
        "prevent-recurrence": (0, 0, 1),
        "use-their-name": (0, 1, 0),
    }
    assert data["stages"]["agreed"] == 1 and data["outcomes"]["open"] == 1
    assert data["owners"] == [{"owner": "agent", "violations": 0, "warnings": 1, "refused": 4, "interactions": 1}]
    assert data["weeks"][0]["refused"] == 4
    assert data["events"] == 14  # every delivery, refused ones included


def test_the_command_reads_a_store_and_exports_its_tables(url: str, tmp_path: Path) -> None:
    with Store(url) as store:
        ingest(store, "ABCDE")
    status, out, err = cli("report", "--db", url, "--format", "json", "--now", "2026-03-12T12:00:00Z",
                           "--export", str(tmp_path / "tables"))
    assert (status, err) == (1, "")
    data = json.loads(out)
    assert data["interactions"] == 5 and data["obligations"]["overdue"]["callback"] == 1
    rows = {
        table: [json.loads(line) for line in (tmp_path / "tables" / f"{table}.jsonl").read_text().splitlines()]
        for table in TABLES
    }
    for table, found in rows.items():
        assert all(list(row) == list(COLUMNS[table]) for row in found), table
    assert [row["interaction_id"] for row in rows["interactions"]] == list("ABCDE")
    c = rows["interactions"][2]
    assert (c["owner"], c["stage"], c["outcome"], c["violations"], c["warnings"], c["events"]) == (
        "team lead", "agreed", "open", 1, 3, 11)
    assert len(rows["findings"]) == 11 and len(rows["deliveries"]) == 48
    assert all(row["delivery_id"] is not None for row in rows["deliveries"])


def test_a_missing_store_file_is_one_line(tmp_path: Path) -> None:
    status, out, err = cli("report", "--db", str(tmp_path / "nope.db"))
    assert status == 2 and out == ""
    assert err == f"deescalate: argument '--db': no store at {tmp_path / 'nope.db'}: the file does not exist\n"


def test_jobs_are_for_transcripts(tmp_path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 's.db'}").close()
    status, _, err = cli("report", "--db", str(tmp_path / "s.db"), "--jobs", "2")
    assert status == 2 and "--jobs" in err and err.count("\n") == 1


def test_a_database_that_is_not_a_store_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    with pytest.raises(StoreUnreadable, match="not a store"):
        report_store(str(path))


def test_an_empty_store_reports_zeros(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        data = to_dict(report_store(store.engine))
    assert data["interactions"] == 0 and data["events"] == 0 and data["rules"] == []
