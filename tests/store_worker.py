"""A worker process for the store's concurrency and crash tests (run as a script).

python store_worker.py hammer URL WORKER INTERACTIONS COUNT SEED
    Open each of the INTERACTIONS (every worker tries: one wins, the others are
    duplicates), then deliver COUNT events, each to a random interaction, some of
    them twice. Prints, as JSON, each delivery: interaction, event id, fate.

python store_worker.py crash URL INTERACTION START [KILL_AFTER]
    Deliver events to INTERACTION forever (event ids START, START+1, ...), printing
    each event id once its delivery returned. With KILL_AFTER, the process kills
    itself with SIGKILL in the middle of its delivery number KILL_AFTER: after the
    event row is written, before the transaction commits.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from datetime import UTC, datetime

from deescalate import CustomerVented, InteractionOpened
from deescalate.store import Store
from store_tap import tap

AT = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def opening(interaction_id: str) -> InteractionOpened:
    return InteractionOpened(at=AT, interaction_id=interaction_id, event_id="open")


def vent(event_id: str) -> CustomerVented:
    # Every event at the same time: none is ever late, whatever order they arrive in.
    return CustomerVented(at=AT, event_id=event_id, intensity=5)


def hammer(url: str, worker: int, interactions: int, count: int, seed: int) -> None:
    chance = random.Random(seed)
    store = Store(url, mode="advisory")
    made: list[tuple[str, str, str]] = []
    ids = [f"I-{n}" for n in range(interactions)]
    for interaction_id in ids:
        made.append(
            (interaction_id, "open", store.deliver(interaction_id, opening(interaction_id)).fate.value)
        )
    sent: list[tuple[str, str]] = []
    for n in range(count):
        if sent and chance.random() < 0.15:  # a webhook delivered twice
            interaction_id, event_id = chance.choice(sent)
        else:
            interaction_id, event_id = chance.choice(ids), f"w{worker}-{n}"
            sent.append((interaction_id, event_id))
        made.append((interaction_id, event_id, store.deliver(interaction_id, vent(event_id)).fate.value))
    store.close()
    json.dump(made, sys.stdout)


def crash(url: str, interaction_id: str, start: int, kill_after: int | None) -> None:
    store = Store(url, mode="advisory")
    store.deliver(interaction_id, opening(interaction_id))
    deliveries = 0

    def die_mid_delivery(statement: str, cursor: object) -> None:
        if statement.startswith("INSERT INTO deescalate_events") and deliveries == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    if kill_after is not None:
        tap(store, die_mid_delivery)
    n = start
    while True:
        deliveries += 1
        event_id = f"c-{n}" if start == 0 else f"c-{start // 10_000}:{n}"
        store.deliver(interaction_id, vent(event_id))
        print(event_id, flush=True)
        n += 1


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "hammer":
        hammer(url, int(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
    else:
        crash(url, rest[0], int(rest[1]), int(rest[2]) if len(rest) > 2 else None)
