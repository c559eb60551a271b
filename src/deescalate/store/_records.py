"""What the store gives back: deliveries, stored interactions, findings and due obligations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from .._apply import Mode, Outcome
from .._findings import Finding
from .._interaction import Interaction
from .._obligations import Obligation
from .._stages import Stage


class Fate(StrEnum):
    """What became of a delivery, as its journal records it."""

    #: Applied to the interaction: its event is in the history.
    APPLIED = "applied"
    #: Refused for its violations (strict mode); the interaction is unchanged.
    REFUSED = "refused"
    #: Not possible at the interaction's stage, or for an interaction not opened yet.
    INVALID = "invalid"
    #: Its ``event_id`` was already applied to the interaction.
    DUPLICATE = "duplicate"
    #: Earlier than the interaction's last applied event.
    LATE = "late"
    #: Not an event at all: the payload, as received, is kept with the reason.
    BAD_INPUT = "bad_input"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@attrs.frozen
class DeliveryRecord:
    """One delivery as the journal keeps it: what arrived, when, and what became of it."""

    delivery_id: int
    interaction_id: str
    #: When the store received it, by the store's clock.
    received_at: datetime
    fate: Fate
    mode: Mode
    #: The policy it was judged under; None when it never reached one (bad input).
    policy: str | None
    event_type: str | None
    event_id: str | None
    #: The event's own time; None for bad input.
    at: datetime | None
    #: Where the event sits in the history, when it was applied.
    position: int | None
    #: The event as contract JSON, or for bad input the payload as received.
    payload: str
    #: Why it was not applied (invalid, bad input), in one line.
    error: str | None
    #: The findings it got (applied, refused or invalid).
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """As JSON, with times in ISO-8601."""
        return {
            "delivery_id": self.delivery_id,
            "interaction_id": self.interaction_id,
            "received_at": _iso(self.received_at),
            "fate": self.fate.value,
            "mode": self.mode.value,
            "policy": self.policy,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "at": _iso(self.at),
            "position": self.position,
            "payload": self.payload,
            "error": self.error,
            "findings": [
                {"rule": f.rule, "severity": f.severity.value, "message": f.message} for f in self.findings
            ],
        }


@attrs.frozen
class Delivery:
    """What :meth:`Store.deliver` returns: the outcome, and the journal's record of the delivery.

    ``outcome`` is what :func:`~deescalate.apply` decided, or None when the payload
    never became an event of an open interaction (bad input, or an event for an
    interaction not opened yet).
    """

    outcome: Outcome | None
    record: DeliveryRecord

    @property
    def fate(self) -> Fate:
        """What became of the delivery."""
        return self.record.fate

    @property
    def applied(self) -> bool:
        """True when the event is now in the interaction's history."""
        return self.record.fate is Fate.APPLIED

    @property
    def interaction(self) -> Interaction | None:
        """The interaction after the delivery; None when there is none."""
        return None if self.outcome is None else self.outcome.interaction

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The delivery's findings."""
        return self.record.findings


@attrs.frozen
class StoredInteraction:
    """An interaction's current-state row: what listing and scheduling need, without its history."""

    interaction_id: str
    #: The policy it was opened under, which every delivery to it must use.
    policy: str
    stage: Stage
    owner: str
    #: How many events were applied (the length of its history).
    version: int
    customer_name: str | None
    opened_at: datetime
    #: The time of its last applied event.
    last_at: datetime
    #: The earliest deadline among its open obligations, if any.
    next_due: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """As JSON, with times in ISO-8601."""
        return {
            "interaction_id": self.interaction_id,
            "policy": self.policy,
            "stage": self.stage.value,
            "owner": self.owner,
            "version": self.version,
            "customer_name": self.customer_name,
            "opened_at": _iso(self.opened_at),
            "last_at": _iso(self.last_at),
            "next_due": _iso(self.next_due),
        }


@attrs.frozen
class StoredFinding:
    """A finding as the store keeps it: which delivery, which interaction, when, and its fate."""

    delivery_id: int
    interaction_id: str
    #: The fate of the delivery it was found on: applied, refused or invalid.
    fate: Fate
    #: Where its event sits in the history; None unless applied.
    position: int | None
    #: The event's time.
    at: datetime
    #: Who had the interaction when the event was judged.
    owner: str
    finding: Finding

    def to_dict(self) -> dict[str, Any]:
        """As JSON, with times in ISO-8601."""
        return {
            "delivery_id": self.delivery_id,
            "interaction_id": self.interaction_id,
            "fate": self.fate.value,
            "position": self.position,
            "at": _iso(self.at),
            "owner": self.owner,
            "rule": self.finding.rule,
            "severity": self.finding.severity.value,
            "message": self.finding.message,
            "event_type": self.finding.event_type,
        }


@attrs.frozen
class DueObligation:
    """An obligation due at the time asked about, and whose it is."""

    interaction_id: str
    obligation: Obligation
    #: True when its deadline had already passed at that time.
    overdue: bool
    #: Who has the interaction: who should act.
    owner: str

    def to_dict(self) -> dict[str, Any]:
        """As JSON: the interaction, ``kind``, ``opened``, ``due`` and ``overdue``."""
        return {
            "interaction_id": self.interaction_id,
            "owner": self.owner,
            "kind": self.obligation.kind.value,
            "opened": self.obligation.opened_at.isoformat(),
            "due": self.obligation.due.isoformat(),
            "overdue": self.overdue,
        }
