"""Findings: what the rules say about an event."""

from __future__ import annotations

from enum import StrEnum

import attrs

from ._value import value_repr


class Severity(StrEnum):
    """How much a finding matters. Strict mode refuses events with any violation."""

    VIOLATION = "violation"
    WARNING = "warning"


@attrs.frozen(repr=False)
class Finding:
    """One rule's judgement of one event: ``rule`` fired on an event of ``event_type``."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    rule: str
    severity: Severity
    message: str
    event_type: str

    @property
    def is_violation(self) -> bool:
        """True when the finding would make strict mode refuse the event."""
        return self.severity is Severity.VIOLATION
