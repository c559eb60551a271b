"""Transcripts and whole-transcript review, in Python (the CLI has its own tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deescalate import (
    APOLOGIZE_FIRST,
    EventError,
    Mode,
    Stage,
    Status,
    read_transcript,
    review,
)

EXAMPLES = Path(__file__).parent.parent / "examples"
AT = "2026-03-02T09:00:{:02d}Z"


def lines(*events: dict[str, object]) -> list[str]:
    return [json.dumps({"at": AT.format(i), **e}) for i, e in enumerate(events)]


OPEN = {"type": "interaction_opened", "interaction_id": "T-7"}


def test_index_counts_non_blank_lines_and_number_counts_every_line() -> None:
    text = ["", *lines(OPEN, {"type": "customer_vented", "intensity": 3}), "   ", *lines({"type": "empathy_expressed"})]
    text[-1] = text[-1].replace(AT.format(0), AT.format(9))
    parsed = list(read_transcript(text))
    assert [(line.index, line.number) for line in parsed] == [(0, 2), (1, 3), (2, 5)]


def test_bytes_lines_are_decoded_as_utf8() -> None:
    parsed = list(read_transcript([line.encode() + b"\n" for line in lines(OPEN)]))
    assert parsed[0].event.type == "interaction_opened"
    with pytest.raises(EventError) as error:
        list(read_transcript([lines(OPEN)[0].encode(), b"\xff\xfe\n"]))
    assert (error.value.line, error.value.field) == (2, "line")


@pytest.mark.parametrize(
    ("events", "line", "field"),
    [
        ([{"type": "customer_vented", "intensity": 3}], 1, "type"),
        ([OPEN, OPEN], 2, "type"),
        ([OPEN, {"type": "customer_vented", "intensity": 12}], 2, "intensity"),
    ],
    ids=["first-not-opened", "second-opened", "bad-field"],
)
def test_transcript_errors_name_line_and_field(events, line, field) -> None:
    with pytest.raises(EventError) as error:
        list(read_transcript(lines(*events)))
    assert (error.value.line, error.value.field) == (line, field)


def test_time_must_not_run_backwards() -> None:
    text = lines(OPEN, {"type": "empathy_expressed"})
    text[1] = text[1].replace(AT.format(1), "2026-03-02T08:59:59Z")
    with pytest.raises(EventError) as error:
        list(read_transcript(text))
    assert (error.value.line, error.value.field) == (2, "at")


def test_equal_timestamps_and_other_offsets_are_in_order() -> None:
    text = [
        json.dumps({**OPEN, "at": "2026-03-02T10:00:00+01:00"}),
        json.dumps({"type": "empathy_expressed", "at": "2026-03-02T09:00:00Z"}),
    ]
    assert len(list(read_transcript(text))) == 2


def test_an_empty_transcript_is_bad_input() -> None:
    with pytest.raises(EventError) as error:
        list(read_transcript(["", "  "]))
    assert error.value.field == "type"


def test_reviewing_the_examples() -> None:
    def run(name: str, mode: Mode = Mode.ADVISORY):
        with open(EXAMPLES / name, "rb") as handle:
            return review(read_transcript(handle), mode=mode)

    clean = run("clean.jsonl")
    assert (clean.violations, clean.warnings, clean.interaction.stage) == (0, 0, Stage.FOLLOWED_UP)
    bad = run("violations.jsonl")
    assert bad.violations == 5 and bad.warnings == 5
    strict = run("strict.jsonl", Mode.STRICT)
    assert strict.interaction.stage is Stage.FOLLOWED_UP
    assert {f.status for f in strict.findings if f.finding.is_violation} == {Status.REFUSED}
    # The only warning: two days went by between the progress report and the follow-up.
    assert [(f.finding.rule, f.status) for f in strict.findings if not f.finding.is_violation] == [
        ("report-progress-on-time", Status.APPLIED)
    ]
    assert strict.to_dict()["mode"] == "strict"
    assert len(strict.interaction.history) == 13  # two refused and one duplicate left out


def test_the_json_report_has_the_contract_shape() -> None:
    report = review(read_transcript(lines(OPEN, {"type": "concerns_acknowledged", "summary": [], "used_name": False})), APOLOGIZE_FIRST)
    data = report.to_dict()
    assert list(data) == ["interaction_id", "policy", "mode", "stage", "violations", "warnings", "findings"]
    assert data["policy"] == "apologize-first" and data["mode"] == "advisory"
    assert data["findings"] == [
        {"index": 1, "type": "concerns_acknowledged", "rule": "acknowledge-with-summary", "severity": "violation",
         "message": "the concerns were acknowledged without summarising any of them",
         "line": 2, "status": "applied",
         "advice": APOLOGIZE_FIRST.rule("acknowledge-with-summary").advice,
         "event_id": None},
        {"index": 1, "type": "concerns_acknowledged", "rule": "use-their-name", "severity": "warning",
         "message": "the customer was not addressed by name when their concerns were acknowledged",
         "line": 2, "status": "applied",
         "advice": APOLOGIZE_FIRST.rule("use-their-name").advice,
         "event_id": None},
    ]
    # The contract's keys come first, in its order; the extra ones follow.
    assert [list(f)[:5] for f in data["findings"]] == [["index", "type", "rule", "severity", "message"]] * 2
    assert (data["violations"], data["warnings"]) == (1, 1)
