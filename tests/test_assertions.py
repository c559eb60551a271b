"""deescalate.assertions called directly: return values, assert_not_fires, and where relative paths start."""

from __future__ import annotations

from pathlib import Path

import pytest

import deescalate.assertions
from deescalate import APOLOGIZE_FIRST, FACTS_FIRST, PolicyError, Review, ReviewedFinding, Status, review
from deescalate.assertions import assert_clean, assert_ends_at, assert_fires, assert_not_fires
from deescalate.transcript import read_transcript

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def test_the_public_names_are_the_helpers_and_the_transcript_type() -> None:
    assert deescalate.assertions.__all__ == [
        "Transcript",
        "assert_clean",
        "assert_ends_at",
        "assert_fires",
        "assert_not_fires",
    ]
    for name in deescalate.assertions.__all__:
        assert hasattr(deescalate.assertions, name)


def test_assert_fires_returns_the_matching_reviewed_finding() -> None:
    found = assert_fires(EXAMPLES / "violations.jsonl", "let-them-vent", at=2)
    assert isinstance(found, ReviewedFinding)
    assert (found.line.index, found.line.number) == (2, 3)
    assert found.line.event.type == "apology_offered"
    assert found.finding.rule == "let-them-vent"
    assert found.status is Status.APPLIED
    # The very finding a review gives.
    with (EXAMPLES / "violations.jsonl").open(encoding="utf-8") as file:
        full = review(read_transcript(file), FACTS_FIRST)
    assert found in full.findings


def test_assert_not_fires_returns_the_review_when_the_rule_is_quiet() -> None:
    quiet = assert_not_fires(EXAMPLES / "clean.jsonl", "let-them-vent")
    assert isinstance(quiet, Review)
    assert quiet.interaction.stage == "followed_up"
    # Quiet at the given event, even though it fires elsewhere.
    assert assert_not_fires(EXAMPLES / "violations.jsonl", "let-them-vent", at=3).violations == 5
    assert_not_fires(EXAMPLES / "violations.jsonl", "let-them-vent", at=0, policy=APOLOGIZE_FIRST)


def test_assert_not_fires_says_where_the_rule_fired_and_shows_the_scene() -> None:
    with pytest.raises(AssertionError) as anywhere:
        assert_not_fires(EXAMPLES / "violations.jsonl", "no-scapegoating")
    message = str(anywhere.value)
    first, *scene = message.splitlines()
    assert first == (
        "expected no-scapegoating ('the apology blamed an individual colleague') never to fire under "
        "facts-first; it fired at event(s) 2: the apology blamed an individual colleague"
    )
    assert "  >   2  apology_offered" in scene
    assert "          no-scapegoating (violation): the apology blamed an individual colleague" in scene
    assert any(line.strip().startswith("instead: Apologise as the company") for line in scene)

    with pytest.raises(AssertionError) as at_two:
        assert_not_fires(EXAMPLES / "violations.jsonl", "no-scapegoating", at=2)
    assert str(at_two.value).splitlines()[0] == (
        "expected no-scapegoating ('the apology blamed an individual colleague') not to fire at event 2 "
        "(apology_offered) under facts-first; it did: the apology blamed an individual colleague"
    )


def test_assert_not_fires_refuses_a_rule_the_policy_does_not_have_and_an_event_it_lacks() -> None:
    with pytest.raises(PolicyError, match="has no rule 'let-them-ven'"):
        assert_not_fires(EXAMPLES / "clean.jsonl", "let-them-ven")
    with pytest.raises(AssertionError, match=r"the transcript has 13 events; there is no event 13$"):
        assert_not_fires(EXAMPLES / "clean.jsonl", "let-them-vent", at=13)


def test_a_relative_path_starts_at_the_calling_files_directory_not_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clean, violations = "../examples/clean.jsonl", "../examples/violations.jsonl"  # from tests/
    assert_clean(clean)
    assert_ends_at(clean, "followed_up")
    assert assert_fires(violations, "let-them-vent", at=2).line.number == 3
    assert_not_fires(clean, "let-them-vent")
    with pytest.raises(FileNotFoundError) as missing:
        assert_clean("examples/clean.jsonl")
    assert missing.value.filename == str(Path(__file__).parent / "examples" / "clean.jsonl")


def test_code_that_is_not_in_a_file_starts_at_the_current_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = "from deescalate.assertions import assert_clean\nassert_clean('examples/clean.jsonl')\n"
    exec(compile(code, "<string>", "exec"), {})
    exec(compile(code, "docs page block 3", "exec"), {})  # as the docs' examples are run


def test_an_absolute_path_is_taken_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_clean(str(EXAMPLES / "clean.jsonl"))
    assert_ends_at(EXAMPLES / "clean.jsonl", "followed_up")
