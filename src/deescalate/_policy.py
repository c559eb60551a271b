"""Policies: a named set of rules and the parameters they read.

A policy is an immutable value. Companies derive their own from a built-in one
(``FACTS_FIRST.without("use-their-name").with_params(max_rejections=3)``) or build
one from scratch; every change returns a new policy. The policy indexes its rules
by event type once, so judging an event runs only the rules that look at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._builtin_rules import BUILTIN_RULES, INVALID_TRANSITION
from ._errors import PolicyError, RuleError, describe
from ._findings import Finding, Severity
from ._rules import Parameter, Params, Rule

if TYPE_CHECKING:
    from ._events import Event
    from ._interaction import Interaction

_STRUCTURAL = INVALID_TRANSITION.id


def _name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise PolicyError(f"a policy's name must be a non-empty printable string, got {describe(value)}")


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise PolicyError(f"a policy's rules must be a sequence of Rule values, got {describe(value)}")
    rules = tuple(value)
    for item in rules:
        if not isinstance(item, Rule):
            raise PolicyError(f"a policy's rules must be Rule values, got {describe(item)}")
    return rules


def _params(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Params):
        raise PolicyError(f"a policy's params must be a Params value, got {describe(value)}")


def _rule_id(value: object) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"a rule id must be a string, got {describe(value)}")
    return value


@attrs.frozen(repr=False)
class Policy:
    """A named, immutable set of rules and parameters that judges events."""

    name: str = attrs.field(validator=_name)
    rules: tuple[Rule, ...] = attrs.field(converter=_rules)
    params: Params = attrs.field(factory=Params, validator=_params)
    _by_event: dict[str, tuple[Rule, ...]] = attrs.field(
        init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for item in self.rules:
            if item.id == _STRUCTURAL:
                raise PolicyError(
                    f"{_STRUCTURAL} is part of every policy and cannot be added, dropped or re-graded"
                )
            if item.id in seen:
                raise PolicyError(f"rule id {item.id!r} appears twice in policy {self.name!r}")
            seen.add(item.id)
        wanted = tuple(p for item in self.rules for p in item.params)
        if wanted:
            known = set(self.params.declared)
            missing = tuple(p for p in wanted if p not in known)
            if missing:
                object.__setattr__(self, "params", self.params.declaring(missing))
        by_event: dict[str, list[Rule]] = {}
        for item in self.rules:
            for event_type in item.on:
                by_event.setdefault(event_type, []).append(item)
        object.__setattr__(self, "_by_event", {k: tuple(v) for k, v in by_event.items()})

    def __repr__(self) -> str:
        # Short: a policy shows up in signatures, help() and test output, where its
        # rules' whole text would flood everything. ``rule_ids`` and ``rule()`` show more.
        params = ", ".join(f"{name}={value}" for name, value in self.params.to_json().items())
        count = len(self.rules)
        return f"<Policy {self.name!r}: {count} rule{'' if count == 1 else 's'}; {params}>"

    # -- reading --------------------------------------------------------------

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the policy's rules, in order (``invalid-transition`` apart)."""
        return tuple(item.id for item in self.rules)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (including the structural ``invalid-transition``)."""
        rule_id = _rule_id(rule_id)
        if rule_id == _STRUCTURAL:
            return INVALID_TRANSITION
        for item in self.rules:
            if item.id == rule_id:
                return item
        raise PolicyError(f"policy {self.name!r} has no rule {describe(rule_id)}")

    def rules_for(self, event_type: str) -> tuple[Rule, ...]:
        """The rules that look at events of ``event_type``, in policy order."""
        return self._by_event.get(event_type, ())

    def judge(self, interaction: Interaction, event: Event) -> tuple[Finding, ...]:
        """The findings of every rule that looks at ``event``, given the interaction before it.

        A rule whose code raises (its check, or filling in its message) is a defect
        of the policy: it raises :class:`~deescalate.RuleError` naming the rule, the
        event type and the event's position, with the original exception as cause.
        """
        params = self.params
        findings: tuple[Finding, ...] = ()
        for item in self._by_event.get(event.type, ()):
            try:  # free in Python 3.11 until something raises
                verdict = item.check(interaction, event, params)
                if verdict:  # most rules stay quiet: skip Rule.judge's call for them
                    findings += (item._finding(verdict, interaction, event, params),)
            except Exception as error:
                raise RuleError(
                    item.id, event.type, len(interaction.history), RuleError.explain(error)
                ) from error
        return findings

    # -- deriving -------------------------------------------------------------

    def named(self, name: str) -> Policy:
        """This policy under another name (name your company's policy)."""
        return attrs.evolve(self, name=name)

    def with_rules(self, *rules: Rule, replace: bool = False) -> Policy:
        """This policy with more rules, appended; ``replace=True`` swaps rules of the same id."""
        current = list(self.rules)
        for new in rules:
            ids = [item.id for item in current]
            if new.id in ids:
                if not replace:
                    raise PolicyError(
                        f"policy {self.name!r} already has a rule {new.id!r} (pass replace=True)"
                    )
                current[ids.index(new.id)] = new
            else:
                current.append(new)
        return attrs.evolve(self, rules=tuple(current))

    def without(self, *rule_ids: str) -> Policy:
        """This policy without the named rules."""
        for rule_id in map(_rule_id, rule_ids):
            self.rule(rule_id)  # raises for an unknown id
            if rule_id == _STRUCTURAL:
                raise PolicyError(f"{_STRUCTURAL} is part of every policy and cannot be dropped")
        return attrs.evolve(self, rules=tuple(r for r in self.rules if r.id not in rule_ids))

    def regraded(self, rule_id: str, severity: Severity | str) -> Policy:
        """This policy with one rule's severity changed."""
        if _rule_id(rule_id) == _STRUCTURAL:
            raise PolicyError(f"{_STRUCTURAL} is always a violation")
        self.rule(rule_id)
        return attrs.evolve(
            self,
            rules=tuple(r.regraded(severity) if r.id == rule_id else r for r in self.rules),
        )

    def with_params(self, **changes: Any) -> Policy:
        """This policy with some parameters changed (``max_rejections=3``, ``escalate_within="PT5M"``...).

        Takes the built-in parameters and the policy's own declared ones; an unknown
        name or a value of the wrong kind raises :class:`~deescalate.PolicyError`.
        """
        return attrs.evolve(self, params=self.params.changed(**changes))

    def declaring(self, *parameters: Parameter) -> Policy:
        """This policy with parameters of its own declared, at their defaults (see :class:`Parameter`)."""
        return attrs.evolve(self, params=self.params.declaring(parameters))


def _builtin(name: str, excluded: Iterable[str]) -> Policy:
    skip = set(excluded)
    return Policy(name, tuple(r for r in BUILTIN_RULES if r.id not in skip))


#: The default policy: establish the facts before apologising for the company.
FACTS_FIRST: Policy = _builtin("facts-first", ["always-apologize"])

#: Always apologise (for the inconvenience at least) before proposing a remedy.
APOLOGIZE_FIRST: Policy = _builtin(
    "apologize-first", ["no-company-apology-before-facts", "apologize-only-when-warranted"]
)

#: The built-in policies by name.
BUILTIN_POLICIES: dict[str, Policy] = {p.name: p for p in (FACTS_FIRST, APOLOGIZE_FIRST)}
