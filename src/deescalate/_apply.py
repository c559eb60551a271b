"""Applying events: the pure function at the heart of the library.

``apply(interaction, event, policy, mode)`` returns an :class:`Outcome`: the next
interaction and the event's findings. It reads no clock and touches no file; time
arrives inside events. The steps, in order:

1. a duplicate delivery (an ``event_id`` already applied) is ignored, no finding;
2. an event earlier than the last applied one is *late*: ignored, no finding, so
   a history is always in time order;
3. an event the stage graph does not allow here is *invalid*: one
   ``invalid-transition`` finding, nothing changes, in every mode;
4. the policy's rules for the event's type judge it, against the interaction as
   it was before the event (a rule whose code raises stops everything with a
   :class:`~deescalate.RuleError` naming it);
5. strict mode refuses an event with any violation (nothing changes); otherwise the
   event is applied: stage moved, effects applied, event and findings logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import attrs

from ._builtin_rules import INVALID_TRANSITION
from ._effects import EFFECTS
from ._errors import ArgumentTypeError, ArgumentValueError, EventError, PolicyError, describe
from ._events import CONTACT_EVENTS, Event, InteractionOpened
from ._findings import Finding, Severity
from ._history import History
from ._interaction import Interaction, evolved
from ._machine import ROUTES, Route
from ._policy import BUILTIN_POLICIES, FACTS_FIRST, Policy
from ._stages import TERMINAL, Stage
from ._value import value_repr


class Mode(StrEnum):
    """How findings are enforced."""

    #: Guarding a live interaction: an event with any violation is refused.
    STRICT = "strict"
    #: Reviewing what happened: every possible event is applied, findings recorded.
    ADVISORY = "advisory"


class Status(StrEnum):
    """What became of an event."""

    APPLIED = "applied"
    #: Strict mode refused it for its violations; the interaction is unchanged.
    REFUSED = "refused"
    #: Not possible at the current stage; the interaction is unchanged.
    INVALID = "invalid"
    #: Its ``event_id`` was already applied; ignored without a finding.
    DUPLICATE = "duplicate"
    #: Earlier than the last applied event: out of time order, ignored without a finding.
    LATE = "late"


@attrs.frozen(repr=False)
class Outcome:
    """The result of applying one event: the next interaction and the event's findings."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    interaction: Interaction
    findings: tuple[Finding, ...]
    status: Status

    @property
    def applied(self) -> bool:
        """True when the event changed the interaction."""
        return self.status is Status.APPLIED

    @property
    def refused(self) -> bool:
        """True when the event was not applied because of a violation (refused or invalid)."""
        return self.status is Status.REFUSED or self.status is Status.INVALID

    @property
    def late(self) -> bool:
        """True when the event was ignored for being earlier than the last applied one."""
        return self.status is Status.LATE

    @property
    def violations(self) -> tuple[Finding, ...]:
        """The findings of severity violation."""
        return tuple(f for f in self.findings if f.severity is Severity.VIOLATION)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity warning."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)


_MODES: dict[object, Mode] = {mode: mode for mode in Mode}


def checked_mode(mode: object) -> Mode:
    """``mode`` as a :class:`Mode`: a member or its exact name, anything else raises.

    A typo in a configuration (``"STRICT"``, ``"guard"``, ``None``) must not quietly
    turn the guard off, so nothing else is taken for advisory.
    """
    if isinstance(mode, str):  # Mode members are strings too
        found = _MODES.get(mode)
        if found is not None:
            return found
        raise ArgumentValueError(
            "mode", f"must be Mode.STRICT or Mode.ADVISORY ('strict' or 'advisory'), got {describe(mode)}"
        )
    raise ArgumentTypeError(
        "mode", f"must be Mode.STRICT or Mode.ADVISORY ('strict' or 'advisory'), got {describe(mode)}"
    )


def checked_policy(policy: object) -> Policy:
    """``policy`` as a :class:`Policy`: a policy, or the name of a built-in one; anything else raises."""
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, str):
        found = BUILTIN_POLICIES.get(policy)
        if found is not None:
            return found
        names = ", ".join(BUILTIN_POLICIES)
        raise PolicyError(
            f"unknown policy {describe(policy)}: pass a Policy, or the name of a built-in one ({names})"
        )
    raise ArgumentTypeError(
        "policy", f"must be a Policy (or a built-in policy's name), got {describe(policy)}"
    )


def checked_event(event: object, argument: str = "event") -> Event:
    """``event`` if it is an event; a dict or anything else raises, saying how to get one."""
    if isinstance(event, Event):
        return event
    hint = " (build one from JSON with event_from_dict)" if isinstance(event, dict | str | bytes) else ""
    raise ArgumentTypeError(argument, f"must be an Event{hint}, got {describe(event)}")


def checked_interaction(interaction: object) -> Interaction:
    """``interaction`` if it is an :class:`Interaction`, else a typed error."""
    if isinstance(interaction, Interaction):
        return interaction
    raise ArgumentTypeError(
        "interaction",
        "must be an Interaction (from open_interaction, apply or load_snapshot), "
        f"got {describe(interaction)}",
    )


def open_interaction(event: InteractionOpened, policy: Policy = FACTS_FIRST) -> Interaction:
    """Start an interaction from its ``interaction_opened`` event.

    The agent owns it, with the event's ``authority_limit`` or the policy's default.
    """
    event = checked_event(event)  # type: ignore[assignment]
    if type(policy) is not Policy:
        policy = checked_policy(policy)
    if not isinstance(event, InteractionOpened):
        raise EventError("type", f"an interaction starts with interaction_opened, not {event.type}")
    limit = event.authority_limit
    return Interaction(
        interaction_id=event.interaction_id,
        customer_name=event.customer_name,
        stage=Stage.VENTING,
        wave_open=False,
        owner="agent",
        authority_limit=policy.params.authority_limit if limit is None else limit,
        rejections=0,
        summary=None,
        facts=None,
        fact_source_count=0,
        pending_remedy=None,
        agreed_remedy=None,
        apologized=False,
        progress_reported=False,
        manager_requested=False,
        abuse_observed=False,
        abuse_warnings=0,
        callback_due=None,
        accepted_at=None,
        progress_since=None,
        manager_requested_at=None,
        history=History.of([(event, ())]),
    )


def _why_impossible(interaction: Interaction, event: Event) -> str:
    stage = interaction.stage
    if event.type == InteractionOpened.type:
        return "interaction_opened can only be the first event of an interaction"
    if stage.terminal:
        return f"{event.type} cannot follow: the interaction is over (stage {stage})"
    if event.type == "venting_subsided" and stage is Stage.VENTING:
        return "venting_subsided while no venting wave is open"
    return f"{event.type} is not possible at stage {stage}"


# Module-level names for the members the hot path reads: an enum member looked up
# on its class costs a descriptor call each time.
_STRICT, _VIOLATION = Mode.STRICT, Severity.VIOLATION
_ADVISORY = Mode.ADVISORY
_APPLIED, _REFUSED, _INVALID, _DUPLICATE = Status.APPLIED, Status.REFUSED, Status.INVALID, Status.DUPLICATE
_LATE = Status.LATE
_VENTING, _AGREED = Stage.VENTING, Stage.AGREED
_CALLBACK = "callback_promised"
_NO_ROUTE: dict[Stage, Route] = {}


def apply(
    interaction: Interaction,
    event: Event,
    policy: Policy = FACTS_FIRST,
    mode: Mode = Mode.STRICT,
) -> Outcome:
    """Apply ``event`` to ``interaction`` under ``policy`` in ``mode``; never mutates anything.

    Returns the :class:`Outcome`. Every argument is checked: anything but an
    interaction, an event, a policy (or a built-in policy's name) and a mode (a
    :class:`Mode` or its exact name) raises an :class:`~deescalate.ArgumentError`
    or :class:`~deescalate.PolicyError`, so a typo never runs strict mode as
    advisory. A custom rule whose code raises gives a
    :class:`~deescalate.RuleError` naming it; every other event gets an outcome.
    """
    if mode is not _STRICT and mode is not _ADVISORY:
        mode = checked_mode(mode)
    if type(policy) is not Policy:
        policy = checked_policy(policy)
    if not isinstance(event, Event):
        checked_event(event)
    if type(interaction) is not Interaction:
        checked_interaction(interaction)
    return Outcome(*step(interaction, event, policy, mode))


def step(
    interaction: Interaction, event: Event, policy: Policy, mode: Mode
) -> tuple[Interaction, tuple[Finding, ...], Status]:
    """What :func:`apply` decides, as a plain tuple (the fields of its :class:`Outcome`).

    Loops over a whole transcript (review, replay) call this directly: they keep
    no outcome, so they need not build one per event.
    """
    history = interaction.history
    event_id = event.event_id
    if event_id is not None and history.has_event_id(event_id):
        return interaction, (), _DUPLICATE
    if event.at < history.last.at:
        return interaction, (), _LATE

    stage = interaction.stage
    kind = event.type
    route = ROUTES.get(kind, _NO_ROUTE).get(stage)
    if route is None or (route.requires is not None and not getattr(interaction, route.requires)):
        finding = Finding(
            INVALID_TRANSITION.id,
            _VIOLATION,
            _why_impossible(interaction, event),
            kind,
        )
        return interaction, (finding,), _INVALID

    findings = policy.judge(interaction, event)
    if findings and mode == _STRICT and any(f.severity is _VIOLATION for f in findings):
        return interaction, findings, _REFUSED

    changes = EFFECTS[kind](interaction, event)
    if interaction.callback_due is not None and kind in CONTACT_EVENTS and kind != _CALLBACK:
        changes["callback_due"] = None  # the customer heard from us: the promise is kept
    dest = route.dest
    if dest is not stage:
        changes["stage"] = dest
        if stage is _AGREED:  # leaving agreed closes the follow-through's obligations
            changes["accepted_at"] = changes["progress_since"] = None
        if dest in TERMINAL:  # an interaction that is over owes nothing more
            changes["callback_due"] = changes["manager_requested_at"] = None
    if dest is not _VENTING:
        changes["wave_open"] = False
    changes["history"] = history.appended(event, findings)
    return evolved(interaction, changes), findings, _APPLIED


def replay(events: Iterable[Event], policy: Policy = FACTS_FIRST) -> Interaction:
    """The interaction that ``events`` (an interaction's history) produce under ``policy``.

    The first event must be ``interaction_opened``; the rest are applied in advisory
    mode, so replaying ``interaction.history`` gives an interaction equal to it.
    Anything in ``events`` that is not an event raises
    :class:`~deescalate.ArgumentTypeError`; an event earlier than the one before it
    raises :class:`~deescalate.EventError` (histories are in time order).
    """
    if type(policy) is not Policy:
        policy = checked_policy(policy)
    if isinstance(events, str | bytes | dict) or not isinstance(events, Iterable):
        raise ArgumentTypeError("events", f"must be an iterable of events, got {describe(events)}")
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, InteractionOpened):
        raise EventError("type", "a history starts with interaction_opened")
    interaction = open_interaction(first, policy)
    for position, event in enumerate(iterator, 1):
        if not isinstance(event, Event):
            checked_event(event, f"events[{position}]")
        interaction, _, status = step(interaction, event, policy, _ADVISORY)
        if status is _LATE:
            raise EventError(
                "at", f"event #{position} is earlier than the one before it: a history is in time order"
            )
    return interaction
