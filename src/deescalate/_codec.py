"""Events to and from the contract's JSON form.

Parsing adds to the events' own validation only what JSON needs: the ``type`` picks
the class, timestamps arrive as ISO-8601 strings, ``null`` means an optional field
is absent, required fields must be present, and unknown extra fields are ignored
(webhook payloads carry plenty of those). Every failure is an
:class:`~deescalate.EventError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import attrs

from ._errors import ArgumentTypeError, EventError, describe, one_line
from ._events import EVENT_CLASSES, Event

#: How many events of one type are decoded by reading the class's fields in a loop
#: before a decoder is generated for the type. Generating one (compiling it) costs
#: as much as decoding some thirty events in the loop: a short transcript, which
#: meets most types once or twice, is read without compiling anything, and a long
#: one, or a webhook process, soon has every decoder it needs.
GENERATE_AFTER = 16


def _first_decoder(kind: str, cls: type[Event]) -> Callable[[dict[str, Any]], Event]:
    """A function building events of ``cls`` as :func:`_decoder`'s does, by a loop over the fields.

    Once it has decoded :data:`GENERATE_AFTER` events, it puts the generated
    decoder in its place.
    """
    plan = tuple(
        (field.name, field.default is attrs.NOTHING, field.default, str(field.type).startswith("datetime"))
        for field in attrs.fields(cls)
        if field.name != "at"
    )
    uses = 0

    def decode(data: dict[str, Any]) -> Event:
        nonlocal uses
        uses += 1
        if uses == GENERATE_AFTER:
            _DECODERS[kind] = _decoder(cls)
        at = data.get("at")
        if at is None:
            _missing("at")
        values = []
        for name, required, default, _ in plan:
            value = data.get(name)
            if value is None:
                if required:
                    _missing(name)
                value = default  # None stays None
            values.append(value)
        # In the order the generated decoder's call reads them: at, then each field.
        arguments: dict[str, Any] = {"at": _timestamp(at)}
        for (name, _, _, moment), value in zip(plan, values, strict=True):
            arguments[name] = _timestamp(value, name) if moment else value
        return cls(**arguments)

    return decode


def _decoder(cls: type[Event]) -> Callable[[dict[str, Any]], Event]:
    """A function building an event of ``cls`` from its decoded JSON object, generated from its fields.

    Written out field by field: every event of a snapshot is decoded at every
    webhook call. ``null`` or absence means the field's default; a required field
    must be there; the class's own validators judge every value.
    """
    lines = ["def decode(data):", "    at = data.get('at')", "    if at is None:", "        missing('at')"]
    arguments = ["at=timestamp(at)"]
    namespace: dict[str, Any] = {"cls": cls, "timestamp": _timestamp, "missing": _missing}
    for field in attrs.fields(cls):
        name = field.name
        if name == "at":
            continue
        lines.append(f"    v_{name} = data.get({name!r})")
        if field.default is attrs.NOTHING:
            lines += [f"    if v_{name} is None:", f"        missing({name!r})"]
        elif field.default is not None:
            namespace[f"default_{name}"] = field.default
            lines += [f"    if v_{name} is None:", f"        v_{name} = default_{name}"]
        if str(field.type).startswith("datetime"):
            arguments.append(f"{name}=timestamp(v_{name}, {name!r})")
        else:
            arguments.append(f"{name}=v_{name}")
    lines.append(f"    return cls({', '.join(arguments)})")
    exec("\n".join(lines), namespace)
    decode: Callable[[dict[str, Any]], Event] = namespace["decode"]
    return decode


def _missing(name: str) -> None:
    raise EventError(name, "is required")


# The C scanner json.loads runs (as its default decoder builds it). json.loads wraps
# it in three Python calls and two regular expressions that skip surrounding
# whitespace; a transcript line has none but its newline.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


# More than six digits after a decimal point (in the time or in a UTC offset with
# seconds): microseconds are the most a datetime keeps, and fromisoformat silently
# drops the rest.
_LONG_FRACTION = re.compile(r"[.,][0-9]{7}")
# The fewest characters around such a fraction: "20260302T090000.1234567Z" has 24.
# Shorter timestamps (the usual "2026-03-02T09:00:00Z" has 20), and those without a
# fraction, skip the search.
_SHORTEST_LONG_FRACTION = 23


def _timestamp(value: object, field: str = "at") -> datetime:
    if not isinstance(value, str):
        raise EventError(field, f"must be an ISO-8601 timestamp string, got {describe(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(field, f"is not an ISO-8601 timestamp: {describe(value)}") from None
    if moment.tzinfo is None:  # fromisoformat gives a fixed-offset timezone or none at all
        raise EventError(field, f"has no UTC offset: {describe(value)} (add Z or +00:00)")
    fraction = "." in value or "," in value  # a search only for the few that have one
    if fraction and len(value) > _SHORTEST_LONG_FRACTION and _LONG_FRACTION.search(value):
        raise EventError(
            field, f"has more than 6 fractional digits: {describe(value)} (a timestamp keeps microseconds)"
        )
    return moment


def event_from_dict(data: object) -> Event:
    """Build the event that a JSON object (already decoded) describes.

    Raises :class:`~deescalate.EventError` naming the field when anything is missing,
    ill-typed or out of range. Values are quoted in messages cut short, so hostile
    input (a megabyte-long ``type``) never ends up in a log whole.
    """
    if not isinstance(data, dict):
        raise EventError("line", f"must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind is None:
        raise EventError("type", "is required")
    try:
        decode = _DECODERS[kind]
    except KeyError:
        cls = EVENT_CLASSES.get(kind)
        if cls is None:
            raise EventError("type", f"unknown event type {describe(kind)}") from None
        decode = _DECODERS[kind] = _first_decoder(kind, cls)  # made on first use: start-up stays short
    except Exception:  # unhashable, or a tuple nested too deep to hash
        raise EventError("type", f"unknown event type {describe(kind)}") from None
    return decode(data)


#: Compact JSON, as json.dumps(..., ensure_ascii=False, separators=(",", ":")) writes it,
#: without building an encoder at every call.
compact_json: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encoder(cls: type[Event]) -> Callable[[Event], dict[str, Any]]:
    """A function writing events of ``cls`` as JSON objects, generated from its fields.

    Written out field by field (as attrs writes ``__init__``): a snapshot writes
    every event of a history at every webhook call, and a loop over the fields
    asking each value's type costs twice as much.
    """
    lines = ["def encode(event):", f"    data = {{'type': {cls.type!r}}}"]
    for field in attrs.fields(cls):
        name, kind = field.name, str(field.type)
        if kind.startswith("datetime"):
            value = f"event.{name}.isoformat()"
        elif kind.startswith("tuple"):
            value = f"list(event.{name})"
        elif kind.split(" |")[0] in _ENUMS:
            value = f"event.{name}.value"
        else:
            value = f"event.{name}"
        if field.default is attrs.NOTHING or field.default is not None:
            lines.append(f"    data[{name!r}] = {value}")
        else:  # optional: left out when absent
            lines += [f"    if event.{name} is not None:", f"        data[{name!r}] = {value}"]
    lines.append("    return data")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    encode: Callable[[Event], dict[str, Any]] = namespace["encode"]
    return encode


#: For each event type, the function building its events from JSON objects, and for
#: each event class the one writing them: generated when first needed, so a command
#: pays only for the types it meets.
_DECODERS: dict[str, Callable[[dict[str, Any]], Event]] = {}
_ENUMS = {"Fault", "ApologyScope", "EndReason"}
_ENCODERS: dict[type[Event], Callable[[Event], dict[str, Any]]] = {}
_EVENT_TYPES = frozenset(EVENT_CLASSES.values())


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON object for ``event``, as in a transcript line (absent optional fields left out)."""
    kind = type(event)
    encode = _ENCODERS.get(kind)
    if encode is not None:
        return encode(event)
    if kind in _EVENT_TYPES:
        encode = _ENCODERS[kind] = _encoder(kind)
        return encode(event)
    if not isinstance(event, Event):
        raise ArgumentTypeError("event", f"must be an Event, got {describe(event)}")
    return _generic_dict(event)  # a subclass of an event class


def _generic_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"type": event.type}
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return data


def parse_event(text: str) -> Event:
    """Parse one event from its JSON text (one transcript line).

    Anything JSON cannot carry into an event is bad input, an
    :class:`~deescalate.EventError`: text that is not JSON, JSON nested too deeply
    to read, a number with too many digits, and whatever
    :func:`event_from_dict` refuses.
    """
    if not isinstance(text, str | bytes | bytearray):
        raise ArgumentTypeError("text", f"must be JSON text (str or bytes), got {describe(text)}")
    try:
        data, end = _scan(text, 0)
    except (StopIteration, ValueError, TypeError, RecursionError):  # bad JSON, leading space...
        return event_from_dict(_loads(text))
    if end != len(text) and text[end:] not in ("\n", "\r\n"):
        data = _loads(text)
    return event_from_dict(data)


def _loads(text: str) -> Any:
    """``json.loads``, for the text the fast path leaves to it: it decides, and words any error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise EventError("line", f"is not valid JSON ({error})") from None
    except RecursionError:
        raise EventError("line", "holds JSON nested too deeply to read") from None
    except ValueError as error:  # an integer of more digits than Python converts, say
        text = str(error)
        if "integer string conversion" in text:
            raise EventError("line", "holds a number with too many digits to read") from None
        raise EventError("line", f"is not valid JSON ({one_line(text, 120)})") from None


def dump_event(event: Event) -> str:
    """The JSON text of ``event``: one compact transcript line, without a newline."""
    return compact_json(event_to_dict(event))
