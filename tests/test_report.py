"""The complaint log (``deescalate report``): every figure against a corpus worked out by hand.

The corpus is tests/report_corpus.py, whose docstring says what each interaction
does and so which findings, times and outcomes it has. The figures below are
computed from that description, not from the code.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deescalate.cli import main
from deescalate.report import (
    COLUMNS,
    TABLES,
    Builder,
    Counts,
    Report,
    cause_key,
    format_text,
    report_transcripts,
    to_dict,
    week_of,
    write_sample_corpus,
)
from deescalate.report._aggregate import percentile
from report_corpus import CORPUS, write

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def report(corpus: Path) -> Report:
    return report_transcripts([str(corpus)], now=NOW)


@pytest.fixture(scope="module")
def data(report: Report) -> dict:
    return to_dict(report)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


# -- each figure, by hand ------------------------------------------------------------------------


def test_totals(data: dict) -> None:
    assert data["interactions"] == 5
    assert data["events"] == 12 + 14 + 11 + 4 + 7
    assert data["bad_files"] == 0
    assert data["policies"] == {"facts-first": 5}


def test_final_stages_and_outcomes(data: dict) -> None:
    assert data["stages"] == {
        "venting": 0,
        "acknowledged": 0,
        "facts_gathered": 0,
        "remedy_proposed": 0,
        "agreed": 1,  # C
        "followed_up": 2,  # A, B
        "ended": 2,  # D, E
    }
    assert data["outcomes"] == {
        "resolved": 1,  # A
        "unresolved": 1,  # B: followed up, resolved false
        "ended_by_abuse": 1,  # D
        "customer_left": 1,  # E
        "open": 1,  # C
    }


def test_times_are_nearest_rank_percentiles(data: dict) -> None:
    # acknowledgement: C 120, B 180, A 240, E 2,760 -> median rank 2, p90 rank 4
    # agreement: B 900, A 1,200, C 1,500 -> median rank 2, p90 rank 3
    # follow-up: B 7,200, A 86,400 -> median rank 1, p90 rank 2
    assert data["times"] == {
        "acknowledgement": {"interactions": 4, "median_seconds": 180, "p90_seconds": 2760},
        "agreement": {"interactions": 3, "median_seconds": 1200, "p90_seconds": 1500},
        "follow_up": {"interactions": 2, "median_seconds": 7200, "p90_seconds": 86400},
    }


def test_findings_by_rule(data: dict) -> None:
    assert data["findings"] == {"violations": 6, "warnings": 5, "refused": 0}
    rows = {row["rule"]: (row["violations"], row["warnings"], row["refused"]) for row in data["rules"]}
    assert rows == {
        "let-them-vent": (1, 0, 0),
        "no-company-apology-before-facts": (1, 0, 0),
        "no-scapegoating": (1, 0, 0),
        "prevent-recurrence": (1, 0, 0),
        "restate-the-agreement": (1, 0, 0),
        "warn-before-ending": (1, 0, 0),
        "use-their-name": (0, 1, 0),
        "escalate-before-asked": (0, 1, 0),
        "escalate-promptly": (0, 1, 0),
        "hear-all-sides": (0, 1, 0),
        "keep-the-promise": (0, 1, 0),
    }
    # Most violations first, then warnings, then by id.
    assert [row["rule"] for row in data["rules"]][:2] == ["let-them-vent", "no-company-apology-before-facts"]
    assert data["rules"][-1]["rule"] == "use-their-name"


def test_the_coaching_table_counts_each_finding_against_who_had_the_interaction(data: dict) -> None:
    # The escalation itself is judged while the agent has it; what follows is the team lead's.
    assert data["owners"] == [
        {"owner": "agent", "violations": 5, "warnings": 4, "refused": 0, "interactions": 5},
        {"owner": "team lead", "violations": 1, "warnings": 1, "refused": 0, "interactions": 1},
    ]


def test_the_trend_by_week(data: dict) -> None:
    assert data["weeks"] == [
        {"week": "2026-W10", "starts": "2026-03-02", "interactions": 2, "violations": 4, "warnings": 1,
         "refused": 0},
        {"week": "2026-W11", "starts": "2026-03-09", "interactions": 3, "violations": 2, "warnings": 4,
         "refused": 0},
    ]


def test_escalations_rejections_and_late_obligations(data: dict) -> None:
    assert data["escalations"] == {"before_asked": 0, "after_asked": 1}
    assert data["rejected_remedies"] == {"rejections": 1, "interactions": 1}
    # E's callback met late (a broken promise), C's request for a manager met late.
    assert data["late"] == {"callback": 1, "progress-report": 0, "follow-up": 0, "escalation": 1}


def test_obligations_open_and_overdue_at_now(data: dict) -> None:
    # Only C is still open (agreed): its callback (due 10 March 12:00) and progress report
    # (due 11 March 09:25) are overdue at noon on 12 March; its follow-up (17 March) is not.
    assert data["now"] == "2026-03-12T12:00:00+00:00"
    assert data["obligations"] == {
        "open": {"callback": 0, "progress-report": 0, "follow-up": 1, "escalation": 0},
        "overdue": {"callback": 1, "progress-report": 1, "follow-up": 0, "escalation": 0},
        "later_than_now": 0,
    }


def test_interactions_with_events_after_now_are_left_out_of_what_is_owed(corpus: Path) -> None:
    early = datetime(2026, 3, 12, 8, 20, tzinfo=UTC)  # E goes on until 08:50
    owed = to_dict(report_transcripts([str(corpus)], now=early))["obligations"]
    assert owed["later_than_now"] == 1
    assert owed["overdue"]["callback"] == 1


def test_without_now_nothing_is_said_of_obligations(corpus: Path) -> None:
    assert to_dict(report_transcripts([str(corpus)]))["obligations"] is None


def test_root_causes_group_ignoring_case_and_spacing(data: dict) -> None:
    assert data["root_causes"] == [
        {"fault": "company", "root_cause": "Label printer jammed", "key": "label printer jammed",
         "interactions": 2, "prevention_recorded": 1},
        {"fault": "third_party", "root_cause": "Courier lost the parcel", "key": "courier lost the parcel",
         "interactions": 1, "prevention_recorded": 0},
    ]


def test_cause_key() -> None:
    assert cause_key("  Label\tprinter   JAMMED\n") == "label printer jammed"
    assert cause_key("Straße") == cause_key("STRASSE")  # case-folded, not just lower-cased
    assert cause_key("") == ""


def test_the_window_keeps_interactions_opened_inside_it(corpus: Path) -> None:
    since, until = datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 12, tzinfo=UTC)
    data = to_dict(report_transcripts([str(corpus)], since=since, until=until))
    assert data["interactions"] == 2  # C and D; E opened on the 12th, at the window's end
    assert data["since"] == "2026-03-09T00:00:00+00:00" and data["until"] == "2026-03-12T00:00:00+00:00"
    assert data["events"] == 11 + 4
    assert data["findings"] == {"violations": 2, "warnings": 3, "refused": 0}


def test_json_keys_are_stable(data: dict) -> None:
    assert list(data) == [
        "format", "version", "since", "until", "now", "interactions", "events", "bad_files", "policies",
        "stages", "outcomes", "times", "findings", "rules", "owners", "weeks", "escalations",
        "rejected_remedies", "late", "obligations", "root_causes",
    ]
    assert data["format"] == "deescalate-report" and data["version"] == 1
    json.dumps(data)  # plain JSON


def test_an_empty_corpus_reports_zeros() -> None:
    data = to_dict(Report())
    assert data["interactions"] == 0 and data["rules"] == [] and data["weeks"] == []
    assert data["times"]["agreement"] == {"interactions": 0, "median_seconds": None, "p90_seconds": None}
    assert "0 interactions" in format_text(Report())


# -- the text report --------------------------------------------------------------------------------


def test_the_text_report(report: Report) -> None:
    text = format_text(report)
    assert text.startswith("Complaint log: 5 interactions, 48 events, under facts-first (5)\n")
    for line in (
        "  resolved                              1  20.0%",
        "  to acknowledgement               4   3 min           46 min",
        "Findings by rule: 6 violations, 5 warnings, 0 refused",
        "  team lead             1           1         1        0             2.00",
        "Escalations: 0 before the customer asked for a manager, 1 after",
        "Rejected remedies: 1 rejection in 1 interaction",
        "Met late (after the deadline): 1 promised callback, 0 progress reports, 0 follow-ups, "
        "1 escalation (a late callback is a broken promise)",
        "Owed at 2026-03-12T12:00:00+00:00: 3 open obligations, 2 overdue",
        "  promised callbacks     1        1",
        "        2 interactions  prevention recorded in 1      Label printer jammed",
        "  1 other root cause seen once",
    ):
        assert line in text.splitlines(), line


# -- the mergeable value ------------------------------------------------------------------------


def test_percentiles_by_nearest_rank() -> None:
    values = [(1, 1), (2, 1), (3, 1), (4, 1), (10, 1)]
    assert percentile(values, 0.5) == 3
    assert percentile(values, 0.9) == 10
    assert percentile([(5, 3)], 0.5) == 5
    assert percentile([], 0.5) is None
    assert percentile([(1, 9), (100, 1)], 0.9) == 1  # 90% of ten values are the ninth
    assert percentile([(1, 8), (100, 2)], 0.9) == 100


def test_counts_add_up_and_drop_zeros() -> None:
    a = Counts.of({("x",): 1, ("y",): 2, ("z",): 0})
    b = Counts.of({("y",): 3})
    assert (a + b).items == ((("x",), 1), (("y",), 5))
    assert a + Counts() == a and Counts() + a == a


def test_the_report_of_the_whole_is_the_merge_of_the_parts(corpus: Path, report: Report) -> None:
    parts = [report_transcripts([str(corpus / f"{name}.jsonl") for name in names], now=NOW)
             for names in ("AB", "C", "DE")]
    assert Report.merged(parts, now=NOW) == report
    assert parts[2].merge(parts[0]).merge(parts[1]) == report  # in any order


def test_reports_over_different_windows_or_times_do_not_merge() -> None:
    with pytest.raises(ValueError, match="different now"):
        Report(now=NOW).merge(Report())
    with pytest.raises(TypeError, match="must be a Report"):
        Report().merge({})  # type: ignore[arg-type]


def test_weeks_are_iso_weeks_in_utc() -> None:
    assert week_of(datetime(2026, 3, 2, 0, 30, tzinfo=UTC)) == "2026-W10"
    # Sunday 23:30 in New York is Monday in UTC.
    from datetime import timezone

    assert week_of(datetime(2026, 3, 8, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == "2026-W11"
    assert week_of(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"


def test_quiet_weeks_are_listed_in_the_trend() -> None:
    builder = Builder()
    builder.add_finding("let-them-vent", "violation", "agent", datetime(2026, 3, 2, tzinfo=UTC))
    builder.add_finding("let-them-vent", "warning", "agent", datetime(2026, 3, 23, tzinfo=UTC))
    weeks = [row["week"] for row in to_dict(builder.build())["weeks"]]
    assert weeks == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]


# -- workers, bad files, exports -------------------------------------------------------------------


def test_the_number_of_workers_changes_nothing(tmp_path: Path) -> None:
    folder = write_sample_corpus(tmp_path / "corpus", 120, seed=3)
    one = report_transcripts([str(folder)], now=NOW + timedelta(days=60), jobs=1, export=tmp_path / "one")
    two = report_transcripts([str(folder)], now=NOW + timedelta(days=60), jobs=2, export=tmp_path / "two")
    assert one == two
    assert one.total == 120
    for table in TABLES:
        assert (tmp_path / "one" / f"{table}.jsonl").read_bytes() == (tmp_path / "two" / f"{table}.jsonl").read_bytes()
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(f"{t}.jsonl" for t in TABLES)


def test_a_bad_file_is_named_in_one_line_and_the_others_are_reported(corpus: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "customer_vented", "at": "2026-03-01T00:00:00Z", "intensity": 3}\n')
    said: list[tuple[str, str]] = []
    result = report_transcripts(
        [str(corpus / "A.jsonl"), str(bad), str(tmp_path / "missing.jsonl")],
        on_bad=lambda path, why: said.append((path, why)),
        jobs=2,
    )
    assert result.total == 1 and result.bad_files == 2
    assert said == [
        (str(bad), "line 1: field 'type': the first event must be interaction_opened, not customer_vented"),
        (str(tmp_path / "missing.jsonl"), "cannot read: No such file or directory"),
    ]


def test_an_empty_directory_is_a_bad_entry(tmp_path: Path) -> None:
    said: list[tuple[str, str]] = []
    result = report_transcripts([str(tmp_path)], on_bad=lambda path, why: said.append((path, why)))
    assert result.bad_files == 1 and said == [(str(tmp_path), "holds no .jsonl file")]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"jobs": 0}, "jobs"),
        ({"jobs": "2"}, "jobs"),
        ({"now": datetime(2026, 3, 1)}, "now"),
        ({"since": NOW, "until": NOW}, "until"),
    ],
)
def test_bad_arguments_raise_typed_errors(corpus: Path, arguments: dict, error: str) -> None:
    from deescalate import ArgumentError

    with pytest.raises(ArgumentError, match=error):
        report_transcripts([str(corpus)], **arguments)


def test_paths_must_be_a_list() -> None:
    from deescalate import ArgumentTypeError

    with pytest.raises(ArgumentTypeError, match="paths"):
        report_transcripts("examples")


def test_the_export_tables(corpus: Path, tmp_path: Path) -> None:
    report_transcripts([str(corpus)], export=tmp_path / "out")
    rows = {
        table: [json.loads(line) for line in (tmp_path / "out" / f"{table}.jsonl").read_text().splitlines()]
        for table in TABLES
    }
    for table, found in rows.items():
        assert all(list(row) == list(COLUMNS[table]) for row in found), table
    assert [row["interaction_id"] for row in rows["interactions"]] == list("ABCDE")
    c = rows["interactions"][2]
    assert c == {
        "interaction_id": "C", "source": str(corpus / "C.jsonl"), "policy": "facts-first", "stage": "agreed",
        "outcome": "open", "owner": "team lead", "opened_at": "2026-03-10T09:00:00+00:00",
        "last_at": "2026-03-10T09:26:00+00:00", "events": 11, "violations": 1, "warnings": 3, "refused": 0,
        "acknowledgement_seconds": 120, "agreement_seconds": 1500, "follow_up_seconds": None,
        "fault": "third_party", "root_cause": "Courier lost the parcel", "prevention": None,
        "escalations": 1, "rejections": 0,
    }
    assert len(rows["findings"]) == 11
    restate = next(row for row in rows["findings"] if row["rule"] == "restate-the-agreement")
    assert restate["owner"] == "team lead" and restate["index"] == 9 and restate["status"] == "applied"
    assert len(rows["deliveries"]) == 48
    assert {row["status"] for row in rows["deliveries"]} == {"applied"}


def test_exported_deliveries_say_what_became_of_each_event(tmp_path: Path) -> None:
    lines = [*CORPUS["D"][:2], CORPUS["D"][1], CORPUS["D"][2],
             '{"type": "remedy_accepted", "at": "2026-03-11T15:01:30Z", "restated": true, '
             '"confirmation_sent": true}', CORPUS["D"][3]]
    (tmp_path / "D.jsonl").write_text("\n".join(lines) + "\n")
    report_transcripts([str(tmp_path / "D.jsonl")], export=tmp_path / "out")
    rows = [json.loads(line) for line in (tmp_path / "out" / "deliveries.jsonl").read_text().splitlines()]
    assert [row["status"] for row in rows] == ["applied", "applied", "duplicate", "applied", "invalid", "applied"]


# -- the command ----------------------------------------------------------------------------------


def test_the_command_prints_the_text_report_and_exits_1_on_violations(corpus: Path) -> None:
    status, out, err = cli("report", str(corpus), "--jobs", "1")
    assert status == 1 and err == ""
    assert out.startswith("Complaint log: 5 interactions")


def test_the_command_exits_0_without_violations(corpus: Path) -> None:
    status, out, _ = cli("report", str(corpus / "A.jsonl"), "--format", "json")
    assert status == 0 and json.loads(out)["interactions"] == 1


def test_the_command_names_a_bad_file_in_one_line_and_exits_2(corpus: Path, tmp_path: Path) -> None:
    status, out, err = cli("report", str(corpus / "A.jsonl"), str(tmp_path / "nope.jsonl"), "--format", "json")
    assert status == 2
    assert err == f"deescalate: {tmp_path / 'nope.jsonl'}: cannot read: No such file or directory\n"
    assert json.loads(out)["bad_files"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report"], "give transcript files (or directories), or a store with --db"),
        (["report", "x", "--db", "y.db"], "give transcript files or --db, not both"),
        (["report", "x", "--jobs", "0"], "argument '--jobs': must be 1 or more, got 0"),
        (["report", "x", "--jobs", "two"], "argument '--jobs': must be a whole number, got 'two'"),
        (["report", "x", "--now", "yesterday"], "argument '--now': is not an ISO-8601 timestamp: 'yesterday'"),
        (["report", "x", "--since", "2026-03-01"], "argument '--since': has no UTC offset"),
        (["report", "x", "--since", "2026-03-02T00:00Z", "--until", "2026-03-01T00:00Z"],
         "argument '--until': must be later than --since"),
        (["report", "x", "--policy", "nope"], "unknown policy 'nope'"),
    ],
)
def test_bad_arguments_are_one_line(argv: list[str], message: str) -> None:
    status, out, err = cli(*argv)
    assert status == 2 and out == ""
    assert err.startswith(f"deescalate: {message}") and err.count("\n") == 1


def test_the_command_writes_to_out_and_exports(corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "log.json"
    status, out, err = cli("report", str(corpus), "--format", "json", "--out", str(target),
                           "--export", str(tmp_path / "tables"), "--now", "2026-03-12T12:00:00Z")
    assert (status, out, err) == (1, "", "")
    assert json.loads(target.read_text())["obligations"]["overdue"]["callback"] == 1
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "deliveries.jsonl", "findings.jsonl", "interactions.jsonl"]


def test_out_in_a_missing_directory_is_one_line(corpus: Path, tmp_path: Path) -> None:
    status, _, err = cli("report", str(corpus), "--out", str(tmp_path / "no" / "such" / "log.txt"))
    assert status == 2 and err.startswith("deescalate: argument '--out': cannot write")


def test_standard_input_is_read_in_the_parent(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    raw = (corpus / "D.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    status, out, _ = cli("report", "-", str(corpus / "A.jsonl"), "--format", "json", "--jobs", "2")
    assert status == 1 and json.loads(out)["interactions"] == 2


def test_the_report_command_does_not_load_matplotlib_or_sqlalchemy_for_text(corpus: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from deescalate.cli import main; "
        f"main(['report', {str(corpus)!r}, '--jobs', '1', '--format', 'json']); "
        "print(sorted(m for m in ('matplotlib', 'sqlalchemy', 'hypothesis') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_times_are_counted_at_the_resolution_they_are_printed() -> None:
    from deescalate.report._aggregate import counted_time

    assert [counted_time(s) for s in (0, 59, 60, 119, 3_599, 86_399)] == [0, 59, 60, 60, 3_540, 86_340]
    assert counted_time(86_400 + 3_599) == 86_400 and counted_time(3 * 86_400 + 7_300) == 3 * 86_400 + 7_200


def test_directories_are_walked_in_the_order_review_reads_them(tmp_path: Path) -> None:
    """The report and the commands list a directory's transcripts alike (one module does it for both):
    paths compared name by name, an empty directory a bad entry of its own."""
    from deescalate.cli.review import _expand
    from deescalate.report._transcripts import transcripts

    for name in ("b.jsonl", "a/z.jsonl", "a/b/c.jsonl", "a.jsonl", "a-b/x.jsonl", "c/notes.txt", "A/y.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "empty").mkdir()
    paths = [str(tmp_path), str(tmp_path / "empty"), "-"]
    expected = [
        *((str(tmp_path / name), None) for name in ("A/y.jsonl", "a/b/c.jsonl", "a/z.jsonl", "a-b/x.jsonl", "a.jsonl", "b.jsonl")),
        (str(tmp_path / "empty"), "holds no .jsonl file"),
        ("-", None),
    ]
    assert list(transcripts(paths)) == expected
    assert [(path, None if bad is None else bad.message) for path, bad in _expand(paths)] == expected


def test_workers_started_afresh_give_the_same_report(
    corpus: Path, report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where fork is not used (macOS, Windows, a threaded host), workers are fresh interpreters."""
    import multiprocessing

    from deescalate.report import _transcripts

    monkeypatch.setattr(_transcripts, "CHUNK", 2)
    monkeypatch.setattr(_transcripts, "_context", lambda: multiprocessing.get_context("spawn"))
    assert report_transcripts([str(corpus)], now=NOW, jobs=2) == report


def test_html_without_matplotlib_is_one_line(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, out, err = cli("report", str(corpus), "--format", "html")
    assert (status, out) == (2, "")
    assert err == (
        "deescalate: --format html draws its charts with matplotlib: pip install 'deescalate-fsm[report]'\n"
    )


def test_ctrl_c_stops_the_workers_without_a_traceback(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    folder = write_sample_corpus(tmp_path / "corpus", 4000, seed=5)
    command = [sys.executable, "-m", "deescalate", "report", str(folder), "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(0.7)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: to the whole process group
    _, err = process.communicate(timeout=60)
    if process.returncode in (0, 1):
        pytest.skip("the report was done before Ctrl-C came")
    assert (process.returncode, err) == (130, "deescalate: interrupted\n")
