"""Obligations: what the company owes the customer, and by when, derived from the history.

An obligation is opened by an event (a promised callback, an agreement, a request
for a manager) and met by a later one. Its deadline comes from the event's time and
the policy's durations, never from a clock: the caller asks which obligations are
due *at* a time it passes in. Since everything here is read off the interaction,
which is its history replayed, obligations survive snapshots and replays unchanged,
with no timer to restore. (A timer kept in a process dies with the process.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._apply import checked_interaction, checked_policy
from ._errors import ArgumentTypeError, ArgumentValueError, describe
from ._events import CONTACT_TYPES
from ._interaction import Interaction
from ._policy import Policy
from ._rules import Params


class ObligationKind(StrEnum):
    """The kinds of obligation, by the name used in JSON."""

    #: The agent promised to contact the customer again by a time.
    CALLBACK = "callback"
    #: While an agreed remedy is carried out, the customer hears how it goes every ``progress_every``.
    PROGRESS_REPORT = "progress-report"
    #: The agreed remedy is delivered within ``follow_up_within`` of the agreement.
    FOLLOW_UP = "follow-up"
    #: A customer's request for a manager is met within ``escalate_within``.
    ESCALATION = "escalation"


#: What meets each kind of obligation: the event types that close it.
MET_BY: dict[ObligationKind, tuple[str, ...]] = {
    ObligationKind.CALLBACK: CONTACT_TYPES,
    ObligationKind.PROGRESS_REPORT: ("progress_reported", "follow_up_completed"),
    ObligationKind.FOLLOW_UP: ("follow_up_completed",),
    ObligationKind.ESCALATION: ("escalated",),
}

#: The rule that judges an event meeting each kind of obligation late.
JUDGED_BY: dict[ObligationKind, str] = {
    ObligationKind.CALLBACK: "keep-the-promise",
    ObligationKind.PROGRESS_REPORT: "report-progress-on-time",
    ObligationKind.FOLLOW_UP: "follow-up-on-time",
    ObligationKind.ESCALATION: "escalate-promptly",
}


@attrs.frozen
class Obligation:
    """Something owed to the customer: its kind, when it was opened, and when it is due."""

    kind: ObligationKind
    #: The time of the event that opened it.
    opened_at: datetime
    #: The deadline: met after it, the obligation is met late.
    due: datetime

    @property
    def met_by(self) -> tuple[str, ...]:
        """The event types that meet it."""
        return MET_BY[self.kind]

    @property
    def rule(self) -> str:
        """The id of the rule that judges it met late."""
        return JUDGED_BY[self.kind]

    def is_due(self, now: datetime) -> bool:
        """True when its deadline is ``now`` or earlier: it should be met now."""
        return self.due <= checked_now(now)

    def overdue(self, now: datetime) -> bool:
        """True when its deadline passed before ``now``: met now, it is met late."""
        return self.due < checked_now(now)


@attrs.frozen
class OpenObligation:
    """An open obligation as seen at the guidance's ``now``."""

    obligation: Obligation
    #: True when its deadline passed before now.
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        """As JSON: ``kind``, ``opened``, ``due`` and ``overdue``."""
        item = self.obligation
        return {
            "kind": item.kind.value,
            "opened": item.opened_at.isoformat(),
            "due": item.due.isoformat(),
            "overdue": self.overdue,
        }


def checked_now(now: object, argument: str = "now") -> datetime:
    """``now`` if it is a timezone-aware datetime; anything else raises a typed error."""
    if not isinstance(now, datetime):
        raise ArgumentTypeError(argument, f"must be a timezone-aware datetime, got {describe(now)}")
    if now.utcoffset() is None:
        raise ArgumentValueError(argument, "must have a UTC offset (a naive datetime is ambiguous)")
    return now


#: The due time of each kind of obligation an interaction has, in the order of
#: :class:`ObligationKind`; None where it has none, or the policy turns it off.
Dues = tuple[datetime | None, datetime | None, datetime | None, datetime | None]


def deadlines(params: Params) -> Callable[[Interaction], Dues]:
    """A function giving the due time of each kind of obligation of an interaction under ``params``.

    The one place deadlines are computed: obligations, verification's key and the
    testing kit's clock all read them here. It does not look at the stage: the
    times it reads are cleared when the obligations they open are closed (a
    terminal stage aside, which :func:`open_obligations` checks).
    """
    every, within, promptly = params.progress_every, params.follow_up_within, params.escalate_within

    def dues(interaction: Interaction) -> Dues:
        since, accepted = interaction.progress_since, interaction.accepted_at
        asked = interaction.manager_requested_at
        return (
            interaction.callback_due,
            None if since is None or every is None else since + every,
            None if accepted is None or within is None else accepted + within,
            None if asked is None or promptly is None else asked + promptly,
        )

    return dues


def open_obligations(interaction: Interaction, policy: Policy | str) -> tuple[Obligation, ...]:
    """The obligations ``interaction`` has open under ``policy``, soonest due first.

    A terminal stage owes nothing. A duration the policy turns off (None) opens no
    obligation of that kind.
    """
    interaction = checked_interaction(interaction)
    policy = checked_policy(policy)
    if interaction.stage.terminal:
        return ()
    opened = (
        None,  # the callback's promise: looked up only when one is open
        interaction.progress_since,
        interaction.accepted_at,
        interaction.manager_requested_at,
    )
    dues = deadlines(policy.params)(interaction)
    found = [
        Obligation(kind, since or _promise_time(interaction), due)
        for kind, since, due in zip(ObligationKind, opened, dues, strict=True)
        if due is not None
    ]
    found.sort(key=lambda item: item.due)  # stable: kinds in their order at equal times
    return tuple(found)


def _promise_time(interaction: Interaction) -> datetime:
    """When the open callback was promised: the last ``callback_promised`` in the history."""
    for event in reversed(interaction.history):
        if event.type == "callback_promised":
            return event.at
    raise AssertionError("an open callback has a promise in the history")  # pragma: no cover


def due_obligations(interaction: Interaction, policy: Policy | str, now: datetime) -> tuple[Obligation, ...]:
    """The open obligations whose deadline is ``now`` or earlier (due or overdue), soonest first.

    ``now`` is the caller's time: nothing here reads a clock.
    """
    now = checked_now(now)
    return tuple(item for item in open_obligations(interaction, policy) if item.due <= now)
