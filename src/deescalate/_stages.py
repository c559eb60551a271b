"""The stages of a complaint interaction."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where an interaction stands. The value is the name used in JSON and diagrams."""

    VENTING = "venting"
    ACKNOWLEDGED = "acknowledged"
    FACTS_GATHERED = "facts_gathered"
    REMEDY_PROPOSED = "remedy_proposed"
    AGREED = "agreed"
    FOLLOWED_UP = "followed_up"
    ENDED = "ended"

    @property
    def terminal(self) -> bool:
        """True for the stages nothing leaves: ``followed_up`` and ``ended``."""
        return self in TERMINAL


#: Stages nothing leaves; any event there is an invalid transition.
TERMINAL: frozenset[Stage] = frozenset({Stage.FOLLOWED_UP, Stage.ENDED})

#: The non-terminal stages, in workflow order.
ACTIVE: tuple[Stage, ...] = tuple(stage for stage in Stage if stage not in TERMINAL)
