"""The interaction: one complaint conversation, as an immutable value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

import attrs

from ._events import Fault
from ._findings import Finding
from ._history import History
from ._stages import Stage
from ._value import value_repr


@attrs.frozen(repr=False)
class Facts:
    """What the fact-finding established: who is at fault, and the root cause."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    fault: Fault
    root_cause: str


@attrs.frozen(repr=False)
class Remedy:
    """A remedy offered to the customer, and what it is worth."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    description: str
    value: float


@attrs.frozen(repr=False)
class Interaction:
    """Everything known about one complaint interaction, after the events in ``history``.

    Never build one by hand: :func:`~deescalate.open_interaction` starts one and
    :func:`~deescalate.apply` derives the next. Replaying ``history`` under the
    same policy (:func:`~deescalate.replay`) gives an equal interaction.
    """

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    interaction_id: str
    customer_name: str | None
    #: The current stage.
    stage: Stage
    #: True while the customer is in a wave of venting (only ever in ``venting``).
    wave_open: bool
    #: Who handles the interaction now: ``"agent"``, then whoever it was escalated to.
    owner: str
    #: The most the current owner may offer as a remedy's value.
    authority_limit: float
    #: Remedies rejected while the current owner had the interaction.
    rejections: int
    #: The concerns summarised back to the customer, or None if never acknowledged.
    summary: tuple[str, ...] | None
    #: The established facts, or None while they are not known.
    facts: Facts | None
    #: How many distinct sources have given their side of the story.
    fact_source_count: int
    #: The remedy awaiting the customer's answer (in ``remedy_proposed``).
    pending_remedy: Remedy | None
    #: The remedy the customer accepted, once they have.
    agreed_remedy: Remedy | None
    #: True once any apology was offered.
    apologized: bool
    #: True when progress was reported since the remedy was accepted.
    progress_reported: bool
    #: True while a customer's request for a manager has not been met by an escalation.
    manager_requested: bool
    #: True once abuse was observed.
    abuse_observed: bool
    #: Warnings given since the first abuse was observed.
    abuse_warnings: int
    #: The time a promised callback is due by, while the promise is open (no contact since).
    callback_due: datetime | None
    #: When the customer accepted the remedy, while the follow-through is under way (in ``agreed``).
    accepted_at: datetime | None
    #: When the customer last heard how the follow-through goes (acceptance, then each
    #: progress report), while in ``agreed``: the next report is due from this time.
    progress_since: datetime | None
    #: When the customer asked for a manager, while no escalation has met the request.
    manager_requested_at: datetime | None
    #: Every applied event, with its findings.
    history: History = attrs.field(repr=lambda h: f"<{len(h)} events>")

    @property
    def active(self) -> bool:
        """True until the interaction reaches a terminal stage."""
        return not self.stage.terminal

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding recorded for the applied events, in order."""
        return self.history.findings()

    @property
    def fact_sources(self) -> tuple[str, ...]:
        """The distinct sources that gave their side of the story, first heard first."""
        return self.history.sources()


_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Interaction))
_READ_FIELDS: Callable[[Interaction], tuple[Any, ...]] = attrgetter(*_FIELDS)
_Evolver = Callable[[Interaction, dict[str, Any]], Interaction]
_EVOLVERS: dict[tuple[str, ...], _Evolver] = {}


def _evolver(names: tuple[str, ...]) -> _Evolver:
    """A function building the next interaction when exactly the fields ``names`` change.

    Written out field by field, as attrs writes ``__init__``: reading each field and
    passing it by position is the cheapest way to build an 18-field frozen value.
    """
    unknown = set(names) - set(_FIELDS)
    if unknown:
        raise TypeError(f"Interaction has no field(s) {', '.join(sorted(unknown))}")
    arguments = ", ".join(f"changes[{name!r}]" if name in names else f"old.{name}" for name in _FIELDS)
    namespace: dict[str, Any] = {"Interaction": Interaction}
    exec(f"def evolve(old, changes):\n    return Interaction({arguments})\n", namespace)
    evolve: _Evolver = namespace["evolve"]
    return evolve


#: How many interactions a set of changed fields builds by a loop over the fields
#: before its builder is generated (compiling one costs as much as some thirty
#: builds in the loop): a short transcript compiles none.
GENERATE_AFTER = 16


def _first_evolver(names: tuple[str, ...]) -> _Evolver:
    """A function doing what :func:`_evolver`'s does, by a loop over the fields.

    Once it has built :data:`GENERATE_AFTER` interactions, it puts the generated
    builder in its place.
    """
    unknown = set(names) - set(_FIELDS)
    if unknown:
        raise TypeError(f"Interaction has no field(s) {', '.join(sorted(unknown))}")
    changed = tuple((position, name) for position, name in enumerate(_FIELDS) if name in names)
    uses = 0

    def evolve(old: Interaction, changes: dict[str, Any]) -> Interaction:
        nonlocal uses
        uses += 1
        if uses == GENERATE_AFTER:
            _EVOLVERS[names] = _evolver(names)
        values = list(_READ_FIELDS(old))
        for position, name in changed:
            values[position] = changes[name]
        return Interaction(*values)

    return evolve


def evolved(interaction: Interaction, changes: dict[str, Any]) -> Interaction:
    """``interaction`` with ``changes``: ``attrs.evolve`` without its per-call introspection.

    This runs once per applied event. Applying events changes only a few sets of
    fields (the stage, the wave, the history...), so each set gets its own builder,
    made once and kept: a loop over the fields at first, generated code once the
    set has been met often enough to pay for compiling it.
    """
    names = tuple(changes)
    evolve = _EVOLVERS.get(names)
    if evolve is None:
        evolve = _EVOLVERS[names] = _first_evolver(names)
    return evolve(interaction, changes)
