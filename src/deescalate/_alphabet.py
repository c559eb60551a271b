"""The events that verification tries at every step: one of each kind, and the rule-trippers.

Exploring "every interaction a policy allows" needs a finite set of events to try.
The default alphabet has, for each event type, one well-behaved event and one
event for each field value that some built-in rule judges (an acknowledgement
without the customer's name, a remedy over the authority limit, an apology that
names a colleague, a follow-up that says nothing about prevention...). Rules that
depend only on the interaction (talking over a venting customer, proposing before
the facts) are tripped by the order of events, which exploration varies anyway.

The amounts follow the policy's parameters, so a policy with another authority
limit still gets a remedy just within it and one just over it, and an escalation
to an owner who may grant the larger one. Timestamps are placeholders: the
explorer stamps each event with its position in the transcript.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ._events import (
    AbuseObserved,
    AbuseWarningGiven,
    ApologyOffered,
    ApologyScope,
    ConcernsAcknowledged,
    ConversationEnded,
    CustomerVented,
    EmpathyExpressed,
    EndReason,
    Escalated,
    Event,
    FactRecorded,
    FactsEstablished,
    Fault,
    FollowUpCompleted,
    InteractionOpened,
    ManagerRequested,
    ProgressReported,
    RemedyAccepted,
    RemedyProposed,
    RemedyRejected,
    VentingSubsided,
)
from ._policy import Policy

#: When every explored transcript starts; event ``n`` happens ``n`` minutes later.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def default_opening() -> InteractionOpened:
    """The ``interaction_opened`` every explored transcript starts with."""
    return InteractionOpened(at=START, interaction_id="verify", customer_name="Sam")


def default_alphabet(policy: Policy) -> tuple[Event, ...]:
    """The representative events to try at every step when verifying ``policy``."""
    params = policy.params
    limit = params.authority_limit
    modest, generous = limit / 2, limit + 50
    sources = max(params.min_fact_sources, 1)
    at = START
    return (
        CustomerVented(at=at, intensity=7),
        VentingSubsided(at=at),
        ConcernsAcknowledged(at=at, summary=("late delivery",), used_name=True),
        ConcernsAcknowledged(at=at, summary=("late delivery",), used_name=False),
        ConcernsAcknowledged(at=at, summary=(), used_name=True),
        EmpathyExpressed(at=at),
        *(FactRecorded(at=at, source=f"source-{n}", detail="their account") for n in range(1, sources + 1)),
        FactsEstablished(at=at, fault=Fault.COMPANY, root_cause="missed pick-up"),
        FactsEstablished(at=at, fault=Fault.CUSTOMER, root_cause="wrong address given"),
        ApologyOffered(at=at, scope=ApologyScope.INCONVENIENCE, names_individual=False),
        ApologyOffered(at=at, scope=ApologyScope.COMPANY, names_individual=False),
        ApologyOffered(at=at, scope=ApologyScope.INCONVENIENCE, names_individual=True),
        RemedyProposed(at=at, remedy="express reshipment", value=modest),
        RemedyProposed(at=at, remedy="full refund", value=generous),
        RemedyRejected(at=at),
        RemedyAccepted(at=at, restated=True, confirmation_sent=True),
        RemedyAccepted(at=at, restated=False, confirmation_sent=True),
        RemedyAccepted(at=at, restated=True, confirmation_sent=False),
        ProgressReported(at=at, detail="on its way"),
        FollowUpCompleted(at=at, resolved=True, prevention="pick-ups are now tracked"),
        FollowUpCompleted(at=at, resolved=True, prevention=""),
        ManagerRequested(at=at),
        Escalated(at=at, to="supervisor", authority_limit=generous),
        AbuseObserved(at=at, detail="insults"),
        AbuseWarningGiven(at=at),
        ConversationEnded(at=at, reason=EndReason.CUSTOMER_LEFT),
        ConversationEnded(at=at, reason=EndReason.ABUSE),
    )
