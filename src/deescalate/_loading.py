"""Finding a policy by name: a built-in one, or ``module:attribute`` of the user's code."""

from __future__ import annotations

import importlib

from ._errors import ArgumentTypeError, PolicyError, RuleError, describe
from ._policy import BUILTIN_POLICIES, Policy


def load_policy(spec: str | Policy) -> Policy:
    """The policy ``spec`` names: ``"facts-first"``, ``"apologize-first"`` or ``"pkg.mod:ATTR"``.

    The attribute may be dotted (``"acme.policies:POLICIES.retail"``). Raises
    :class:`~deescalate.PolicyError` saying what could not be found, or why the
    module could not be imported.
    """
    if isinstance(spec, Policy):
        return spec
    if not isinstance(spec, str):
        raise ArgumentTypeError(
            "spec", f"must be a policy name, module:attribute or a Policy, got {describe(spec)}"
        )
    if spec in BUILTIN_POLICIES:
        return BUILTIN_POLICIES[spec]
    if ":" not in spec:
        names = ", ".join(BUILTIN_POLICIES)
        raise PolicyError(f"unknown policy {describe(spec)}: use one of {names}, or module:attribute")
    target = load_attribute(spec, "policy")
    if not isinstance(target, Policy):
        raise PolicyError(f"{describe(spec)} is a {type(target).__name__}, not a deescalate Policy")
    return target


def load_attribute(spec: str, what: str) -> object:
    """The object ``"pkg.mod:ATTR"`` names (``what`` it is for goes in the error).

    Importing runs the user's module: whatever goes wrong there (a missing module,
    a syntax error, an exception, even ``sys.exit()``) is a
    :class:`~deescalate.PolicyError` of one line, the original as its cause. Only
    ``KeyboardInterrupt`` goes through, so that Ctrl-C still stops the program.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise PolicyError(f"{what} {describe(spec)} must be given as module:attribute")
    try:
        target: object = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # the user's code: anything at all may escape
        raise PolicyError(
            f"cannot import module {describe(module_name)} for {what} {describe(spec)}: "
            f"{_problem(error)}"
        ) from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PolicyError(f"{describe(module_name)} has no attribute {describe(attribute)}") from None
        except Exception as error:  # a module __getattr__ or a property of the user's
            raise PolicyError(
                f"cannot read {describe(attribute)} of {describe(module_name)}: {RuleError.explain(error)}"
            ) from error
    return target


def _problem(error: BaseException) -> str:
    """What went wrong importing, in one line: an ImportError in its own words, else with its type."""
    text = RuleError.explain(error)  # survives a message that cannot be read
    prefix = f"{type(error).__name__}: "
    if isinstance(error, ImportError) and text.startswith(prefix):
        return text[len(prefix) :]  # "No module named 'acme'" says it all
    return text
