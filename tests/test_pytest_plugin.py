"""The shipped pytest plugin (registered through the pytest11 entry point) and assertion helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
VIOLATIONS = (ROOT / "examples" / "violations.jsonl").read_text(encoding="utf-8")
CLEAN = (ROOT / "examples" / "clean.jsonl").read_text(encoding="utf-8")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".jsonl", clean=CLEAN, violations=VIOLATIONS)
    return pytester


def test_the_plugin_is_registered_through_its_entry_point(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_policies(facts_first_policy, apologize_first_policy):
            assert facts_first_policy.name == "facts-first"
            assert apologize_first_policy.name == "apologize-first"
        """
    )
    # A separate process with plugin autoloading on: nothing but the entry point loads it.
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_builtin_policy_runs_a_test_once_per_builtin_policy(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_ends_at

        def test_clean_everywhere(builtin_policy, load_transcript):
            assert_ends_at(load_transcript("clean.jsonl"), "followed_up", builtin_policy)
        """
    )
    result = suite.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_clean_everywhere?apologize-first? PASSED*", "*test_clean_everywhere?facts-first? PASSED*"])


def test_load_transcript_reads_from_the_test_files_directory(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_load(load_transcript):
            events = load_transcript("violations.jsonl")
            assert events[0].type == "interaction_opened" and len(events) > 5
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_a_bad_transcript_fails_the_test_with_its_line_and_field(suite: pytest.Pytester) -> None:
    suite.makefile(".jsonl", bad='{"type": "interaction_opened", "at": "2026-01-01T00:00:00Z", "interaction_id": "T"}\n{"type": "customer_vented", "at": "2026-01-01T00:01:00Z"}\n')
    suite.makepyfile(
        """
        def test_load(load_transcript):
            load_transcript("bad.jsonl")
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad.jsonl: line 2: field 'intensity'*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_missing_transcript_fails_the_test_saying_so(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_load(load_transcript):\n    load_transcript('nowhere.jsonl')\n")
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cannot read transcript*nowhere.jsonl*"])


def test_assert_clean_shows_the_events_around_the_first_violation(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_clean

        def test_clean(load_transcript):
            assert_clean(load_transcript("clean.jsonl"))

        def test_violations(load_transcript, facts_first_policy):
            assert_clean(load_transcript("violations.jsonl"), facts_first_policy)
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected a clean transcript under facts-first, got * violation(s); the first, at event 2, is let-them-vent*",
            "*    1  customer_vented",
            "*>   2  apology_offered",
            "*let-them-vent (violation): apology_offered while the customer was still venting*",
            "*instead: Wait for the venting to subside*",
            "*    3  venting_subsided",
            "*   ...",
        ]
    )


def test_assert_clean_can_refuse_warnings_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from build import events, opened
        from deescalate.assertions import assert_clean

        def test_warnings():
            transcript = [opened(), *events(["concerns_acknowledged", "facts_established"])]
            assert_clean(transcript)  # hear-all-sides is a warning
            assert_clean(transcript, allow_warnings=False)
        """
    )
    pytester.syspathinsert(Path(__file__).parent)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*got 1 finding(s); the first, at event 2, is hear-all-sides*", "*hear-all-sides (warning): facts established after hearing 0 source(s)*"])


def test_assert_fires_passes_at_the_index_and_says_where_it_fired_otherwise(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_fires

        def test_right_place(load_transcript):
            found = assert_fires(load_transcript("violations.jsonl"), "let-them-vent", at=2)
            assert found.finding.rule == "let-them-vent"

        def test_wrong_place(load_transcript):
            assert_fires(load_transcript("violations.jsonl"), "let-them-vent", at=3)

        def test_never(load_transcript):
            assert_fires(load_transcript("clean.jsonl"), "no-scapegoating", at=3)

        def test_no_such_event(load_transcript):
            assert_fires(load_transcript("clean.jsonl"), "no-scapegoating", at=99)
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*expected let-them-vent ('{event.type} while the customer was still venting*') to fire at event 3 (*) under facts-first; it fired at event(s) 2",
            "*>   3  *",
            "*expected no-scapegoating (*) to fire at event 3 (*) under facts-first; it never fired",
            "*the transcript has 13 events; there is no event 99",
        ]
    )


def test_assert_ends_at_names_the_stage_it_ended_at(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_ends_at

        def test_end(load_transcript):
            assert_ends_at(load_transcript("clean.jsonl"), "agreed")
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*expected the interaction to end at agreed, it ended at followed_up under facts-first (advisory)*", "*>  12  follow_up_completed"])


def test_the_helpers_take_a_path_too(tmp_path: Path) -> None:
    from deescalate.assertions import assert_clean, assert_ends_at, assert_fires

    assert_clean(ROOT / "examples" / "clean.jsonl")
    assert_ends_at(str(ROOT / "examples" / "clean.jsonl"), "followed_up")
    assert assert_fires(ROOT / "examples" / "violations.jsonl", "let-them-vent", 2).line.number == 3
