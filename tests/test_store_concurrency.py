"""Several real processes hammering the same interactions, and processes killed mid-delivery.

On SQLite (a WAL file) and PostgreSQL: nothing is lost, duplicated or reordered, and
a process killed with SIGKILL leaves its delivery wholly in the store or not at all.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from deescalate.store import Fate, Store
from store_support import check_consistent

WORKER = Path(__file__).with_name("store_worker.py")
PROCESSES = 4
INTERACTIONS = 3
DELIVERIES = 150


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH")]))}


def test_processes_hammering_the_same_interactions_lose_nothing(store_url: str) -> None:
    Store(store_url).close()  # the schema, before the race
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "hammer",
                store_url,
                str(w),
                str(INTERACTIONS),
                str(DELIVERIES),
                str(w),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results.append([tuple(item) for item in json.loads(out)])

    # Each interaction was opened once; every other opening was a duplicate.
    openings = Counter(fate for made in results for (_, event_id, fate) in made if event_id == "open")
    assert openings == {"applied": INTERACTIONS, "duplicate": INTERACTIONS * (PROCESSES - 1)}
    with Store(store_url) as store:
        journal = store.deliveries()
        assert len(journal) == PROCESSES * (INTERACTIONS + DELIVERIES)
        for interaction_id in (f"I-{n}" for n in range(INTERACTIONS)):
            log = [event.event_id for event in store.events(interaction_id)][1:]
            assert len(log) == len(set(log))  # nothing twice
            for made in results:
                first_sent = []
                for target, event_id, fate in made:
                    if target == interaction_id and event_id != "open" and event_id not in first_sent:
                        first_sent.append(event_id)
                        assert fate == "applied", (event_id, fate)  # a first delivery is applied
                # Nothing lost, and each worker's events in the order it sent them.
                assert [event_id for event_id in log if event_id in set(first_sent)] == first_sent
            redelivered = sum(
                1
                for made in results
                for target, event_id, fate in made
                if target == interaction_id and event_id != "open" and fate == "duplicate"
            )
            applied = len(log)
            assert applied + redelivered == sum(
                1
                for made in results
                for target, event_id, _ in made
                if target == interaction_id and event_id != "open"
            )
        fates = Counter(record.fate for record in journal)
        assert set(fates) == {Fate.APPLIED, Fate.DUPLICATE}
    counts = check_consistent(store_url)
    assert counts["deliveries"] == PROCESSES * (INTERACTIONS + DELIVERIES)


def _crash(store_url: str, interaction_id: str, start: int, kill_after: int | None) -> subprocess.Popen[str]:
    command = [sys.executable, str(WORKER), "crash", store_url, interaction_id, str(start)]
    if kill_after is not None:
        command.append(str(kill_after))
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_a_process_killed_inside_a_delivery_leaves_none_of_it(store_url: str) -> None:
    Store(store_url).close()
    worker = _crash(store_url, "K-1", 0, kill_after=5)
    out, _ = worker.communicate(timeout=120)
    assert worker.returncode == -signal.SIGKILL
    returned = out.split()
    assert returned == ["c-0", "c-1", "c-2", "c-3"]  # the fifth was under way
    with Store(store_url, mode="advisory") as store:
        assert [event.event_id for event in store.events("K-1")] == ["open", *returned]
        assert [record.event_id for record in store.deliveries()] == ["open", *returned]
        # The killed delivery, delivered again, is applied: it was never half there.
        assert store.deliver("K-1", _vent("c-4")).fate is Fate.APPLIED
    check_consistent(store_url)


def test_processes_killed_at_random_moments_leave_whole_deliveries(store_url: str) -> None:
    Store(store_url).close()
    chance = random.Random(1)
    start = 10_000  # round r delivers c-r:0, c-r:1, ...
    kills = 8
    for _ in range(kills):
        worker = _crash(store_url, "K-2", start, kill_after=None)
        assert worker.stdout is not None
        first = worker.stdout.readline()  # under way: a delivery returned
        time.sleep(chance.uniform(0.02, 0.3))
        os.kill(worker.pid, signal.SIGKILL)
        out = worker.stdout.read()  # on from where readline() stopped, to the end
        worker.wait(timeout=60)
        returned = (first + out).split()
        with Store(store_url) as store:
            this_round = [
                event.event_id
                for event in store.events("K-2")
                if event.event_id is not None and event.event_id.startswith(f"c-{start // 10_000}:")
            ]
        # Every delivery that returned is there, in order; at most one more (the one under
        # way when the process died, if it had committed but not yet printed).
        assert this_round[: len(returned)] == returned
        assert len(this_round) - len(returned) in (0, 1)
        start += 10_000
    counts = check_consistent(store_url)
    assert counts["events"] > kills  # the workers made progress between kills


def _vent(event_id: str) -> object:
    from store_worker import vent

    return vent(event_id)
