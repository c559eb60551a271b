"""Finding a policy by name: a built-in one, or ``module:attribute`` of the user's code."""

from __future__ import annotations

import importlib

from ._errors import PolicyError
from ._policy import BUILTIN_POLICIES, Policy


def load_policy(spec: str | Policy) -> Policy:
    """The policy ``spec`` names: ``"facts-first"``, ``"apologize-first"`` or ``"pkg.mod:ATTR"``.

    The attribute may be dotted (``"acme.policies:POLICIES.retail"``). Raises
    :class:`~deescalate.PolicyError` saying what could not be found.
    """
    if isinstance(spec, Policy):
        return spec
    if spec in BUILTIN_POLICIES:
        return BUILTIN_POLICIES[spec]
    if ":" not in spec:
        names = ", ".join(BUILTIN_POLICIES)
        raise PolicyError(f"unknown policy {spec!r}: use one of {names}, or module:attribute")
    target = load_attribute(spec, "policy")
    if not isinstance(target, Policy):
        raise PolicyError(f"{spec!r} is a {type(target).__name__}, not a deescalate Policy")
    return target


def load_attribute(spec: str, what: str) -> object:
    """The object ``"pkg.mod:ATTR"`` names (``what`` it is for goes in the error)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise PolicyError(f"{what} {spec!r} must be given as module:attribute")
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise PolicyError(f"cannot import module {module_name!r} for {what} {spec!r}: {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PolicyError(f"{module_name!r} has no attribute {attribute!r}") from None
    return target
