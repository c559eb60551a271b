"""The events that verification tries at every step: one of each kind, the rule-trippers, and time.

Exploring "every interaction a policy allows" needs a finite set of events to try.
The default alphabet has, for each event type, one well-behaved event and one
event for each field value that some built-in rule judges (an acknowledgement
without the customer's name, a remedy over the authority limit, an apology that
names a colleague, a follow-up that says nothing about prevention...). Rules that
depend only on the interaction (talking over a venting customer, proposing before
the facts) are tripped by the order of events, which exploration varies anyway.

The amounts follow the policy's parameters, so a policy with another authority
limit still gets a remedy just within it and one just over it, and an escalation
to an owner who may grant the larger one.

Time is relative. An event's timestamp in the alphabet is a placeholder: the
explorer tries each event *on time*, a minute after the event before it but never
past a deadline the interaction has open (so it meets every deadline it can), and
an event stamped :data:`LATE` (see :func:`late`) *late*, a minute after every
deadline the interaction has open has passed. The default alphabet has a promised
callback, due an hour after it is made, and late variants of the events that meet
the policy's deadlines (a progress report, a follow-up, an escalation), so the
timing rules fire too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from ._errors import ArgumentTypeError, ArgumentValueError, describe
from ._events import (
    AbuseObserved,
    AbuseWarningGiven,
    ApologyOffered,
    ApologyScope,
    CallbackPromised,
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

#: When every explored transcript starts; each event happens a minute after the one
#: before, unless a deadline or lateness says otherwise.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: The timestamp that marks an alphabet event as *late*: tried after every deadline the
#: interaction has open has passed. Far beyond any deadline a policy can set.
LATE = datetime(9000, 1, 1, tzinfo=UTC)
#: How long after it is made the default alphabet's callback is due.
CALLBACK_WITHIN = timedelta(hours=1)


def stamped(event: Event, at: datetime) -> Event:
    """``event`` at ``at``; a promised callback keeps its ``by`` as far after ``at`` as it was."""
    if isinstance(event, CallbackPromised):
        return attrs.evolve(event, at=at, by=at + (event.by - event.at))
    return attrs.evolve(event, at=at)


def late(event: Event) -> Event:
    """``event`` marked to be tried late in an alphabet: stamped :data:`LATE`.

    Verification tries it a minute after every deadline the interaction has open
    has passed (where none is open, as it tries any other event). A promised
    callback keeps its ``by`` as far after its ``at`` as it was.
    """
    if not isinstance(event, Event) or isinstance(event, InteractionOpened):
        raise ArgumentTypeError(
            "event", f"must be an event other than interaction_opened, got {describe(event)}"
        )
    try:
        return stamped(event, LATE)
    except OverflowError:
        raise ArgumentValueError(
            "event", "its callback is due too long after it is promised to be tried late"
        ) from None


def is_late(event: Event) -> bool:
    """True when ``event``, in an alphabet, is marked to be tried late (stamped :data:`LATE` or after)."""
    return event.at >= LATE


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
        late(ProgressReported(at=at, detail="on its way")),
        CallbackPromised(at=at, by=at + CALLBACK_WITHIN, detail="once the courier answers"),
        FollowUpCompleted(at=at, resolved=True, prevention="pick-ups are now tracked"),
        late(FollowUpCompleted(at=at, resolved=True, prevention="pick-ups are now tracked")),
        FollowUpCompleted(at=at, resolved=True, prevention=""),
        ManagerRequested(at=at),
        Escalated(at=at, to="supervisor", authority_limit=generous),
        late(Escalated(at=at, to="supervisor", authority_limit=generous)),
        AbuseObserved(at=at, detail="insults"),
        AbuseWarningGiven(at=at),
        ConversationEnded(at=at, reason=EndReason.CUSTOMER_LEFT),
        ConversationEnded(at=at, reason=EndReason.ABUSE),
    )
