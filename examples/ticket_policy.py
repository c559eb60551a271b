"""A company policy with a planted defect, the verification that catches it, and the fix.

Acme's quality team wants follow-ups to cite the change ticket (``CHG-…``) that
stops the problem from coming back. The first version of the rule asks for one on
*every* follow-up. Verification tries follow-ups with and without a prevention
note, but never one citing a ticket (it cannot know Acme's ticket format), so
with this rule no conversation can ever reach ``followed_up``: a dead end from
the very first event, which ``deescalate verify`` proves by exploring every
interaction the policy allows, and reports with its shortest transcript, the
rule that blocks the way, and the refused step: a model conversation that
``deescalate review --strict`` shows being refused at its follow-up:

    deescalate verify --policy examples.ticket_policy:BROKEN --depth 7

The fix asks for a ticket only when the facts put the fault on the company (when
the customer was at fault there is no change to cite), and it verifies clean.
``ALPHABET`` adds the follow-up Acme's process produces to the default alphabet,
so verification also walks the company-fault path to the end:

    deescalate verify --policy examples.ticket_policy:FIXED \\
        --alphabet examples.ticket_policy:ALPHABET --depth 7

Run ``python examples/ticket_policy.py`` to see the three verdicts.
"""

from __future__ import annotations

from deescalate import FACTS_FIRST, Event, Fault, FollowUpCompleted, Interaction, Params, rule
from deescalate.verify import default_alphabet, verify

PRINCIPLE = "Show the customer the change that prevents a repeat, by its ticket, so it can be checked."


@rule(
    "cite-change-ticket",
    severity="violation",
    on="follow_up_completed",
    message="the follow-up cites no change ticket (CHG-…)",
    principle=PRINCIPLE,
    advice="Name the change ticket in the follow-up's prevention.",
)
def cite_change_ticket_always(interaction: Interaction, event: FollowUpCompleted, params: Params) -> bool:
    # The defect: there is no ticket to cite when the company was not at fault.
    return "CHG-" not in event.prevention


@rule(
    "cite-change-ticket",
    severity="violation",
    on="follow_up_completed",
    message="the company was at fault but the follow-up cites no change ticket (CHG-…)",
    principle=PRINCIPLE,
    advice="Name the change ticket in the follow-up's prevention.",
)
def cite_change_ticket(interaction: Interaction, event: FollowUpCompleted, params: Params) -> bool:
    facts = interaction.facts
    return facts is not None and facts.fault is Fault.COMPANY and "CHG-" not in event.prevention


BROKEN = FACTS_FIRST.with_rules(cite_change_ticket_always).named("acme-tickets")
FIXED = FACTS_FIRST.with_rules(cite_change_ticket).named("acme-tickets")

#: The default alphabet, plus the follow-up Acme's process produces when there is a change.
ALPHABET: tuple[Event, ...] = (
    *default_alphabet(FIXED),
    FollowUpCompleted(
        at=default_alphabet(FIXED)[0].at, resolved=True, prevention="CHG-1042: courier pick-ups are tracked"
    ),
)


def main() -> None:
    for label, policy, alphabet in (
        ("broken", BROKEN, None),
        ("fixed", FIXED, None),
        ("fixed, ticketed follow-ups too", FIXED, ALPHABET),
    ):
        report = verify(policy, depth=7, alphabet=alphabet)
        print(f"{policy.name} ({label}): {report.verdict}")
        for result in report.properties:
            if not result.holds:
                print(f"  {result.name} {result.verdict}: {result.detail}")
                for event in result.counterexample or ():
                    print(f"    {event.type}")
                if result.refused_step:
                    steps = ", ".join(event.type for event in result.refused_step[1:])
                    print(f"    refused step: {steps} (refused by {', '.join(result.refused_by)})")


if __name__ == "__main__":
    main()
