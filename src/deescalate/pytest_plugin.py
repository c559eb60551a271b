"""The deescalate pytest plugin: fixtures for policies and transcripts.

Installed with deescalate and registered through the ``pytest11`` entry point, so
its fixtures are available in every test without an import. They all start with
``deescalate_``, so that they take no generic name in a project:

``deescalate_policy``
    The project's policy: the one the ``deescalate_policy`` ini option names (a
    built-in name or ``module:attribute``, imported with the rootdir on
    ``sys.path``), else ``facts-first``. A name that cannot be loaded fails the
    tests that use it, with one line saying why.
``deescalate_facts_first_policy``, ``deescalate_apologize_first_policy``
    The built-in policies.
``deescalate_builtin_policy``
    Each built-in policy in turn (the test runs once per policy).
``deescalate_load_transcript``
    A function reading a JSON Lines transcript into a tuple of events; a relative
    path is taken from the directory of the calling file (the test's), as the
    helpers of :mod:`deescalate.assertions` take it. Bad input fails the test with
    the line and the field at fault.

The assertion helpers live in :mod:`deescalate.assertions`, whose path resolution
and file reader ``deescalate_load_transcript`` shares. This module never imports
Hypothesis.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest

from ._errors import DeescalateError, PolicyError
from ._events import Event
from ._loading import load_policy
from ._policy import APOLOGIZE_FIRST, BUILTIN_POLICIES, FACTS_FIRST, Policy
from .assertions import read_lines, resolve_path

#: What ``deescalate_load_transcript`` is: path in, events out.
TranscriptLoader = Callable[[str | os.PathLike[str]], tuple[Event, ...]]

#: The ini option naming the project's policy.
POLICY_OPTION = "deescalate_policy"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``deescalate_policy`` ini option (pytest calls this hook)."""
    parser.addini(
        POLICY_OPTION,
        "the policy the deescalate_policy fixture gives: a built-in name or module:attribute "
        "(imported with the rootdir on sys.path); facts-first when unset",
        default="",
    )


@pytest.fixture(scope="session")
def deescalate_policy(pytestconfig: pytest.Config) -> Policy:
    """The policy the ``deescalate_policy`` ini option names, else ``facts-first``."""
    spec = str(pytestconfig.getini(POLICY_OPTION)).strip()
    if not spec:
        return FACTS_FIRST
    if ":" in spec:
        root = str(pytestconfig.rootpath)
        if root not in sys.path:
            sys.path.insert(0, root)  # as pytest's own pythonpath option does, for the session
            pytestconfig.add_cleanup(lambda: sys.path.remove(root) if root in sys.path else None)
    try:
        return load_policy(spec)
    except PolicyError as error:
        problem = str(error)
    # Outside the except block, so that the report shows this one line and no chain.
    pytest.fail(f"{POLICY_OPTION} = {spec!r}{_where(pytestconfig)}: {problem}", pytrace=False)


def _where(config: pytest.Config) -> str:
    """Where the ini option was set: on the command line (-o) or in the ini file."""
    overrides = config.getoption("override_ini", None) or []
    if any(str(item).partition("=")[0].strip() == POLICY_OPTION for item in overrides):
        return " (-o)"
    return f" in {config.inipath.name}" if config.inipath is not None else ""


@pytest.fixture
def deescalate_facts_first_policy() -> Policy:
    """The built-in ``facts-first`` policy."""
    return FACTS_FIRST


@pytest.fixture
def deescalate_apologize_first_policy() -> Policy:
    """The built-in ``apologize-first`` policy."""
    return APOLOGIZE_FIRST


@pytest.fixture(params=sorted(BUILTIN_POLICIES), ids=str)
def deescalate_builtin_policy(request: pytest.FixtureRequest) -> Policy:
    """Each built-in policy in turn."""
    return BUILTIN_POLICIES[request.param]


@pytest.fixture
def deescalate_load_transcript() -> TranscriptLoader:
    """Read a transcript file (a relative path starts at the calling file's directory)."""

    def load(path: str | os.PathLike[str]) -> tuple[Event, ...]:
        __tracebackhide__ = True
        target = resolve_path(path)
        try:
            return tuple(line.event for line in read_lines(target))
        except DeescalateError as error:
            problem = f"{target}: {error}"
        except OSError as error:
            problem = f"cannot read transcript {target}: {error.strerror}"
        pytest.fail(problem, pytrace=False)  # outside the except block: one line, no chain

    return load
