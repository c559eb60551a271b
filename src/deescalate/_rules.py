"""Rules: small, named, graded functions that judge one event.

A rule looks at the interaction *as it was before* the event, the event itself and
the policy's parameters, and says whether it fires. Built-in rules and custom ones
are the same kind of value, made with the same :func:`rule` decorator, so a custom
rule is as easy to write (and to test: a rule is callable) as a built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import PolicyError
from ._events import EVENT_CLASSES
from ._findings import Finding, Severity

if TYPE_CHECKING:
    from ._interaction import Interaction

#: A rule's check: ``(interaction before the event, event, params)``. A true result
#: fires the rule with its message; a non-empty string fires it with that message.
Check = Callable[["Interaction", Any, "Params"], bool | str | None]

_RULE_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"parameter {attribute.name} must be an integer >= 0, got {value!r}")


def _limit(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float(
        "inf"
    ):
        raise PolicyError(f"parameter {attribute.name} must be a finite number >= 0, got {value!r}")


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
            f"rule id must be lowercase words joined by '-' (like 'within-authority'), got {value!r}"
        )


def _event_types(value: Iterable[str] | str) -> frozenset[str]:
    types = frozenset([value] if isinstance(value, str) else value)
    unknown = sorted(t for t in types if t not in EVENT_CLASSES)
    if unknown:
        raise PolicyError(f"unknown event type(s) {', '.join(map(repr, unknown))} in a rule's 'on'")
    if "interaction_opened" in types:
        raise PolicyError("rules cannot look at interaction_opened: it creates the interaction")
    if not types:
        raise PolicyError("a rule must look at one event type at least")
    return types


def _severity(value: Severity | str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise PolicyError(f"severity must be 'violation' or 'warning', got {value!r}") from None


@attrs.frozen
class Rule:
    """A named check with a severity, the event types it looks at, and why it exists.

    ``message`` may use ``{event}``, ``{interaction}`` and ``{params}`` fields, as in
    ``"remedy worth {event.value} is over the limit {interaction.authority_limit}"``.
    ``principle`` is the good practice the rule encodes; ``advice`` says what the
    agent should have done instead. Calling a rule runs its check.
    """

    id: str = attrs.field(validator=_rule_id)
    severity: Severity = attrs.field(converter=_severity)
    on: frozenset[str] = attrs.field(converter=_event_types)
    check: Check = attrs.field(eq=False)
    message: str
    principle: str = ""
    advice: str = ""

    def __call__(self, interaction: Interaction, event: Any, params: Params) -> bool | str | None:
        return self.check(interaction, event, params)

    def judge(self, interaction: Interaction, event: Any, params: Params) -> Finding | None:
        """The finding this rule gives ``event``, or ``None`` when it stays quiet."""
        verdict = self.check(interaction, event, params)
        return self._finding(verdict, interaction, event, params) if verdict else None

    def _finding(
        self, verdict: bool | str, interaction: Interaction, event: Any, params: Params
    ) -> Finding:
        """The finding for a true ``verdict`` of the check: its message, or the rule's."""
        message = self.message
        if isinstance(verdict, str):
            text = verdict
        elif "{" not in message and "}" not in message:
            text = message  # nothing to fill in: what format() would return, without its cost
        else:
            try:
                text = message.format(event=event, interaction=interaction, params=params)
            except (LookupError, AttributeError, ValueError, IndexError):
                text = message
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
        return Rule(
            id=id,
            severity=severity,
            on=on,
            check=check,
            message=message,
            principle=principle or (check.__doc__ or "").strip(),
            advice=advice,
        )

    return make
