"""The deescalate pytest plugin: fixtures for policies and transcripts.

Installed with deescalate and registered through the ``pytest11`` entry point, so
its fixtures are available in every test without an import:

``facts_first_policy``, ``apologize_first_policy``
    The built-in policies.
``builtin_policy``
    Each built-in policy in turn (the test runs once per policy).
``load_transcript``
    A function reading a JSON Lines transcript into a tuple of events; a relative
    path is taken from the directory of the test's file. Bad input fails the test
    with the line and the field at fault.

The assertion helpers live in :mod:`deescalate.assertions`, whose file reader
``load_transcript`` uses. This module never imports Hypothesis.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ._errors import DeescalateError
from ._events import Event
from ._policy import APOLOGIZE_FIRST, BUILTIN_POLICIES, FACTS_FIRST, Policy
from .assertions import read_lines

#: What ``load_transcript`` is: path in, events out.
TranscriptLoader = Callable[[str | os.PathLike[str]], tuple[Event, ...]]


@pytest.fixture
def facts_first_policy() -> Policy:
    """The built-in ``facts-first`` policy."""
    return FACTS_FIRST


@pytest.fixture
def apologize_first_policy() -> Policy:
    """The built-in ``apologize-first`` policy."""
    return APOLOGIZE_FIRST


@pytest.fixture(params=sorted(BUILTIN_POLICIES), ids=str)
def builtin_policy(request: pytest.FixtureRequest) -> Policy:
    """Each built-in policy in turn."""
    return BUILTIN_POLICIES[request.param]


@pytest.fixture
def load_transcript(request: pytest.FixtureRequest) -> TranscriptLoader:
    """Read a transcript file (relative paths start at the test file's directory)."""
    here = Path(str(request.node.path)).parent

    def load(path: str | os.PathLike[str]) -> tuple[Event, ...]:
        __tracebackhide__ = True
        target = here / path
        try:
            return tuple(line.event for line in read_lines(target))
        except DeescalateError as error:
            pytest.fail(f"{target}: {error}", pytrace=False)
        except OSError as error:
            pytest.fail(f"cannot read transcript {target}: {error.strerror}", pytrace=False)

    return load
