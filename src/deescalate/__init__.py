"""deescalate: customer-complaint de-escalation as a guarded state machine.

An interaction moves through stages (venting, acknowledged, facts_gathered,
remedy_proposed, agreed, followed_up, or ended) as events are applied to it under
a policy of rules. The core is pure: no I/O, no clock. See the docs/ folder.

Beside the core: ``deescalate.verify`` explores every interaction a policy allows
and checks it; ``deescalate.testing`` has Hypothesis strategies and a stateful test
base; ``deescalate.assertions`` has test assertions; the pytest plugin is
``deescalate.pytest_plugin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time, see __getattr__ below
    from ._apply import Mode, Outcome, Status, apply, open_interaction, replay
    from ._builtin_rules import BUILTIN_RULES, INVALID_TRANSITION
    from ._codec import dump_event, event_from_dict, event_to_dict, parse_event
    from ._durations import format_duration, parse_duration
    from ._errors import (
        ArgumentError,
        ArgumentTypeError,
        ArgumentValueError,
        DeescalateError,
        EventError,
        HistoryIndexError,
        PolicyError,
        RuleError,
        SnapshotError,
    )
    from ._events import (
        CONTACT_EVENTS,
        EVENT_ACTORS,
        EVENT_CLASSES,
        AbuseObserved,
        AbuseWarningGiven,
        Actor,
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
    from ._findings import Finding, Severity
    from ._guidance import Action, ActionStatus, Guidance, Recommendation, guide
    from ._history import History
    from ._interaction import Facts, Interaction, Remedy
    from ._loading import load_policy
    from ._obligations import Obligation, ObligationKind, OpenObligation, due_obligations, open_obligations
    from ._policy import APOLOGIZE_FIRST, BUILTIN_POLICIES, FACTS_FIRST, Policy
    from ._review import Review, ReviewedFinding, review
    from ._rules import Parameter, ParameterKind, Params, Rule, rule
    from ._schema import event_schema, json_schema
    from ._snapshot import (
        SNAPSHOT_VERSION,
        dump_snapshot,
        load_snapshot,
        snapshot_from_dict,
        snapshot_to_dict,
    )
    from ._stages import ACTIVE, TERMINAL, Stage
    from ._table import TRANSITIONS, Move
    from .transcript import Line, read_transcript

#: Where each public name is defined. Each module is imported when one of its names is first
#: used (PEP 562), so `import deescalate` costs next to nothing and a command of
#: `deescalate.cli` loads only what it runs.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._apply": ("Mode", "Outcome", "Status", "apply", "open_interaction", "replay"),
    "._builtin_rules": ("BUILTIN_RULES", "INVALID_TRANSITION"),
    "._codec": ("dump_event", "event_from_dict", "event_to_dict", "parse_event"),
    "._durations": ("format_duration", "parse_duration"),
    "._errors": (
        "ArgumentError",
        "ArgumentTypeError",
        "ArgumentValueError",
        "DeescalateError",
        "EventError",
        "HistoryIndexError",
        "PolicyError",
        "RuleError",
        "SnapshotError",
    ),
    "._events": (
        "CONTACT_EVENTS",
        "EVENT_ACTORS",
        "EVENT_CLASSES",
        "AbuseObserved",
        "AbuseWarningGiven",
        "Actor",
        "ApologyOffered",
        "ApologyScope",
        "CallbackPromised",
        "ConcernsAcknowledged",
        "ConversationEnded",
        "CustomerVented",
        "EmpathyExpressed",
        "EndReason",
        "Escalated",
        "Event",
        "FactRecorded",
        "FactsEstablished",
        "Fault",
        "FollowUpCompleted",
        "InteractionOpened",
        "ManagerRequested",
        "ProgressReported",
        "RemedyAccepted",
        "RemedyProposed",
        "RemedyRejected",
        "VentingSubsided",
    ),
    "._findings": ("Finding", "Severity"),
    "._guidance": ("Action", "ActionStatus", "Guidance", "Recommendation", "guide"),
    "._history": ("History",),
    "._interaction": ("Facts", "Interaction", "Remedy"),
    "._loading": ("load_policy",),
    "._obligations": (
        "Obligation",
        "ObligationKind",
        "OpenObligation",
        "due_obligations",
        "open_obligations",
    ),
    "._policy": ("APOLOGIZE_FIRST", "BUILTIN_POLICIES", "FACTS_FIRST", "Policy"),
    "._review": ("Review", "ReviewedFinding", "review"),
    "._rules": ("Parameter", "ParameterKind", "Params", "Rule", "rule"),
    "._schema": ("event_schema", "json_schema"),
    "._snapshot": (
        "SNAPSHOT_VERSION",
        "dump_snapshot",
        "load_snapshot",
        "snapshot_from_dict",
        "snapshot_to_dict",
    ),
    "._stages": ("ACTIVE", "TERMINAL", "Stage"),
    "._table": ("TRANSITIONS", "Move"),
    ".transcript": ("Line", "read_transcript"),
}
_SOURCE = {name: module for module, names in _EXPORTS.items() for name in names}

#: The version, written only here (pyproject.toml reads it).
__version__ = "0.2.0"

__all__ = [
    "ACTIVE",
    "APOLOGIZE_FIRST",
    "BUILTIN_POLICIES",
    "BUILTIN_RULES",
    "CONTACT_EVENTS",
    "EVENT_ACTORS",
    "EVENT_CLASSES",
    "FACTS_FIRST",
    "INVALID_TRANSITION",
    "SNAPSHOT_VERSION",
    "TERMINAL",
    "TRANSITIONS",
    "AbuseObserved",
    "AbuseWarningGiven",
    "Action",
    "ActionStatus",
    "Actor",
    "ApologyOffered",
    "ApologyScope",
    "ArgumentError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "CallbackPromised",
    "ConcernsAcknowledged",
    "ConversationEnded",
    "CustomerVented",
    "DeescalateError",
    "EmpathyExpressed",
    "EndReason",
    "Escalated",
    "Event",
    "EventError",
    "FactRecorded",
    "Facts",
    "FactsEstablished",
    "Fault",
    "Finding",
    "FollowUpCompleted",
    "Guidance",
    "History",
    "HistoryIndexError",
    "Interaction",
    "InteractionOpened",
    "Line",
    "ManagerRequested",
    "Mode",
    "Move",
    "Obligation",
    "ObligationKind",
    "OpenObligation",
    "Outcome",
    "Parameter",
    "ParameterKind",
    "Params",
    "Policy",
    "PolicyError",
    "ProgressReported",
    "Recommendation",
    "Remedy",
    "RemedyAccepted",
    "RemedyProposed",
    "RemedyRejected",
    "Review",
    "ReviewedFinding",
    "Rule",
    "RuleError",
    "Severity",
    "SnapshotError",
    "Stage",
    "Status",
    "VentingSubsided",
    "apply",
    "due_obligations",
    "dump_event",
    "dump_snapshot",
    "event_from_dict",
    "event_schema",
    "event_to_dict",
    "format_duration",
    "guide",
    "json_schema",
    "load_policy",
    "load_snapshot",
    "open_interaction",
    "open_obligations",
    "parse_duration",
    "parse_event",
    "read_transcript",
    "replay",
    "review",
    "rule",
    "snapshot_from_dict",
    "snapshot_to_dict",
]


if not TYPE_CHECKING:  # hidden from type checkers, so that a misspelt name is still an error

    def __getattr__(name: str) -> Any:
        """A public name, imported from its module when first used; then kept as a plain attribute."""
        from importlib import import_module

        module = _SOURCE.get(name)
        if module is None:
            if name == "transcript" or name in _PRIVATE:  # submodules `import deescalate` once loaded
                return import_module(f".{name}", __name__)
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})

    _PRIVATE = frozenset(module[1:] for module in _EXPORTS if module.startswith("._"))
