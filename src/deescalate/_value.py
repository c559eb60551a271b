"""Methods written once for the package's frozen attrs values, rather than compiled for each class.

attrs writes the source of ``__init__``, ``__repr__``, ``__eq__`` and ``__hash__``
for every class it builds and compiles it when the class is defined, at import.
For the 35 classes ``deescalate review`` imports, compiling the three methods a
command hardly ever calls was about a twentieth of its start-up. So the core's classes take
:func:`value_repr` as their ``__repr__`` (declared ``repr=False``), and the event
classes, which are many and never compared on a hot path, :func:`value_eq` and
:func:`value_hash` too (``eq=False``). attrs still builds everything else: the
slots, the frozen ``__setattr__``, and ``__init__`` with its validators, the one
method every value runs.

Each does what attrs' own would: the repr is ``Name(field=value, ...)`` with
each field's ``repr`` option (left out, or shown by its function); equal values
are of the same class with equal fields (those with ``eq``); the hash is that of
the fields hashed. Unlike attrs' repr, there is no guard against a value holding
itself: a frozen value cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, cast

import attrs

_Read = Callable[[Any], tuple[Any, ...]]

#: For each class: each field shown, with the function showing its value.
_SHOWN: dict[type, tuple[tuple[str, Callable[[Any], str]], ...]] = {}
#: For each class: the function reading the values compared (``_EQ``) and hashed (``_HASH``).
_EQ: dict[type, _Read] = {}
_HASH: dict[type, _Read] = {}


def _reader(names: list[str]) -> _Read:
    """A function giving the tuple of an object's attributes ``names`` (attrgetter's, always a tuple)."""
    if len(names) > 1:
        read: _Read = attrgetter(*names)
        return read
    return lambda value: tuple(getattr(value, name) for name in names)


def _fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cast("type[attrs.AttrsInstance]", cls))
    return fields


def _compared(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    fields = _fields(cls)
    for field in fields:
        if getattr(field, "eq_key", None) is not None:  # not written for: refuse, never compare wrongly
            raise TypeError(f"{cls.__name__}.{field.name}: value_eq does not take eq=<function>")
    return fields


def value_repr(self: object) -> str:
    """``Name(field=value, ...)``, as attrs writes it."""
    cls = type(self)
    shown = _SHOWN.get(cls)
    if shown is None:
        shown = _SHOWN[cls] = tuple(
            (field.name, repr if field.repr is True else field.repr)
            for field in _fields(cls)
            if field.repr is not False
        )
    fields = ", ".join(f"{name}={show(getattr(self, name))}" for name, show in shown)
    return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({fields})"


def value_eq(self: object, other: object) -> bool:
    """True for a value of the same class with equal fields (NotImplemented for another class)."""
    if other.__class__ is not self.__class__:
        unknown: bool = NotImplemented  # as attrs: Python then asks the other value, then says no
        return unknown
    read = _EQ.get(type(self))
    if read is None:
        read = _EQ[type(self)] = _reader([field.name for field in _compared(type(self)) if field.eq])
    same: bool = read(self) == read(other)
    return same


def value_hash(self: object) -> int:
    """The hash of the class and the fields hashed (``hash=None`` follows ``eq``)."""
    cls = type(self)
    read = _HASH.get(cls)
    if read is None:
        read = _HASH[cls] = _reader(
            [field.name for field in _compared(cls) if (field.eq if field.hash is None else field.hash)]
        )
    return hash((cls, read(self)))
