"""Time: promised callbacks, durations, obligations and the four timing rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deescalate import (
    APOLOGIZE_FIRST,
    CONTACT_EVENTS,
    EVENT_ACTORS,
    EVENT_CLASSES,
    FACTS_FIRST,
    Actor,
    ArgumentError,
    CallbackPromised,
    ConversationEnded,
    Event,
    EventError,
    Interaction,
    Mode,
    ObligationKind,
    Policy,
    PolicyError,
    apply,
    due_obligations,
    dump_snapshot,
    event_from_dict,
    event_to_dict,
    format_duration,
    load_snapshot,
    open_interaction,
    open_obligations,
    parse_duration,
    parse_event,
    replay,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLICIES = [FACTS_FIRST, APOLOGIZE_FIRST]
FIXTURES = Path(__file__).parent / "fixtures"

FIELDS: dict[str, dict[str, Any]] = {
    "interaction_opened": {"interaction_id": "T-9", "customer_name": "Ana"},
    "customer_vented": {"intensity": 6},
    "venting_subsided": {},
    "concerns_acknowledged": {"summary": ["broken kettle"], "used_name": True},
    "empathy_expressed": {},
    "fact_recorded": {"source": "warehouse", "detail": "x"},
    "facts_established": {"fault": "company", "root_cause": "bad batch"},
    "apology_offered": {"scope": "inconvenience", "names_individual": False},
    "remedy_proposed": {"remedy": "replacement", "value": 20},
    "remedy_rejected": {},
    "remedy_accepted": {"restated": True, "confirmation_sent": True},
    "progress_reported": {"detail": "shipped"},
    "callback_promised": {},
    "follow_up_completed": {"resolved": True, "prevention": "batch checks"},
    "manager_requested": {},
    "escalated": {"to": "supervisor"},
    "abuse_observed": {"detail": "insults"},
    "abuse_warning_given": {},
    "conversation_ended": {"reason": "customer_left"},
}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def e(kind: str, minute: float, **fields: Any) -> Event:
    """An event of ``kind`` at ``minute`` minutes after T0."""
    return EVENT_CLASSES[kind](at=at(minute), **{**FIELDS[kind], **fields})


#: A clean way to agreement under both built-in policies, one minute apart.
TO_AGREED = [
    ("customer_vented", {}),
    ("venting_subsided", {}),
    ("concerns_acknowledged", {}),
    ("fact_recorded", {"source": "warehouse"}),
    ("fact_recorded", {"source": "courier"}),
    ("facts_established", {}),
    ("apology_offered", {}),
    ("remedy_proposed", {}),
    ("remedy_accepted", {}),
]


def history(script: list[tuple[str, dict[str, Any]]], start: float = 1) -> list[Event]:
    opening = e("interaction_opened", 0)
    return [opening, *(e(kind, start + n, **fields) for n, (kind, fields) in enumerate(script))]


def agreed(policy: Policy) -> Interaction:
    return replay(history(TO_AGREED), policy)  # accepted at minute 9


def rules(interaction: Interaction, event: Event, policy: Policy) -> list[str]:
    return [f.rule for f in apply(interaction, event, policy, Mode.ADVISORY).findings]


TIMING = {"keep-the-promise", "report-progress-on-time", "follow-up-on-time", "escalate-promptly"}


def timing(interaction: Interaction, event: Event, policy: Policy) -> list[str]:
    return [rule for rule in rules(interaction, event, policy) if rule in TIMING]


# -- the event and its actors --------------------------------------------------------------


def test_a_callback_is_promised_for_now_or_later_never_for_the_past() -> None:
    promise = CallbackPromised(at=at(0), by=at(60), detail="after the courier calls")
    assert promise.by - promise.at == timedelta(hours=1)
    assert CallbackPromised(at=at(0), by=at(0)).detail is None  # equal times are fine
    with pytest.raises(EventError) as error:
        CallbackPromised(at=at(10), by=at(9))
    assert error.value.field == "by" and "earlier than at" in str(error.value)
    with pytest.raises(EventError, match="UTC offset") as error:
        CallbackPromised(at=at(0), by=datetime(2026, 11, 2, 12, 0))
    assert error.value.field == "by"


def test_a_callback_travels_as_json_with_by_checked_like_at() -> None:
    promise = CallbackPromised(at=at(0), by=at(90), event_id="e-1")
    data = event_to_dict(promise)
    assert data == {
        "type": "callback_promised",
        "at": "2026-11-02T09:00:00+00:00",
        "event_id": "e-1",
        "by": "2026-11-02T10:30:00+00:00",
    }
    assert event_from_dict(data) == promise
    line = '{"type":"callback_promised","at":"2026-11-02T09:00:00Z","by":"2026-11-02T08:00:00Z"}'
    with pytest.raises(EventError, match="earlier than at") as error:
        parse_event(line)
    assert error.value.field == "by"
    for by, problem in [
        (None, "is required"),
        ("soon", "not an ISO-8601"),
        ("2026-11-02T10:00:00", "no UTC"),
    ]:
        with pytest.raises(EventError, match=problem) as error:
            event_from_dict({"type": "callback_promised", "at": "2026-11-02T09:00:00Z", "by": by})
        assert error.value.field == "by"


def test_every_event_type_has_its_actor() -> None:
    customer = {
        "customer_vented",
        "venting_subsided",
        "remedy_rejected",
        "remedy_accepted",
        "manager_requested",
        "abuse_observed",
    }
    assert set(EVENT_ACTORS) == set(EVENT_CLASSES)
    for kind, actor in EVENT_ACTORS.items():
        expected = (
            Actor.SYSTEM
            if kind == "interaction_opened"
            else Actor.CUSTOMER
            if kind in customer
            else Actor.AGENT
        )
        assert actor is expected, kind
        assert (
            e(kind, 0, **({"by": at(5)} if kind == "callback_promised" else {})).actor is expected
            or kind == "conversation_ended"
        )
    assert ConversationEnded(at=at(0), reason="customer_left").actor is Actor.CUSTOMER
    assert ConversationEnded(at=at(0), reason="abuse").actor is Actor.AGENT


def test_contact_events_are_the_agent_events_the_customer_hears() -> None:
    assert {
        "concerns_acknowledged",
        "empathy_expressed",
        "apology_offered",
        "remedy_proposed",
        "progress_reported",
        "follow_up_completed",
        "abuse_warning_given",
        "callback_promised",
    } == CONTACT_EVENTS
    assert all(EVENT_ACTORS[kind] is Actor.AGENT for kind in CONTACT_EVENTS)
    assert e("empathy_expressed", 0).contact and not e("fact_recorded", 0).contact


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_callback_can_be_promised_at_any_active_stage_and_moves_nothing(policy: Policy) -> None:
    for script in ([], TO_AGREED[:3], TO_AGREED[:6], TO_AGREED[:8], TO_AGREED):
        interaction = replay(history(script), policy)
        outcome = apply(interaction, e("callback_promised", 30, by=at(90)), policy)
        assert outcome.applied and outcome.findings == ()
        assert outcome.interaction.stage is interaction.stage
        assert outcome.interaction.callback_due == at(90)
    ended = replay(history([("conversation_ended", {})]), policy)
    assert apply(ended, e("callback_promised", 30, by=at(90)), policy).status.value == "invalid"


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("PT10M", timedelta(minutes=10)),
        ("P7D", timedelta(days=7)),
        ("PT24H", timedelta(hours=24)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("PT0,5H", timedelta(minutes=30)),
    ],
)
def test_iso_8601_durations_are_read(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span
    assert parse_duration(format_duration(span)) == span


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "P1DT", "10 minutes", "PT10", "-PT5M", "P1M", "P1Y", "PT5M ", 600]
)
def test_anything_else_is_not_a_duration(text: Any) -> None:
    with pytest.raises(ArgumentError, match=r"duration|years or months") as error:
        parse_duration(text)
    assert isinstance(error.value, TypeError if text == 600 else ValueError)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10_000)))
def test_a_written_duration_reads_back_the_same(span: timedelta) -> None:
    assert parse_duration(format_duration(span)) == span


def test_deadlines_are_policy_parameters_that_can_be_turned_off() -> None:
    params = FACTS_FIRST.params
    assert (params.progress_every, params.follow_up_within, params.escalate_within) == (
        timedelta(hours=24),
        timedelta(days=7),
        timedelta(minutes=10),
    )
    tuned = FACTS_FIRST.with_params(
        escalate_within="PT5M", follow_up_within=timedelta(days=3), progress_every=None
    )
    assert tuned.params.escalate_within == timedelta(minutes=5)
    assert tuned.params.follow_up_within == timedelta(days=3)
    assert tuned.params.progress_every is None
    assert tuned.params.to_json()["escalate_within"] == "PT5M"
    assert tuned.params.to_json()["progress_every"] is None


@pytest.mark.parametrize(
    "value", ["5 minutes", "P1M", 600, timedelta(0), timedelta(minutes=-1), True, timedelta(days=20_000)]
)
def test_a_bad_deadline_is_refused_naming_the_parameter(value: Any) -> None:
    with pytest.raises(PolicyError, match="escalate_within"):
        FACTS_FIRST.with_params(escalate_within=value)


# -- obligations --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_agreement_opens_a_follow_up_and_a_progress_report(policy: Policy) -> None:
    interaction = agreed(policy)
    owed = open_obligations(interaction, policy)
    assert [(o.kind, o.opened_at, o.due) for o in owed] == [
        (ObligationKind.PROGRESS_REPORT, at(9), at(9) + timedelta(hours=24)),
        (ObligationKind.FOLLOW_UP, at(9), at(9) + timedelta(days=7)),
    ]
    assert owed[0].met_by == ("progress_reported", "follow_up_completed")
    assert owed[0].rule == "report-progress-on-time"
    # A report meets the one due and opens the next.
    reported = apply(interaction, e("progress_reported", 600), policy).interaction
    assert open_obligations(reported, policy)[0].due == at(600) + timedelta(hours=24)
    # The follow-up closes everything.
    done = apply(reported, e("follow_up_completed", 700), policy).interaction
    assert open_obligations(done, policy) == ()


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_venting_again_leaves_agreed_and_closes_its_obligations(policy: Policy) -> None:
    interaction = apply(agreed(policy), e("customer_vented", 20), policy).interaction
    assert interaction.stage.value == "venting"
    assert open_obligations(interaction, policy) == ()
    assert (interaction.accepted_at, interaction.progress_since) == (None, None)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_manager_request_is_owed_an_escalation_from_the_first_request(policy: Policy) -> None:
    interaction = replay(
        history([("customer_vented", {}), ("manager_requested", {}), ("manager_requested", {})]), policy
    )
    (owed,) = open_obligations(interaction, policy)
    assert owed.kind is ObligationKind.ESCALATION and owed.opened_at == at(2) and owed.due == at(12)
    escalated = apply(interaction, e("escalated", 5), policy, Mode.ADVISORY).interaction
    assert open_obligations(escalated, policy) == ()


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_newer_promise_meets_the_open_one_and_any_contact_meets_it(policy: Policy) -> None:
    interaction = replay(history([("customer_vented", {}), ("callback_promised", {"by": at(60)})]), policy)
    assert [(o.kind, o.due) for o in open_obligations(interaction, policy)] == [
        (ObligationKind.CALLBACK, at(60))
    ]
    newer = apply(interaction, e("callback_promised", 10, by=at(120)), policy).interaction
    assert [(o.kind, o.opened_at, o.due) for o in open_obligations(newer, policy)] == [
        (ObligationKind.CALLBACK, at(10), at(120))
    ]
    not_contact = apply(newer, e("fact_recorded", 11), policy).interaction
    assert len(open_obligations(not_contact, policy)) == 1  # recording a fact is not talking to them
    met = apply(not_contact, e("empathy_expressed", 12), policy).interaction
    assert open_obligations(met, policy) == () and met.callback_due is None


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_terminal_stage_owes_nothing(policy: Policy) -> None:
    script = [("customer_vented", {}), ("manager_requested", {}), ("callback_promised", {"by": at(60)})]
    interaction = replay(history(script), policy)
    assert len(open_obligations(interaction, policy)) == 2
    ended = apply(interaction, e("conversation_ended", 10), policy).interaction
    assert open_obligations(ended, policy) == ()


def test_a_duration_turned_off_opens_no_obligation_of_its_kind() -> None:
    policy = FACTS_FIRST.with_params(progress_every=None, escalate_within=None)
    interaction = replay(history([*TO_AGREED, ("manager_requested", {})]), policy)
    assert [o.kind for o in open_obligations(interaction, policy)] == [ObligationKind.FOLLOW_UP]


def test_due_means_the_deadline_is_now_or_earlier_and_overdue_means_earlier() -> None:
    interaction = agreed(FACTS_FIRST)
    report_due = at(9) + timedelta(hours=24)
    assert due_obligations(interaction, FACTS_FIRST, report_due - timedelta(seconds=1)) == ()
    (owed,) = due_obligations(interaction, FACTS_FIRST, report_due)
    assert owed.is_due(report_due) and not owed.overdue(report_due)
    assert owed.overdue(report_due + timedelta(seconds=1))
    assert len(due_obligations(interaction, FACTS_FIRST, at(9) + timedelta(days=8))) == 2


@pytest.mark.parametrize("now", [None, "2026-11-02T09:00:00Z", datetime(2026, 11, 2, 9, 0), 12])
def test_now_must_be_an_aware_datetime(now: Any) -> None:
    with pytest.raises(ArgumentError, match="now"):
        due_obligations(agreed(FACTS_FIRST), FACTS_FIRST, now)


def test_obligations_survive_snapshots_and_replays() -> None:
    script = [
        *TO_AGREED[:2],
        ("manager_requested", {}),
        *TO_AGREED[2:],
        ("callback_promised", {"by": at(500)}),
    ]
    interaction = replay(history(script), FACTS_FIRST)
    owed = open_obligations(interaction, FACTS_FIRST)
    assert {o.kind for o in owed} == set(ObligationKind)
    assert open_obligations(replay(interaction.history), FACTS_FIRST) == owed
    assert open_obligations(load_snapshot(dump_snapshot(interaction)), FACTS_FIRST) == owed
    signed = dump_snapshot(interaction, key=b"secret")
    assert open_obligations(load_snapshot(signed, key=b"secret"), FACTS_FIRST) == owed


def test_an_edited_deadline_in_a_snapshot_is_refused() -> None:
    interaction = replay(history([("customer_vented", {}), ("callback_promised", {"by": at(60)})]))
    data = json.loads(dump_snapshot(interaction))
    data["interaction"]["callback_due"] = at(6000).isoformat()
    with pytest.raises(Exception, match="callback_due"):
        load_snapshot(json.dumps(data))


# -- the timing rules --------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_keep_the_promise(policy: Policy) -> None:
    interaction = replay(history([("customer_vented", {}), ("callback_promised", {"by": at(60)})]), policy)
    assert timing(interaction, e("empathy_expressed", 60), policy) == []  # on time, to the second
    assert timing(interaction, e("empathy_expressed", 61), policy) == ["keep-the-promise"]
    assert timing(interaction, e("callback_promised", 90, by=at(200)), policy) == ["keep-the-promise"]
    assert timing(interaction, e("fact_recorded", 90), policy) == []  # not a contact
    late = apply(interaction, e("empathy_expressed", 61), policy).interaction
    assert timing(late, e("empathy_expressed", 62), policy) == []  # only the first contact is judged
    message = apply(interaction, e("empathy_expressed", 75), policy).findings[0].message
    assert "15 min late" in message


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_report_progress_on_time(policy: Policy) -> None:
    interaction = agreed(policy)  # accepted at minute 9
    day = 24 * 60
    assert timing(interaction, e("progress_reported", 9 + day), policy) == []
    assert timing(interaction, e("progress_reported", 10 + day), policy) == ["report-progress-on-time"]
    reported = apply(interaction, e("progress_reported", 9 + day), policy).interaction
    assert timing(reported, e("progress_reported", 9 + 2 * day), policy) == []
    assert "report-progress-on-time" in timing(reported, e("follow_up_completed", 10 + 2 * day), policy)
    off = policy.with_params(progress_every=None)
    assert timing(replay(history(TO_AGREED), off), e("progress_reported", 9 + 3 * day), off) == []


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_follow_up_on_time(policy: Policy) -> None:
    interaction = apply(agreed(policy), e("progress_reported", 60), policy).interaction
    week = 7 * 24 * 60
    quiet = policy.with_params(progress_every=None)
    calm = replay(interaction.history, quiet)
    assert timing(calm, e("follow_up_completed", 9 + week), quiet) == []
    assert timing(calm, e("follow_up_completed", 10 + week), quiet) == ["follow-up-on-time"]
    off = quiet.with_params(follow_up_within=None)
    assert timing(replay(interaction.history, off), e("follow_up_completed", 10 + 2 * week), off) == []
    assert "follow-up-on-time" in timing(interaction, e("follow_up_completed", 10 + week), policy)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_escalate_promptly(policy: Policy) -> None:
    script = [
        ("customer_vented", {}),
        ("venting_subsided", {}),
        ("concerns_acknowledged", {}),
        ("manager_requested", {}),
    ]
    interaction = replay(history(script), policy)  # asked at minute 4
    assert timing(interaction, e("escalated", 14), policy) == []
    assert timing(interaction, e("escalated", 15), policy) == ["escalate-promptly"]
    unasked = replay(history(script[:3]), policy)
    assert timing(unasked, e("escalated", 500), policy) == []
    off = policy.with_params(escalate_within=None)
    assert timing(replay(interaction.history, off), e("escalated", 500), off) == []
    outcome = apply(interaction, e("escalated", 34), policy, Mode.STRICT)
    assert outcome.applied  # a warning never refuses: refusing would keep them waiting longer
    assert "20 min late" in outcome.findings[-1].message


# -- migration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "policy"),
    [("facts-first", FACTS_FIRST), ("apologize-first", APOLOGIZE_FIRST), ("manager-requested", FACTS_FIRST)],
)
def test_version_2_snapshots_still_load_with_their_deadlines_derived(name: str, policy: Policy) -> None:
    text = (FIXTURES / f"snapshot-v2-{name}.json").read_text(encoding="utf-8")
    assert json.loads(text)["version"] == 2
    interaction = load_snapshot(text)
    assert interaction == replay(interaction.history, policy)
    again = json.loads(dump_snapshot(interaction, policy))
    assert again["version"] == 3 and again["policy"]["params"]["escalate_within"] == "PT10M"
    assert load_snapshot(json.dumps(again)) == interaction
    if name == "manager-requested":
        (owed,) = open_obligations(interaction, policy)
        assert owed.kind is ObligationKind.ESCALATION
        assert owed.opened_at == datetime(2026, 11, 20, 9, 2, tzinfo=UTC)
    if name == "facts-first":
        assert [o.kind for o in open_obligations(interaction, policy)] == [
            ObligationKind.PROGRESS_REPORT,
            ObligationKind.FOLLOW_UP,
        ]


def test_a_version_3_snapshot_under_other_deadlines_is_refused() -> None:
    interaction = agreed(FACTS_FIRST)
    text = dump_snapshot(interaction)
    with pytest.raises(Exception, match="escalate_within"):
        load_snapshot(text, FACTS_FIRST.with_params(escalate_within="PT5M"))


# -- a property: deadlines come from the history alone ---------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(set(FIELDS) - {"interaction_opened"})), st.integers(0, 3 * 24 * 60)),
        max_size=25,
    ),
    st.sampled_from(POLICIES),
)
def test_obligations_are_the_same_after_replay_and_snapshot(
    steps: list[tuple[str, int]], policy: Policy
) -> None:
    interaction = open_interaction(e("interaction_opened", 0), policy)
    minute = 0
    for kind, gap in steps:
        minute += gap
        fields = {"by": at(minute + 30)} if kind == "callback_promised" else {}
        interaction = apply(interaction, e(kind, minute, **fields), policy, Mode.STRICT).interaction
    owed = open_obligations(interaction, policy)
    assert open_obligations(replay(interaction.history, policy), policy) == owed
    assert open_obligations(load_snapshot(dump_snapshot(interaction, policy), policy), policy) == owed
    for item in owed:
        assert item.due > item.opened_at
