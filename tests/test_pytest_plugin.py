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
        def test_policies(deescalate_facts_first_policy, deescalate_apologize_first_policy):
            assert deescalate_facts_first_policy.name == "facts-first"
            assert deescalate_apologize_first_policy.name == "apologize-first"
        """
    )
    # A separate process with plugin autoloading on: nothing but the entry point loads it.
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_deescalate_builtin_policy_runs_a_test_once_per_builtin_policy(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_ends_at

        def test_clean_everywhere(deescalate_builtin_policy, deescalate_load_transcript):
            assert_ends_at(deescalate_load_transcript("clean.jsonl"), "followed_up", deescalate_builtin_policy)
        """
    )
    result = suite.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_clean_everywhere?apologize-first? PASSED*", "*test_clean_everywhere?facts-first? PASSED*"])


def test_deescalate_load_transcript_reads_from_the_test_files_directory(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_load(deescalate_load_transcript):
            events = deescalate_load_transcript("violations.jsonl")
            assert events[0].type == "interaction_opened" and len(events) > 5
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_a_bad_transcript_fails_the_test_with_its_line_and_field(suite: pytest.Pytester) -> None:
    suite.makefile(".jsonl", bad='{"type": "interaction_opened", "at": "2026-01-01T00:00:00Z", "interaction_id": "T"}\n{"type": "customer_vented", "at": "2026-01-01T00:01:00Z"}\n')
    suite.makepyfile(
        """
        def test_load(deescalate_load_transcript):
            deescalate_load_transcript("bad.jsonl")
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad.jsonl: line 2: field 'intensity'*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*During handling*")


def test_a_missing_transcript_fails_the_test_saying_so(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_load(deescalate_load_transcript):\n    deescalate_load_transcript('nowhere.jsonl')\n")
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cannot read transcript*nowhere.jsonl*"])


def test_assert_clean_shows_the_events_around_the_first_violation(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_clean

        def test_clean(deescalate_load_transcript):
            assert_clean(deescalate_load_transcript("clean.jsonl"))

        def test_violations(deescalate_load_transcript, deescalate_facts_first_policy):
            assert_clean(deescalate_load_transcript("violations.jsonl"), deescalate_facts_first_policy)
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

        def test_right_place(deescalate_load_transcript):
            found = assert_fires(deescalate_load_transcript("violations.jsonl"), "let-them-vent", at=2)
            assert found.finding.rule == "let-them-vent"

        def test_wrong_place(deescalate_load_transcript):
            assert_fires(deescalate_load_transcript("violations.jsonl"), "let-them-vent", at=3)

        def test_never(deescalate_load_transcript):
            assert_fires(deescalate_load_transcript("clean.jsonl"), "no-scapegoating", at=3)

        def test_no_such_event(deescalate_load_transcript):
            assert_fires(deescalate_load_transcript("clean.jsonl"), "no-scapegoating", at=99)
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

        def test_end(deescalate_load_transcript):
            assert_ends_at(deescalate_load_transcript("clean.jsonl"), "agreed")
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


def test_the_fixtures_are_prefixed_and_the_generic_names_are_free(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--fixtures")
    for name in ("policy", "facts_first_policy", "apologize_first_policy", "builtin_policy", "load_transcript"):
        result.stdout.fnmatch_lines([f"deescalate_{name}*"])
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("name", ["facts_first_policy", "apologize_first_policy", "builtin_policy", "load_transcript"])
        def test_old_name(request, name):
            with pytest.raises(pytest.FixtureLookupError):
                request.getfixturevalue(name)
        """
    )
    suite.runpytest().assert_outcomes(passed=4)


ACME_POLICY = """
from deescalate import FACTS_FIRST

POLICY = FACTS_FIRST.with_params(authority_limit=50).named("acme")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project whose policy lives in a package at its root, with its tests in tests/ (no __init__.py)."""
    pytester.mkpydir("acmepolicy")
    (pytester.path / "acmepolicy" / "policy.py").write_text(ACME_POLICY, encoding="utf-8")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_project_policy.py").write_text(
        "def test_project_policy(deescalate_policy):\n    print('policy:', deescalate_policy.name, deescalate_policy.params.authority_limit)\n",
        encoding="utf-8",
    )
    return pytester


def _ini(project: pytest.Pytester, spec: str) -> None:
    project.makepyprojecttoml(f'[tool.pytest.ini_options]\ndeescalate_policy = "{spec}"\n')


def test_deescalate_policy_is_facts_first_without_the_ini_option(project: pytest.Pytester) -> None:
    result = project.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*policy: facts-first 100"])


def test_deescalate_policy_loads_the_module_attribute_the_ini_option_names_from_the_rootdir(
    project: pytest.Pytester,
) -> None:
    _ini(project, "acmepolicy.policy:POLICY")
    # tests/ is what pytest puts on sys.path for the test file: acmepolicy is found through the rootdir.
    result = project.runpytest("-s", "tests")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*policy: acme 50"])


def test_deescalate_policy_takes_a_builtin_name_too(project: pytest.Pytester) -> None:
    _ini(project, "apologize-first")
    result = project.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*policy: apologize-first 100"])


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("acmepolicy.policy:NOPE", "'acmepolicy.policy' has no attribute 'NOPE'"),
        ("nowhere.policy:POLICY", "cannot import module 'nowhere.policy' for policy 'nowhere.policy:POLICY': No module named 'nowhere'"),
        ("facts-frist", "unknown policy 'facts-frist': use one of *"),
    ],
)
def test_a_bad_deescalate_policy_fails_the_tests_using_it_in_one_line(
    project: pytest.Pytester, spec: str, problem: str
) -> None:
    _ini(project, spec)
    (project.path / "tests" / "test_other.py").write_text("def test_other():\n    pass\n", encoding="utf-8")
    result = project.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_project_policy*",
            f"deescalate_policy = '{spec}' in pyproject.toml: {problem}",
            "*short test summary info*",
        ]
    )
    for noise in ("*Traceback*", "*During handling*", "*_loading.py*", "*traceback entries are hidden*"):
        result.stdout.no_fnmatch_line(noise)


def test_a_bad_deescalate_policy_given_with_o_says_so(project: pytest.Pytester) -> None:
    result = project.runpytest("-o", "deescalate_policy=acmepolicy.policy:NOPE")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["deescalate_policy = 'acmepolicy.policy:NOPE' (-o): *has no attribute 'NOPE'"])


def test_assert_not_fires_passes_when_quiet_and_shows_the_scene_when_not(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from deescalate.assertions import assert_not_fires

        def test_quiet(deescalate_load_transcript):
            events = deescalate_load_transcript("violations.jsonl")
            assert assert_not_fires(events, "let-them-vent", at=3).violations > 0
            assert_not_fires(deescalate_load_transcript("clean.jsonl"), "let-them-vent")

        def test_anywhere(deescalate_load_transcript):
            assert_not_fires(deescalate_load_transcript("violations.jsonl"), "let-them-vent")

        def test_at(deescalate_load_transcript):
            assert_not_fires(deescalate_load_transcript("violations.jsonl"), "let-them-vent", at=2)
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected let-them-vent ('{event.type} while the customer was still venting*') never to fire under facts-first; it fired at event(s) 2: apology_offered while the customer was still venting*",
            "*    1  customer_vented",
            "*>   2  apology_offered",
            "*let-them-vent (violation): apology_offered while the customer was still venting*",
            "*instead: Wait for the venting to subside*",
            "*AssertionError: expected let-them-vent (*) not to fire at event 2 (apology_offered) under facts-first; it did: apology_offered while*",
            "*>   2  apology_offered",
        ]
    )


def test_relative_paths_start_at_the_calling_test_files_directory(pytester: pytest.Pytester) -> None:
    data = pytester.path / "sub" / "data"
    data.mkdir(parents=True)
    (data / "clean.jsonl").write_text(CLEAN, encoding="utf-8")
    (data / "violations.jsonl").write_text(VIOLATIONS, encoding="utf-8")
    (pytester.path / "sub" / "test_relative.py").write_text(
        """
from deescalate.assertions import assert_clean, assert_ends_at, assert_fires, assert_not_fires


def test_every_helper(deescalate_load_transcript):
    assert deescalate_load_transcript("data/clean.jsonl")[0].type == "interaction_opened"
    assert_clean("data/clean.jsonl")
    assert_ends_at("data/clean.jsonl", "followed_up")
    assert_fires("data/violations.jsonl", "let-them-vent", at=2)
    assert_not_fires("data/clean.jsonl", "let-them-vent")


def test_not_the_current_directory():
    assert_clean("sub/data/clean.jsonl")
""",
        encoding="utf-8",
    )
    result = pytester.runpytest("sub")  # from the project's root, the current directory
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*No such file or directory: '{pytester.path / 'sub' / 'sub' / 'data' / 'clean.jsonl'}'"])
