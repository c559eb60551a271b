"""Guidance: what the agent should do now, never a step the policy refuses."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_time import FIELDS, POLICIES, TO_AGREED, agreed, at, e, history

from deescalate import (
    APOLOGIZE_FIRST,
    EVENT_ACTORS,
    FACTS_FIRST,
    ActionStatus,
    Actor,
    ArgumentError,
    Guidance,
    Interaction,
    Mode,
    Policy,
    apply,
    guide,
    open_interaction,
    replay,
)
from deescalate.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def actions_of(guidance: Guidance) -> list[str]:
    return [item.action for item in guidance.recommended]


def test_a_customer_mid_rant_is_listened_to_not_hung_up_on() -> None:
    interaction = replay(history([("customer_vented", {})]))
    guidance = guide(interaction, FACTS_FIRST, at(2))
    assert actions_of(guidance)[0] == "empathy_expressed"
    assert "conversation_ended" not in actions_of(guidance)
    assert "talk over" in guidance.recommended[0].reason
    assert guidance.awaiting == ("venting_subsided",)
    assert guidance.action("concerns_acknowledged").status is ActionStatus.REFUSED
    assert guidance.action("concerns_acknowledged").rules == ("let-them-vent",)
    assert guidance.action("conversation_ended").status is ActionStatus.REFUSED


def test_every_agent_action_is_judged_apology_by_scope_and_ending_for_abuse() -> None:
    guidance = guide(replay(history([])), FACTS_FIRST, at(1))
    listed = [(a.action, a.variant) for a in guidance.actions]
    agent = {kind for kind, actor in EVENT_ACTORS.items() if actor is Actor.AGENT}
    assert {action for action, _ in listed} == agent
    assert ("apology_offered", "inconvenience") in listed and ("apology_offered", "company") in listed
    assert ("conversation_ended", "abuse") in listed
    company = guidance.action("apology_offered", "company")
    assert company.status is ActionStatus.REFUSED
    assert company.rules == ("no-company-apology-before-facts",)
    assert "empathy" in company.advice[0]
    assert guidance.action("progress_reported").status is ActionStatus.IMPOSSIBLE
    assert guidance.action("fact_recorded").allowed


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_the_shortest_way_forward_is_recommended_once_nothing_more_pressing_is(policy: Policy) -> None:
    steps = [
        ([], "concerns_acknowledged"),
        (TO_AGREED[:3], "fact_recorded"),
        (TO_AGREED[:4], "fact_recorded"),
        (TO_AGREED[:5], "facts_established"),
    ]
    for script, expected in steps:
        interaction = replay(history(script), policy)
        assert actions_of(guide(interaction, policy, at(30))) == [expected], script
    gathered = replay(history(TO_AGREED[:6]), policy)
    recommended = guide(gathered, policy, at(30)).recommended
    if policy is APOLOGIZE_FIRST:  # an apology comes before any remedy
        assert [(r.action, r.variant) for r in recommended] == [("apology_offered", "inconvenience")]
    else:
        assert [r.action for r in recommended] == ["remedy_proposed"]


def test_while_a_remedy_is_on_the_table_the_agent_waits_for_the_answer() -> None:
    interaction = replay(history(TO_AGREED[:8]))
    guidance = guide(interaction, FACTS_FIRST, at(20))
    assert guidance.recommended == ()
    assert guidance.awaiting == ("remedy_accepted", "remedy_rejected")


def test_an_overdue_obligation_comes_first() -> None:
    interaction = agreed(FACTS_FIRST)
    later = at(9) + timedelta(hours=30)
    guidance = guide(interaction, FACTS_FIRST, later)
    first = guidance.recommended[0]
    assert first.action == "progress_reported" and "6 h overdue" in first.reason
    assert [(o.obligation.kind.value, o.overdue) for o in guidance.obligations] == [
        ("progress-report", True),
        ("follow-up", False),
    ]
    on_time = guide(interaction, FACTS_FIRST, at(10))
    assert all(not o.overdue for o in on_time.obligations)
    assert actions_of(on_time) == ["progress_reported"]  # the shortest way, not yet an obligation


def test_a_due_callback_is_met_by_a_contact() -> None:
    interaction = replay(history([*TO_AGREED[:3], ("callback_promised", {"by": at(60)})]))
    guidance = guide(interaction, FACTS_FIRST, at(61))
    first = guidance.recommended[0]
    assert "promised" in first.reason and first.action in {"empathy_expressed", "concerns_acknowledged"}
    assert guide(interaction, FACTS_FIRST, at(30)).recommended[0].reason.startswith("not every side")


def test_abuse_is_warned_about_before_anything_else_but_obligations() -> None:
    interaction = replay(history([("customer_vented", {}), ("abuse_observed", {})]))
    assert actions_of(guide(interaction, FACTS_FIRST, at(3)))[:2] == [
        "abuse_warning_given",
        "empathy_expressed",
    ]
    warned = apply(interaction, e("abuse_warning_given", 3)).interaction
    guidance = guide(warned, FACTS_FIRST, at(4))
    assert "abuse_warning_given" not in actions_of(guidance)
    assert guidance.action("conversation_ended").allowed  # warned: ending is now allowed, not urged


def test_a_manager_request_and_a_stuck_owner_call_for_an_escalation() -> None:
    asked = replay(history([*TO_AGREED[:3], ("manager_requested", {})]))
    guidance = guide(asked, FACTS_FIRST, at(5))
    assert (
        guidance.recommended[0].action == "escalated"
        and "asked for a manager" in guidance.recommended[0].reason
    )
    overdue = guide(asked, FACTS_FIRST, at(30)).recommended[0]
    assert overdue.action == "escalated" and "overdue" in overdue.reason
    script = [*TO_AGREED[:8], ("remedy_rejected", {}), ("remedy_proposed", {}), ("remedy_rejected", {})]
    stuck = replay(history(script))
    guidance = guide(stuck, FACTS_FIRST, at(20))
    assert guidance.recommended[0].action == "escalated" and "rejected" in guidance.recommended[0].reason
    assert guidance.action("remedy_proposed").rules == ("hand-off-when-stuck",)


def test_a_finished_interaction_has_nothing_to_do() -> None:
    done = replay(history([*TO_AGREED, ("progress_reported", {}), ("follow_up_completed", {})]))
    guidance = guide(done, FACTS_FIRST, at(20))
    assert guidance.recommended == () and guidance.awaiting == () and guidance.obligations == ()
    assert {a.status for a in guidance.actions} == {ActionStatus.IMPOSSIBLE}


def test_the_json_has_the_documented_keys() -> None:
    data = guide(agreed(FACTS_FIRST), "facts-first", at(9) + timedelta(days=2)).to_dict()
    assert set(data) >= {
        "interaction_id",
        "policy",
        "stage",
        "now",
        "recommended",
        "actions",
        "awaiting",
        "obligations",
    }
    assert data["stage"] == "agreed" and data["policy"] == "facts-first"
    assert set(data["recommended"][0]) >= {"action", "reason"}
    apology = next(a for a in data["actions"] if a["action"] == "apology_offered" and a["scope"] == "company")
    assert set(apology) >= {"action", "scope", "status", "rules", "advice"}
    assert data["obligations"][0] == {
        "kind": "progress-report",
        "opened": "2026-11-02T09:09:00+00:00",
        "due": "2026-11-03T09:09:00+00:00",
        "overdue": True,
    }
    json.dumps(data)


@pytest.mark.parametrize("now", [None, "2026-11-02T10:00:00Z", 5])
def test_now_is_an_aware_datetime(now: Any) -> None:
    with pytest.raises(ArgumentError):
        guide(agreed(FACTS_FIRST), FACTS_FIRST, now)


def test_guidance_looks_forward_only() -> None:
    with pytest.raises(ArgumentError, match="earlier than the interaction's last event"):
        guide(agreed(FACTS_FIRST), FACTS_FIRST, at(8))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(set(FIELDS) - {"interaction_opened"})), st.integers(0, 2 * 24 * 60)),
        max_size=20,
    ),
    st.sampled_from(POLICIES),
    st.integers(0, 3 * 24 * 60),
)
def test_a_recommended_action_is_never_one_the_policy_refuses(
    steps: list[tuple[str, int]], policy: Policy, wait: int
) -> None:
    interaction: Interaction = open_interaction(e("interaction_opened", 0), policy)
    minute = 0
    for kind, gap in steps:
        minute += gap
        fields = {"by": at(minute + 60)} if kind == "callback_promised" else {}
        interaction = apply(interaction, e(kind, minute, **fields), policy, Mode.STRICT).interaction
    guidance = guide(interaction, policy, at(minute + wait))
    for item in guidance.recommended:
        assert guidance.action(item.action, item.variant).allowed, item
    if interaction.wave_open:
        assert "empathy_expressed" in actions_of(guidance)
    assert guide(interaction, policy, at(minute + wait)) == guidance  # pure: the same answer again


# -- the command --------------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


def transcript(tmp_path: Path, lines: int) -> str:
    path = tmp_path / "t.jsonl"
    text = (EXAMPLES / "clean.jsonl").read_text(encoding="utf-8").splitlines()[:lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return str(path)


def test_guide_prints_what_to_do_for_the_agent(tmp_path: Path) -> None:
    status, out, err = cli("guide", transcript(tmp_path, 11), "--now", "2026-03-04T10:00:00Z")
    assert (status, err) == (0, "")
    assert "Do now:" in out and "Report progress (progress_reported)" in out and "overdue" in out
    assert "Don't:" in out and "instead:" in out
    assert "Owed to the customer:" in out and "follow-up: by 2026-03-09T09:22:00+00:00" in out


def test_guide_defaults_now_to_the_last_event_and_prints_json(tmp_path: Path) -> None:
    status, out, _ = cli("guide", transcript(tmp_path, 2), "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["now"] == "2026-03-02T09:00:20+00:00"
    assert data["recommended"][0]["action"] == "empathy_expressed"
    assert data["awaiting"] == ["venting_subsided"]


@pytest.mark.parametrize(
    ("now", "problem"),
    [
        ("yesterday", "not an ISO-8601"),
        ("2026-03-04T10:00:00", "no UTC offset"),
        ("2026-03-01T00:00:00Z", "earlier"),
    ],
)
def test_a_bad_now_is_one_line_and_status_2(tmp_path: Path, now: str, problem: str) -> None:
    status, out, err = cli("guide", transcript(tmp_path, 11), "--now", now)
    assert status == 2 and out == "" and problem in err and err.count("\n") == 1


def test_guide_of_a_bad_transcript_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "customer_vented"}\n', encoding="utf-8")
    status, _, err = cli("guide", str(path))
    assert status == 2 and "line 1" in err
