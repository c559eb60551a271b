"""``deescalate verify``: exit statuses, text and JSON reports, test paths, progress."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

from deescalate.cli import main
from test_cli import run_cli

DEFECTS = '''
from deescalate import FACTS_FIRST, Stage, rule

@rule("no-follow-up-after-abuse", severity="violation", on="follow_up_completed",
      message="the customer was abusive")
def no_follow_up_after_abuse(interaction, event, params):
    return interaction.abuse_observed

TRAP = FACTS_FIRST.with_rules(no_follow_up_after_abuse).named("trap")

def never_followed_up(interaction):
    return interaction.stage is not Stage.FOLLOWED_UP

NOT_A_FUNCTION = 3
NOT_EVENTS = ["customer_vented"]
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "defects.py").write_text(textwrap.dedent(DEFECTS), encoding="utf-8")
    return tmp_path


def test_a_builtin_policy_verifies_clean_and_exits_0() -> None:
    result = run_cli("verify", "--policy", "apologize-first")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Verified apologize-first: ")
    assert "  holds  no-dead-ends " in result.stdout
    assert result.stdout.rstrip().endswith("All 3 properties hold.")
    assert result.stderr == ""  # no progress display when stderr is not a terminal


def test_a_dead_end_exits_1_with_its_shortest_counterexample(project: Path) -> None:
    result = run_cli("verify", "--policy", "defects:TRAP", "--depth", "5", "--escape", "4", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("  FAILS  no-dead-ends") and "no-follow-up-after-abuse" in line for line in lines)
    shown = [json.loads(line) for line in lines if line.startswith("           {")]
    assert [e["type"] for e in shown] == ["interaction_opened", "abuse_observed"]
    assert lines[-1] == "2 of 3 properties fail."  # hand-off-when-stuck needs 7 events


def test_an_invariant_from_the_command_line_fails_with_a_counterexample_review_accepts(project: Path) -> None:
    paths = project / "out"
    result = run_cli(
        "verify", "--depth", "5", "--invariant", "defects:never_followed_up", "--paths", paths, "--format", "json",
        cwd=project,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    broken = next(p for p in report["properties"] if p["name"] == "invariant:never_followed_up")
    assert broken["holds"] is False and len(broken["counterexample"]) == 6
    saved = paths / "counterexample-invariant-never_followed_up.jsonl"
    assert [json.loads(line) for line in saved.read_text().splitlines()] == broken["counterexample"]
    replay = run_cli("review", "--strict", "--format", "json", saved)
    assert replay.returncode == 0 and json.loads(replay.stdout)["stage"] == "followed_up"


def test_the_json_report_has_the_documented_shape() -> None:
    result = run_cli("verify", "--depth", "3", "--escape", "2", "--format", "json")
    assert result.returncode == 1  # followed_up is 5 events away
    report = json.loads(result.stdout)
    assert report["policy"] == "facts-first" and report["depth"] == 3 and report["states"] > 100
    assert [p["name"] for p in report["properties"]] == ["no-dead-ends", "every-stage-reachable", "no-dead-rules"]
    for item in report["properties"]:
        assert set(item) == {"name", "holds", "counterexample", "detail"}
        assert item["counterexample"] is None or isinstance(item["counterexample"], list)


def test_every_written_test_path_replays_to_the_stage_it_claims(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["verify", "--depth", "7", "--paths", str(tmp_path), "--format", "json"], out=out) == 0
    claimed = {p["name"]: p["stage"] for p in json.loads(out.getvalue())["paths"]}
    written = sorted(tmp_path.glob("*.jsonl"))
    assert {p.stem for p in written} == set(claimed)
    assert {"reach-venting", "reach-followed_up", "reach-ended", "cover-1"} <= set(claimed)
    for path in written:
        review = io.StringIO()
        assert main(["review", "--strict", "--format", "json", str(path)], out=review) == 0, path.name
        assert json.loads(review.getvalue())["stage"] == claimed[path.stem], path.name


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal() -> None:
    err = Terminal()
    assert main(["verify", "--depth", "2", "--escape", "1"], out=io.StringIO(), err=err) == 1
    assert "\rexploring: " not in err.getvalue()  # each update clears the line first
    assert "exploring: " in err.getvalue() and "interactions, 2 events deep" in err.getvalue()
    assert err.getvalue().endswith("/s)\n") and "explored " in err.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--policy", "facts-last"], "unknown policy 'facts-last'"),
        (["--depth", "0"], "argument --depth: must be at least 1, got 0"),
        (["--max-states", "many"], "argument --max-states: expected a whole number, got 'many'"),
        (["--invariant", "nowhere:check"], "cannot import module 'nowhere' for invariant 'nowhere:check'"),
        (["--invariant", "defects:NOT_A_FUNCTION"], "invariant 'defects:NOT_A_FUNCTION' is a int, not a function"),
        (["--invariant", "never_followed_up"], "invariant 'never_followed_up' must be given as module:attribute"),
        (["--alphabet", "defects:NOT_EVENTS"], "alphabet 'defects:NOT_EVENTS' must be a non-empty list or tuple of events"),
        (["--paths", "defects.py"], "cannot write defects.py/reach-venting.jsonl"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(project: Path, arguments: list[str], message: str) -> None:
    result = run_cli("verify", "--depth", "1", "--escape", "0", *arguments, cwd=project)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
