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


def test_the_ticket_policy_example_is_caught_broken_and_verifies_fixed() -> None:
    from deescalate import load_policy
    from deescalate.verify import default_opening, verify

    sys.path.insert(0, str(ROOT))
    try:
        broken = load_policy("examples.ticket_policy:BROKEN")
        fixed = load_policy("examples.ticket_policy:FIXED")
        from examples.ticket_policy import ALPHABET
    finally:
        sys.path.remove(str(ROOT))
    dead_end = verify(broken, depth=5).property("no-dead-ends")
    assert not dead_end.holds and dead_end.counterexample == (default_opening(),)
    assert dead_end.detail.endswith("where moving on is refused by: cite-change-ticket")
    assert verify(fixed, depth=7).holds
    assert verify(fixed, depth=7, alphabet=ALPHABET).holds
    assert any("CHG-" in getattr(e, "prevention", "") for e in ALPHABET)
