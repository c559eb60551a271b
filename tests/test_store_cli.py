"""``deescalate ingest`` and ``deescalate due``, run as real commands against real stores."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deescalate.store import Fate, Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def deescalate(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deescalate", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The examples, plus a bad file, in a folder."""
    folder = tmp_path / "transcripts"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "zz-broken.jsonl").write_text('{"type": "interaction_opened", "at": "yesterday"}\n')
    return folder


def test_ingest_loads_each_file_once_and_reports_like_review(corpus: Path, store_url: str) -> None:
    first = deescalate("ingest", corpus, "--db", store_url)
    assert first.returncode == 2  # the broken file; the others went in
    assert first.stderr.count("\n") == 1 and "zz-broken.jsonl: line 1" in first.stderr
    assert "Traceback" not in first.stderr
    assert "T-1001: 13 applied; 0 violations, 0 warnings" in first.stdout
    assert "T-1002: 10 applied; 5 violations, 5 warnings" in first.stdout
    assert first.stdout.splitlines()[-1].startswith("Total: 5 files (1 bad): 50 new deliveries made;")
    with Store(store_url) as store:
        journal = store.deliveries()
        assert len(journal) == 50
        assert len(store.interactions()) == 4
    again = deescalate("ingest", corpus, "--db", store_url)
    assert again.returncode == 2
    assert "T-1001 (unchanged: the store had it all): 13 applied" in again.stdout
    assert "0 new deliveries made; 15 violations, 6 warnings" in again.stdout
    with Store(store_url) as store:
        assert store.deliveries() == journal  # nothing changed
    (corpus / "zz-broken.jsonl").unlink()
    clean = deescalate("ingest", corpus / "clean.jsonl", "--db", store_url, "--format", "json")
    assert clean.returncode == 0
    data = json.loads(clean.stdout)
    assert data["files"][0]["unchanged"] is True and data["files"][0]["violations"] == 0
    assert data["totals"]["deliveries"] == 0
    (corpus / "zz-broken.jsonl").write_text('{"type": "interaction_opened", "at": "yesterday"}\n')
    broken = json.loads(
        deescalate("ingest", corpus / "zz-broken.jsonl", "--db", store_url, "--format", "json").stdout
    )
    assert broken["files"][0]["line"] == 1 and broken["files"][0]["field"] == "interaction_id"
    (corpus / "zz-broken.jsonl").unlink()
    violations = deescalate("ingest", corpus / "violations.jsonl", "--db", store_url)
    assert violations.returncode == 1


def test_ingest_strict_refuses_and_journals(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "strict.db"
    result = deescalate("ingest", corpus / "violations.jsonl", "--db", db, "--strict")
    assert result.returncode == 1
    assert "refused" in result.stdout
    with Store(f"sqlite:///{db}") as store:
        refused = store.deliveries(fate=Fate.REFUSED)
        assert refused and all(record.mode.value == "strict" for record in refused)
        assert store.findings(fate="refused")


def test_ingest_a_changed_transcript_is_a_bad_file(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert deescalate("ingest", corpus / "clean.jsonl", "--db", db).returncode == 0
    lines = (corpus / "clean.jsonl").read_text().splitlines()
    lines[3] = lines[3].replace('"intensity": 8', '"intensity": 2').replace('"intensity":8', '"intensity":2')
    changed = corpus / "changed.jsonl"
    changed.write_text("\n".join([*lines[:3], lines[4], *lines[5:]]) + "\n")
    result = deescalate("ingest", changed, "--db", db)
    assert result.returncode == 2
    assert "differs from the store's journal" in result.stderr and "Traceback" not in result.stderr


def test_ingest_with_a_custom_policy(tmp_path: Path) -> None:
    db = tmp_path / "acme.db"
    result = deescalate(
        "ingest", EXAMPLES / "clean.jsonl", "--db", db, "--policy", "acme_policy:ACME", cwd=EXAMPLES
    )
    assert result.returncode in (0, 1), result.stderr
    with Store(f"sqlite:///{db}", policies=[_acme()]) as store:
        assert store.interaction("T-1001").policy == _acme().name


def _acme() -> object:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import acme_policy

        return acme_policy.ACME
    finally:
        sys.path.remove(str(EXAMPLES))


def test_due_lists_what_is_owed(tmp_path: Path) -> None:
    db = tmp_path / "due.db"
    assert deescalate("ingest", EXAMPLES / "follow-through.jsonl", "--db", db).returncode == 0
    nothing = deescalate("due", "--db", db, "--now", "2026-04-06T11:00:00Z")
    assert nothing.returncode == 0 and nothing.stdout == "Due at 2026-04-06T11:00:00+00:00: nothing.\n"
    text = deescalate("due", "--db", db, "--now", "2026-04-08T00:00:00Z")
    assert text.returncode == 0
    assert text.stdout.splitlines() == [
        "Due at 2026-04-08T00:00:00+00:00: 2 obligations in 1 interaction, 2 overdue.",
        "  - T-2040 (agent): progress-report by 2026-04-07T10:17:00+00:00 (overdue by 13 h 43 min)",
        "  - T-2040 (agent): callback by 2026-04-07T12:00:00+00:00 (overdue by 12 h)",
    ]
    data = json.loads(
        deescalate("due", "--db", db, "--now", "2026-04-07T12:00:00Z", "--format", "json").stdout
    )
    assert data == {
        "now": "2026-04-07T12:00:00+00:00",
        "due": [
            {
                "interaction_id": "T-2040",
                "owner": "agent",
                "kind": "progress-report",
                "opened": "2026-04-06T10:17:00+00:00",
                "due": "2026-04-07T10:17:00+00:00",
                "overdue": True,
            },
            {
                "interaction_id": "T-2040",
                "owner": "agent",
                "kind": "callback",
                "opened": "2026-04-06T10:17:30+00:00",
                "due": "2026-04-07T12:00:00+00:00",
                "overdue": False,
            },
        ],
    }
    # Without --now, the machine's clock: long after these deadlines.
    assert "3 obligations in 1 interaction, 3 overdue" in deescalate("due", "--db", db).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["due", "--db", "missing.db"], "no store at"),
        (["due", "--db", "x.db"], "no store at"),
        (["due", "--db", "x.db", "--now", "tomorrow"], "is not an ISO-8601 timestamp"),
        (["due", "--db", "mysql://localhost/x"], "SQLite or PostgreSQL"),
        (["due", "--db", "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2"], "cannot prepare the store"),
        (["ingest", "missing.jsonl", "--db", "new.db"], "missing.jsonl: cannot read"),
        (["ingest", "x.jsonl", "--db", "s.db", "--policy", "nope"], "unknown policy"),
        (["due"], "the following arguments are required: --db"),
    ],
)
def test_store_commands_fail_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "x.db").write_bytes(b"")
    (tmp_path / "x.jsonl").write_text((EXAMPLES / "clean.jsonl").read_text())
    result = deescalate(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    if "required" not in message:
        assert result.stderr.count("\n") == 1
