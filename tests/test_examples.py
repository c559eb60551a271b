"""The example scripts run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_embedding_example_guards_the_strict_transcript() -> None:
    result = subprocess.run(
        [sys.executable, "examples/embed.py"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert " 3 remedy_proposed        -> 409 refused venting" in lines
    assert " 9 facts_established      -> 200 duplicate facts_gathered" in lines
    assert lines[-1] == "final stage: followed_up, owner: billing supervisor, events applied: 13"


def test_the_acme_policy_example_loads() -> None:
    from deescalate import load_policy

    sys.path.insert(0, str(ROOT))
    try:
        policy = load_policy("examples.acme_policy:ACME")
    finally:
        sys.path.remove(str(ROOT))
    assert policy.params.authority_limit == 50
    assert "use-their-name" not in policy.rule_ids
