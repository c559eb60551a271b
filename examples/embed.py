"""Embedding deescalate in a helpdesk integration: a webhook handler guarding a live ticket.

Each webhook delivery carries one event. The handler loads the ticket's snapshot,
applies the event strictly (refusing anything that breaks the policy), tells the
agent what to do instead when it refuses, and saves the snapshot again. Here the
"webhook" is examples/strict.jsonl replayed line by line and the "database" a dict.

Run it from the repository root:  python examples/embed.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import deescalate as d

STORE: dict[str, str] = {}  # ticket id -> snapshot JSON; a real integration uses its database
POLICY = d.FACTS_FIRST


def handle_delivery(ticket: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One webhook call: returns an HTTP-like status and a JSON body for the agent's screen."""
    try:
        event = d.event_from_dict(payload)
    except d.EventError as error:
        return 422, {"error": str(error), "field": error.field}

    if isinstance(event, d.InteractionOpened):
        interaction = d.open_interaction(event, POLICY)
        STORE[ticket] = d.dump_snapshot(interaction, POLICY)
        return 201, {"stage": interaction.stage.value}

    interaction = d.load_snapshot(STORE[ticket], POLICY)  # rebuilt from its history, checked
    outcome = d.apply(interaction, event, POLICY, d.Mode.STRICT)
    if outcome.applied:
        STORE[ticket] = d.dump_snapshot(outcome.interaction, POLICY)
    body: dict[str, Any] = {
        "status": outcome.status.value,
        "stage": outcome.interaction.stage.value,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "message": f.message,
                "instead": POLICY.rule(f.rule).advice,
            }
            for f in outcome.findings
        ],
    }
    return (409 if outcome.refused else 200), body


def main() -> int:
    transcript = Path(__file__).with_name("strict.jsonl")
    for number, line in enumerate(transcript.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        payload = json.loads(line)
        status, body = handle_delivery("T-1003", payload)
        print(f"{number:>2} {payload['type']:<22} -> {status} {body.get('status', '')} {body['stage']}")
        for finding in body.get("findings", []):
            print(f"     {finding['severity']}: {finding['rule']}: {finding['message']}")
            print(f"     instead: {finding['instead']}")

    final = d.load_snapshot(STORE["T-1003"], POLICY)
    print(f"final stage: {final.stage.value}, owner: {final.owner}, events applied: {len(final.history)}")
    assert d.replay(final.history, POLICY) == final  # the history is the whole truth
    return 0


if __name__ == "__main__":
    sys.exit(main())
