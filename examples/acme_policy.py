"""ACME Retail's de-escalation policy: a worked example of a custom deescalate policy.

ACME starts from the built-in ``facts-first`` policy and:

* lowers the agent's default authority limit from 100 to 50;
* drops ``use-their-name`` (its chat tool hides customer names from agents);
* makes ``hear-all-sides`` a violation instead of a warning;
* adds ``no-refund-without-order``: a refund may only be offered once the order
  system has been consulted (a ``fact_recorded`` event whose ``source`` is
  ``"order system"``);
* adds ``no-promises-on-weekends``, a parametrised warning built by a factory
  around a small callable class.

Review a transcript with it, from the repository root::

    deescalate review --policy examples.acme_policy:ACME examples/violations.jsonl
"""

from __future__ import annotations

import attrs

from deescalate import FACTS_FIRST, Interaction, Params, RemedyProposed, Rule, rule

#: The fact ``source`` that stands for ACME's order system.
ORDER_SYSTEM = "order system"


@rule(
    "no-refund-without-order",
    severity="violation",
    on="remedy_proposed",
    message="a refund was proposed ({event.remedy!r}) before the order was looked up",
    principle=(
        "A refund settles money, so it must rest on the order record, not on memory: "
        "check what was ordered, paid and shipped before offering money back."
    ),
    advice="Look the order up first (fact_recorded with source 'order system').",
)
def no_refund_without_order(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    return "refund" in event.remedy.lower() and not interaction.history.has_source(ORDER_SYSTEM)


@attrs.frozen
class NoPromisesOn:
    """The check of ``no-promises-on-weekends``: fires on the given weekdays (0 is Monday)."""

    days: frozenset[int]

    def __call__(self, interaction: Interaction, event: RemedyProposed, params: Params) -> str | bool:
        if event.at.weekday() in self.days:
            return f"a remedy was promised on a {event.at:%A}, when the warehouse is closed"
        return False


def no_promises_on(*days: int) -> Rule:
    """A ``no-promises-on-weekends`` rule for the given weekdays (5 and 6 by default)."""
    return Rule(
        id="no-promises-on-weekends",
        severity="warning",
        on="remedy_proposed",
        check=NoPromisesOn(frozenset(days or (5, 6))),
        message="a remedy was promised on a day the warehouse is closed",
        principle=(
            "Nothing ships while the warehouse is closed; a remedy promised then should come "
            "with the day it will really happen."
        ),
        advice="Say when the remedy will be carried out, or wait for a working day to promise it.",
    )


#: ACME's policy: use ``--policy examples.acme_policy:ACME`` on the command line.
ACME = (
    FACTS_FIRST.named("acme")
    .with_params(authority_limit=50)
    .without("use-their-name")
    .regraded("hear-all-sides", "violation")
    .with_rules(no_refund_without_order, no_promises_on(5, 6))
)
