"""Events: what happened in an interaction, as small immutable values.

One class per event type of the contract. Every field is validated when the value
is built, in Python or from JSON alike, so an invalid event cannot exist: a bad
value raises :class:`~deescalate.EventError` naming the field. Classes are
keyword-only so that adding an optional field never breaks a caller.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

import attrs

from ._errors import EventError, describe
from ._value import value_eq, value_hash, value_repr

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

#: The largest amount an event or a policy takes: the largest float. A bigger integer
#: (JSON has no limit) cannot be compared or stored as the float it stands for.
MAX_AMOUNT = sys.float_info.max


def lone_surrogate(text: str) -> int:
    """The position of the first lone surrogate in ``text``, or -1 if it has none.

    A UTF-16 surrogate on its own (U+D800 to U+DFFF): JSON's ``"\\ud800"`` decodes to
    one, and no encoder can write it out. Searched for only in text that is not ASCII
    (``str.isascii`` is a flag test), so checking costs next to nothing for the usual
    text. Strict UTF-8 encodes every other character, so its first failure is the
    first surrogate (without a regular expression to compile at import).
    """
    if text.isascii():
        return -1
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return -1


class Fault(StrEnum):
    """Who the established facts say is at fault."""

    COMPANY = "company"
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"
    NONE = "none"
    UNKNOWN = "unknown"


class ApologyScope(StrEnum):
    """What an apology is for: the customer's inconvenience, or the company's fault."""

    INCONVENIENCE = "inconvenience"
    COMPANY = "company"


class Actor(StrEnum):
    """Who acts in an event: the helpdesk system, the customer, or the agent (whoever owns it)."""

    SYSTEM = "system"
    CUSTOMER = "customer"
    AGENT = "agent"


class EndReason(StrEnum):
    """Why a conversation was ended before agreement."""

    ABUSE = "abuse"
    CUSTOMER_LEFT = "customer_left"


def _fail(attribute: attrs.Attribute[Any], reason: str) -> None:
    raise EventError(attribute.name, reason)


def surrogate_reason(text: str, position: int) -> str:
    """Why text holding a lone surrogate at ``position`` is refused (the surrogate escaped)."""
    return f"must not hold a lone surrogate (found {text[position]!r} at position {position})"


def _is_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str or not value.isascii():  # the usual: ASCII text, in two tests
        _check_text(attribute.name, value)


def _is_optional_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Every event has an optional event_id: test it here, without a second call.
    if value is not None and (type(value) is not str or not value.isascii()):
        _check_text(attribute.name, value)


def _check_text(field: str, value: object) -> None:
    """Refuse ``value`` unless it is text that can be written out: no lone surrogate."""
    if not isinstance(value, str):
        raise EventError(field, f"must be a string, got {describe(value)}")
    position = lone_surrogate(value)
    if position >= 0:
        raise EventError(field, surrogate_reason(value, position))


def _is_nonblank_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _is_text(instance, attribute, value)
    if not value.strip():  # type: ignore[attr-defined]
        _fail(attribute, "must not be empty")


def _is_flag(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not True and value is not False:
        _fail(attribute, f"must be true or false, got {describe(value)}")


def _is_intensity(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(attribute, f"must be an integer from 0 to 10, got {describe(value)}")
    elif not 0 <= value <= 10:
        _fail(attribute, f"must be from 0 to 10, got {describe(value)}")


def amount_problem(value: object) -> str | None:
    """Why ``value`` is not an amount (a finite number >= 0 a float can hold), or None.

    Shared by events and policy parameters. An integer too large for a float is
    refused here rather than left to fail later, wherever it meets a float.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {describe(value)}"
    if 0 <= value <= MAX_AMOUNT:  # False for nan and inf too
        return None
    if isinstance(value, int) and not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        return "must be a finite number >= 0, got an integer too large for a float (over 1.8e308)"
    return f"must be a finite number >= 0, got {describe(value)}"


def _is_amount(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    kind = type(value)
    if (kind is int or kind is float) and 0 <= value <= MAX_AMOUNT:  # type: ignore[operator]
        return  # the usual JSON number, in two identity tests and a comparison
    problem = amount_problem(value)
    if problem is not None:
        _fail(attribute, problem)


def _is_optional_amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _is_amount(instance, attribute, value)


def _is_texts(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        _fail(attribute, f"must be a list of strings, got {describe(value)}")
    items: tuple[object, ...] = value  # type: ignore[assignment]
    for position, item in enumerate(items):
        if not isinstance(item, str):
            raise EventError(
                f"{attribute.name}[{position}]", f"must be a string, got {describe(item)}"
            )
        if not item.isascii():
            _check_text(f"{attribute.name}[{position}]", item)


def _is_timestamp(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime):
        _fail(attribute, f"must be a timezone-aware datetime, got {describe(value)}")
    elif value.utcoffset() is None:
        _fail(attribute, "must have a UTC offset (for example 2024-05-01T10:00:00+00:00)")


def _choice(kind: type[StrEnum]) -> Validator:
    allowed = ", ".join(member.value for member in kind)

    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            _fail(attribute, f"must be one of {allowed}, got {describe(value)}")

    return check


# Converters accepting the JSON string of a member, and leaving anything else for the
# validator to name. A dict look-up: an enum's own ``Fault(value)`` goes through
# Python-level ``__call__`` and ``__new__``, a cost paid for every parsed event.
_FAULTS: dict[str, Fault] = {member.value: member for member in Fault}
_SCOPES: dict[str, ApologyScope] = {member.value: member for member in ApologyScope}
_REASONS: dict[str, EndReason] = {member.value: member for member in EndReason}


def _to_fault(value: object) -> object:
    return _FAULTS.get(value, value) if isinstance(value, str) else value


def _to_scope(value: object) -> object:
    return _SCOPES.get(value, value) if isinstance(value, str) else value


def _to_reason(value: object) -> object:
    return _REASONS.get(value, value) if isinstance(value, str) else value


def _texts_converter(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(kw_only=True, repr=False, eq=False)
class Event:
    """Fields every event has: when it happened, and an optional delivery id.

    ``at`` must carry a UTC offset. ``event_id`` identifies a webhook delivery: an
    event whose id was already applied to an interaction is ignored as a duplicate.
    """

    # The methods attrs would compile for each of the 20 event classes but ``__init__``,
    # written once (see _value.py): every event class inherits them.
    __repr__ = value_repr
    __eq__ = value_eq
    __hash__ = value_hash

    #: The event's ``type`` in JSON, set by each concrete class.
    type: ClassVar[str] = ""

    at: datetime = attrs.field(validator=_is_timestamp)
    event_id: str | None = attrs.field(default=None, validator=_is_optional_text)

    @property
    def actor(self) -> Actor:
        """Who acts in this event (see :data:`~deescalate.EVENT_ACTORS`)."""
        return EVENT_ACTORS[self.type]

    @property
    def contact(self) -> bool:
        """True for an agent event the customer hears (see :data:`~deescalate.CONTACT_EVENTS`)."""
        return self.type in CONTACT_EVENTS


@attrs.frozen(kw_only=True, repr=False, eq=False)
class InteractionOpened(Event):
    """A complaint interaction starts; the first event of every interaction."""

    type: ClassVar[str] = "interaction_opened"
    interaction_id: str = attrs.field(validator=_is_text)
    customer_name: str | None = attrs.field(default=None, validator=_is_optional_text)
    authority_limit: float | None = attrs.field(default=None, validator=_is_optional_amount)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class CustomerVented(Event):
    """The customer vents, at an ``intensity`` from 0 (calm) to 10 (furious)."""

    type: ClassVar[str] = "customer_vented"
    intensity: int = attrs.field(validator=_is_intensity)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class VentingSubsided(Event):
    """The customer's wave of emotion has passed."""

    type: ClassVar[str] = "venting_subsided"


@attrs.frozen(kw_only=True, repr=False, eq=False)
class ConcernsAcknowledged(Event):
    """The agent summarises the customer's concerns back to them."""

    type: ClassVar[str] = "concerns_acknowledged"
    summary: tuple[str, ...] = attrs.field(converter=_texts_converter, validator=_is_texts)
    used_name: bool = attrs.field(validator=_is_flag)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EmpathyExpressed(Event):
    """The agent shows they understand why the customer is upset."""

    type: ClassVar[str] = "empathy_expressed"


@attrs.frozen(kw_only=True, repr=False, eq=False)
class FactRecorded(Event):
    """One side's account of what happened, from ``source``."""

    type: ClassVar[str] = "fact_recorded"
    source: str = attrs.field(validator=_is_text)
    detail: str = attrs.field(validator=_is_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class FactsEstablished(Event):
    """The facts are known: who is at ``fault`` and the ``root_cause``."""

    type: ClassVar[str] = "facts_established"
    fault: Fault = attrs.field(converter=_to_fault, validator=_choice(Fault))
    root_cause: str = attrs.field(validator=_is_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class ApologyOffered(Event):
    """The agent apologises, for the inconvenience or on behalf of the company."""

    type: ClassVar[str] = "apology_offered"
    scope: ApologyScope = attrs.field(
        converter=_to_scope, validator=_choice(ApologyScope)
    )
    names_individual: bool = attrs.field(validator=_is_flag)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class RemedyProposed(Event):
    """The agent offers a remedy worth ``value`` (in the policy's currency units)."""

    type: ClassVar[str] = "remedy_proposed"
    remedy: str = attrs.field(validator=_is_nonblank_text)
    value: float = attrs.field(default=0, validator=_is_amount)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class RemedyRejected(Event):
    """The customer turns the pending remedy down, perhaps asking for something else."""

    type: ClassVar[str] = "remedy_rejected"
    counter_request: str | None = attrs.field(default=None, validator=_is_optional_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class RemedyAccepted(Event):
    """The customer accepts the pending remedy."""

    type: ClassVar[str] = "remedy_accepted"
    restated: bool = attrs.field(validator=_is_flag)
    confirmation_sent: bool = attrs.field(validator=_is_flag)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class ProgressReported(Event):
    """The company tells the customer how the follow-through is going."""

    type: ClassVar[str] = "progress_reported"
    detail: str = attrs.field(validator=_is_text)


def _not_before_at(instance: CallbackPromised, attribute: attrs.Attribute[Any], value: object) -> None:
    _is_timestamp(instance, attribute, value)
    at = instance.at
    if value < at:  # type: ignore[operator]
        raise EventError(
            "by", f"must not be earlier than at: a callback is not promised for the past ({describe(value)})"
        )


@attrs.frozen(kw_only=True, repr=False, eq=False)
class CallbackPromised(Event):
    """The agent promises to contact the customer again by ``by``: a deadline the company owes."""

    type: ClassVar[str] = "callback_promised"
    by: datetime = attrs.field(validator=_not_before_at)
    detail: str | None = attrs.field(default=None, validator=_is_optional_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class FollowUpCompleted(Event):
    """The agreed remedy has been delivered; ``prevention`` says how it won't recur."""

    type: ClassVar[str] = "follow_up_completed"
    resolved: bool = attrs.field(validator=_is_flag)
    prevention: str = attrs.field(validator=_is_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class ManagerRequested(Event):
    """The customer asks to speak to a manager."""

    type: ClassVar[str] = "manager_requested"


@attrs.frozen(kw_only=True, repr=False, eq=False)
class Escalated(Event):
    """The interaction is handed to another owner (role ``to``), keeping everything learnt."""

    type: ClassVar[str] = "escalated"
    to: str = attrs.field(validator=_is_text)
    authority_limit: float | None = attrs.field(default=None, validator=_is_optional_amount)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class AbuseObserved(Event):
    """The customer is abusive (insults, foul language, threats)."""

    type: ClassVar[str] = "abuse_observed"
    detail: str = attrs.field(validator=_is_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class AbuseWarningGiven(Event):
    """The agent warns the customer that the conversation will end if abuse goes on."""

    type: ClassVar[str] = "abuse_warning_given"


@attrs.frozen(kw_only=True, repr=False, eq=False)
class ConversationEnded(Event):
    """The conversation ends before agreement."""

    type: ClassVar[str] = "conversation_ended"
    reason: EndReason = attrs.field(
        converter=_to_reason, validator=_choice(EndReason)
    )

    @property
    def actor(self) -> Actor:
        """The agent ends an abusive call; a customer who leaves ends it themselves."""
        return Actor.CUSTOMER if self.reason is EndReason.CUSTOMER_LEFT else Actor.AGENT


#: Every concrete event class, by its JSON ``type``, in the order the docs list them.
EVENT_CLASSES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        InteractionOpened,
        CustomerVented,
        VentingSubsided,
        ConcernsAcknowledged,
        EmpathyExpressed,
        FactRecorded,
        FactsEstablished,
        ApologyOffered,
        RemedyProposed,
        RemedyRejected,
        RemedyAccepted,
        ProgressReported,
        CallbackPromised,
        FollowUpCompleted,
        ManagerRequested,
        Escalated,
        AbuseObserved,
        AbuseWarningGiven,
        ConversationEnded,
    )
}

_CUSTOMER_TYPES = frozenset(
    {
        "customer_vented",
        "venting_subsided",
        "remedy_rejected",
        "remedy_accepted",
        "manager_requested",
        "abuse_observed",
    }
)

#: Who acts in each event type. ``conversation_ended`` is listed as the agent's (its
#: reason ``abuse``); with reason ``customer_left`` the customer acts, as
#: ``event.actor`` says. ``abuse_observed`` is the customer's behaviour, recorded by
#: the agent.
EVENT_ACTORS: dict[str, Actor] = {
    kind: Actor.SYSTEM
    if kind == "interaction_opened"
    else Actor.CUSTOMER
    if kind in _CUSTOMER_TYPES
    else Actor.AGENT
    for kind in EVENT_CLASSES
}

#: The agent events the customer hears, in the workflow's order: each one meets a
#: promised callback.
CONTACT_TYPES: tuple[str, ...] = (
    "concerns_acknowledged",
    "empathy_expressed",
    "apology_offered",
    "remedy_proposed",
    "progress_reported",
    "follow_up_completed",
    "abuse_warning_given",
    "callback_promised",
)
#: The same, as a set to test membership.
CONTACT_EVENTS: frozenset[str] = frozenset(CONTACT_TYPES)
