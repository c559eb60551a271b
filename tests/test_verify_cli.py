"""``deescalate verify``: exit statuses (0 holds, 1 fails, 3 inconclusive), text and JSON reports,
test paths, refused steps, progress."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

from deescalate.cli import main
from test_cli import run_cli

DEFECTS = '''
from deescalate import FACTS_FIRST, ConcernsAcknowledged, Escalated, ManagerRequested, Stage, rule
from deescalate.verify import LATE, START, default_alphabet, late

@rule("no-follow-up-after-abuse", severity="violation", on="follow_up_completed",
      message="the customer was abusive")
def no_follow_up_after_abuse(interaction, event, params):
    return interaction.abuse_observed

# Proving a dead end explores all that can follow it, which time multiplies: this one
# leaves time out (the timing rules, and the alphabet's promises and late events).
TIMING = ("keep-the-promise", "report-progress-on-time", "follow-up-on-time", "escalate-promptly")
TRAP = FACTS_FIRST.without(*TIMING).with_rules(no_follow_up_after_abuse).named("trap")

def never_followed_up(interaction):
    return interaction.stage is not Stage.FOLLOWED_UP

NOT_A_FUNCTION = 3
NOT_EVENTS = ["customer_vented"]

TIMELESS = [e for e in default_alphabet(TRAP) if e.at < LATE and e.type != "callback_promised"]

PROMPT = [
    ConcernsAcknowledged(at=START, summary=("late delivery",), used_name=True),
    ManagerRequested(at=START),
    Escalated(at=START, to="supervisor"),
]
SLOW = [*PROMPT, late(PROMPT[-1])]
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "defects.py").write_text(textwrap.dedent(DEFECTS), encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``deescalate verify`` run once on the TRAP policy, with its test paths written."""
    root = tmp_path_factory.mktemp("trap")
    (root / "defects.py").write_text(textwrap.dedent(DEFECTS), encoding="utf-8")
    paths = root / "out"
    result = run_cli(
        "verify", "--policy", "defects:TRAP", "--alphabet", "defects:TIMELESS", "--depth", "5", "--paths", paths,
        cwd=root,
    )
    return {"root": root, "paths": paths, "result": result}


def test_a_builtin_policy_verifies_clean_and_exits_0() -> None:
    result = run_cli("verify", "--policy", "apologize-first")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Verified apologize-first: ")
    assert "  holds  no-dead-ends " in result.stdout
    assert "FAILS" not in result.stdout and "INCONCLUSIVE" not in result.stdout
    assert result.stdout.rstrip().endswith("All 3 properties hold.")
    assert result.stderr == ""  # no progress display when stderr is not a terminal


def test_a_dead_end_exits_1_with_its_shortest_counterexample_and_the_refused_step(trap) -> None:
    result = trap["result"]
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Not verified trap: ")
    assert any(line.startswith("  FAILS  no-dead-ends") and "no-follow-up-after-abuse" in line for line in lines)
    blocks = _event_blocks(lines)
    assert blocks[0][0].startswith("shortest counterexample (2 events;")
    assert [e["type"] for e in blocks[0][1]] == ["interaction_opened", "abuse_observed"]
    heading, refused = blocks[1]
    assert heading.startswith("refused step (") and "no-follow-up-after-abuse refuses there" in heading
    assert refused[:2] == blocks[0][1] and refused[-1]["type"] == "follow_up_completed"
    assert lines[-1] == "1 of 3 properties fail."


def _event_blocks(lines: list[str]) -> list[tuple[str, list[dict[str, object]]]]:
    """The transcripts the text report shows, each with the line that introduces it."""
    blocks: list[tuple[str, list[dict[str, object]]]] = []
    for line in lines:
        if line.startswith("           {"):
            blocks[-1][1].append(json.loads(line))
        elif line.startswith("         ") and line.strip():
            blocks.append((line.strip(), []))
    return blocks


def test_the_refused_step_is_written_and_review_strict_shows_it_refused(trap) -> None:
    paths = trap["paths"]
    assert {"counterexample-no-dead-ends.jsonl", "refused-step-no-dead-ends.jsonl"} <= {
        p.name for p in paths.glob("*.jsonl")
    }
    saved = paths / "refused-step-no-dead-ends.jsonl"
    events = [json.loads(line) for line in saved.read_text().splitlines()]
    assert events[-1]["type"] == "follow_up_completed"
    replay = run_cli("review", "--strict", "--policy", "defects:TRAP", saved, cwd=trap["root"])
    assert replay.returncode == 1, replay.stderr  # a violation: the refused follow-up
    last = len(events) - 1
    headings = [line for line in replay.stdout.splitlines() if line.startswith("#")]
    assert headings[-1].startswith(f"#{last} line {last + 1}: follow_up_completed at ")
    assert headings[-1].endswith(" (refused)")
    assert sum(line.endswith(" (refused)") for line in headings) == 1  # only the last event
    assert "VIOLATION no-follow-up-after-abuse" in replay.stdout
    assert "Final stage: agreed" in replay.stdout


def test_the_example_policy_s_refused_step_reviews_as_refused(tmp_path: Path, monkeypatch) -> None:
    root = Path(__file__).parent.parent
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    out = io.StringIO()
    policy = "examples.ticket_policy:BROKEN"
    code = main(["verify", "--policy", policy, "--depth", "7", "--paths", str(tmp_path)], out=out, err=io.StringIO())
    assert code == 1
    assert out.getvalue().startswith("Not verified acme-tickets: ")
    saved = tmp_path / "refused-step-no-dead-ends.jsonl"
    review = io.StringIO()
    assert main(["review", "--strict", "--policy", policy, str(saved)], out=review, err=io.StringIO()) == 1
    text = review.getvalue()
    count = len(saved.read_text().splitlines())
    assert f"#{count - 1} line {count}: follow_up_completed" in text
    assert text.count("(refused)") == 1 and "VIOLATION cite-change-ticket" in text
    # and the counterexample itself, the opening alone, reviews clean: the trap is in what cannot follow
    clean = io.StringIO()
    opening = str(tmp_path / "counterexample-no-dead-ends.jsonl")
    assert main(["review", "--strict", "--policy", policy, opening], out=clean, err=io.StringIO()) == 0


@pytest.mark.parametrize(
    "options",
    [
        ["--max-states", "1000"],
        ["--escape", "0"],
        ["--depth", "1"],
        ["--depth", "2", "--escape", "1"],
        ["--depth", "3", "--escape", "0", "--max-states", "1000"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("policy", ["facts-first", "apologize-first"])
def test_a_sound_policy_with_too_small_a_search_exits_3_not_1(policy: str, options: list[str]) -> None:
    out = io.StringIO()
    code = main(["verify", "--policy", policy, *options], out=out, err=io.StringIO())
    text = out.getvalue()
    assert code == 3, text
    assert text.startswith(f"Inconclusive {policy}: ")
    assert "FAILS" not in text and "counterexample" not in text
    assert "  INCONCLUSIVE  " in text and "raise --" in text
    assert text.rstrip().splitlines()[-1].startswith("Nothing fails, but ")


def test_an_alphabet_marks_what_comes_late(project: Path) -> None:
    def dead_rules(alphabet: str) -> str:
        result = run_cli("verify", "--depth", "3", "--alphabet", alphabet, "--format", "json", cwd=project)
        report = json.loads(result.stdout)
        return next(p["detail"] for p in report["properties"] if p["name"] == "no-dead-rules")

    assert "escalate-promptly" in dead_rules("defects:PROMPT")  # every escalation on time
    assert "escalate-promptly" not in dead_rules("defects:SLOW")  # one comes after the deadline


def test_the_default_verification_covers_time() -> None:
    out = io.StringIO()
    assert main(["verify", "--format", "json"], out=out) == 0
    report = json.loads(out.getvalue())
    assert report["verdict"] == "holds" and report["states"] == 15954 and report["deepest"] == 12
    assert report["properties"][2] == {
        "name": "no-dead-rules",
        "verdict": "holds",
        "holds": True,
        "counterexample": None,
        "detail": "every rule fires on some explored step",
        "refused_step": None,
        "refused_by": [],
    }


def test_the_json_report_says_inconclusive(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["verify", "--max-states", "1000", "--format", "json", "--paths", str(tmp_path)], out=out) == 3
    report = json.loads(out.getvalue())
    assert report["verdict"] == "inconclusive" and report["holds"] is False and report["complete"] is False
    dead_end = report["properties"][0]
    assert dead_end["verdict"] == "inconclusive" and dead_end["counterexample"] is None
    assert dead_end["detail"].endswith("raise --max-states")
    assert not list(tmp_path.glob("counterexample-*")) and not list(tmp_path.glob("refused-step-*"))


def test_the_help_explains_the_exit_statuses() -> None:
    result = run_cli("verify", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "0 every property holds; 1 one fails; 2 bad arguments; 3 none fails but some are inconclusive" in text


def test_an_invariant_from_the_command_line_fails_with_a_counterexample_review_accepts(project: Path) -> None:
    paths = project / "out"
    result = run_cli(
        "verify", "--depth", "5", "--invariant", "defects:never_followed_up", "--paths", paths, "--format", "json",
        cwd=project,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "fails"
    broken = next(p for p in report["properties"] if p["name"] == "invariant:never_followed_up")
    assert broken["verdict"] == "fails" and broken["holds"] is False and len(broken["counterexample"]) == 6
    saved = paths / "counterexample-invariant-never_followed_up.jsonl"
    assert [json.loads(line) for line in saved.read_text().splitlines()] == broken["counterexample"]
    replay = run_cli("review", "--strict", "--format", "json", saved)
    assert replay.returncode == 0 and json.loads(replay.stdout)["stage"] == "followed_up"


def test_the_json_report_has_the_documented_shape() -> None:
    result = run_cli("verify", "--depth", "3", "--escape", "2", "--format", "json")
    assert result.returncode == 3  # followed_up is 5 events away: the search cannot tell
    report = json.loads(result.stdout)
    assert report["policy"] == "facts-first" and report["depth"] == 3 and report["states"] > 100
    assert report["verdict"] == "inconclusive" and report["escape"] == 2
    assert [p["name"] for p in report["properties"]] == ["no-dead-ends", "every-stage-reachable", "no-dead-rules"]
    for item in report["properties"]:
        assert set(item) == {"name", "verdict", "holds", "counterexample", "detail", "refused_step", "refused_by"}
        assert item["verdict"] in {"holds", "fails", "inconclusive"}
        assert item["holds"] is (item["verdict"] == "holds")
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
    assert main(["verify", "--depth", "2", "--escape", "1"], out=io.StringIO(), err=err) == 3
    assert "\rexploring: " not in err.getvalue()  # each update clears the line first
    assert "exploring: " in err.getvalue() and "interactions, 2 events deep" in err.getvalue()
    assert err.getvalue().endswith("/s)\n") and "explored " in err.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--policy", "facts-last"], "unknown policy 'facts-last'"),
        (["--depth", "0"], "argument --depth: must be at least 1, got 0"),
        (["--escape", "-1"], "argument --escape: must be at least 0, got -1"),
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
