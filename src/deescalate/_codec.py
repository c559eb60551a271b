"""Events to and from the contract's JSON form.

Parsing adds to the events' own validation only what JSON needs: the ``type`` picks
the class, timestamps arrive as ISO-8601 strings, ``null`` means an optional field
is absent, required fields must be present, and unknown extra fields are ignored
(webhook payloads carry plenty of those). Every failure is an
:class:`~deescalate.EventError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import attrs

from ._errors import EventError
from ._events import EVENT_CLASSES, Event

# For each event type: its class and its fields but ``at`` (every event's first, read
# apart) as (name, required) pairs, in order.
_SCHEMA: dict[str, tuple[type[Event], tuple[tuple[str, bool], ...]]] = {
    name: (
        cls,
        tuple(
            (field.name, field.default is attrs.NOTHING)
            for field in attrs.fields(cls)
            if field.name != "at"
        ),
    )
    for name, cls in EVENT_CLASSES.items()
}
assert all(attrs.fields(cls)[0].name == "at" for cls in EVENT_CLASSES.values())

# The C scanner json.loads runs (as its default decoder builds it). json.loads wraps
# it in three Python calls and two regular expressions that skip surrounding
# whitespace; a transcript line has none but its newline.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise EventError("at", f"must be an ISO-8601 timestamp string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EventError("at", f"is not an ISO-8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:  # fromisoformat gives a fixed-offset timezone or none at all
        raise EventError("at", f"has no UTC offset: {value!r} (add Z or +00:00)")
    return moment


def event_from_dict(data: object) -> Event:
    """Build the event that a JSON object (already decoded) describes.

    Raises :class:`~deescalate.EventError` naming the field when anything is missing,
    ill-typed or out of range.
    """
    if not isinstance(data, dict):
        raise EventError("line", f"must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind is None:
        raise EventError("type", "is required")
    try:
        cls, fields = _SCHEMA[kind]
    except (KeyError, TypeError):
        raise EventError("type", f"unknown event type {kind!r}") from None
    at = data.get("at")
    if at is None:
        raise EventError("at", "is required")
    values: dict[str, Any] = {"at": _timestamp(at)}
    for name, required in fields:
        value = data.get(name)
        if value is not None:
            values[name] = value
        elif required:
            raise EventError(name, "is required")
    return cls(**values)


# For each event class, its field names in order, for writing.
_NAMES: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(field.name for field in attrs.fields(cls)) for cls in EVENT_CLASSES.values()
}

#: Compact JSON, as json.dumps(..., ensure_ascii=False, separators=(",", ":")) writes it,
#: without building an encoder at every call.
compact_json: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def event_to_dict(event: Event) -> dict[str, Any]:
    """The contract's JSON object for ``event`` (absent optional fields left out)."""
    cls = type(event)
    names = _NAMES.get(cls) or tuple(field.name for field in attrs.fields(cls))
    data: dict[str, Any] = {"type": event.type}
    for name in names:
        value = getattr(event, name)
        if value is None:
            continue
        kind = type(value)
        if kind is str or kind is bool or kind is int or kind is float:
            pass  # most values: JSON as they are
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        data[name] = value
    return data


def parse_event(text: str) -> Event:
    """Parse one event from its JSON text (one transcript line)."""
    try:
        data, end = _scan(text, 0)
    except (StopIteration, ValueError, TypeError):  # bad JSON, leading space, bytes...
        return event_from_dict(_loads(text))
    if end != len(text) and text[end:] not in ("\n", "\r\n"):
        data = _loads(text)
    return event_from_dict(data)


def _loads(text: str) -> Any:
    """``json.loads``, for the text the fast path leaves to it: it decides, and words any error."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise EventError("line", f"is not valid JSON ({error})") from None


def dump_event(event: Event) -> str:
    """The JSON text of ``event``: one compact transcript line, without a newline."""
    return compact_json(event_to_dict(event))
