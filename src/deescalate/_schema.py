"""The JSON Schema (draft 2020-12) of every event type, and of a transcript line.

Generated from the event classes, never written by hand: each field's JSON form
comes from its attrs validator (through :data:`_RULES`, the one table to extend
when a field gets a validator of a new kind), whether it may be left out or
``null`` from its default, the event's ``description`` from its docstring. A field
whose validator is not in the table stops :func:`json_schema` with an error, so an
event class cannot be added with a field the schema does not describe.

What the schema accepts the parser (:func:`~deescalate.parse_event`,
:func:`~deescalate.event_from_dict`) accepts, except for what JSON Schema cannot
state, which the parser alone checks: a ``callback_promised`` whose ``by`` is
earlier than its ``at`` (one field compared with another), text holding a lone
UTF-16 surrogate (``"\\ud800"``: no regular expression that every validator reads
can name one), and an intensity written with a fraction (``5.0``: JSON Schema
counts it as the integer 5). Timestamps are described as the RFC 3339 forms
Python writes and reads on every supported version; the parser also reads a few
other ISO-8601 spellings (``20260302T0900Z``, week dates) that the schema refuses.

The regular expressions keep to what JavaScript, Python and Go (RE2) all read:
no lookaround, no ``\\d`` or ``\\s`` (whose meanings differ), no ``\\u`` escapes
(characters are written as themselves).

Pure: no I/O. ``src/deescalate/transcript-line.schema.json`` is this module's
output, written by ``python tools/schema.py``; a test fails when it is stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import attrs

from . import _events
from ._errors import ArgumentTypeError, ArgumentValueError, describe
from ._events import EVENT_CLASSES, Event

DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: The name, in ``$defs``, of the timestamp's schema (the event types' own names are
#: lowercase, so no event type can take it).
TIMESTAMP = "Timestamp"

#: The characters ``str.strip()`` removes (those for which ``str.isspace()`` is true):
#: a remedy must hold something else. A test checks this against Python's own table.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _char_class(chars: str, negated: bool = False) -> str:
    """A regular-expression class of ``chars``, written as themselves, runs as ranges."""
    codes = sorted(set(map(ord, chars)))
    parts: list[str] = []
    start = end = codes[0]
    for code in [*codes[1:], -1]:
        if code == end + 1:
            end = code
            continue
        parts.append(chr(start) if start == end else f"{chr(start)}-{chr(end)}")
        start = end = code
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def _timestamp_pattern() -> str:
    """RFC 3339 with the choices Python's ``datetime.fromisoformat`` reads on every version.

    A calendar date (years 0001 to 9999, days that exist, leap years included), ``T``
    or a space, the time to the minute or the second with up to 6 fractional digits,
    and ``Z`` or a ``+hh:mm`` offset (with seconds, as ``isoformat()`` writes an offset
    that has them). No leap second: a ``datetime`` has none.
    """
    year = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    leap_year = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
    day_of = {
        "(?:0[13578]|1[02])": "(?:0[1-9]|[12][0-9]|3[01])",
        "(?:0[469]|11)": "(?:0[1-9]|[12][0-9]|30)",
        "02": "(?:0[1-9]|1[0-9]|2[0-8])",
    }
    months = "|".join(f"{month}-{day}" for month, day in day_of.items())
    date = f"(?:{year}-(?:{months})|{leap_year}-02-29)"
    hour, minute, fraction = "(?:[01][0-9]|2[0-3])", "[0-5][0-9]", "(?:\\.[0-9]{1,6})?"
    clock = f"{hour}:{minute}(?::{minute}{fraction})?"
    offset = f"(?:Z|[+-]{hour}:{minute}(?::{minute}{fraction})?)"
    return f"^{date}[T ]{clock}{offset}$"


def _timestamp_schema() -> dict[str, Any]:
    return {
        "description": (
            "An ISO-8601 (RFC 3339) timestamp with a UTC offset, at most 6 fractional digits: "
            "2026-03-02T09:00:00Z, 2026-03-02T10:00:00.250+01:00."
        ),
        "type": "string",
        "pattern": _timestamp_pattern(),
        # "$" also matches before a final newline in some engines (Python's): refuse it.
        "not": {"pattern": "\n"},
    }


def _amount() -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "maximum": _events.MAX_AMOUNT}


def _enum(validator: Any) -> dict[str, Any]:
    """The members of the enum that a validator of ``_choice(kind)`` accepts, as strings."""
    cells = dict(zip(validator.__code__.co_freevars, validator.__closure__ or (), strict=True))
    kind = cells["kind"].cell_contents
    return {"type": "string", "enum": [member.value for member in kind]}


_BY_NOTE = (
    "Not earlier than at: the one rule of an event that JSON Schema cannot state "
    "(it compares two fields), checked by the parser alone."
)


class _Rule(NamedTuple):
    """A validator's rule in JSON Schema, and whether it lets ``None`` through."""

    schema: Callable[[Any], dict[str, Any]]
    accepts_none: bool = False


#: Every validator an event field may have, keyed by the function (or, for a validator
#: made by a factory, by its code), with its rule in JSON Schema. The one table to
#: extend when a field gets a validator of a new kind.
_RULES: dict[object, _Rule] = {
    _events._is_timestamp: _Rule(lambda _: {"$ref": f"#/$defs/{TIMESTAMP}"}),
    _events._not_before_at: _Rule(lambda _: {"$ref": f"#/$defs/{TIMESTAMP}", "description": _BY_NOTE}),
    _events._is_text: _Rule(lambda _: {"type": "string"}),
    _events._is_optional_text: _Rule(lambda _: {"type": "string"}, accepts_none=True),
    _events._is_nonblank_text: _Rule(
        lambda _: {
            "description": "Text with something in it besides whitespace.",
            "type": "string",
            "pattern": _char_class(WHITESPACE, negated=True),
        }
    ),
    _events._is_flag: _Rule(lambda _: {"type": "boolean"}),
    _events._is_intensity: _Rule(lambda _: {"type": "integer", "minimum": 0, "maximum": 10}),
    _events._is_amount: _Rule(lambda _: _amount()),
    _events._is_optional_amount: _Rule(lambda _: _amount(), accepts_none=True),
    _events._is_texts: _Rule(lambda _: {"type": "array", "items": {"type": "string"}}),
    _events._choice(_events.Fault).__code__: _Rule(_enum),
}


def _rule(validator: object) -> _Rule | None:
    found = _RULES.get(validator)
    if found is None:
        found = _RULES.get(getattr(validator, "__code__", None))
    return found


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, also accepting ``null``."""
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _describe_class(cls: type[Event]) -> str:
    paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split()).replace("``", "`")


def definition(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event class's JSON object (its ``$ref`` s point into ``$defs``).

    Absent and ``null`` mean the same to the parser: the field's default. So a field
    may be left out (and may be ``null``) when it has a default that is not ``None``,
    or a default of ``None`` that its validator lets through. Raises ``TypeError``
    for a field whose validator :data:`_RULES` does not know.
    """
    properties: dict[str, Any] = {"type": {"const": cls.type}}
    required = ["type"]
    for field in attrs.fields(cls):
        rule = _rule(field.validator)
        if rule is None:
            raise TypeError(
                f"{cls.__name__}.{field.name}: no JSON Schema for its validator {field.validator!r};"
                " add one to _RULES in deescalate/_schema.py"
            )
        schema = rule.schema(field.validator)
        optional = field.default is not attrs.NOTHING and (field.default is not None or rule.accepts_none)
        if optional:
            properties[field.name] = _nullable(schema)
        else:
            properties[field.name] = schema
            required.append(field.name)
    return {
        "title": cls.__name__,
        "description": _describe_class(cls),
        "type": "object",
        "properties": properties,
        "required": required,
    }


def _shared() -> dict[str, Any]:
    shared = {TIMESTAMP: _timestamp_schema()}
    clash = shared.keys() & EVENT_CLASSES.keys()
    if clash:  # pragma: no cover - an event type named like a shared definition
        raise TypeError(f"event types {sorted(clash)} clash with the schema's shared definitions")
    return shared


_LINE_DESCRIPTION = (
    "One deescalate event: a webhook payload, or one line of a JSON Lines"
    " transcript. Fields besides those listed are allowed (and ignored); an optional field"
    " may be left out or null. Generated from the event classes. The parser also refuses"
    " what JSON Schema cannot state: a callback_promised whose by is earlier than its at,"
    " text holding a lone UTF-16 surrogate, and an intensity written with a fraction (5.0)."
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a transcript line: one event of any type.

    ``$defs`` holds one schema per event type, by its ``type``, and the line is
    exactly one of them (``oneOf``, each with its ``type`` as a ``const``). It is the
    file ``transcript-line.schema.json`` shipped in the package. A new dict every
    call: change it as you like.
    """
    return {
        "$schema": DIALECT,
        "title": "deescalate transcript line",
        "description": _LINE_DESCRIPTION,
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(EVENT_CLASSES)}},
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in EVENT_CLASSES],
        "$defs": {**{kind: definition(cls) for kind, cls in EVENT_CLASSES.items()}, **_shared()},
    }


def event_schema(type: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event type's JSON object, standing alone.

    Raises :class:`~deescalate.ArgumentValueError` for an unknown type.
    """
    if not isinstance(type, str):
        raise ArgumentTypeError("type", f"must be an event type (a string), got {describe(type)}")
    cls = EVENT_CLASSES.get(type)
    if cls is None:
        raise ArgumentValueError(
            "type", f"unknown event type {describe(type)}: use one of {', '.join(EVENT_CLASSES)}"
        )
    return {"$schema": DIALECT, **definition(cls), "$defs": _shared()}
