"""What each event does to an interaction, besides moving its stage.

One small function per event type returns the fields that change. They run only
for events that are possible (the stage graph said yes) and that the mode lets
through, and they never judge: judging is for rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._events import (
    CallbackPromised,
    ConcernsAcknowledged,
    Escalated,
    Event,
    FactRecorded,
    FactsEstablished,
    RemedyProposed,
)
from ._interaction import Facts, Interaction, Remedy

Changes = dict[str, Any]
Effect = Callable[[Interaction, Any], Changes]


def _vented(interaction: Interaction, event: Event) -> Changes:
    # Back to venting with a wave open; whatever was on the table is withdrawn.
    return {"wave_open": True, "pending_remedy": None}


def _subsided(interaction: Interaction, event: Event) -> Changes:
    return {"wave_open": False}


def _acknowledged(interaction: Interaction, event: ConcernsAcknowledged) -> Changes:
    return {"summary": event.summary}


def _fact_recorded(interaction: Interaction, event: FactRecorded) -> Changes:
    if interaction.history.has_source(event.source):
        return {}
    return {"fact_source_count": interaction.fact_source_count + 1}


def _facts_established(interaction: Interaction, event: FactsEstablished) -> Changes:
    return {"facts": Facts(event.fault, event.root_cause)}


def _apologized(interaction: Interaction, event: Event) -> Changes:
    return {"apologized": True}


def _proposed(interaction: Interaction, event: RemedyProposed) -> Changes:
    return {"pending_remedy": Remedy(event.remedy, event.value)}


def _rejected(interaction: Interaction, event: Event) -> Changes:
    return {"pending_remedy": None, "rejections": interaction.rejections + 1}


def _accepted(interaction: Interaction, event: Event) -> Changes:
    # Agreement opens the follow-through's obligations: a follow-up, and progress reports.
    return {
        "agreed_remedy": interaction.pending_remedy,
        "pending_remedy": None,
        "progress_reported": False,
        "accepted_at": event.at,
        "progress_since": event.at,
    }


def _progress(interaction: Interaction, event: Event) -> Changes:
    # A report meets the one that was due and opens the next.
    return {"progress_reported": True, "progress_since": event.at}


def _callback_promised(interaction: Interaction, event: CallbackPromised) -> Changes:
    # A newer promise meets the open one (it is a contact) and is owed in its place.
    return {"callback_due": event.by}


def _manager_requested(interaction: Interaction, event: Event) -> Changes:
    # The deadline runs from the first request that no escalation has met yet.
    if interaction.manager_requested_at is not None:
        return {"manager_requested": True}
    return {"manager_requested": True, "manager_requested_at": event.at}


def _escalated(interaction: Interaction, event: Escalated) -> Changes:
    # The new owner keeps everything learnt, starts with a clean slate of rejections,
    # and answers any pending request for a manager.
    limit = event.authority_limit
    return {
        "owner": event.to,
        "authority_limit": interaction.authority_limit if limit is None else limit,
        "rejections": 0,
        "manager_requested": False,
        "manager_requested_at": None,
    }


def _abuse_observed(interaction: Interaction, event: Event) -> Changes:
    return {"abuse_observed": True}


def _warning_given(interaction: Interaction, event: Event) -> Changes:
    # Only warnings after the first abuse count: a warning about nothing warns of nothing.
    if not interaction.abuse_observed:
        return {}
    return {"abuse_warnings": interaction.abuse_warnings + 1}


def _nothing(interaction: Interaction, event: Event) -> Changes:
    return {}


#: The effect of each event type that can be applied to an open interaction.
EFFECTS: dict[str, Effect] = {
    "customer_vented": _vented,
    "venting_subsided": _subsided,
    "concerns_acknowledged": _acknowledged,
    "empathy_expressed": _nothing,
    "fact_recorded": _fact_recorded,
    "facts_established": _facts_established,
    "apology_offered": _apologized,
    "remedy_proposed": _proposed,
    "remedy_rejected": _rejected,
    "remedy_accepted": _accepted,
    "progress_reported": _progress,
    "callback_promised": _callback_promised,
    "follow_up_completed": _nothing,
    "manager_requested": _manager_requested,
    "escalated": _escalated,
    "abuse_observed": _abuse_observed,
    "abuse_warning_given": _warning_given,
    "conversation_ended": _nothing,
}
