"""Transcripts and whole-transcript review, in Python (the CLI has its own tests)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from deescalate import (
    APOLOGIZE_FIRST,
    ArgumentTypeError,
    ArgumentValueError,
    EventError,
    Mode,
    ObligationKind,
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
    assert list(data) == ["interaction_id", "policy", "mode", "stage", "violations", "warnings", "findings", "params"]
    assert data["params"]["escalate_within"] == "PT10M" and data["params"]["authority_limit"] == 100
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


# -- findings in the JSON report: line, status, advice, event_id -------------------------


def test_each_finding_names_its_line_status_advice_and_event_id() -> None:
    text = [
        json.dumps({**OPEN, "at": AT.format(0), "event_id": "w-1"}),
        "",  # a blank line: line numbers count it, indexes do not
        json.dumps({"type": "customer_vented", "at": AT.format(1), "event_id": "w-2", "intensity": 8}),
        json.dumps({"type": "remedy_proposed", "at": AT.format(2), "event_id": "w-3", "remedy": "a voucher"}),
        json.dumps({"type": "remedy_accepted", "at": AT.format(3), "restated": True, "confirmation_sent": True}),
    ]
    strict = review(read_transcript(text), mode=Mode.STRICT).to_dict()["findings"]
    assert [(f["index"], f["line"], f["rule"], f["status"], f["event_id"]) for f in strict] == [
        (2, 4, "let-them-vent", "refused", "w-3"),
        (2, 4, "acknowledge-first", "refused", "w-3"),
        (2, 4, "no-remedy-before-facts", "refused", "w-3"),
        (3, 5, "invalid-transition", "invalid", None),  # no remedy pending: the proposal was refused
    ]
    assert strict[0]["advice"] == "Wait for the venting to subside (venting_subsided) before responding."
    advisory = review(read_transcript(text)).to_dict()["findings"]
    assert {f["status"] for f in advisory} == {"applied"}


# -- late steps and broken promises are findings of the timing rules ---------------------


def timed(type: str, at: str, **fields: object) -> str:
    """A transcript line of ``type`` at ``at`` (``MM-DDTHH:MM`` in 2026, UTC)."""
    return json.dumps({"type": type, "at": f"2026-{at}:00Z", **fields})


#: A complaint where every deadline slipped: the escalation came 20 minutes after the
#: customer asked for a manager, the callback promised for noon came at 14:30, and the
#: follow-up came 10 days after the agreement, with a week of silence before it.
LATE = [
    timed("interaction_opened", "03-02T09:00", interaction_id="T-7", customer_name="Dana"),
    timed("customer_vented", "03-02T09:00", intensity=7),
    timed("venting_subsided", "03-02T09:01"),
    timed("concerns_acknowledged", "03-02T09:01", summary=["the parcel is late"], used_name=True),
    timed("manager_requested", "03-02T09:02"),
    timed("callback_promised", "03-02T09:03", by="2026-03-02T12:00:00Z"),
    timed("escalated", "03-02T09:22", to="supervisor", authority_limit=200),
    timed("fact_recorded", "03-02T09:30", source="warehouse", detail="shipped late"),
    timed("fact_recorded", "03-02T09:31", source="courier", detail="delivered on schedule"),
    timed("facts_established", "03-02T09:32", fault="company", root_cause="picking backlog"),
    timed("apology_offered", "03-02T14:30", scope="company", names_individual=False),
    timed("remedy_proposed", "03-02T14:31", remedy="refund the shipping fee", value=10),
    timed("remedy_accepted", "03-02T14:32", restated=True, confirmation_sent=True),
    timed("progress_reported", "03-03T10:00", detail="refund issued"),
    timed("progress_reported", "03-04T09:00", detail="replacement packed"),
    timed("follow_up_completed", "03-12T09:00", resolved=True, prevention="backlog alerts"),
]


def test_late_steps_are_warnings_on_the_events_that_came_late() -> None:
    report = review(read_transcript(LATE))
    found = [(f.line.index, f.finding.rule, f.finding.severity.value) for f in report.findings]
    assert found == [
        (6, "escalate-before-asked", "warning"),
        (6, "escalate-promptly", "warning"),
        (10, "keep-the-promise", "warning"),
        (15, "report-progress-on-time", "warning"),
        (15, "follow-up-on-time", "warning"),
    ]
    messages = {f.finding.rule: f.finding.message for f in report.findings}
    assert "10 min late" in messages["escalate-promptly"]
    assert "20 min" in messages["escalate-promptly"]
    assert "2 h 30 min late" in messages["keep-the-promise"]
    assert "2026-03-02T12:00:00+00:00" in messages["keep-the-promise"]
    assert "2026-03-09T14:32:00+00:00" in messages["follow-up-on-time"]  # a week after agreement
    assert report.violations == 0 and report.interaction.stage is Stage.FOLLOWED_UP


# -- what is still owed at the end: Review.obligations(now) and to_dict(now) -------------------

#: LATE cut short after the agreement: a progress report and the follow-up are owed.
AGREED = LATE[:13]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_obligations_still_open_at_the_end_with_overdue_at_now() -> None:
    report = review(read_transcript(AGREED))
    owed = report.obligations(moment("2026-03-04T09:00:00+00:00"))
    assert [(o.obligation.kind, o.obligation.due.isoformat(), o.overdue) for o in owed] == [
        (ObligationKind.PROGRESS_REPORT, "2026-03-03T14:32:00+00:00", True),
        (ObligationKind.FOLLOW_UP, "2026-03-09T14:32:00+00:00", False),
    ]
    # At the deadline itself an obligation is due, not overdue; at the last event nothing is.
    at_deadline = report.obligations(moment("2026-03-03T14:32:00+00:00"))
    assert [o.overdue for o in at_deadline] == [False, False]
    assert [o.overdue for o in report.obligations(report.last_at)] == [False, False]


def test_to_dict_with_now_adds_now_and_obligations() -> None:
    report = review(read_transcript(AGREED))
    assert "obligations" not in report.to_dict() and "now" not in report.to_dict()
    data = report.to_dict(moment("2026-03-04T10:00:00+01:00"))
    assert list(data)[-2:] == ["now", "obligations"]
    assert data["now"] == "2026-03-04T10:00:00+01:00"
    assert data["obligations"] == [
        {"kind": "progress-report", "opened": "2026-03-02T14:32:00+00:00",
         "due": "2026-03-03T14:32:00+00:00", "overdue": True},
        {"kind": "follow-up", "opened": "2026-03-02T14:32:00+00:00",
         "due": "2026-03-09T14:32:00+00:00", "overdue": False},
    ]
    assert {k: v for k, v in data.items() if k not in ("now", "obligations")} == report.to_dict()


def test_an_open_callback_and_a_manager_request_are_owed() -> None:
    report = review(read_transcript(LATE[:6]))  # asked for a manager, then promised a callback
    owed = report.obligations(moment("2026-03-02T09:30:00+00:00"))
    assert [(o.obligation.kind.value, o.obligation.due.isoformat(), o.overdue) for o in owed] == [
        ("escalation", "2026-03-02T09:12:00+00:00", True),
        ("callback", "2026-03-02T12:00:00+00:00", False),
    ]


def test_nothing_is_owed_once_the_interaction_is_over() -> None:
    report = review(read_transcript(LATE))
    assert report.obligations(moment("2027-01-01T00:00:00+00:00")) == ()
    assert report.to_dict(moment("2027-01-01T00:00:00+00:00"))["obligations"] == []


def test_strict_and_advisory_owe_what_their_final_interactions_owe() -> None:
    unrestated = [*AGREED[:12], timed("remedy_accepted", "03-02T14:32", restated=False, confirmation_sent=True)]
    now = moment("2026-03-04T09:00:00+00:00")
    advisory = review(read_transcript(unrestated)).obligations(now)
    strict = review(read_transcript(unrestated), mode=Mode.STRICT).obligations(now)
    # Advisory applied the acceptance, so the follow-through is owed; strict refused it.
    assert [o.obligation.kind.value for o in advisory] == ["progress-report", "follow-up"]
    assert strict == ()


def test_now_must_be_aware_and_not_before_the_last_event() -> None:
    report = review(read_transcript(AGREED))
    with pytest.raises(ArgumentValueError, match="earlier than the transcript's last event"):
        report.obligations(moment("2026-03-02T14:31:59+00:00"))
    with pytest.raises(ArgumentValueError):
        report.to_dict(moment("2026-03-04T09:00:00"))  # naive
    with pytest.raises(ArgumentTypeError):
        report.obligations("2026-03-04T09:00:00Z")  # type: ignore[arg-type]


def test_the_last_event_counts_even_when_it_was_not_applied() -> None:
    text = [*AGREED, timed("remedy_accepted", "03-02T15:00", restated=True, confirmation_sent=True)]
    report = review(read_transcript(text))
    assert report.findings[-1].status is Status.INVALID
    assert report.interaction.history.last.at < report.last_at == moment("2026-03-02T15:00:00+00:00")
    with pytest.raises(ArgumentValueError):
        report.obligations(moment("2026-03-02T14:45:00+00:00"))
