"""Policies: built-ins, custom rules, dropping, re-grading, parameters, loading by name."""

from __future__ import annotations

import sys
import textwrap
from datetime import timedelta

import attrs
import pytest

from build import TO_ACKNOWLEDGED, TO_FACTS, ev, fired, run
from deescalate import (
    APOLOGIZE_FIRST,
    BUILTIN_POLICIES,
    BUILTIN_RULES,
    FACTS_FIRST,
    Interaction,
    Mode,
    Params,
    Policy,
    PolicyError,
    RemedyProposed,
    Rule,
    Severity,
    apply,
    load_policy,
    rule,
)

CONTRACT_RULES = {
    "let-them-vent": "violation",
    "acknowledge-first": "violation",
    "acknowledge-with-summary": "violation",
    "use-their-name": "warning",
    "hear-all-sides": "warning",
    "no-company-apology-before-facts": "violation",
    "apologize-only-when-warranted": "violation",
    "no-scapegoating": "violation",
    "no-remedy-before-facts": "violation",
    "within-authority": "violation",
    "hand-off-when-stuck": "violation",
    "always-apologize": "violation",
    "restate-the-agreement": "violation",
    "confirm-in-writing": "warning",
    "report-progress": "warning",
    "prevent-recurrence": "violation",
    "handoff-carries-summary": "violation",
    "escalate-before-asked": "warning",
    "warn-before-ending": "violation",
    "keep-the-promise": "warning",
    "report-progress-on-time": "warning",
    "follow-up-on-time": "warning",
    "escalate-promptly": "warning",
}


def test_builtin_rules_have_the_contract_ids_and_severities() -> None:
    assert {r.id: r.severity.value for r in BUILTIN_RULES} == CONTRACT_RULES
    for item in BUILTIN_RULES:
        assert item.principle and item.advice and item.message


def test_facts_first_is_every_rule_but_always_apologize() -> None:
    assert FACTS_FIRST.name == "facts-first"
    assert set(FACTS_FIRST.rule_ids) == set(CONTRACT_RULES) - {"always-apologize"}
    assert FACTS_FIRST.params == Params(
        100, 2, 2, 1, timedelta(hours=24), timedelta(days=7), timedelta(minutes=10)
    )


def test_apologize_first_swaps_the_apology_rules() -> None:
    assert APOLOGIZE_FIRST.name == "apologize-first"
    assert set(APOLOGIZE_FIRST.rule_ids) == set(CONTRACT_RULES) - {
        "no-company-apology-before-facts",
        "apologize-only-when-warranted",
    }
    assert APOLOGIZE_FIRST.params == FACTS_FIRST.params


def test_rules_are_indexed_by_the_event_types_they_look_at() -> None:
    assert [r.id for r in FACTS_FIRST.rules_for("escalated")] == [
        "handoff-carries-summary",
        "escalate-before-asked",
        "escalate-promptly",
    ]
    assert [r.id for r in FACTS_FIRST.rules_for("empathy_expressed")] == ["keep-the-promise"]
    assert FACTS_FIRST.rules_for("manager_requested") == ()


def test_only_the_rules_for_the_event_type_run() -> None:
    calls: list[str] = []

    def spy(rule_id: str, on: str) -> Rule:
        @rule(rule_id, severity="warning", on=on, message="spy")
        def check(interaction: Interaction, event: object, params: Params) -> bool:
            calls.append(rule_id)
            return False

        return check

    policy = Policy("spies", [spy("on-fact", "fact_recorded"), spy("on-remedy", "remedy_proposed")])
    apply(run(TO_ACKNOWLEDGED, policy), ev("fact_recorded"), policy)
    assert calls == ["on-fact"]


# -- custom rules ----------------------------------------------------------------------


@rule(
    "no-refund-over-50",
    severity="violation",
    on="remedy_proposed",
    message="refund of {event.value} needs a manager",
    advice="Ask a manager first.",
)
def no_big_refunds(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    """Refunds over 50 need a manager's approval."""
    return "refund" in event.remedy and event.value > 50


def test_a_custom_rule_is_a_rule_and_a_callable() -> None:
    assert isinstance(no_big_refunds, Rule)
    assert no_big_refunds.principle == "Refunds over 50 need a manager's approval."
    assert no_big_refunds.on == frozenset({"remedy_proposed"})
    interaction = run(TO_FACTS)
    assert no_big_refunds(interaction, ev("remedy_proposed", remedy="refund", value=60), Params())
    assert not no_big_refunds(interaction, ev("remedy_proposed", remedy="voucher", value=60), Params())


def test_a_custom_rule_fires_through_apply_with_its_formatted_message() -> None:
    policy = FACTS_FIRST.with_rules(no_big_refunds).named("acme")
    outcome = apply(run(TO_FACTS, policy), ev("remedy_proposed", remedy="refund", value=60), policy)
    assert outcome.refused
    assert [(f.rule, f.message) for f in outcome.findings] == [
        ("no-refund-over-50", "refund of 60 needs a manager")
    ]
    quiet = apply(run(TO_FACTS, policy), ev("remedy_proposed", remedy="refund", value=40), policy)
    assert quiet.applied and quiet.findings == ()


def test_a_check_can_return_its_own_message() -> None:
    @rule("tone", severity="warning", on=["empathy_expressed"], message="unused")
    def tone(interaction: Interaction, event: object, params: Params) -> str | None:
        return f"empathy at stage {interaction.stage}" if interaction.facts is None else None

    policy = Policy("tone", [tone])
    findings = apply(run([], policy), ev("empathy_expressed"), policy).findings
    assert [f.message for f in findings] == ["empathy at stage venting"]


@attrs.frozen
class MaxIntensity:
    """A rule written as a small class: a parametrised check."""

    limit: int

    def __call__(self, interaction: Interaction, event: object, params: Params) -> bool:
        return getattr(event, "intensity", 0) > self.limit


def test_a_rule_can_be_a_small_class() -> None:
    too_angry = Rule(
        id="too-angry",
        severity="warning",
        on=["customer_vented"],
        check=MaxIntensity(8),
        message="intensity {event.intensity} is over 8: consider a supervisor",
    )
    policy = FACTS_FIRST.with_rules(too_angry)
    assert fired(run([], policy), ev("customer_vented", intensity=9), policy) == ["too-angry"]
    assert fired(run([], policy), ev("customer_vented", intensity=8), policy) == []


def test_a_broken_message_template_is_refused_when_the_rule_is_built() -> None:
    with pytest.raises(PolicyError, match="nope"):
        Rule("odd", Severity.WARNING, ["empathy_expressed"], lambda i, e, p: True, "{nope.x} happened")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"id": "Bad Id"}, "rule id"),
        ({"severity": "fatal"}, "severity"),
        ({"on": ["complaint_made"]}, "unknown event type"),
        ({"on": []}, "at least"),
        ({"on": ["interaction_opened"]}, "interaction_opened"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(kwargs: dict[str, object], words: str) -> None:
    base: dict[str, object] = {
        "id": "ok",
        "severity": "warning",
        "on": ["empathy_expressed"],
        "check": lambda i, e, p: True,
        "message": "m",
    }
    with pytest.raises(PolicyError, match=words):
        Rule(**{**base, **kwargs})  # type: ignore[arg-type]


# -- deriving policies -----------------------------------------------------------------


def test_dropping_a_rule() -> None:
    lenient = FACTS_FIRST.without("use-their-name")
    interaction = run(["customer_vented", "venting_subsided"], lenient)
    assert fired(interaction, ev("concerns_acknowledged", used_name=False), lenient) == []
    assert "use-their-name" in FACTS_FIRST.rule_ids  # the original is unchanged


def test_regrading_a_rule() -> None:
    strict_names = FACTS_FIRST.regraded("use-their-name", "violation")
    interaction = run(["customer_vented", "venting_subsided"], strict_names)
    outcome = apply(interaction, ev("concerns_acknowledged", used_name=False), strict_names, Mode.STRICT)
    assert outcome.refused
    assert strict_names.rule("use-their-name").severity is Severity.VIOLATION
    assert FACTS_FIRST.rule("use-their-name").severity is Severity.WARNING


def test_regrading_a_violation_to_a_warning_lets_strict_mode_through() -> None:
    policy = FACTS_FIRST.regraded("within-authority", Severity.WARNING)
    outcome = apply(run(TO_FACTS, policy), ev("remedy_proposed", value=500), policy, Mode.STRICT)
    assert outcome.applied
    assert [f.rule for f in outcome.warnings] == ["within-authority"]


def test_replacing_a_rule_needs_replace() -> None:
    louder = FACTS_FIRST.rule("use-their-name").regraded("violation")
    with pytest.raises(PolicyError, match="already has"):
        FACTS_FIRST.with_rules(louder)
    policy = FACTS_FIRST.with_rules(louder, replace=True)
    assert policy.rule_ids == FACTS_FIRST.rule_ids
    assert policy.rule("use-their-name").severity is Severity.VIOLATION


def test_changing_parameters() -> None:
    policy = FACTS_FIRST.with_params(authority_limit=500, max_rejections=1)
    assert policy.params == Params(authority_limit=500, max_rejections=1)
    with pytest.raises(PolicyError, match="unknown policy parameter"):
        FACTS_FIRST.with_params(limit=5)
    with pytest.raises(PolicyError, match="max_rejections"):
        FACTS_FIRST.with_params(max_rejections=-1)
    with pytest.raises(PolicyError, match="authority_limit"):
        FACTS_FIRST.with_params(authority_limit=float("nan"))


def test_policies_are_immutable_comparable_values() -> None:
    assert FACTS_FIRST.without("use-their-name") == FACTS_FIRST.without("use-their-name")
    assert FACTS_FIRST.named("x") != FACTS_FIRST
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        FACTS_FIRST.name = "other"  # type: ignore[misc]
    assert hash(FACTS_FIRST) == hash(FACTS_FIRST.named("facts-first"))


def test_invalid_transition_is_structural() -> None:
    assert FACTS_FIRST.rule("invalid-transition").severity is Severity.VIOLATION
    with pytest.raises(PolicyError, match="cannot be dropped"):
        FACTS_FIRST.without("invalid-transition")
    with pytest.raises(PolicyError, match="always a violation"):
        FACTS_FIRST.regraded("invalid-transition", "warning")
    with pytest.raises(PolicyError):
        FACTS_FIRST.with_rules(FACTS_FIRST.rule("invalid-transition"))


def test_unknown_rule_ids_and_duplicates_are_errors() -> None:
    with pytest.raises(PolicyError, match="no rule"):
        FACTS_FIRST.without("be-nice")
    with pytest.raises(PolicyError, match="no rule"):
        FACTS_FIRST.rule("be-nice")
    with pytest.raises(PolicyError, match="twice"):
        Policy("dup", [no_big_refunds, no_big_refunds])
    with pytest.raises(PolicyError, match="name"):
        Policy("", [])
    with pytest.raises(PolicyError, match="Rule values"):
        Policy("x", ["within-authority"])  # type: ignore[list-item]


# -- loading by name -------------------------------------------------------------------


def test_loading_builtin_policies_by_name() -> None:
    assert load_policy("facts-first") is FACTS_FIRST
    assert load_policy("apologize-first") is APOLOGIZE_FIRST
    assert set(BUILTIN_POLICIES) == {"facts-first", "apologize-first"}
    assert load_policy(FACTS_FIRST) is FACTS_FIRST


def test_loading_a_policy_by_module_and_attribute(tmp_path, monkeypatch) -> None:
    (tmp_path / "acme_rules.py").write_text(
        textwrap.dedent(
            """
            from deescalate import FACTS_FIRST
            class Holder:
                RETAIL = FACTS_FIRST.named("acme-retail")
            ACME = FACTS_FIRST.without("use-their-name").named("acme")
            NOT_A_POLICY = 42
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_policy("acme_rules:ACME").name == "acme"
    assert load_policy("acme_rules:Holder.RETAIL").name == "acme-retail"
    with pytest.raises(PolicyError, match="not a deescalate Policy"):
        load_policy("acme_rules:NOT_A_POLICY")
    with pytest.raises(PolicyError, match="no attribute"):
        load_policy("acme_rules:MISSING")
    sys.modules.pop("acme_rules", None)


@pytest.mark.parametrize("spec", ["facts_first", "no_such_module_xyz:P", ":P", "mod:"])
def test_unknown_policies_are_policy_errors(spec: str) -> None:
    with pytest.raises(PolicyError):
        load_policy(spec)


def test_a_policy_repr_is_short_its_name_rule_count_and_params() -> None:
    text = repr(FACTS_FIRST)
    assert text.startswith("<Policy 'facts-first': 22 rules; authority_limit=100, max_rejections=2")
    assert "escalate_within=PT10M" in text and len(text) < 250
    assert repr(FACTS_FIRST.without(*FACTS_FIRST.rule_ids[1:])).startswith("<Policy 'facts-first': 1 rule;")
