"""The ``deescalate`` command line, run as a real subprocess.

Nearly every test starts ``python -m deescalate`` (or ``python -c``) in its own
process and checks what a user or a script sees: the exit status, standard output
and standard error. Transcripts are built in ``tmp_path`` from small lists of dicts
so that each test shows exactly the input it feeds the command. The few that need
a fake terminal, or streams of their own, call ``main`` in this process.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deescalate import FACTS_FIRST
from deescalate.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CLEAN = EXAMPLES / "clean.jsonl"
VIOLATIONS = EXAMPLES / "violations.jsonl"
STRICT = EXAMPLES / "strict.jsonl"

REPORT_KEYS = {"interaction_id", "policy", "mode", "stage", "violations", "warnings", "findings", "params"}
FINDING_KEYS = {"index", "type", "rule", "severity", "message"}
#: The keys each finding carries besides the contract's.
EXTRA_FINDING_KEYS = {"line", "status", "advice", "event_id"}


# -- helpers -----------------------------------------------------------------


def plain_env(**extra: str) -> dict[str, str]:
    """The current environment without colour switches, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env.update(extra)
    return env


def run_cli(
    *args: str | Path,
    cwd: Path = ROOT,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m deescalate ARGS`` in a subprocess and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "deescalate", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=input,
        env=plain_env() if env is None else env,
        timeout=60,
        check=False,
    )


def ev(type: str, second: int, **fields: Any) -> dict[str, Any]:
    """An event dict of ``type`` happening ``second`` seconds after 09:00 UTC."""
    minutes, seconds = divmod(second, 60)
    return {"type": type, "at": f"2026-03-02T09:{minutes:02d}:{seconds:02d}Z", **fields}


def opened(**fields: Any) -> dict[str, Any]:
    return ev("interaction_opened", 0, interaction_id="T-1", customer_name="Dana", **fields)


def jsonl(events: list[dict[str, Any] | str]) -> str:
    """JSON Lines text: dicts are dumped, strings are written as they are (raw lines)."""
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def write_transcript(path: Path, events: list[dict[str, Any] | str]) -> Path:
    path.write_text(jsonl(events), encoding="utf-8")
    return path


def resolved_interaction() -> list[dict[str, Any]]:
    """A complaint handled by the book from opening to follow-up: no finding at all."""
    return [
        opened(),
        ev("customer_vented", 10, intensity=7),
        ev("venting_subsided", 20),
        ev("concerns_acknowledged", 30, summary=["the parcel is late"], used_name=True),
        ev("fact_recorded", 40, source="warehouse", detail="shipped a day late"),
        ev("fact_recorded", 50, source="courier", detail="delivered on schedule"),
        ev("facts_established", 60, fault="company", root_cause="picking backlog"),
        ev("apology_offered", 70, scope="company", names_individual=False),
        ev("remedy_proposed", 80, remedy="refund the shipping fee", value=10),
        ev("remedy_accepted", 90, restated=True, confirmation_sent=True),
        ev("progress_reported", 100, detail="refund issued"),
        ev("follow_up_completed", 110, resolved=True, prevention="backlog alerts"),
    ]


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON report printed on standard output (exactly one JSON document)."""
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def rules_at(report: dict[str, Any]) -> list[tuple[int, str]]:
    return [(f["index"], f["rule"]) for f in report["findings"]]


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr and no traceback."""
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def assert_bad_input(result: subprocess.CompletedProcess[str], line: int, field: str) -> None:
    """A bad-input report: one line naming the 1-based line number and the quoted field."""
    err = assert_one_line_error(result)
    first_line_mention = re.search(r"\bline (\d+)\b", err)
    assert first_line_mention is not None, err
    assert first_line_mention.group(1) == str(line), err
    assert f"'{field}'" in err, err


# -- exit 0: nothing wrong -------------------------------------------------------


def test_clean_example_text_reports_no_findings() -> None:
    result = run_cli("review", CLEAN)

    assert result.returncode == 0
    assert result.stderr == ""
    assert "T-1001" in result.stdout
    assert "No findings" in result.stdout
    assert "Final stage: followed_up" in result.stdout
    assert "0 violations, 0 warnings in 13 events" in result.stdout


def test_clean_example_json_report() -> None:
    result = run_cli("review", CLEAN, "--format", "json")

    assert result.returncode == 0
    assert result.stderr == ""
    assert report_of(result) == {
        "interaction_id": "T-1001",
        "policy": "facts-first",
        "mode": "advisory",
        "stage": "followed_up",
        "violations": 0,
        "warnings": 0,
        "findings": [],
        "params": FACTS_FIRST.params.to_json(),
    }


def test_built_transcript_without_findings_exits_0(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", resolved_interaction())

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert report_of(result)["findings"] == []
    assert report_of(result)["stage"] == "followed_up"


def test_only_warnings_exits_0(tmp_path: Path) -> None:
    events = resolved_interaction()
    events[3] = ev("concerns_acknowledged", 30, summary=["the parcel is late"], used_name=False)
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 0
    report = report_of(result)
    assert (report["violations"], report["warnings"]) == (0, 1)
    assert rules_at(report) == [(3, "use-their-name")]
    assert report["findings"][0]["severity"] == "warning"


def test_only_warnings_text_shows_the_warning_and_exits_0(tmp_path: Path) -> None:
    events = resolved_interaction()
    events[3] = ev("concerns_acknowledged", 30, summary=["the parcel is late"], used_name=False)
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path)

    assert result.returncode == 0
    assert "WARNING use-their-name" in result.stdout
    assert "0 violations, 1 warning in 12 events" in result.stdout


# -- exit 1: violations ------------------------------------------------------------


def test_violations_example_exits_1() -> None:
    result = run_cli("review", VIOLATIONS)

    assert result.returncode == 1
    assert result.stderr == ""


def test_violations_example_json_has_the_contract_keys() -> None:
    report = report_of(run_cli("review", VIOLATIONS, "--format", "json"))

    assert set(report) == REPORT_KEYS
    assert report["findings"]
    for finding in report["findings"]:
        assert list(finding)[:5] == ["index", "type", "rule", "severity", "message"]
        assert set(finding) == FINDING_KEYS | EXTRA_FINDING_KEYS
    assert report["interaction_id"] == "T-1002"
    assert report["policy"] == "facts-first"
    assert report["mode"] == "advisory"
    assert report["stage"] == "followed_up"


def test_violations_example_json_findings() -> None:
    report = report_of(run_cli("review", VIOLATIONS, "--format", "json"))

    assert [(f["index"], f["type"], f["rule"], f["severity"]) for f in report["findings"]] == [
        (2, "apology_offered", "let-them-vent", "violation"),
        (2, "apology_offered", "no-company-apology-before-facts", "violation"),
        (2, "apology_offered", "no-scapegoating", "violation"),
        (4, "concerns_acknowledged", "use-their-name", "warning"),
        (6, "facts_established", "hear-all-sides", "warning"),
        (7, "remedy_proposed", "within-authority", "violation"),
        (8, "remedy_accepted", "restate-the-agreement", "violation"),
        (8, "remedy_accepted", "confirm-in-writing", "warning"),
        (9, "follow_up_completed", "report-progress", "warning"),
        (9, "follow_up_completed", "report-progress-on-time", "warning"),
    ]
    assert all(isinstance(f["message"], str) and f["message"] for f in report["findings"])


def test_violations_example_counts_match_the_findings() -> None:
    report = report_of(run_cli("review", VIOLATIONS, "--format", "json"))

    severities = [f["severity"] for f in report["findings"]]
    assert report["violations"] == severities.count("violation") == 5
    assert report["warnings"] == severities.count("warning") == 5


def test_event_after_followed_up_is_an_invalid_transition(tmp_path: Path) -> None:
    events = [*resolved_interaction(), ev("empathy_expressed", 120)]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 1
    report = report_of(result)
    assert rules_at(report) == [(12, "invalid-transition")]
    assert report["findings"][0]["type"] == "empathy_expressed"
    assert report["stage"] == "followed_up"


# -- transcript reading: extras, blank lines, duplicates ---------------------------


def test_unknown_extra_fields_are_ignored(tmp_path: Path) -> None:
    events = [
        opened(ticket={"queue": "billing"}, channel="chat"),
        ev("customer_vented", 10, intensity=5, sentiment=-0.8, agent="ana"),
        ev("venting_subsided", 20, note=None),
    ]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert report_of(result)["findings"] == []
    assert report_of(result)["stage"] == "venting"


def test_blank_lines_are_skipped_and_not_counted_in_index(tmp_path: Path) -> None:
    events: list[dict[str, Any] | str] = [
        opened(),
        "",
        ev("customer_vented", 10, intensity=8),
        "   ",
        "",
        ev("apology_offered", 20, scope="inconvenience", names_individual=True),
    ]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 1
    assert rules_at(report_of(result)) == [(2, "no-scapegoating")]


def test_text_report_gives_index_and_file_line_number(tmp_path: Path) -> None:
    events: list[dict[str, Any] | str] = [
        opened(),
        "",
        ev("customer_vented", 10, intensity=8),
        "",
        ev("apology_offered", 20, scope="inconvenience", names_individual=True),
    ]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path)

    assert result.returncode == 1
    assert "#2 line 5: apology_offered" in result.stdout


def test_duplicate_delivery_produces_no_finding(tmp_path: Path) -> None:
    events = [
        opened(),
        ev("customer_vented", 10, intensity=6, event_id="e-2"),
        ev("venting_subsided", 20, event_id="e-3"),
        ev("venting_subsided", 20, event_id="e-3"),
    ]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 0, result.stdout
    assert report_of(result)["findings"] == []


def test_same_event_with_another_id_is_judged_again(tmp_path: Path) -> None:
    # The control for the duplicate test: without the shared event_id, the second
    # venting_subsided has no wave to close.
    events = [
        opened(),
        ev("customer_vented", 10, intensity=6, event_id="e-2"),
        ev("venting_subsided", 20, event_id="e-3"),
        ev("venting_subsided", 20, event_id="e-4"),
    ]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 1
    assert rules_at(report_of(result)) == [(3, "invalid-transition")]


# -- --strict and --policy --------------------------------------------------------


def test_strict_example_under_strict_mode() -> None:
    result = run_cli("review", STRICT, "--strict", "--format", "json")

    assert result.returncode == 1
    report = report_of(result)
    assert report["mode"] == "strict"
    assert report["stage"] == "followed_up"
    assert rules_at(report) == [
        (2, "let-them-vent"),
        (2, "acknowledge-first"),
        (2, "no-remedy-before-facts"),
        (10, "within-authority"),
        # Two days passed between the progress report and the follow-up.
        (15, "report-progress-on-time"),
    ]
    assert (report["violations"], report["warnings"]) == (4, 1)


def test_strict_example_under_advisory_mode_differs() -> None:
    advisory = report_of(run_cli("review", STRICT, "--format", "json"))
    strict = report_of(run_cli("review", STRICT, "--strict", "--format", "json"))

    assert advisory["mode"] == "advisory"
    assert advisory["findings"] != strict["findings"]
    # Applying the premature remedy breaks the later events, which strict mode refused.
    assert rules_at(advisory) == [
        (2, "let-them-vent"),
        (2, "acknowledge-first"),
        (2, "no-remedy-before-facts"),
        (3, "invalid-transition"),
        (7, "invalid-transition"),
        (8, "invalid-transition"),
        (9, "no-company-apology-before-facts"),
        (10, "no-remedy-before-facts"),
        (10, "within-authority"),
        (12, "no-remedy-before-facts"),
        (15, "report-progress-on-time"),
    ]
    assert "invalid-transition" not in {rule for _, rule in rules_at(strict)}


def test_strict_text_marks_refused_events() -> None:
    result = run_cli("review", STRICT, "--strict")

    assert result.returncode == 1
    assert "(strict)" in result.stdout
    assert "#2 line 3: remedy_proposed" in result.stdout
    assert "(refused)" in result.stdout
    assert "Final stage: followed_up" in result.stdout


def test_strict_mode_warnings_do_not_refuse(tmp_path: Path) -> None:
    events = resolved_interaction()
    events[9] = ev("remedy_accepted", 90, restated=True, confirmation_sent=False)
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--strict", "--format", "json")

    assert result.returncode == 0
    report = report_of(result)
    assert rules_at(report) == [(9, "confirm-in-writing")]
    assert report["stage"] == "followed_up"


def company_apology_before_facts() -> list[dict[str, Any]]:
    return [
        opened(),
        ev("customer_vented", 10, intensity=6),
        ev("venting_subsided", 20),
        ev("concerns_acknowledged", 30, summary=["the invoice is wrong"], used_name=True),
        ev("apology_offered", 40, scope="company", names_individual=False),
    ]


def remedy_without_apology() -> list[dict[str, Any]]:
    return [
        opened(),
        ev("customer_vented", 10, intensity=6),
        ev("venting_subsided", 20),
        ev("concerns_acknowledged", 30, summary=["the invoice is wrong"], used_name=True),
        ev("fact_recorded", 40, source="billing", detail="a duplicate line"),
        ev("fact_recorded", 50, source="customer", detail="charged twice"),
        ev("facts_established", 60, fault="company", root_cause="a billing bug"),
        ev("remedy_proposed", 70, remedy="credit the duplicate line", value=10),
    ]


def test_company_apology_before_facts_violates_facts_first(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", company_apology_before_facts())

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 1
    assert rules_at(report_of(result)) == [(4, "no-company-apology-before-facts")]


def test_company_apology_before_facts_is_fine_under_apologize_first(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", company_apology_before_facts())

    result = run_cli("review", path, "--policy", "apologize-first", "--format", "json")

    assert result.returncode == 0
    report = report_of(result)
    assert report["policy"] == "apologize-first"
    assert report["findings"] == []


def test_remedy_without_apology_is_fine_under_facts_first(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", remedy_without_apology())

    result = run_cli("review", path, "--format", "json")

    assert result.returncode == 0
    assert report_of(result)["findings"] == []


def test_remedy_without_apology_violates_apologize_first(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", remedy_without_apology())

    result = run_cli("review", path, "--policy", "apologize-first", "--format", "json")

    assert result.returncode == 1
    assert rules_at(report_of(result)) == [(7, "always-apologize")]


def test_apologize_first_on_violations_example_drops_facts_first_rules() -> None:
    facts_first = report_of(run_cli("review", VIOLATIONS, "--format", "json"))
    apologize_first = report_of(
        run_cli("review", VIOLATIONS, "--policy", "apologize-first", "--format", "json")
    )

    assert (2, "no-company-apology-before-facts") in rules_at(facts_first)
    assert (2, "no-company-apology-before-facts") not in rules_at(apologize_first)
    assert apologize_first["violations"] == facts_first["violations"] - 1


CUSTOM_POLICY_MODULE = """
from deescalate import FACTS_FIRST, rule


@rule("cap-goodwill", severity="violation", on="remedy_proposed",
      message="a goodwill gesture worth {event.value} is over 5")
def cap_goodwill(interaction, event, params):
    return event.value > 5


LENIENT = FACTS_FIRST.without("use-their-name").named("lenient").with_rules(cap_goodwill)


@rule("buggy-rule", severity="warning", on="empathy_expressed", message="never shown")
def buggy_rule(interaction, event, params):
    raise RuntimeError("the rule itself is broken")


BUGGY = FACTS_FIRST.named("buggy").with_rules(buggy_rule)
"""


def test_custom_policy_from_module_attribute(tmp_path: Path) -> None:
    (tmp_path / "acme_policies.py").write_text(CUSTOM_POLICY_MODULE, encoding="utf-8")
    events = resolved_interaction()
    events[3] = ev("concerns_acknowledged", 30, summary=["the parcel is late"], used_name=False)
    write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli(
        "review", "t.jsonl", "--policy", "acme_policies:LENIENT", "--format", "json", cwd=tmp_path
    )

    assert result.returncode == 1, result.stderr
    report = report_of(result)
    assert report["policy"] == "lenient"
    # The custom rule fires on the 10-unit remedy; the dropped use-their-name does not.
    assert rules_at(report) == [(8, "cap-goodwill")]
    assert report["findings"][0]["message"] == "a goodwill gesture worth 10 is over 5"


def test_custom_rule_that_raises_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "acme_policies.py").write_text(CUSTOM_POLICY_MODULE, encoding="utf-8")
    events = [opened(), ev("empathy_expressed", 10)]
    write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", "t.jsonl", "--policy", "acme_policies:BUGGY", cwd=tmp_path)

    err = assert_one_line_error(result)
    assert "the rule itself is broken" in err
    assert err.startswith("deescalate: line 2: rule 'buggy-rule' failed on empathy_expressed #1: RuntimeError")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("no-such-policy", "no-such-policy", id="unknown-name"),
        pytest.param("nomodule:X", "nomodule", id="missing-module"),
        pytest.param("json:dumps", "json:dumps", id="not-a-policy"),
        pytest.param("json:no_such_attribute", "no_such_attribute", id="missing-attribute"),
    ],
)
def test_bad_policy_exits_2(policy: str, expected: str) -> None:
    result = run_cli("review", CLEAN, "--policy", policy)

    err = assert_one_line_error(result)
    assert expected in err


# -- late steps, broken promises and what is owed (--now) ------------------------------------


def at(type: str, when: str, **fields: Any) -> dict[str, Any]:
    """An event dict of ``type`` at ``when`` (``MM-DDTHH:MM`` in 2026, UTC)."""
    return {"type": type, "at": f"2026-{when}:00Z", **fields}


def late_steps() -> list[dict[str, Any]]:
    """A complaint where every deadline slipped, and what it owed was finally delivered.

    The customer asked for a manager at 09:02 and got one at 09:22 (the policy allows 10
    minutes); the callback promised for noon came at 14:30; the follow-up came ten days
    after the agreement (the policy allows seven), after a week without a progress report.
    """
    return [
        at("interaction_opened", "03-02T09:00", interaction_id="T-7", customer_name="Dana"),
        at("customer_vented", "03-02T09:00", intensity=7),
        at("venting_subsided", "03-02T09:01"),
        at("concerns_acknowledged", "03-02T09:01", summary=["the parcel is late"], used_name=True),
        at("manager_requested", "03-02T09:02"),
        at("callback_promised", "03-02T09:03", by="2026-03-02T12:00:00Z", event_id="cb-1"),
        at("escalated", "03-02T09:22", to="supervisor", authority_limit=200, event_id="esc-1"),
        at("fact_recorded", "03-02T09:30", source="warehouse", detail="shipped late"),
        at("fact_recorded", "03-02T09:31", source="courier", detail="delivered on schedule"),
        at("facts_established", "03-02T09:32", fault="company", root_cause="picking backlog"),
        at("apology_offered", "03-02T14:30", scope="company", names_individual=False),
        at("remedy_proposed", "03-02T14:31", remedy="refund the shipping fee", value=10),
        at("remedy_accepted", "03-02T14:32", restated=True, confirmation_sent=True),
        at("progress_reported", "03-03T10:00", detail="refund issued"),
        at("progress_reported", "03-04T09:00", detail="replacement packed"),
        at("follow_up_completed", "03-12T09:00", resolved=True, prevention="backlog alerts"),
    ]


def test_late_steps_read_like_other_findings_in_the_text_report(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps())

    result = run_cli("review", path)

    assert result.returncode == 0, result.stderr  # late is a warning in the built-in policies
    lines = result.stdout.splitlines()
    headers = [line for line in lines if line.startswith("#")]
    assert headers == [
        "#6 line 7: escalated at 2026-03-02T09:22:00+00:00",
        "#10 line 11: apology_offered at 2026-03-02T14:30:00+00:00",
        "#15 line 16: follow_up_completed at 2026-03-12T09:00:00+00:00",
    ]
    found = [line.split(":")[0].strip() for line in lines if line.startswith("  WARNING")]
    assert found == [
        "WARNING escalate-before-asked",
        "WARNING escalate-promptly",
        "WARNING keep-the-promise",
        "WARNING report-progress-on-time",
        "WARNING follow-up-on-time",
    ]
    promptly = next(line for line in lines if "escalate-promptly:" in line)
    assert "10 min late" in promptly and "20 min" in promptly
    promise = next(line for line in lines if "keep-the-promise:" in line)
    assert "2 h 30 min late" in promise and "2026-03-02T12:00:00+00:00" in promise
    follow_up = next(line for line in lines if "follow-up-on-time:" in line)
    assert "2026-03-09T14:32:00+00:00" in follow_up
    # Each finding is followed by its advice, as for every other rule.
    for number, line in enumerate(lines):
        if line.startswith("  WARNING"):
            assert lines[number + 1].startswith("    instead: "), line
    assert lines[-1] == "0 violations, 5 warnings in 16 events"


def test_late_steps_in_the_json_report(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps())

    report = report_of(run_cli("review", path, "--format", "json"))

    assert set(report) == REPORT_KEYS  # no --now: no obligations
    escalation = report["findings"][1]
    assert escalation == {
        "index": 6,
        "type": "escalated",
        "rule": "escalate-promptly",
        "severity": "warning",
        "message": escalation["message"],
        "line": 7,
        "status": "applied",
        "advice": FACTS_FIRST.rule("escalate-promptly").advice,
        "event_id": "esc-1",
    }
    assert "10 min late" in escalation["message"]
    assert [(f["line"], f["rule"], f["event_id"]) for f in report["findings"][2:]] == [
        (11, "keep-the-promise", None),
        (16, "report-progress-on-time", None),
        (16, "follow-up-on-time", None),
    ]


def test_now_lists_what_is_owed_at_the_end_in_the_text_report(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps()[:13])  # ends at the agreement

    result = run_cli("review", path, "--now", "2026-03-04T09:00:00Z")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "Final stage: agreed\n"
        "0 violations, 3 warnings in 13 events\n"
        "\n"
        "Owed to the customer at 2026-03-04T09:00:00+00:00 (1 overdue):\n"
        "  - progress-report: by 2026-03-03T14:32:00+00:00 (overdue by 18 h 28 min)\n"
        "  - follow-up: by 2026-03-09T14:32:00+00:00 (due in 5 days 5 h)\n"
    )


def test_now_lists_what_is_owed_at_the_end_in_the_json_report(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps()[:13])

    result = run_cli("review", path, "--now", "2026-03-04T10:00:00+01:00", "--format", "json")

    assert result.returncode == 0, result.stderr
    report = report_of(result)
    assert set(report) == REPORT_KEYS | {"now", "obligations"}
    assert report["now"] == "2026-03-04T10:00:00+01:00"
    assert report["obligations"] == [
        {
            "kind": "progress-report",
            "opened": "2026-03-02T14:32:00+00:00",
            "due": "2026-03-03T14:32:00+00:00",
            "overdue": True,
        },
        {
            "kind": "follow-up",
            "opened": "2026-03-02T14:32:00+00:00",
            "due": "2026-03-09T14:32:00+00:00",
            "overdue": False,
        },
    ]


def test_now_at_a_deadline_says_due_now(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps()[:6])  # a manager and a callback owed

    text = run_cli("review", path, "--now", "2026-03-02T09:12:00Z").stdout
    report = report_of(run_cli("review", path, "--now", "2026-03-02T09:12:00Z", "--format", "json"))

    assert text.endswith(
        "Owed to the customer at 2026-03-02T09:12:00+00:00:\n"
        "  - escalation: by 2026-03-02T09:12:00+00:00 (due now)\n"
        "  - callback: by 2026-03-02T12:00:00+00:00 (due in 2 h 48 min)\n"
    )
    assert [(o["kind"], o["overdue"]) for o in report["obligations"]] == [
        ("escalation", False),
        ("callback", False),
    ]


def test_now_after_the_end_of_the_interaction_owes_nothing(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps())

    text = run_cli("review", path, "--now", "2026-04-01T00:00:00Z").stdout
    report = report_of(run_cli("review", path, "--now", "2026-04-01T00:00:00Z", "--format", "json"))

    assert text.endswith("\nOwed to the customer at 2026-04-01T00:00:00+00:00: nothing.\n")
    assert report["obligations"] == []


def test_now_in_strict_mode_owes_what_the_guarded_interaction_owes(tmp_path: Path) -> None:
    events = late_steps()[:13]
    events[12] = at("remedy_accepted", "03-02T14:32", restated=False, confirmation_sent=True)
    path = write_transcript(tmp_path / "t.jsonl", events)
    now = "2026-03-04T09:00:00Z"

    advisory = run_cli("review", path, "--now", now, "--format", "json")
    strict = run_cli("review", path, "--strict", "--now", now, "--format", "json")
    strict_text = run_cli("review", path, "--strict", "--now", now).stdout

    # Advisory applied the unrestated agreement, so the follow-through is owed; strict
    # refused it, and the remedy still awaits an answer: nothing is owed yet.
    assert advisory.returncode == strict.returncode == 1
    assert report_of(advisory)["stage"] == "agreed"
    assert [o["kind"] for o in report_of(advisory)["obligations"]] == ["progress-report", "follow-up"]
    assert report_of(strict)["stage"] == "remedy_proposed"
    assert report_of(strict)["obligations"] == []
    assert report_of(strict)["findings"][-1]["status"] == "refused"
    assert "#12 line 13: remedy_accepted at 2026-03-02T14:32:00+00:00 (refused)" in strict_text
    assert strict_text.endswith("Owed to the customer at 2026-03-04T09:00:00+00:00: nothing.\n")


def test_status_and_event_id_of_findings_in_both_modes() -> None:
    advisory = report_of(run_cli("review", STRICT, "--format", "json"))
    strict = report_of(run_cli("review", STRICT, "--strict", "--format", "json"))

    assert [(f["index"], f["line"], f["status"], f["event_id"]) for f in strict["findings"][:4]] == [
        (2, 3, "refused", "w-3"),
        (2, 3, "refused", "w-3"),
        (2, 3, "refused", "w-3"),
        (10, 11, "refused", "w-10"),
    ]
    invalid = [f for f in advisory["findings"] if f["rule"] == "invalid-transition"]
    assert [(f["line"], f["status"], f["event_id"]) for f in invalid] == [
        (4, "invalid", "w-4"),
        (8, "invalid", "w-8"),
        (9, "invalid", "w-8"),
    ]
    assert invalid[0]["advice"] == FACTS_FIRST.rule("invalid-transition").advice


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        ("2026-03-02T14:32:00", "argument '--now': has no UTC offset: '2026-03-02T14:32:00' (add Z or +00:00)"),
        ("tomorrow", "argument '--now': is not an ISO-8601 timestamp: 'tomorrow'"),
        (
            "2026-03-02T14:31:59Z",
            "argument '--now': is earlier than the transcript's last event (2026-03-02T14:32:00+00:00)",
        ),
        # The same moment as 14:31:59 UTC, in another offset.
        (
            "2026-03-02T15:31:59+01:00",
            "argument '--now': is earlier than the transcript's last event (2026-03-02T14:32:00+00:00)",
        ),
    ],
    ids=["no-offset", "not-a-timestamp", "before-the-last-event", "before-it-in-another-offset"],
)
@pytest.mark.parametrize("format", ["text", "json"])
def test_a_bad_now_is_bad_input(tmp_path: Path, now: str, reason: str, format: str) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps()[:13])

    result = run_cli("review", path, "--now", now, "--format", format)

    assert assert_one_line_error(result) == f"deescalate: {reason}\n"


def test_now_before_a_last_event_that_was_not_applied_is_bad_input(tmp_path: Path) -> None:
    # The last line is an invalid transition (nothing pending to accept): it still ends the transcript.
    events = [*late_steps()[:13], at("remedy_accepted", "03-02T15:00", restated=True, confirmation_sent=True)]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--strict", "--now", "2026-03-02T14:45:00Z")

    assert "earlier than the transcript's last event (2026-03-02T15:00:00+00:00)" in assert_one_line_error(result)


def test_now_equal_to_the_last_event_is_accepted(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.jsonl", late_steps()[:13])

    result = run_cli("review", path, "--now", "2026-03-02T14:32:00Z", "--format", "json")

    assert result.returncode == 0, result.stderr
    assert [o["overdue"] for o in report_of(result)["obligations"]] == [False, False]


# -- standard input -----------------------------------------------------------------


def test_stdin_text_format() -> None:
    result = run_cli("review", "-", input=VIOLATIONS.read_text(encoding="utf-8"))

    assert result.returncode == 1
    assert "T-1002" in result.stdout
    assert "no-scapegoating" in result.stdout
    assert "Final stage: followed_up" in result.stdout


def test_stdin_json_format() -> None:
    result = run_cli("review", "-", "--format", "json", input=CLEAN.read_text(encoding="utf-8"))

    assert result.returncode == 0
    report = report_of(result)
    assert report["interaction_id"] == "T-1001"
    assert report["findings"] == []


def test_stdin_empty_is_bad_input() -> None:
    result = run_cli("review", "-", input="")

    assert_bad_input(result, line=1, field="type")


def test_stdin_bad_line() -> None:
    text = jsonl([opened(), "", ev("customer_vented", 10, intensity="high")])

    result = run_cli("review", "-", "--format", "json", input=text)

    assert_bad_input(result, line=3, field="intensity")


# -- exit 2: bad input ----------------------------------------------------------------

OPEN_LINE = json.dumps(opened())


def line(type: str, second: int = 10, **fields: Any) -> str:
    """One raw transcript line: the JSON of an event ``second`` seconds after 09:00."""
    return json.dumps(ev(type, second, **fields))


def at_line(at: Any) -> str:
    """An empathy_expressed line whose ``at`` is ``at`` as it is."""
    return json.dumps({"type": "empathy_expressed", "at": at})


def case(lines: list[str], line_number: int, field: str, id: str) -> Any:
    """A bad transcript, the 1-based line number its error names, and the field."""
    return pytest.param(lines, line_number, field, id=id)


def after_opening(raw: str, field: str, id: str) -> Any:
    """A bad second line (line 2) after a good interaction_opened."""
    return case([OPEN_LINE, raw], 2, field, id)


ACK = "concerns_acknowledged"
REMEDY = "remedy_proposed"
VENT = "customer_vented"

BAD_INPUT = [
    # Not a JSON object.
    after_opening("{not json", "line", "not-json"),
    case([OPEN_LINE, "", "{not json"], 3, "line", "not-json-after-blank-line"),
    case(["{not json"], 1, "line", "not-json-first-line"),
    after_opening("[1,2]", "line", "json-array"),
    after_opening('"text"', "line", "json-string"),
    after_opening("42", "line", "json-number"),
    after_opening("null", "line", "json-null"),
    # The type.
    after_opening(line("customer_shouted"), "type", "unknown-type"),
    case([OPEN_LINE, "", "", line("customer_shouted")], 4, "type", "unknown-type-after-blanks"),
    after_opening(json.dumps({"at": "2026-03-02T09:00:10Z"}), "type", "missing-type"),
    after_opening('{"type": 7, "at": "2026-03-02T09:00:10Z"}', "type", "type-not-a-string"),
    # Missing required fields.
    after_opening(line(VENT), "intensity", "missing-intensity"),
    after_opening(line(VENT, intensity=None), "intensity", "null-intensity"),
    after_opening(json.dumps({"type": "empathy_expressed"}), "at", "missing-at"),
    case([json.dumps(ev("interaction_opened", 0))], 1, "interaction_id", "missing-interaction-id"),
    after_opening(line(ACK, summary=["late"]), "used_name", "missing-used-name"),
    after_opening(line("facts_established", fault="company"), "root_cause", "missing-root-cause"),
    # Ill-typed fields.
    after_opening(line(VENT, intensity="5"), "intensity", "intensity-string"),
    after_opening(line(VENT, intensity=5.5), "intensity", "intensity-float"),
    after_opening(line(VENT, intensity=True), "intensity", "intensity-bool"),
    after_opening(line(ACK, summary=["late"], used_name="yes"), "used_name", "used-name-string"),
    after_opening(line(ACK, summary="text", used_name=True), "summary", "summary-string"),
    after_opening(line(ACK, summary=[1], used_name=True), "summary[0]", "summary-item-number"),
    case([json.dumps(opened(authority_limit=True))], 1, "authority_limit", "authority-limit-bool"),
    case([json.dumps(opened(authority_limit="100"))], 1, "authority_limit", "authority-limit-string"),
    after_opening(line(REMEDY, remedy="refund", value="10"), "value", "value-string"),
    after_opening(line("fact_recorded", source=3, detail="x"), "source", "source-number"),
    after_opening(line("empathy_expressed", event_id=12), "event_id", "event-id-number"),
    after_opening(at_line(1772442010), "at", "at-number"),
    # Out-of-range values.
    after_opening(line(VENT, intensity=11), "intensity", "intensity-11"),
    after_opening(line(VENT, intensity=-1), "intensity", "intensity-negative"),
    after_opening(line(REMEDY, remedy="refund", value=-5), "value", "value-negative"),
    after_opening(line(REMEDY, remedy="refund", value=float("nan")), "value", "value-nan"),
    case([json.dumps(opened(authority_limit=-1))], 1, "authority_limit", "authority-limit-negative"),
    after_opening(line("escalated", to="manager", authority_limit=-1), "authority_limit", "escalated-limit"),
    after_opening(line("facts_established", fault="boss", root_cause="x"), "fault", "fault-boss"),
    after_opening(
        line("apology_offered", scope="personal", names_individual=False), "scope", "scope-personal"
    ),
    after_opening(line("conversation_ended", reason="bored"), "reason", "reason-bored"),
    after_opening(line(REMEDY, remedy=""), "remedy", "remedy-empty"),
    after_opening(line(REMEDY, remedy="   "), "remedy", "remedy-blank"),
    # Timestamps.
    after_opening(at_line("2026-03-02T09:00:10"), "at", "at-without-offset"),
    after_opening(at_line("2026-03-02"), "at", "at-date-only"),
    after_opening(at_line("yesterday at noon"), "at", "at-not-iso"),
    after_opening(at_line("02/03/2026 09:00 +00:00"), "at", "at-not-iso-with-offset"),
    case([OPEN_LINE, line(VENT, 30, intensity=5), "", line("venting_subsided", 20)], 4, "at", "at-earlier"),
    after_opening(at_line("2026-03-02T10:30:00+02:00"), "at", "at-earlier-in-another-offset"),
    # Opening.
    case([line(VENT, intensity=5)], 1, "type", "first-not-opened"),
    case(["", line(VENT, intensity=5)], 2, "type", "first-not-opened-after-blank"),
    case(
        [OPEN_LINE, line("empathy_expressed"), OPEN_LINE.replace("09:00:00", "09:00:20")],
        3,
        "type",
        "second-opened",
    ),
    case([], 1, "type", "empty-file"),
    case(["", "   ", ""], 1, "type", "only-blank-lines"),
]


@pytest.mark.parametrize(("lines", "line_number", "field"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, lines: list[str], line_number: int, field: str
) -> None:
    path = write_transcript(tmp_path / "bad.jsonl", list(lines))

    result = run_cli("review", path)

    assert_bad_input(result, line_number, field)


def test_invalid_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(OPEN_LINE.encode() + b"\n\n" + b'{"type": "empathy_\xff\xfe"}\n')

    result = run_cli("review", path)

    assert_bad_input(result, line=3, field="line")


def test_bad_input_in_json_format_prints_no_report(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "bad.jsonl", [OPEN_LINE, line("customer_vented", intensity=11)])

    result = run_cli("review", path, "--format", "json")

    assert_bad_input(result, line=2, field="intensity")


def test_bad_line_after_violations_still_exits_2(tmp_path: Path) -> None:
    # Bad input wins over findings: a half-read transcript is not reviewed.
    events: list[dict[str, Any] | str] = [
        opened(),
        ev("customer_vented", 10, intensity=8),
        ev("apology_offered", 20, scope="company", names_individual=True),
        "[1,2]",
    ]
    path = write_transcript(tmp_path / "bad.jsonl", events)

    result = run_cli("review", path)

    assert_bad_input(result, line=4, field="line")


def test_bad_input_message_starts_with_program_name(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "bad.jsonl", [OPEN_LINE, line("customer_shouted")])

    result = run_cli("review", path)

    assert result.stderr.startswith("deescalate: ")


# -- exit 2: files and arguments -------------------------------------------------------


def test_missing_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = run_cli("review", "no-such-transcript.jsonl", cwd=tmp_path)

    err = assert_one_line_error(result)
    assert "no-such-transcript.jsonl" in err


def test_a_directory_without_transcripts_is_a_bad_entry(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("not a transcript\n", encoding="utf-8")

    result = run_cli("review", "folder", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == "deescalate: folder: holds no .jsonl file\n"
    assert "Not reviewed: holds no .jsonl file" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["review", str(CLEAN), "--format", "xml"], id="review-format-xml"),
        pytest.param(["review"], id="review-without-file"),
        pytest.param(["review", str(CLEAN), "--no-such-option"], id="review-unknown-option"),
        pytest.param(["--strict"], id="no-command"),
        pytest.param(["judge", str(CLEAN)], id="unknown-command"),
        pytest.param(["diagram", "--format", "png"], id="diagram-format-png"),
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = run_cli(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def run_cli_into(stdout_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the command with its standard output sent to ``stdout_path`` (a file or device)."""
    with open(stdout_path, "w", encoding="utf-8") as out:
        return subprocess.run(
            [sys.executable, "-m", "deescalate", *map(str, args)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=plain_env(),
            timeout=60,
            check=False,
        )


NO_DEV_FULL = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")


@NO_DEV_FULL
def test_diagram_output_error_is_one_line_without_traceback() -> None:
    # /dev/full refuses every write (ENOSPC), as a full disk or a closed pipe would.
    result = run_cli_into(Path("/dev/full"), "diagram")

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr


@NO_DEV_FULL
def test_review_output_error_does_not_blame_the_transcript() -> None:
    result = run_cli_into(Path("/dev/full"), "review", CLEAN)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    # The transcript was read fine: writing the report is what failed.
    assert "cannot read" not in result.stderr


# -- text format and colour -----------------------------------------------------------


def test_text_format_lists_rules_advice_stage_and_totals() -> None:
    result = run_cli("review", VIOLATIONS)

    out = result.stdout
    assert "Review of T-1002 under facts-first (advisory)" in out
    for rule_id in (
        "let-them-vent",
        "no-company-apology-before-facts",
        "no-scapegoating",
        "use-their-name",
        "hear-all-sides",
        "within-authority",
        "restate-the-agreement",
        "confirm-in-writing",
        "report-progress",
        "report-progress-on-time",
    ):
        assert rule_id in out
    assert "VIOLATION within-authority" in out
    assert "WARNING hear-all-sides" in out
    assert out.count("instead:") == 10
    assert "Final stage: followed_up" in out
    assert "5 violations, 5 warnings in 10 events" in out
    assert "Owed to the customer" not in out  # only with --now


def test_text_format_has_no_ansi_codes_when_piped() -> None:
    result = run_cli("review", VIOLATIONS)

    assert "\x1b[" not in result.stdout
    assert "\x1b[" not in result.stderr


def test_no_color_keeps_text_plain() -> None:
    result = run_cli("review", VIOLATIONS, env=plain_env(NO_COLOR="1"))

    assert result.returncode == 1
    assert "\x1b[" not in result.stdout


def test_force_color_adds_ansi_codes() -> None:
    result = run_cli("review", VIOLATIONS, env=plain_env(FORCE_COLOR="1"))

    assert result.returncode == 1
    assert "\x1b[" in result.stdout
    assert "within-authority" in result.stdout


def test_force_color_leaves_json_plain() -> None:
    result = run_cli("review", VIOLATIONS, "--format", "json", env=plain_env(FORCE_COLOR="1"))

    assert "\x1b[" not in result.stdout
    assert report_of(result)["violations"] == 5


def test_json_output_keeps_non_ascii_text(tmp_path: Path) -> None:
    events = [ev("interaction_opened", 0, interaction_id="Ticket-Zoë-№7", customer_name="Zoë")]
    path = write_transcript(tmp_path / "t.jsonl", events)

    result = run_cli("review", path, "--format", "json", env=plain_env(PYTHONIOENCODING="utf-8"))

    assert result.returncode == 0, result.stderr
    assert report_of(result)["interaction_id"] == "Ticket-Zoë-№7"


# -- diagram -----------------------------------------------------------------------------


def test_diagram_mermaid_by_default() -> None:
    result = run_cli("diagram")

    assert result.returncode == 0
    assert result.stderr == ""
    assert "stateDiagram-v2" in result.stdout
    assert "agreed --> followed_up: follow_up_completed" in result.stdout
    assert "venting --> acknowledged: concerns_acknowledged" in result.stdout
    assert "[internal]" not in result.stdout
    assert "within-authority" not in result.stdout


def test_diagram_dot() -> None:
    result = run_cli("diagram", "--format", "dot")

    assert result.returncode == 0, result.stderr
    assert "digraph" in result.stdout
    assert "->" in result.stdout
    assert "agreed -> followed_up" in result.stdout


def test_diagram_with_policy_labels_rule_ids() -> None:
    result = run_cli("diagram", "--policy", "facts-first")

    assert result.returncode == 0
    assert "within-authority" in result.stdout
    assert "restate-the-agreement" in result.stdout
    assert "always-apologize" not in result.stdout


def test_diagram_with_apologize_first_labels_its_own_rules() -> None:
    result = run_cli("diagram", "--policy", "apologize-first")

    assert result.returncode == 0
    assert "always-apologize" in result.stdout
    assert "no-company-apology-before-facts" not in result.stdout


def test_diagram_internal_adds_self_loops() -> None:
    result = run_cli("diagram", "--internal")

    assert result.returncode == 0
    assert "[internal]" in result.stdout
    assert "agreed --> agreed:" in result.stdout
    assert "progress_reported [internal]" in result.stdout


def test_diagram_with_custom_policy_module(tmp_path: Path) -> None:
    (tmp_path / "acme_policies.py").write_text(CUSTOM_POLICY_MODULE, encoding="utf-8")

    result = run_cli("diagram", "--policy", "acme_policies:LENIENT", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "cap-goodwill" in result.stdout
    assert "lenient" in result.stdout


@pytest.mark.parametrize("policy", ["no-such-policy", "nomodule:X", "json:dumps"])
def test_diagram_bad_policy_exits_2(policy: str) -> None:
    result = run_cli("diagram", "--policy", policy)

    err = assert_one_line_error(result)
    assert policy.partition(":")[0] in err


# -- the process itself ----------------------------------------------------------------------


TEST_TOOLS_LOADED = "sys.exit(1 if {'hypothesis', 'pytest'} & set(sys.modules) else 0)"


def test_cli_module_does_not_import_test_tools() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import sys, deescalate.cli; {TEST_TOOLS_LOADED}"],
        capture_output=True,
        text=True,
        env=plain_env(),
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_running_review_and_diagram_does_not_import_test_tools() -> None:
    code = (
        "import io, sys\n"
        "from deescalate.cli import main\n"
        f"main(['review', {str(VIOLATIONS)!r}, '--format', 'json'], out=io.StringIO())\n"
        f"main(['review', {str(STRICT)!r}, '--strict'], out=io.StringIO())\n"
        "main(['diagram', '--policy', 'facts-first', '--internal'], out=io.StringIO())\n"
        "main(['diagram', '--format', 'dot'], out=io.StringIO())\n"
        f"{TEST_TOOLS_LOADED}\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=plain_env(), check=False
    )

    assert result.returncode == 0, result.stderr


def test_help_exits_0() -> None:
    result = run_cli("--help")

    assert result.returncode == 0
    assert "review" in result.stdout
    assert "diagram" in result.stdout


def test_review_help_exits_0() -> None:
    result = run_cli("review", "--help")

    assert result.returncode == 0
    for option in ("--policy", "--strict", "--now", "--format", "FILE"):
        assert option in result.stdout


def test_diagram_help_exits_0() -> None:
    result = run_cli("diagram", "--help")

    assert result.returncode == 0
    assert "--internal" in result.stdout


def test_text_report_counts_ignored_duplicate_deliveries() -> None:
    result = run_cli("review", "--strict", str(EXAMPLES / "strict.jsonl"))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "1 duplicate delivery ignored (line 9)"


# -- the command line itself: help, --version, schema, usage mistakes --------------------------


def test_bare_deescalate_prints_the_full_help_and_exits_0() -> None:
    result = run_cli()

    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == run_cli("--help").stdout
    assert result.stdout.startswith("usage: deescalate ")
    for command in ("review", "guide", "verify", "diagram", "schema"):
        assert f"\n    {command} " in result.stdout


@pytest.mark.parametrize("command", ["review", "guide", "verify", "diagram", "schema"])
def test_every_option_has_help_text(command: str) -> None:
    result = run_cli(command, "--help", env=plain_env(COLUMNS="400"))

    assert result.returncode == 0
    section = result.stdout.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    # Each option: its help on the same line after two spaces or more, or on the next, indented.
    options = re.findall(r"^  (-.*)\n?((?:(?!  -).+)?)", section, re.M)
    assert len(options) > 1 if command != "schema" else len(options) == 1
    for head, below in options:
        assert re.search(r"\S  +\S", head) or below.startswith(" " * 4), (head, below)


def test_version_prints_the_package_version() -> None:
    from deescalate import __version__

    result = run_cli("--version")

    assert (result.returncode, result.stdout, result.stderr) == (0, f"deescalate {__version__}\n", "")


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        pytest.param(["review", str(CLEAN), "--no-such-option"], "deescalate review", id="review"),
        pytest.param(["review", "--strict=yes", str(CLEAN)], "deescalate review", id="review-flag-value"),
        pytest.param(["guide", str(CLEAN), "--strict"], "deescalate guide", id="guide"),
        pytest.param(["verify", "--deep", "3"], "deescalate verify", id="verify"),
        pytest.param(["diagram", "--colour"], "deescalate diagram", id="diagram"),
        pytest.param(["schema", "--indent", "4"], "deescalate schema", id="schema"),
    ],
)
def test_a_wrong_option_shows_its_own_command_s_usage(args: list[str], usage: str) -> None:
    result = run_cli(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"usage: {usage} [-h]")
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"{usage}: error: ")
    assert result.stderr.endswith("\n") and error_lines[0] == result.stderr.splitlines()[-1]


def test_an_unknown_option_before_the_command_is_the_top_level_s() -> None:
    result = run_cli("--no-such-option", "review", CLEAN)

    assert result.returncode == 2
    assert result.stderr.startswith("usage: deescalate [-h]")
    assert result.stderr.splitlines()[-1] == "deescalate: error: unrecognized arguments: --no-such-option"


def test_usage_mistakes_and_help_in_process_go_to_the_given_streams() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["review", str(CLEAN), "--no-such-option"], out, err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().splitlines()[-1] == "deescalate review: error: unrecognized arguments: --no-such-option"

    out, err = io.StringIO(), io.StringIO()
    assert main(["review", "--help"], out, err) == 0
    assert out.getvalue().startswith("usage: deescalate review") and err.getvalue() == ""

    out, err = io.StringIO(), io.StringIO()
    assert main([], out, err) == 0
    assert out.getvalue().startswith("usage: deescalate") and err.getvalue() == ""


def test_schema_prints_the_json_schema_indented() -> None:
    from deescalate import json_schema

    result = run_cli("schema")

    assert (result.returncode, result.stderr) == (0, "")
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema == json_schema()
    assert result.stdout == json.dumps(json_schema(), indent=2) + "\n"


def test_review_imports_only_what_it_runs() -> None:
    unused = [
        "deescalate.verify", "deescalate._explore", "deescalate._alphabet", "deescalate._snapshot",
        "deescalate._schema", "deescalate.diagram", "deescalate.cli.verify", "deescalate.cli.guide",
        "deescalate.cli.diagram", "deescalate.cli.schema", "shutil", "pathlib", "hashlib",
        "transitions", "string",
    ]
    code = (
        "import io, sys\n"
        "from deescalate.cli import main\n"
        f"main(['review', {str(CLEAN)!r}], out=io.StringIO())\n"
        f"print(sorted(set({unused!r}) & set(sys.modules)))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=plain_env(), check=False
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")


# -- several files and directories ----------------------------------------------------------


FOLLOW_THROUGH = EXAMPLES / "follow-through.jsonl"
BAD_LINE = '{"type": "customer_vented", "at": "2026-03-02T09:01:00Z", "intensity": "high"}'
BAD_MESSAGE = "line 2: field 'intensity': must be an integer from 0 to 10, got 'high'"


def alone(path: Path | str, *options: str) -> str:
    """What ``deescalate review PATH OPTIONS`` prints for the one file."""
    return run_cli("review", path, *options).stdout


def bad_transcript(path: Path) -> Path:
    return write_transcript(path, [opened(), BAD_LINE])


def test_several_files_give_each_report_headed_by_its_path_then_the_totals() -> None:
    result = run_cli("review", CLEAN, VIOLATIONS)

    assert result.returncode == 1
    assert result.stderr == ""
    assert result.stdout == (
        f"==> {CLEAN} <==\n{alone(CLEAN)}\n"
        f"==> {VIOLATIONS} <==\n{alone(VIOLATIONS)}\n"
        "Total: 2 files: 5 violations, 5 warnings in 23 events\n"
    )


def test_several_files_in_json_are_one_object_with_each_report_and_the_totals() -> None:
    result = run_cli("review", CLEAN, VIOLATIONS, "--format", "json")

    assert result.returncode == 1
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == {
        "files": [
            {"path": str(CLEAN), **json.loads(alone(CLEAN, "--format", "json"))},
            {"path": str(VIOLATIONS), **json.loads(alone(VIOLATIONS, "--format", "json"))},
        ],
        "totals": {"files": 2, "bad_files": 0, "events": 23, "violations": 5, "warnings": 5},
    }
    assert list(json.loads(result.stdout)["files"][0])[:2] == ["path", "interaction_id"]


@pytest.mark.parametrize(
    ("names", "status"),
    [
        (["clean", "clean"], 0),
        (["clean", "violations"], 1),
        (["violations", "clean"], 1),
        (["clean", "bad"], 2),
        (["bad", "violations"], 2),
        (["violations", "bad", "clean"], 2),
    ],
)
def test_several_files_exit_with_the_worst_status(tmp_path: Path, names: list[str], status: int) -> None:
    files = {"clean": CLEAN, "violations": VIOLATIONS, "bad": bad_transcript(tmp_path / "bad.jsonl")}

    for options in ([], ["--format", "json"]):
        assert run_cli("review", *(files[name] for name in names), *options).returncode == status


def test_a_bad_file_is_one_line_naming_it_and_the_others_are_still_reviewed(tmp_path: Path) -> None:
    bad = bad_transcript(tmp_path / "bad.jsonl")
    missing = tmp_path / "missing.jsonl"

    result = run_cli("review", CLEAN, bad, missing, VIOLATIONS)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"deescalate: {bad}: {BAD_MESSAGE}",
        f"deescalate: {missing}: cannot read: No such file or directory",
    ]
    assert f"==> {bad} <==\nNot reviewed: {BAD_MESSAGE}\n\n" in result.stdout
    assert f"==> {missing} <==\nNot reviewed: cannot read: No such file or directory\n" in result.stdout
    assert f"==> {VIOLATIONS} <==\n{alone(VIOLATIONS)}" in result.stdout
    assert result.stdout.endswith("\nTotal: 4 files (2 bad): 5 violations, 5 warnings in 23 events\n")

    report = report_of(run_cli("review", CLEAN, bad, missing, VIOLATIONS, "--format", "json"))
    assert report["files"][1] == {"path": str(bad), "error": BAD_MESSAGE, "line": 2, "field": "intensity"}
    assert report["files"][2] == {
        "path": str(missing), "error": "cannot read: No such file or directory", "line": None, "field": None,
    }
    assert [entry["violations"] for entry in (report["files"][0], report["files"][3])] == [0, 5]
    assert report["totals"] == {"files": 4, "bad_files": 2, "events": 23, "violations": 5, "warnings": 5}


def test_a_directory_stands_for_its_transcripts_sorted_recursively(tmp_path: Path) -> None:
    root = tmp_path / "transcripts"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "z.jsonl").write_bytes(CLEAN.read_bytes())
    (root / "b" / "deeper" / "x.jsonl").write_bytes(VIOLATIONS.read_bytes())
    (root / "b" / "y.jsonl").write_bytes(CLEAN.read_bytes())
    (root / "a" / "bad.jsonl").write_text(jsonl([opened(), BAD_LINE]), encoding="utf-8")
    (root / "a" / "notes.txt").write_text("not a transcript\n", encoding="utf-8")
    (root / "a" / "old.jsonl.bak").write_text("not a transcript\n", encoding="utf-8")

    result = run_cli("review", "transcripts", "--format", "json", cwd=tmp_path)

    report = report_of(result)
    assert [entry["path"] for entry in report["files"]] == [
        os.path.join("transcripts", *parts)
        for parts in (["a", "bad.jsonl"], ["b", "deeper", "x.jsonl"], ["b", "y.jsonl"], ["z.jsonl"])
    ]
    assert report["totals"] == {"files": 4, "bad_files": 1, "events": 36, "violations": 5, "warnings": 5}
    assert result.returncode == 2
    assert result.stderr == f"deescalate: {os.path.join('transcripts', 'a', 'bad.jsonl')}: {BAD_MESSAGE}\n"


def test_a_directory_and_files_mix_and_one_directory_gives_the_several_files_report(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "clean.jsonl").write_bytes(CLEAN.read_bytes())

    alone_in_it = run_cli("review", "one", cwd=tmp_path)
    mixed = run_cli("review", VIOLATIONS, "one", "-", cwd=tmp_path, input=CLEAN.read_text(encoding="utf-8"))

    assert alone_in_it.returncode == 0
    assert alone_in_it.stdout == (
        f"==> {os.path.join('one', 'clean.jsonl')} <==\n{alone(CLEAN)}\n"
        "Total: 1 file: 0 violations, 0 warnings in 13 events\n"
    )
    assert mixed.returncode == 1
    headers = [line for line in mixed.stdout.splitlines() if line.startswith("==> ")]
    assert headers == [f"==> {VIOLATIONS} <==", f"==> {os.path.join('one', 'clean.jsonl')} <==", "==> standard input <=="]


def test_now_applies_to_each_file(tmp_path: Path) -> None:
    now = "2026-04-07T13:00:00Z"

    result = run_cli("review", CLEAN, FOLLOW_THROUGH, "--now", now)

    assert result.returncode == 0
    assert f"==> {CLEAN} <==\n{alone(CLEAN, '--now', now)}\n" in result.stdout
    assert f"==> {FOLLOW_THROUGH} <==\n{alone(FOLLOW_THROUGH, '--now', now)}\n" in result.stdout

    early = run_cli("review", CLEAN, FOLLOW_THROUGH, "--now", "2026-04-01T00:00:00Z", "--format", "json")
    report = report_of(early)
    assert early.returncode == 2
    assert report["files"][0]["now"] == "2026-04-01T00:00:00+00:00"
    assert report["files"][1]["error"] == (
        "argument '--now': is earlier than the transcript's last event (2026-04-06T10:17:30+00:00)"
    )


def test_a_malformed_now_stops_before_any_file_is_read() -> None:
    result = run_cli("review", CLEAN, VIOLATIONS, "--now", "tomorrow")

    err = assert_one_line_error(result)
    assert err == "deescalate: argument '--now': is not an ISO-8601 timestamp: 'tomorrow'\n"


class Terminal(io.StringIO):
    """Standard error as a terminal shows it."""

    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_and_cleared_at_the_end() -> None:
    out, err = io.StringIO(), Terminal()

    assert main(["review", str(CLEAN), str(CLEAN), str(CLEAN)], out, err) == 0

    assert "\r\x1b[Kreviewing: 0 of 3 files done" in err.getvalue()
    assert err.getvalue().endswith("\r\x1b[K")  # the line is left empty
    assert "\x1b" not in out.getvalue() and "reviewing" not in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "err"),
    [
        pytest.param([str(CLEAN), str(CLEAN)], io.StringIO(), id="not-a-terminal"),
        pytest.param([str(CLEAN), str(CLEAN), "--format", "json"], Terminal(), id="json"),
        pytest.param([str(CLEAN)], Terminal(), id="one-file"),
    ],
)
def test_progress_is_not_shown_off_a_terminal_in_json_or_for_one_file(argv: list[str], err: io.StringIO) -> None:
    assert main(["review", *argv], io.StringIO(), err) == 0
    assert err.getvalue() == ""


def test_progress_is_not_shown_when_piped() -> None:
    result = run_cli("review", CLEAN, CLEAN, CLEAN)

    assert (result.returncode, result.stderr) == (0, "")


def test_the_package_imports_its_exports_when_first_used() -> None:
    code = (
        "import sys, deescalate\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('deescalate.'))\n"
        "from deescalate import *\n"
        "import deescalate._events as events\n"
        "assert deescalate.Event is events.Event and 'Event' in vars(deescalate)\n"
        "assert set(deescalate.__all__) <= set(dir(deescalate))\n"
        "assert all(getattr(deescalate, name) is globals()[name] for name in deescalate.__all__)\n"
        "try:\n"
        "    deescalate.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "print(loaded)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=plain_env(), check=False
    )

    assert (result.returncode, result.stderr, result.stdout) == (0, "", "[]\n")
