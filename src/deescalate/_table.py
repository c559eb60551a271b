"""The stage graph of a complaint interaction, declared once, as data.

Theory of operation
-------------------
An interaction moves through stages (see :class:`~deescalate.Stage`) when events
are applied to it. This module is the *only* place that says which event may move
which stage where. Everything else is derived from :data:`TRANSITIONS`:

* the lookup that :func:`~deescalate.apply` uses (``_machine.ROUTES``) is read
  off its rows, the way transitions reads them;
* the shared ``transitions.Machine`` (``_machine.py``) is built from it, when
  first asked for, and the tests check that its compiled transitions, and
  triggering it, agree with that lookup;
* ``deescalate diagram`` renders the same configuration through transitions'
  diagram support;
* the docs' stage table is checked against it by the test suite.

Each :class:`Move` says: an event of type ``event`` arriving while the interaction
is in one of ``sources`` goes to ``dest`` (``None`` means the stage does not change:
a transitions *internal* transition). ``requires`` names a structural precondition
on the interaction (for now only ``"wave_open"``): without it the event is not
possible at all, so it is an invalid transition rather than a rule violation.

A pair (stage, event type) that no move covers is an invalid transition. Terminal
stages are sources of no move, so every event there is invalid. What an event does
to the rest of the interaction (the wave, facts, owner, remedy...) is not about
stages; that lives in ``_effects.py``. Whether an event is *advisable* is for the
rules of a policy to judge (``_builtin_rules.py``), never this table.

``interaction_opened`` is not here: it creates the interaction (in the initial stage
``venting``) instead of moving one, so it is the Machine's initial state.
"""

from __future__ import annotations

import attrs

from ._stages import ACTIVE, Stage
from ._value import value_repr

V, A, F, R, G = (
    Stage.VENTING,
    Stage.ACKNOWLEDGED,
    Stage.FACTS_GATHERED,
    Stage.REMEDY_PROPOSED,
    Stage.AGREED,
)


@attrs.frozen(repr=False)
class Move:
    """One row of the stage graph: ``event`` from any of ``sources`` goes to ``dest``."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    event: str
    sources: tuple[Stage, ...]
    dest: Stage | None
    requires: str | None = None


#: The initial stage of every interaction, entered by ``interaction_opened``.
INITIAL: Stage = Stage.VENTING

#: Every possible move, grouped by event type in the order the docs list them.
TRANSITIONS: tuple[Move, ...] = (
    # The customer vents: reopens the wave in venting, or takes the interaction back there.
    Move("customer_vented", (V,), None),
    Move("customer_vented", (A, F, R, G), V),
    # A wave can only subside while one is open (and waves only exist in venting).
    Move("venting_subsided", (V,), None, requires="wave_open"),
    Move("concerns_acknowledged", (V,), A),
    Move("concerns_acknowledged", (A, F, R, G), None),
    Move("empathy_expressed", ACTIVE, None),
    Move("fact_recorded", ACTIVE, None),
    Move("facts_established", (V, A), F),
    Move("facts_established", (F,), None),
    Move("apology_offered", ACTIVE, None),
    # A new proposal replaces a pending one (a self-loop that re-enters remedy_proposed).
    Move("remedy_proposed", (V, A, F, R), R),
    Move("remedy_rejected", (R,), F),
    Move("remedy_accepted", (R,), G),
    Move("progress_reported", (G,), None),
    # A promise to call back is owed from any active stage; it moves nothing.
    Move("callback_promised", ACTIVE, None),
    Move("follow_up_completed", (G,), Stage.FOLLOWED_UP),
    Move("manager_requested", ACTIVE, None),
    Move("escalated", ACTIVE, None),
    Move("abuse_observed", ACTIVE, None),
    Move("abuse_warning_given", ACTIVE, None),
    Move("conversation_ended", ACTIVE, Stage.ENDED),
)

#: The event types that move an interaction, in table order (no duplicates).
EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(move.event for move in TRANSITIONS))
