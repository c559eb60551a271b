"""Every built-in rule: events that make it fire, and events that keep it quiet."""

from __future__ import annotations

import pytest

from build import (
    TO_ACKNOWLEDGED,
    TO_AGREED,
    TO_FACTS,
    TO_REMEDY,
    ev,
    fired,
    run,
)
from deescalate import APOLOGIZE_FIRST, FACTS_FIRST, Mode, Severity, apply

BOTH = pytest.mark.parametrize("policy", [FACTS_FIRST, APOLOGIZE_FIRST], ids=lambda p: p.name)


# -- let-them-vent ---------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    "event",
    [
        ("concerns_acknowledged", {}),
        ("facts_established", {}),
        ("remedy_proposed", {}),
        ("apology_offered", {"scope": "company"}),
    ],
    ids=lambda e: e[0],
)
def test_let_them_vent_fires_when_talking_over_an_open_wave(policy, event) -> None:
    interaction = run(["customer_vented"], policy)
    assert "let-them-vent" in fired(interaction, ev(event[0], **event[1]), policy)


@BOTH
def test_let_them_vent_quiet_once_the_wave_subsided(policy) -> None:
    interaction = run(["customer_vented", "venting_subsided"], policy)
    assert "let-them-vent" not in fired(interaction, ev("concerns_acknowledged"), policy)


@BOTH
def test_let_them_vent_allows_an_apology_for_the_inconvenience(policy) -> None:
    interaction = run(["customer_vented"], policy)
    assert "let-them-vent" not in fired(interaction, ev("apology_offered"), policy)


def test_let_them_vent_quiet_before_any_wave() -> None:
    assert "let-them-vent" not in fired(run([]), ev("concerns_acknowledged"))


def test_let_them_vent_fires_again_on_a_new_wave() -> None:
    interaction = run([*TO_FACTS, "customer_vented"])
    assert "let-them-vent" in fired(interaction, ev("concerns_acknowledged"))


# -- acknowledge-first -----------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("kind", ["facts_established", "remedy_proposed"])
def test_acknowledge_first_fires_in_venting(policy, kind) -> None:
    interaction = run(["customer_vented", "venting_subsided"], policy)
    assert "acknowledge-first" in fired(interaction, ev(kind), policy)


@BOTH
@pytest.mark.parametrize("kind", ["facts_established", "remedy_proposed"])
def test_acknowledge_first_quiet_after_acknowledging(policy, kind) -> None:
    interaction = run(TO_ACKNOWLEDGED, policy)
    assert "acknowledge-first" not in fired(interaction, ev(kind), policy)


# -- acknowledge-with-summary / use-their-name -------------------------------------------


@pytest.mark.parametrize("summary", [(), ("",), ("  ", "\t")], ids=["empty", "blank", "spaces"])
def test_acknowledge_with_summary_fires_without_a_real_summary(summary) -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    event = ev("concerns_acknowledged", summary=summary)
    assert "acknowledge-with-summary" in fired(interaction, event)


def test_acknowledge_with_summary_quiet_with_one_real_point() -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    event = ev("concerns_acknowledged", summary=("", "charged twice"))
    assert "acknowledge-with-summary" not in fired(interaction, event)


def test_use_their_name_warns_when_the_name_was_not_used() -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    outcome = apply(interaction, ev("concerns_acknowledged", used_name=False), FACTS_FIRST)
    assert [(f.rule, f.severity) for f in outcome.findings] == [("use-their-name", Severity.WARNING)]
    assert outcome.applied  # a warning never refuses, even in strict mode


def test_use_their_name_quiet_when_used() -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    assert fired(interaction, ev("concerns_acknowledged", used_name=True)) == []


# -- hear-all-sides ----------------------------------------------------------------------


def test_hear_all_sides_warns_with_one_source() -> None:
    interaction = run([*TO_ACKNOWLEDGED, ("fact_recorded", {"source": "warehouse"})])
    outcome = apply(interaction, ev("facts_established"), FACTS_FIRST)
    assert [f.rule for f in outcome.warnings] == ["hear-all-sides"]
    assert "1 source(s)" in outcome.warnings[0].message


def test_hear_all_sides_counts_distinct_sources_only() -> None:
    same = ("fact_recorded", {"source": "warehouse"})
    interaction = run([*TO_ACKNOWLEDGED, same, same, same])
    assert interaction.fact_source_count == 1
    assert "hear-all-sides" in fired(interaction, ev("facts_established"))


def test_hear_all_sides_quiet_with_two_sources() -> None:
    interaction = run(TO_FACTS[:-1])
    assert interaction.fact_sources == ("warehouse", "courier")
    assert "hear-all-sides" not in fired(interaction, ev("facts_established"))


def test_hear_all_sides_follows_min_fact_sources() -> None:
    policy = FACTS_FIRST.with_params(min_fact_sources=3)
    interaction = run(TO_FACTS[:-1], policy)
    assert "hear-all-sides" in fired(interaction, ev("facts_established"), policy)
    lenient = FACTS_FIRST.with_params(min_fact_sources=0)
    assert "hear-all-sides" not in fired(run(TO_ACKNOWLEDGED), ev("facts_established"), lenient)


# -- apologies -------------------------------------------------------------------------


def test_company_apology_before_facts_is_a_violation_under_facts_first() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    event = ev("apology_offered", scope="company")
    assert fired(interaction, event, FACTS_FIRST) == ["no-company-apology-before-facts"]


def test_company_apology_before_facts_is_fine_under_apologize_first() -> None:
    interaction = run(TO_ACKNOWLEDGED, APOLOGIZE_FIRST)
    assert fired(interaction, ev("apology_offered", scope="company"), APOLOGIZE_FIRST) == []


def test_inconvenience_apology_before_facts_is_fine() -> None:
    assert fired(run(TO_ACKNOWLEDGED), ev("apology_offered", scope="inconvenience")) == []


@pytest.mark.parametrize("fault", ["customer", "third_party", "none", "unknown"])
def test_company_apology_when_not_at_fault_is_a_violation_under_facts_first(fault) -> None:
    interaction = run([*TO_FACTS[:-1], ("facts_established", {"fault": fault})])
    event = ev("apology_offered", scope="company")
    assert fired(interaction, event, FACTS_FIRST) == ["apologize-only-when-warranted"]
    assert fired(interaction, event, APOLOGIZE_FIRST) == []


def test_company_apology_when_at_fault_is_fine() -> None:
    interaction = run(TO_FACTS)
    assert fired(interaction, ev("apology_offered", scope="company")) == []


@BOTH
@pytest.mark.parametrize("scope", ["inconvenience", "company"])
def test_no_scapegoating_fires_when_an_individual_is_named(policy, scope) -> None:
    interaction = run(TO_FACTS, policy)
    event = ev("apology_offered", scope=scope, names_individual=True)
    assert "no-scapegoating" in fired(interaction, event, policy)


@BOTH
def test_no_scapegoating_quiet_otherwise(policy) -> None:
    interaction = run(TO_FACTS, policy)
    event = ev("apology_offered", scope="company", names_individual=False)
    assert "no-scapegoating" not in fired(interaction, event, policy)


# -- remedies --------------------------------------------------------------------------


@BOTH
def test_no_remedy_before_facts_fires_without_facts(policy) -> None:
    interaction = run(TO_ACKNOWLEDGED, policy)
    assert "no-remedy-before-facts" in fired(interaction, ev("remedy_proposed"), policy)


@BOTH
def test_no_remedy_before_facts_quiet_with_facts(policy) -> None:
    interaction = run(TO_FACTS, policy)
    assert "no-remedy-before-facts" not in fired(interaction, ev("remedy_proposed"), policy)


def test_no_remedy_before_facts_remembers_facts_across_a_new_wave() -> None:
    interaction = run([*TO_FACTS, "customer_vented", "venting_subsided", "concerns_acknowledged"])
    assert "no-remedy-before-facts" not in fired(interaction, ev("remedy_proposed"))


def test_within_authority_fires_over_the_default_limit() -> None:
    interaction = run(TO_FACTS)
    findings = apply(interaction, ev("remedy_proposed", value=150), FACTS_FIRST).findings
    assert [f.rule for f in findings] == ["within-authority"]
    assert findings[0].message == "a remedy worth 150 exceeds the agent's authority limit of 100"


def test_within_authority_quiet_at_the_limit() -> None:
    assert fired(run(TO_FACTS), ev("remedy_proposed", value=100)) == []


def test_within_authority_uses_the_opening_limit_over_the_policy_default() -> None:
    interaction = run(TO_FACTS, authority_limit=500)
    assert fired(interaction, ev("remedy_proposed", value=400)) == []
    assert "within-authority" in fired(run(TO_FACTS, authority_limit=10), ev("remedy_proposed", value=20))


def test_within_authority_follows_the_policy_default() -> None:
    policy = FACTS_FIRST.with_params(authority_limit=10)
    interaction = run(TO_FACTS, policy)
    assert "within-authority" in fired(interaction, ev("remedy_proposed", value=20), policy)


def test_within_authority_uses_the_escalated_owner_limit() -> None:
    interaction = run([*TO_FACTS, ("escalated", {"to": "manager", "authority_limit": 1000})])
    assert fired(interaction, ev("remedy_proposed", value=800)) == []
    kept = run([*TO_FACTS, ("escalated", {"to": "specialist"})])
    assert kept.authority_limit == 100
    assert "within-authority" in fired(kept, ev("remedy_proposed", value=800))


REJECTED_TWICE = [*TO_REMEDY, "remedy_rejected", "remedy_proposed", "remedy_rejected"]


def test_hand_off_when_stuck_fires_after_max_rejections() -> None:
    interaction = run(REJECTED_TWICE)
    assert interaction.rejections == 2
    assert "hand-off-when-stuck" in fired(interaction, ev("remedy_proposed"))


def test_hand_off_when_stuck_quiet_below_max_rejections() -> None:
    interaction = run([*TO_REMEDY, "remedy_rejected"])
    assert "hand-off-when-stuck" not in fired(interaction, ev("remedy_proposed"))


def test_hand_off_when_stuck_quiet_for_a_new_owner() -> None:
    interaction = run([*REJECTED_TWICE, ("escalated", {"to": "supervisor"})])
    assert interaction.rejections == 0
    assert "hand-off-when-stuck" not in fired(interaction, ev("remedy_proposed"))


def test_hand_off_when_stuck_follows_max_rejections() -> None:
    policy = FACTS_FIRST.with_params(max_rejections=3)
    assert "hand-off-when-stuck" not in fired(run(REJECTED_TWICE, policy), ev("remedy_proposed"), policy)


def test_always_apologize_fires_under_apologize_first_only() -> None:
    interaction = run(TO_FACTS, APOLOGIZE_FIRST)
    assert fired(interaction, ev("remedy_proposed"), APOLOGIZE_FIRST) == ["always-apologize"]
    assert fired(run(TO_FACTS), ev("remedy_proposed"), FACTS_FIRST) == []


def test_always_apologize_quiet_after_any_apology() -> None:
    interaction = run([*TO_FACTS, "apology_offered"], APOLOGIZE_FIRST)
    assert fired(interaction, ev("remedy_proposed"), APOLOGIZE_FIRST) == []


# -- agreement and follow-through ------------------------------------------------------


@BOTH
def test_restate_the_agreement_fires_when_not_restated(policy) -> None:
    interaction = run([*TO_FACTS, "apology_offered", "remedy_proposed"], policy)
    assert "restate-the-agreement" in fired(interaction, ev("remedy_accepted", restated=False), policy)


@BOTH
def test_restate_the_agreement_quiet_when_restated(policy) -> None:
    interaction = run([*TO_FACTS, "apology_offered", "remedy_proposed"], policy)
    assert fired(interaction, ev("remedy_accepted"), policy) == []


def test_confirm_in_writing_warns_without_confirmation() -> None:
    findings = apply(run(TO_REMEDY), ev("remedy_accepted", confirmation_sent=False), FACTS_FIRST)
    assert [(f.rule, f.severity) for f in findings.findings] == [
        ("confirm-in-writing", Severity.WARNING)
    ]


def test_report_progress_warns_without_a_progress_report() -> None:
    interaction = run([*TO_REMEDY, "remedy_accepted"])
    assert fired(interaction, ev("follow_up_completed")) == ["report-progress"]


def test_report_progress_quiet_after_a_report() -> None:
    assert fired(run(TO_AGREED), ev("follow_up_completed")) == []


def test_report_progress_counts_only_reports_since_the_latest_acceptance() -> None:
    script = [*TO_AGREED, "customer_vented", "venting_subsided", "remedy_proposed", "remedy_accepted"]
    assert "report-progress" in fired(run(script), ev("follow_up_completed"))


def test_prevent_recurrence_fires_when_the_company_erred_and_prevention_is_blank() -> None:
    for prevention in ("", "   "):
        agreed = run(TO_AGREED)
        event = ev("follow_up_completed", prevention=prevention)
        assert fired(agreed, event) == ["prevent-recurrence"]


def test_prevent_recurrence_quiet_with_a_prevention() -> None:
    assert fired(run(TO_AGREED), ev("follow_up_completed", prevention="new checklist")) == []


def test_prevent_recurrence_quiet_when_the_company_was_not_at_fault() -> None:
    script = [*TO_FACTS[:-1], ("facts_established", {"fault": "customer"}), *TO_AGREED[len(TO_FACTS) :]]
    assert fired(run(script), ev("follow_up_completed", prevention="")) == []


# -- escalation ------------------------------------------------------------------------


def test_handoff_carries_summary_fires_when_never_acknowledged() -> None:
    interaction = run(["customer_vented", "venting_subsided"])
    assert fired(interaction, ev("escalated")) == ["handoff-carries-summary"]


def test_handoff_carries_summary_quiet_after_acknowledging() -> None:
    assert fired(run(TO_ACKNOWLEDGED), ev("escalated")) == []


def test_escalate_before_asked_warns_after_a_manager_request() -> None:
    interaction = run([*TO_ACKNOWLEDGED, "manager_requested"])
    outcome = apply(interaction, ev("escalated"), FACTS_FIRST)
    assert [(f.rule, f.severity) for f in outcome.findings] == [
        ("escalate-before-asked", Severity.WARNING)
    ]


def test_escalate_before_asked_quiet_when_escalating_unasked() -> None:
    assert fired(run(TO_ACKNOWLEDGED), ev("escalated")) == []


def test_escalate_before_asked_quiet_once_the_request_was_met() -> None:
    interaction = run([*TO_ACKNOWLEDGED, "manager_requested", "escalated"])
    assert fired(interaction, ev("escalated", to="director")) == []


# -- ending an abusive call --------------------------------------------------------------

ABUSE = ev("conversation_ended", reason="abuse")


@pytest.mark.parametrize(
    "script",
    [
        [],
        ["abuse_observed"],
        ["abuse_warning_given", "abuse_observed"],
    ],
    ids=["no-abuse", "no-warning", "warning-before-abuse"],
)
def test_warn_before_ending_fires_without_abuse_and_a_warning_after_it(script) -> None:
    interaction = run([*TO_ACKNOWLEDGED, *script])
    assert fired(interaction, ev("conversation_ended", reason="abuse")) == ["warn-before-ending"]


def test_warn_before_ending_quiet_after_abuse_and_a_warning() -> None:
    interaction = run([*TO_ACKNOWLEDGED, "abuse_observed", "abuse_warning_given"])
    assert fired(interaction, ev("conversation_ended", reason="abuse")) == []


def test_warn_before_ending_follows_warnings_before_ending() -> None:
    policy = FACTS_FIRST.with_params(warnings_before_ending=2)
    once = run([*TO_ACKNOWLEDGED, "abuse_observed", "abuse_warning_given"], policy)
    assert "warn-before-ending" in fired(once, ev("conversation_ended", reason="abuse"), policy)
    twice = run(
        [*TO_ACKNOWLEDGED, "abuse_observed", "abuse_warning_given", "abuse_warning_given"], policy
    )
    assert fired(twice, ev("conversation_ended", reason="abuse"), policy) == []


def test_warn_before_ending_ignores_a_customer_who_left() -> None:
    assert fired(run(TO_ACKNOWLEDGED), ev("conversation_ended", reason="customer_left")) == []


# -- strict mode on every violation ------------------------------------------------------


def test_every_builtin_violation_is_refused_in_strict_mode() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    outcome = apply(interaction, ev("remedy_proposed", value=1000), FACTS_FIRST, Mode.STRICT)
    assert outcome.refused
    assert outcome.interaction is interaction
    assert {f.rule for f in outcome.violations} == {"no-remedy-before-facts", "within-authority"}
