"""Rules: small, named, graded functions that judge one event.

A rule looks at the interaction *as it was before* the event, the event itself and
the policy's parameters, and says whether it fires. Built-in rules and custom ones
are the same kind of value, made with the same :func:`rule` decorator, so a custom
rule is as easy to write (and to test: a rule is callable) as a built-in one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import PolicyError, RuleError, describe
from ._events import EVENT_CLASSES, amount_problem, lone_surrogate
from ._findings import Finding, Severity

if TYPE_CHECKING:
    from ._interaction import Interaction

#: A rule's check: ``(interaction before the event, event, params)``. A true result
#: fires the rule with its message; a non-empty string fires it with that message.
Check = Callable[["Interaction", Any, "Params"], bool | str | None]

_RULE_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


#: The largest count a policy parameter takes: a snapshot stores it as a JSON number,
#: which other languages read as a 64-bit integer at most.
MAX_COUNT = 2**63 - 1


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


@attrs.frozen
class Params:
    """The tunable numbers of a policy.

    ``authority_limit`` is the agent's default limit for a remedy's value (an
    ``interaction_opened`` event may set another); ``max_rejections`` is how many
    rejected remedies an owner may have before they must hand off;
    ``min_fact_sources`` is how many distinct sources must be heard before facts
    are established; ``warnings_before_ending`` is how many warnings must follow
    the first abuse before an abusive call may be ended.
    """

    authority_limit: float = attrs.field(default=100, validator=_limit)
    max_rejections: int = attrs.field(default=2, validator=_positive_int)
    min_fact_sources: int = attrs.field(default=2, validator=_positive_int)
    warnings_before_ending: int = attrs.field(default=1, validator=_positive_int)


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
        _check_template(instance.id, instance.on, value)


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


def _check_template(rule_id: str, on: frozenset[str], message: str, depth: int = 0) -> None:
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
        parts = list(string.Formatter().parse(message))
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
            first = re.split(r"[.\[]", rest[1:], maxsplit=1)[0]
            if root == "event":
                for event_type in sorted(on):
                    if first not in _event_fields(event_type):
                        raise refuse(f"field {shown}: {event_type} events have no field {describe(first)}")
            elif first not in _attributes(root):
                lacking = "the interaction has no attribute" if root == "interaction" else "no parameter is"
                raise refuse(f"field {shown}: {lacking} {describe(first)}")
        if conversion is not None and conversion not in ("r", "s", "a"):
            raise refuse(f"field {shown} has the unknown conversion !{describe(conversion)[1:-1]}")
        if spec and ("{" in spec or "}" in spec) and depth < 2:
            _check_template(rule_id, on, spec, depth + 1)


@attrs.frozen
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

    id: str = attrs.field(validator=_rule_id)
    severity: Severity = attrs.field(converter=_severity)
    on: frozenset[str] = attrs.field(converter=_event_types)
    check: Check = attrs.field(eq=False, validator=_callable)
    message: str = attrs.field(validator=_template)
    principle: str = attrs.field(default="", validator=_text)
    advice: str = attrs.field(default="", validator=_text)

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
) -> Callable[[Check], Rule]:
    """Turn a check function into a :class:`Rule`.

    ::

        @rule("refund-needs-order", severity="violation", on="remedy_proposed",
              message="a refund was offered with no order number on file")
        def refund_needs_order(interaction, event, params):
            return "refund" in event.remedy and not interaction.facts
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
        )

    return make
