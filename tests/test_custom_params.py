"""A policy's own parameters: declared, validated, carried by with_params, saved and shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.build import TO_FACTS, run

from deescalate import (
    FACTS_FIRST,
    Interaction,
    Parameter,
    ParameterKind,
    PolicyError,
    RemedyProposed,
    SnapshotError,
    apply,
    dump_snapshot,
    load_snapshot,
    rule,
)

REFUND_LIMIT = Parameter(
    "refund_limit", kind="amount", default=30, doc="the largest refund an agent gives without a manager"
)


@rule(
    "refund-within-limit",
    severity="violation",
    on="remedy_proposed",
    message="a refund of {event.value} is over the refund limit of {params.refund_limit}",
    params=[REFUND_LIMIT],
)
def refund_within_limit(interaction: Interaction, event: RemedyProposed, params: Any) -> bool:
    """Refunds above the company's refund limit need a manager."""
    return "refund" in event.remedy and event.value > params.refund_limit


ACME = FACTS_FIRST.named("acme").with_rules(refund_within_limit)


def refund(value: float) -> RemedyProposed:
    return RemedyProposed(at=datetime(2026, 3, 3, tzinfo=UTC), remedy="refund", value=value)


def test_a_rule_declares_the_parameters_it_reads_and_the_policy_carries_them() -> None:
    assert ACME.params.refund_limit == 30
    assert ACME.params.declared == (REFUND_LIMIT,)
    interaction = run(TO_FACTS, ACME)
    assert [f.rule for f in apply(interaction, refund(40), ACME).findings] == ["refund-within-limit"]
    generous = ACME.with_params(refund_limit=50)
    assert generous.params.refund_limit == 50 and ACME.params.refund_limit == 30
    assert apply(interaction, refund(40), generous).findings == ()
    message = apply(interaction, refund(60), generous).findings[0].message
    assert message == "a refund of 60 is over the refund limit of 50"


def test_with_params_validates_a_declared_parameter_by_its_kind() -> None:
    for bad in ("thirty", -1, float("nan"), True, None):
        with pytest.raises(PolicyError, match="refund_limit"):
            ACME.with_params(refund_limit=bad)


def test_an_undeclared_parameter_is_refused_saying_how_to_declare_one() -> None:
    with pytest.raises(PolicyError, match=r"unknown policy parameter\(s\): refund_limit.*Parameter"):
        FACTS_FIRST.with_params(refund_limit=30)
    with pytest.raises(AttributeError, match="refund_limit"):
        _ = FACTS_FIRST.params.refund_limit


def test_a_policy_can_declare_parameters_without_a_rule() -> None:
    policy = FACTS_FIRST.named("acme").declaring(
        Parameter("vip_tier", kind="text", default="gold"),
        Parameter("callback_window", kind=ParameterKind.DURATION, default="PT2H"),
        Parameter("max_calls", kind="count", default=3),
        Parameter("strict_vip", kind="flag", default=False),
    )
    assert policy.params.callback_window == timedelta(hours=2)
    assert policy.with_params(callback_window="PT30M").params.callback_window == timedelta(minutes=30)
    assert policy.params.to_json()["callback_window"] == "PT2H"
    assert policy.params.as_dict()["vip_tier"] == "gold"
    with pytest.raises(PolicyError, match="max_calls"):
        policy.with_params(max_calls=1.5)
    with pytest.raises(PolicyError, match="strict_vip"):
        policy.with_params(strict_vip="yes")


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"name": "refund limit", "kind": "amount", "default": 1}, "identifier"),
        ({"name": "authority_limit", "kind": "amount", "default": 1}, "built-in"),
        ({"name": "x", "kind": "money", "default": 1}, "kind"),
        ({"name": "x", "kind": "amount", "default": -5}, "parameter x"),
        ({"name": "x", "kind": "duration", "default": "P1M"}, "years or months"),
    ],
)
def test_a_bad_declaration_is_refused(arguments: dict[str, Any], problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        Parameter(**arguments)


def test_two_different_declarations_of_one_name_are_refused() -> None:
    with pytest.raises(PolicyError, match="declared twice"):
        ACME.declaring(Parameter("refund_limit", kind="amount", default=99))
    assert ACME.declaring(REFUND_LIMIT).params == ACME.params  # the same one again is harmless


def test_a_message_may_name_the_rules_own_parameters_only() -> None:
    with pytest.raises(PolicyError, match="no parameter is 'refund_limit'"):
        rule("r", severity="warning", on="remedy_proposed", message="over {params.refund_limit}")(
            lambda i, e, p: True
        )


def test_custom_parameters_are_saved_in_snapshots_and_must_match_on_loading() -> None:
    policy = ACME.with_params(refund_limit=45)
    interaction = run(TO_FACTS, policy)
    text = dump_snapshot(interaction, policy)
    assert json.loads(text)["policy"]["params"]["refund_limit"] == 45
    assert load_snapshot(text, policy) == interaction
    with pytest.raises(SnapshotError, match="refund_limit"):
        load_snapshot(text, ACME)
