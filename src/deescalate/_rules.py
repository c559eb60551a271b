"""Rules: small, named, graded functions that judge one event.

A rule looks at the interaction *as it was before* the event, the event itself and
the policy's parameters, and says whether it fires. Built-in rules and custom ones
are the same kind of value, made with the same :func:`rule` decorator, so a custom
rule is as easy to write (and to test: a rule is callable) as a built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from ._durations import MAX_DURATION, format_duration, parse_duration
from ._errors import ArgumentError, PolicyError, RuleError, describe
from ._events import EVENT_CLASSES, amount_problem, lone_surrogate
from ._findings import Finding, Severity
from ._value import value_repr

if TYPE_CHECKING:
    from ._interaction import Interaction

    def formatter_parser(message: str, /) -> Iterator[tuple[str, str | None, str | None, str | None]]:
        """What ``string.Formatter().parse(message)`` returns: its (text, field, spec, conversion)."""
else:
    # What string.Formatter().parse calls. Importing string compiles the regular
    # expression of its Template class, a cost every start-up paid for nothing.
    from _string import formatter_parser

#: A rule's check: ``(interaction before the event, event, params)``. A true result
#: fires the rule with its message; a non-empty string fires it with that message.
Check = Callable[["Interaction", Any, "Params"], bool | str | None]

_RULE_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


#: The largest count a policy parameter takes: a snapshot stores it as a JSON number,
#: which other languages read as a 64-bit integer at most.
MAX_COUNT = 2**63 - 1

#: The built-in parameters' names, in order.
_BUILTIN_PARAMS: tuple[str, ...] = (
    "authority_limit",
    "max_rejections",
    "min_fact_sources",
    "warnings_before_ending",
    "progress_every",
    "follow_up_within",
    "escalate_within",
)


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise PolicyError(
            f"parameter {attribute.name} must be an integer from 0 to 2**63 - 1, got {_quote(value)}"
        )


def _limit(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    problem = amount_problem(value)
    if problem is not None:
        raise PolicyError(f"parameter {attribute.name} {problem}")


def _quote(value: object) -> str:
    """``describe(value)``, but an integer too long to print is said to be one."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of {'-' if value < 0 else ''}more than 60 digits"
    return describe(value)


def _duration(value: object) -> object:
    """An ISO-8601 duration string as a ``timedelta``; anything else is left to the validator."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ArgumentError as error:
            return _BadDuration(error.reason)
    return value


@attrs.frozen(repr=False)
class _BadDuration:
    """What the converter hands the validator for text that is no duration: the reason."""

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    reason: str


def _span(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    problem = duration_problem(value)
    if problem is not None:
        raise PolicyError(f"parameter {attribute.name} {problem}")


def duration_problem(value: object) -> str | None:
    """Why ``value`` is not a deadline's duration (positive, or None for "off"), or None."""
    if value is None:
        return None
    if isinstance(value, _BadDuration):
        return value.reason
    if not isinstance(value, timedelta):
        return (
            "must be a timedelta, an ISO-8601 duration such as PT10M or P7D, "
            f"or None to turn it off, got {describe(value)}"
        )
    if value <= timedelta(0):
        return f"must be longer than zero (None turns it off), got {format_duration(value)}"
    if value > MAX_DURATION:
        return f"must be at most {format_duration(MAX_DURATION)}, got {format_duration(value)}"
    return None


class ParameterKind(StrEnum):
    """What a custom parameter holds, which says how it is validated and written in JSON."""

    #: A number >= 0 (an amount of money, a score).
    AMOUNT = "amount"
    #: An integer >= 0 (a count of events).
    COUNT = "count"
    #: A ``timedelta`` (ISO-8601 in JSON), or None for "off".
    DURATION = "duration"
    #: A string.
    TEXT = "text"
    #: True or false.
    FLAG = "flag"


_KINDS: dict[str, ParameterKind] = {kind.value: kind for kind in ParameterKind}


def _kind(value: object) -> ParameterKind:
    found = _KINDS.get(value) if isinstance(value, str) else None
    if found is None:
        raise PolicyError(
            f"a parameter's kind must be one of {', '.join(_KINDS)}, got {describe(value)}"
        )
    return found


def _identifier(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.isidentifier() or not value.isascii() or value.startswith("_"):
        raise PolicyError(
            f"a parameter's name must be a Python identifier such as refund_limit, got {describe(value)}"
        )
    if value in _BUILTIN_PARAMS:
        raise PolicyError(f"{value} is a built-in parameter: change it with with_params, do not declare it")


def kind_problem(kind: ParameterKind, value: object) -> str | None:
    """Why ``value`` is not a value of ``kind``, or None."""
    if kind is ParameterKind.AMOUNT:
        return amount_problem(value)
    if kind is ParameterKind.COUNT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            return f"must be an integer from 0 to 2**63 - 1, got {_quote(value)}"
        return None
    if kind is ParameterKind.DURATION:
        return duration_problem(value)
    if kind is ParameterKind.TEXT:
        if not isinstance(value, str):
            return f"must be a string, got {describe(value)}"
        position = lone_surrogate(value)
        return None if position < 0 else f"must not hold a lone surrogate (at position {position})"
    if value is not True and value is not False:
        return f"must be true or false, got {describe(value)}"
    return None


@attrs.frozen(repr=False)
class Parameter:
    """A parameter of a company's own, declared so that policies validate and carry it.

    Declare it on the rules that read it (``@rule(..., params=[REFUND_LIMIT])``) or
    on a policy (``policy.declaring(REFUND_LIMIT)``); then ``with_params`` takes it,
    rules read it as ``params.refund_limit``, snapshots record it and reports show
    it. ``kind`` says what it holds (see :class:`ParameterKind`); ``default`` must
    be a value of that kind.
    """

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    name: str = attrs.field(validator=_identifier)
    kind: ParameterKind = attrs.field(converter=_kind)
    default: Any = attrs.field()
    doc: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "default", self.validated(self.default))
        if not isinstance(self.doc, str):
            raise PolicyError(f"parameter {self.name}: its doc must be a string, got {describe(self.doc)}")

    def validated(self, value: object) -> Any:
        """``value`` as this parameter holds it (ISO-8601 text becomes a duration), or PolicyError."""
        if self.kind is ParameterKind.DURATION:
            value = _duration(value)
        problem = kind_problem(self.kind, value)
        if problem is not None:
            raise PolicyError(f"parameter {self.name} {problem}")
        return value


def _custom(value: object) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, dict) else value
    try:
        return tuple(sorted((str(k), v) for k, v in items))  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise PolicyError(
            f"custom parameters must be a dict of name to value, got {describe(value)}"
        ) from None


def _declared(value: object) -> tuple[Parameter, ...]:
    if isinstance(value, Parameter):
        value = (value,)
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise PolicyError(f"declared parameters must be Parameter values, got {describe(value)}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, Parameter):
            raise PolicyError(f"declared parameters must be Parameter values, got {describe(item)}")
    return items


@attrs.frozen(repr=False)
class Params:
    """The tunable values of a policy.

    ``authority_limit`` is the agent's default limit for a remedy's value (an
    ``interaction_opened`` event may set another); ``max_rejections`` is how many
    rejected remedies an owner may have before they must hand off;
    ``min_fact_sources`` is how many distinct sources must be heard before facts
    are established; ``warnings_before_ending`` is how many warnings must follow
    the first abuse before an abusive call may be ended.

    The deadlines are durations (a ``timedelta``, or ISO-8601 text such as
    ``"PT10M"``), each turned off by None: ``progress_every`` is how often the
    customer hears how an agreed remedy is going; ``follow_up_within`` is how long
    after agreement the follow-through may take; ``escalate_within`` is how soon a
    customer's request for a manager must be met.

    A policy's own parameters (see :class:`Parameter`) are read as attributes too:
    ``params.refund_limit``.
    """

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    authority_limit: float = attrs.field(default=100, validator=_limit)
    max_rejections: int = attrs.field(default=2, validator=_positive_int)
    min_fact_sources: int = attrs.field(default=2, validator=_positive_int)
    warnings_before_ending: int = attrs.field(default=1, validator=_positive_int)
    progress_every: timedelta | None = attrs.field(
        default=timedelta(hours=24), converter=_duration, validator=_span
    )
    follow_up_within: timedelta | None = attrs.field(
        default=timedelta(days=7), converter=_duration, validator=_span
    )
    escalate_within: timedelta | None = attrs.field(
        default=timedelta(minutes=10), converter=_duration, validator=_span
    )
    #: The declarations of the policy's own parameters.
    declared: tuple[Parameter, ...] = attrs.field(default=(), converter=_declared, repr=False)
    #: The values of the policy's own parameters, as sorted (name, value) pairs.
    custom: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_custom)

    def __attrs_post_init__(self) -> None:
        declared: dict[str, Parameter] = {}
        for parameter in self.declared:
            earlier = declared.get(parameter.name)
            if earlier is not None and earlier != parameter:
                raise PolicyError(
                    f"parameter {parameter.name} is declared twice, differently "
                    f"({earlier.kind} default {describe(earlier.default)}, "
                    f"{parameter.kind} default {describe(parameter.default)})"
                )
            declared[parameter.name] = parameter
        values = dict(self.custom)
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise PolicyError(
                f"unknown policy parameter(s): {', '.join(unknown)} "
                "(declare a parameter of your own with Parameter, on a rule or with Policy.declaring)"
            )
        checked = {
            name: p.validated(values[name]) if name in values else p.default
            for name, p in declared.items()
        }
        object.__setattr__(self, "declared", tuple(declared.values()))
        object.__setattr__(self, "custom", tuple(sorted(checked.items())))

    def __getattr__(self, name: str) -> Any:
        # Reached only for names that are no field: a policy's own parameter, or an error.
        if not name.startswith("__"):
            for key, value in object.__getattribute__(self, "custom"):
                if key == name:
                    return value
        raise AttributeError(f"the policy has no parameter {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """Every parameter's name: the built-in ones, then the policy's own."""
        return _BUILTIN_PARAMS + tuple(name for name, _ in self.custom)

    def as_dict(self) -> dict[str, Any]:
        """Every parameter by name, as Python values (durations as ``timedelta``)."""
        return {name: getattr(self, name) for name in self.names}

    def to_json(self) -> dict[str, Any]:
        """Every parameter by name, as JSON values: durations as ISO-8601 text, off as null."""
        return {
            name: format_duration(value) if isinstance(value, timedelta) else value
            for name, value in self.as_dict().items()
        }

    def changed(self, **changes: Any) -> Params:
        """These parameters with some changed, built-in or declared; unknown names raise."""
        own = {p.name for p in self.declared}
        unknown = sorted(set(changes) - set(_BUILTIN_PARAMS) - own)
        if unknown:
            hint = ", ".join(own) if own else "none declared"
            raise PolicyError(
                f"unknown policy parameter(s): {', '.join(unknown)} (built-in: {', '.join(_BUILTIN_PARAMS)}; "
                f"the policy's own: {hint}; declare one with Parameter)"
            )
        builtin = {k: v for k, v in changes.items() if k in _BUILTIN_PARAMS}
        custom = dict(self.custom)
        custom.update({k: v for k, v in changes.items() if k in own})
        return attrs.evolve(self, **builtin, custom=custom)

    def declaring(self, parameters: Iterable[Parameter]) -> Params:
        """These parameters with more declared (each at its default unless already set)."""
        return attrs.evolve(self, declared=self.declared + _declared(parameters))


def _rule_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _RULE_ID.match(value):
        raise PolicyError(
            "rule id must be lowercase words joined by '-' (like 'within-authority'), "
            f"got {describe(value)}"
        )


def _event_types(value: Iterable[str] | str) -> frozenset[str]:
    try:
        types = frozenset([value] if isinstance(value, str) else value)
    except TypeError:
        raise PolicyError(
            f"a rule's 'on' must be an event type or a list of them, got {describe(value)}"
        ) from None
    unknown = sorted(map(describe, (t for t in types if t not in EVENT_CLASSES)))
    if unknown:
        raise PolicyError(f"unknown event type(s) {', '.join(unknown)} in a rule's 'on'")
    if "interaction_opened" in types:
        raise PolicyError("rules cannot look at interaction_opened: it creates the interaction")
    if not types:
        raise PolicyError("a rule must look at one event type at least")
    return types


_SEVERITIES: dict[str, Severity] = {severity.value: severity for severity in Severity}


def _severity(value: Severity | str) -> Severity:
    found = _SEVERITIES.get(value) if isinstance(value, str) else None
    if found is None:
        raise PolicyError(f"severity must be 'violation' or 'warning', got {describe(value)}")
    return found


def _callable(instance: Rule, _: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise PolicyError(
            f"rule {instance.id!r}: its check must be a function "
            f"(interaction, event, params), got {describe(value)}"
        )


def _text(instance: Rule, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise PolicyError(
            f"rule {instance.id!r}: its {attribute.name} must be a string, got {describe(value)}"
        )
    position = lone_surrogate(value)
    if position >= 0:
        raise PolicyError(
            f"rule {instance.id!r}: its {attribute.name} holds a lone surrogate "
            f"({value[position]!r} at position {position}), which no output can encode"
        )


def _template(instance: Rule, attribute: attrs.Attribute[Any], value: str) -> None:
    _text(instance, attribute, value)
    if "{" in value or "}" in value:
        # Validators run once every field is set, so the rule's own parameters are known.
        own = frozenset(p.name for p in _declared(instance.params))
        _check_template(instance.id, instance.on, value, own=own)


# What a message may name: the three arguments of format(), and after each, as its
# first attribute, what every value passed there has. Computed on first use.
_TEMPLATE_ROOTS = ("event", "interaction", "params")
_FIELD = re.compile(r"([^.\[]*)((?:\.[^.\[]+|\[[^\]]+\])*)")
_ATTRIBUTES: dict[str, frozenset[str]] = {}


def _attributes(root: str) -> frozenset[str]:
    """The attributes ``{interaction.X}`` (fields and properties) or ``{params.X}`` may name."""
    names = _ATTRIBUTES.get(root)
    if names is None:
        from ._interaction import Interaction

        cls: type = Interaction if root == "interaction" else Params
        found = {field.name for field in attrs.fields(cls)}
        for klass in cls.__mro__:
            found.update(name for name, item in vars(klass).items() if isinstance(item, property))
        names = _ATTRIBUTES[root] = frozenset(found)
    return names


def _event_fields(event_type: str) -> frozenset[str]:
    return frozenset(["type", *(field.name for field in attrs.fields(EVENT_CLASSES[event_type]))])


def _check_template(
    rule_id: str, on: frozenset[str], message: str, depth: int = 0, own: frozenset[str] = frozenset()
) -> None:
    """Refuse a message template that could not be filled in for some event in ``on``.

    Each replacement field must start with ``event``, ``interaction`` or ``params``,
    and the attribute right after it must exist: a field of every event type the
    rule looks at (or ``type``), an attribute of the interaction, a parameter.
    Deeper attributes and what a format spec does with a value are left to run
    time (an error there is a :class:`~deescalate.RuleError`).
    """

    def refuse(reason: str) -> PolicyError:
        return PolicyError(f"rule {rule_id!r}: its message {reason}")

    try:
        parts = list(formatter_parser(message))
    except ValueError as error:
        raise refuse(f"is not a valid template ({error}; write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        shown = describe("{" + name + "}")
        match = _FIELD.fullmatch(name)
        if match is None:
            raise refuse(f"field {shown} is not a valid replacement field")
        root, rest = match.groups()
        if root not in _TEMPLATE_ROOTS:
            raise refuse(f"field {shown} must start with event, interaction or params")
        if rest.startswith("["):
            raise refuse(f"field {shown} indexes {root}, which has attributes (like {{{root}.x}}) only")
        if rest:
            first = rest[1:].split(".", 1)[0].split("[", 1)[0]  # up to the next . or [
            if root == "event":
                for event_type in sorted(on):
                    if first not in _event_fields(event_type):
                        raise refuse(f"field {shown}: {event_type} events have no field {describe(first)}")
            elif first not in _attributes(root) and not (root == "params" and first in own):
                lacking = "the interaction has no attribute" if root == "interaction" else "no parameter is"
                raise refuse(f"field {shown}: {lacking} {describe(first)}")
        if conversion is not None and conversion not in ("r", "s", "a"):
            raise refuse(f"field {shown} has the unknown conversion !{describe(conversion)[1:-1]}")
        if spec and ("{" in spec or "}" in spec) and depth < 2:
            _check_template(rule_id, on, spec, depth + 1, own)


@attrs.frozen(repr=False)
class Rule:
    """A named check with a severity, the event types it looks at, and why it exists.

    ``message`` may use ``{event}``, ``{interaction}`` and ``{params}`` fields, as in
    ``"remedy worth {event.value} is over the limit {interaction.authority_limit}"``.
    A field that cannot be filled in for some event the rule looks at (a misspelt
    ``{event.valeu}``) is refused when the rule is built, with a
    :class:`~deescalate.PolicyError`, rather than found out in production.
    ``principle`` is the good practice the rule encodes; ``advice`` says what the
    agent should have done instead. Calling a rule runs its check.
    """

    __repr__ = value_repr  # as attrs writes it, without compiling one for the class

    id: str = attrs.field(validator=_rule_id)
    severity: Severity = attrs.field(converter=_severity)
    on: frozenset[str] = attrs.field(converter=_event_types)
    check: Check = attrs.field(eq=False, validator=_callable)
    message: str = attrs.field(validator=_template)
    principle: str = attrs.field(default="", validator=_text)
    advice: str = attrs.field(default="", validator=_text)
    #: The policy's own parameters this rule reads: a policy with the rule declares them.
    params: tuple[Parameter, ...] = attrs.field(default=(), converter=_declared)

    def __call__(self, interaction: Interaction, event: Any, params: Params) -> bool | str | None:
        return self.check(interaction, event, params)

    def judge(self, interaction: Interaction, event: Any, params: Params) -> Finding | None:
        """The finding this rule gives ``event``, or ``None`` when it stays quiet.

        Raises :class:`~deescalate.RuleError` (its ``index`` None) when the rule's
        own code raises, in its check or filling in its message: a defect of the
        rule, named, with the original exception as the cause.
        """
        try:
            verdict = self.check(interaction, event, params)
            return self._finding(verdict, interaction, event, params) if verdict else None
        except Exception as error:
            kind = getattr(event, "type", None)
            raise RuleError(
                self.id,
                kind if isinstance(kind, str) else type(event).__name__,
                None,
                RuleError.explain(error),
            ) from error

    def _finding(
        self, verdict: bool | str, interaction: Interaction, event: Any, params: Params
    ) -> Finding:
        """The finding for a true ``verdict`` of the check: its message, or the rule's.

        Raises whatever filling in the message raises (the policy names the rule),
        and :class:`~deescalate.PolicyError` for a message that no output could
        encode (a lone surrogate).
        """
        message = self.message
        if isinstance(verdict, str):
            text = verdict
        elif "{" not in message and "}" not in message:
            return Finding(self.id, self.severity, message, event.type)  # checked when built
        else:
            text = message.format(event=event, interaction=interaction, params=params)
        if not text.isascii():
            position = lone_surrogate(text)
            if position >= 0:
                raise PolicyError(
                    f"its message holds a lone surrogate ({text[position]!r} at position {position}), "
                    "which no output can encode"
                )
        return Finding(self.id, self.severity, text, event.type)

    def regraded(self, severity: Severity | str) -> Rule:
        """This rule with another severity."""
        return attrs.evolve(self, severity=severity)


def rule(
    id: str,
    *,
    severity: Severity | str,
    on: Iterable[str] | str,
    message: str,
    principle: str = "",
    advice: str = "",
    params: Iterable[Parameter] = (),
) -> Callable[[Check], Rule]:
    """Turn a check function into a :class:`Rule`.

    ::

        @rule("refund-needs-order", severity="violation", on="remedy_proposed",
              message="a refund was offered with no order number on file")
        def refund_needs_order(interaction, event, params):
            return "refund" in event.remedy and not interaction.facts

    ``params`` lists the policy's own parameters (:class:`Parameter`) the rule
    reads; any policy holding the rule declares them.
    """

    def make(check: Check) -> Rule:
        doc = getattr(check, "__doc__", None)
        return Rule(
            id=id,
            severity=severity,
            on=on,
            check=check,
            message=message,
            principle=principle or (doc.strip() if isinstance(doc, str) else ""),
            advice=advice,
            params=params,
        )

    return make
