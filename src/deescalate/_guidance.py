"""Guidance: what the agent should do now, worked out from the interaction and the policy.

An agent-assist UI asks "what should I do now?". The answer is computed, never
guessed: each agent action is judged exactly as strict :func:`~deescalate.apply`
would judge it if it happened at ``now``, using a *representative* event of its
type, one that does the action well (a summary that is not empty and uses the
customer's name, a remedy within any limit, an apology naming nobody, a follow-up
that says what changes). So a status says whether the action is wise at this
point, not whether some way of doing it could go wrong. Nothing is applied: the
interaction is a value, and guidance only looks at it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._apply import Mode, Status, checked_interaction, checked_policy, step
from ._durations import say_span
from ._errors import ArgumentValueError
from ._events import (
    CONTACT_EVENTS,
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
    ManagerRequested,
    ProgressReported,
    RemedyAccepted,
    RemedyProposed,
    RemedyRejected,
    VentingSubsided,
)
from ._explore import state_key
from ._findings import Severity
from ._interaction import Interaction
from ._obligations import MET_BY, Obligation, ObligationKind, OpenObligation, checked_now, open_obligations
from ._policy import Policy
from ._stages import Stage


class ActionStatus(StrEnum):
    """Whether an agent action may be taken now."""

    #: Strict mode would apply it (perhaps with warnings).
    ALLOWED = "allowed"
    #: Strict mode would refuse it: some rule of the policy finds a violation.
    REFUSED = "refused"
    #: It is not possible at this stage at all.
    IMPOSSIBLE = "impossible"


@attrs.frozen
class Action:
    """One agent action and what strict mode would make of it now."""

    #: The event type.
    action: str
    status: ActionStatus
    #: For ``apology_offered``: the scope; for ``conversation_ended``: the reason. Else None.
    variant: str | None = None
    #: The rules that would refuse it (violations), or warn about it when allowed.
    rules: tuple[str, ...] = ()
    #: What to do instead, one line per refusing rule (for an impossible action, why).
    advice: tuple[str, ...] = ()
    #: The ids of rules that would only warn about it.
    warnings: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when strict mode would apply it."""
        return self.status is ActionStatus.ALLOWED

    def to_dict(self) -> dict[str, Any]:
        """The action as JSON: ``action``, its ``scope`` or ``reason`` when it has one, ``status``..."""
        data: dict[str, Any] = {"action": self.action}
        if self.variant is not None:
            data["scope" if self.action == "apology_offered" else "reason"] = self.variant
        data.update(
            status=self.status.value,
            rules=list(self.rules),
            advice=list(self.advice),
            warnings=list(self.warnings),
        )
        return data


@attrs.frozen
class Recommendation:
    """An action the agent should take now, and why."""

    action: str
    reason: str
    #: The apology's scope or the ending's reason, for those actions.
    variant: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The recommendation as JSON: ``action`` and ``reason`` (and ``scope`` or ``end_reason``)."""
        data: dict[str, Any] = {"action": self.action, "reason": self.reason}
        if self.variant is not None:
            data["scope" if self.action == "apology_offered" else "end_reason"] = self.variant
        return data


@attrs.frozen
class Guidance:
    """What the agent should do now, every action's status, what we wait for and what is owed."""

    interaction_id: str
    policy: str
    stage: Stage
    now: datetime
    #: Actions to take now, most pressing first; never one the policy would refuse.
    recommended: tuple[Recommendation, ...]
    #: Every agent action and whether it is allowed, refused or impossible now.
    actions: tuple[Action, ...]
    #: The customer events that would move the interaction forward now.
    awaiting: tuple[str, ...]
    #: The open obligations, soonest due first.
    obligations: tuple[OpenObligation, ...]

    def action(self, action: str, variant: str | None = None) -> Action:
        """The status of one action (give ``variant`` for an apology's scope)."""
        for item in self.actions:
            if item.action == action and (variant is None or item.variant == variant):
                return item
        raise ArgumentValueError("action", f"is not an agent action: {action!r}")

    def to_dict(self) -> dict[str, Any]:
        """The guidance as one JSON object."""
        return {
            "interaction_id": self.interaction_id,
            "policy": self.policy,
            "stage": self.stage.value,
            "now": self.now.isoformat(),
            "recommended": [item.to_dict() for item in self.recommended],
            "actions": [item.to_dict() for item in self.actions],
            "awaiting": list(self.awaiting),
            "obligations": [item.to_dict() for item in self.obligations],
        }


# -- representative events ------------------------------------------------------------------


def _new_source(interaction: Interaction) -> str:
    heard = set(interaction.fact_sources)
    number = len(heard) + 1
    while f"source {number}" in heard:
        number += 1
    return f"source {number}"


def _agent_events(interaction: Interaction, at: datetime) -> tuple[tuple[Event, str | None], ...]:
    """One well-done event for each agent action, at ``at``, with its variant."""
    summary = interaction.summary or ("the customer's concerns",)
    facts = interaction.facts
    return (
        (ConcernsAcknowledged(at=at, summary=summary, used_name=True), None),
        (EmpathyExpressed(at=at), None),
        (FactRecorded(at=at, source=_new_source(interaction), detail="their account"), None),
        (
            FactsEstablished(
                at=at,
                fault=facts.fault if facts else Fault.UNKNOWN,
                root_cause=facts.root_cause if facts else "to be found",
            ),
            None,
        ),
        (ApologyOffered(at=at, scope=ApologyScope.INCONVENIENCE, names_individual=False), "inconvenience"),
        (ApologyOffered(at=at, scope=ApologyScope.COMPANY, names_individual=False), "company"),
        (RemedyProposed(at=at, remedy="a remedy within authority", value=0), None),
        (ProgressReported(at=at, detail="how the remedy is going"), None),
        (CallbackPromised(at=at, by=at), None),
        (FollowUpCompleted(at=at, resolved=True, prevention="what changes so it does not recur"), None),
        (Escalated(at=at, to="supervisor"), None),
        (AbuseWarningGiven(at=at), None),
        (ConversationEnded(at=at, reason=EndReason.ABUSE), "abuse"),
    )


def _customer_events(at: datetime) -> tuple[Event, ...]:
    return (
        VentingSubsided(at=at),
        RemedyAccepted(at=at, restated=True, confirmation_sent=True),
        RemedyRejected(at=at),
        CustomerVented(at=at, intensity=5),
        ManagerRequested(at=at),
        ConversationEnded(at=at, reason=EndReason.CUSTOMER_LEFT),
    )


#: The customer answers an interaction can wait for: the end of a wave, and the answer to a remedy.
_AWAITED = ("venting_subsided", "remedy_accepted", "remedy_rejected")


def _judged(interaction: Interaction, event: Event, variant: str | None, policy: Policy) -> Action:
    _, findings, status = step(interaction, event, policy, Mode.STRICT)
    warnings = tuple(f.rule for f in findings if f.severity is Severity.WARNING)
    if status is Status.INVALID:
        return Action(event.type, ActionStatus.IMPOSSIBLE, variant, advice=(findings[0].message,))
    if status is Status.REFUSED:
        violations = [f for f in findings if f.severity is Severity.VIOLATION]
        rules = tuple(f.rule for f in violations)
        advice = tuple(policy.rule(f.rule).advice or f.message for f in violations)
        return Action(event.type, ActionStatus.REFUSED, variant, rules, advice, warnings)
    return Action(event.type, ActionStatus.ALLOWED, variant, warnings=warnings)


# -- the shortest way forward -------------------------------------------------------------------

_COOPERATIVE = frozenset({"venting_subsided", "remedy_accepted"})
#: Agent actions that never bring followed_up nearer (past the first step): not expanded.
_NEVER_NEARER = frozenset(
    {"conversation_ended", "empathy_expressed", "callback_promised", "abuse_warning_given"}
)

#: How far ahead the shortest way to followed_up is looked for, and how many states at most.
_HORIZON = 14
_MAX_STATES = 4_000


def _first_step(start: Interaction, policy: Policy, at: datetime, clean: bool) -> int | None:
    """The position (in the agent events) of the agent action a shortest way to ``followed_up`` starts with.

    One breadth-first search, agent actions tried first and in their order, so the
    first way found is the shortest, and among the shortest the one starting with
    the earliest action. None when the way starts with the customer (the agent
    waits for them), or when there is none within reach. ``clean`` takes only steps
    that draw no finding at all, not even a warning: the way good practice takes.
    """
    # Only the customer's answers that can shorten a way are tried: venting again, asking
    # for a manager or rejecting never bring followed_up nearer.
    customers = [event for event in _customer_events(at) if event.type in _COOPERATIVE]
    seen = {state_key(start)}
    frontier: deque[tuple[Interaction, int, int]] = deque()
    roots = [event for event, _ in _agent_events(start, at)]
    for position, event in enumerate([*roots, *customers]):
        if event.type == "conversation_ended":
            continue
        after, findings, status = step(start, event, policy, Mode.STRICT)
        if status is not Status.APPLIED or (clean and findings):
            continue
        root = position if position < len(roots) else -1
        if after.stage is Stage.FOLLOWED_UP:
            return None if root < 0 else root
        key = state_key(after)
        if key not in seen and not after.stage.terminal:
            seen.add(key)
            frontier.append((after, root, 1))
    while frontier and len(seen) < _MAX_STATES:
        interaction, root, depth = frontier.popleft()
        if depth >= _HORIZON:
            break
        for event in [*(event for event, _ in _agent_events(interaction, at)), *customers]:
            if event.type in _NEVER_NEARER:
                continue
            after, findings, status = step(interaction, event, policy, Mode.STRICT)
            if status is not Status.APPLIED or (clean and findings):
                continue
            if after.stage is Stage.FOLLOWED_UP:
                return None if root < 0 else root
            key = state_key(after)
            if key not in seen and not after.stage.terminal:
                seen.add(key)
                frontier.append((after, root, depth + 1))
    return None


def _forward(
    interaction: Interaction, policy: Policy, at: datetime, actions: tuple[Action, ...]
) -> Action | None:
    """The first allowed agent action on a shortest way to ``followed_up``, or None.

    The way that draws no warning is preferred; only when there is none does a way
    with warnings count.
    """
    for clean in (True, False):
        found = _first_step(interaction, policy, at, clean)
        if found is not None:
            return actions[found]
    return None


# -- guide ---------------------------------------------------------------------------------------


def _when(obligation: Obligation, now: datetime) -> str:
    if obligation.due < now:
        return f"{say_span(now - obligation.due)} overdue"
    return "due now"


def guide(interaction: Interaction, policy: Policy | str, now: datetime) -> Guidance:
    """What the agent should do at ``now``: recommendations, every action's status, what is awaited and owed.

    ``now`` is the caller's time (a timezone-aware datetime), no earlier than the
    interaction's last event. Pure: nothing is applied, no clock is read.
    """
    interaction = checked_interaction(interaction)
    policy = checked_policy(policy)
    now = checked_now(now)
    last = interaction.history.last.at
    if now < last:
        raise ArgumentValueError(
            "now",
            f"is earlier than the interaction's last event ({last.isoformat()}): guidance looks forward",
        )
    events = _agent_events(interaction, now)
    actions = tuple(_judged(interaction, event, variant, policy) for event, variant in events)
    allowed = {(a.action, a.variant) for a in actions if a.allowed}
    params = policy.params
    obligations = open_obligations(interaction, policy)

    recommended: list[Recommendation] = []
    chosen: set[tuple[str, str | None]] = set()

    def recommend(action: str, reason: str, variant: str | None = None) -> bool:
        if (action, variant) not in allowed or (action, variant) in chosen:
            return False
        chosen.add((action, variant))
        recommended.append(Recommendation(action, reason, variant))
        return True

    forward = None if interaction.stage.terminal else _forward(interaction, policy, now, actions)
    for obligation in obligations:
        if obligation.due > now:
            continue
        when = _when(obligation, now)
        if obligation.kind is ObligationKind.CALLBACK:
            due = f"{obligation.due.isoformat()} ({when})"
            contact = next((n for n, r in enumerate(recommended) if r.action in CONTACT_EVENTS), None)
            if contact is not None:  # a contact already recommended keeps the promise too
                earlier = recommended[contact]
                recommended[contact] = attrs.evolve(
                    earlier,
                    reason=f"{earlier.reason}; it also keeps the callback promised for {due}",
                )
                continue
            options = [forward.action] if forward is not None and forward.action in CONTACT_EVENTS else []
            options += ["progress_reported", "empathy_expressed", "concerns_acknowledged"]
            for option in options:
                if recommend(
                    option, f"you promised to call the customer back by {due}: any contact keeps it"
                ):
                    break
        else:
            label = {
                "progress-report": "a progress report",
                "follow-up": "the follow-up",
                "escalation": "an escalation to a manager",
            }[obligation.kind.value]
            for option in MET_BY[obligation.kind]:
                if recommend(option, f"{label} is owed by {obligation.due.isoformat()} ({when})"):
                    break
    if interaction.abuse_observed and interaction.abuse_warnings < params.warnings_before_ending:
        recommend(
            "abuse_warning_given",
            "the customer was abusive: warn them that the conversation ends if it goes on "
            "(anger is to be heard, abuse is not)",
        )
    if interaction.wave_open:
        recommend(
            "empathy_expressed",
            "the customer is still venting: listen and show you understand; do not talk over them",
        )
    if interaction.manager_requested:
        recommend("escalated", "the customer asked for a manager and nobody has been brought in yet")
    if interaction.rejections >= params.max_rejections and interaction.active:
        recommend(
            "escalated",
            f"{interaction.rejections} remedies were rejected: hand over to someone with fresh authority",
        )
    if forward is not None:
        recommend(
            forward.action,
            _FORWARD_REASONS.get(forward.action, "the next step on the shortest way to a resolved complaint"),
            forward.variant,
        )

    awaiting = tuple(
        event.type
        for event in _customer_events(now)
        if event.type in _AWAITED and step(interaction, event, policy, Mode.STRICT)[2] is Status.APPLIED
    )
    return Guidance(
        interaction_id=interaction.interaction_id,
        policy=policy.name,
        stage=interaction.stage,
        now=now,
        recommended=tuple(recommended),
        actions=actions,
        awaiting=awaiting,
        obligations=tuple(OpenObligation(item, item.due < now) for item in obligations),
    )


_FORWARD_REASONS: dict[str, str] = {
    "concerns_acknowledged": "the customer needs to know they were heard before anything else happens",
    "fact_recorded": "not every side of the story has been heard yet",
    "facts_established": "the accounts are in: who is at fault and why can now be settled",
    "apology_offered": "the policy wants an apology before any remedy",
    "remedy_proposed": "the facts are known: the customer is waiting to hear what the company will do",
    "progress_reported": "the customer should hear how the agreed remedy is going",
    "follow_up_completed": "the agreed remedy is the last step: say what changes so it does not recur",
    "escalated": "someone with more authority is needed to move forward",
    "empathy_expressed": "the customer should feel understood",
}
