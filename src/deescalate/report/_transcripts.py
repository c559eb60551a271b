"""The report over transcript files, reviewed in parallel worker processes.

The files are cut into chunks, in order. Each worker reviews whole files, one
after the other, counts them into a :class:`~deescalate.report.Builder`, and sends
back only its chunk's :class:`~deescalate.report.Report` (a few kilobytes of
counts) and the one-line reasons its bad files were not reviewed: no event ever
crosses between processes. The parent merges the chunks' reports in order, so the
result is the same whatever the number of workers.

With ``--export``, each worker writes its chunk's rows to part files that the
parent appends to the tables, in order, as the chunks come back.
"""

from __future__ import annotations

import bisect
import collections
import concurrent.futures
import itertools
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import attrs

from .._apply import Mode, Status
from .._errors import ArgumentTypeError, ArgumentValueError, DeescalateError, describe
from .._events import Escalated
from .._files import lines, reason_of, transcripts
from .._loading import load_policy
from .._obligations import open_obligations
from .._policy import BUILTIN_POLICIES, Policy
from .._review import review
from ..transcript import Line, read_transcript
from ._aggregate import Builder, Report, checked_window, walk
from ._export import TABLES, Exporter, interaction_row, utc

#: Told of each file not reviewed: its path and why, in one line.
OnBad = Callable[[str, str], None]

_REFUSED = Status.REFUSED



@attrs.frozen
class Job:
    """What every worker needs: the policy, the window, ``now``, and where parts of an export go."""

    policy: Policy
    now: datetime | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: The directory for the export's part files, or None: no export.
    parts: str | None = None


def review_file(path: str, job: Job, builder: Builder, exporter: Exporter | None) -> None:
    """Review one transcript file and count it into ``builder`` (and its rows into ``exporter``).

    Raises a :class:`~deescalate.DeescalateError` when the file is bad input or cannot be read.
    """
    count_transcript(lines(path), path, job, builder, exporter)


def count_transcript(
    raw: Iterable[str | bytes], path: str, job: Job, builder: Builder, exporter: Exporter | None = None
) -> None:
    """Review one transcript's lines and count it into ``builder``.

    With an ``exporter``, its rows go there too, their source named ``path``.
    """
    policy = job.policy
    escalated: dict[int, int] = {}  # id(event) -> its line's index, for the escalations
    kept: list[Line] | None = [] if exporter is not None else None

    def tap(source: Iterator[Line]) -> Iterator[Line]:
        for line in source:
            if type(line.event) is Escalated:
                escalated[id(line.event)] = line.index
            if kept is not None:
                kept.append(line)
            yield line

    result = review(tap(read_transcript(raw)), policy, Mode.ADVISORY)
    interaction = result.interaction
    history = interaction.history
    walked = walk(enumerate(history))
    if not builder.includes(walked.opened_at):
        return
    stage = interaction.stage.value
    builder.add_interaction(policy.name, stage, walked, result.events)
    # Who had the interaction when each finding's event was judged: the agent, until
    # the first applied escalation's line, and so on.
    switches = [escalated[id(history[position])] for position, _, _ in walked.escalations]
    owners = ["agent", *(to for _, to, _ in walked.escalations)]
    counts = {"violation": 0, "warning": 0, "refused": 0}
    rows = []
    for item in result.findings:
        line, finding = item.line, item.finding
        owner = owners[bisect.bisect_left(switches, line.index)] if switches else "agent"
        kind = "refused" if item.status is _REFUSED else finding.severity.value
        counts[kind] += 1
        builder.add_finding(finding.rule, kind, owner, line.event.at)
        if exporter is not None:
            rows.append(
                {
                    "interaction_id": interaction.interaction_id,
                    "source": path,
                    "index": line.index,
                    "at": utc(line.event.at),
                    "event_type": finding.event_type,
                    "rule": finding.rule,
                    "severity": finding.severity.value,
                    "status": item.status.value,
                    "owner": owner,
                    "message": finding.message,
                    "delivery_id": None,
                }
            )
    now = job.now
    if now is not None:
        if now < result.last_at:
            builder.add_later_than_now()
        else:
            for obligation in open_obligations(interaction, policy):
                builder.add_owed(obligation.kind, obligation.due < now)
    if exporter is None or kept is None:
        return
    exporter.write(
        "interactions",
        interaction_row(
            walked,
            interaction_id=interaction.interaction_id,
            source=path,
            policy=policy.name,
            stage=stage,
            owner=interaction.owner,
            opened_at=walked.opened_at,
            last_at=result.last_at,
            events=result.events,
            violations=counts["violation"],
            warnings=counts["warning"],
            refused=counts["refused"],
        ),
    )
    for row in rows:
        exporter.write("findings", row)
    applied = {id(event) for event in history}
    judged = {id(item.line.event): item.status.value for item in result.findings}
    duplicates = {id(line.event) for line in result.duplicates}
    for line in kept:
        key = id(line.event)
        status = (
            "applied" if key in applied else judged.get(key) or ("duplicate" if key in duplicates else "late")
        )
        exporter.write(
            "deliveries",
            {
                "interaction_id": interaction.interaction_id,
                "source": path,
                "index": line.index,
                "at": utc(line.event.at),
                "event_type": line.event.type,
                "event_id": line.event.event_id,
                "status": status,
                "delivery_id": None,
                "received_at": None,
            },
        )


@attrs.frozen
class ChunkResult:
    """What a worker sends back for a chunk: its report, its bad files, where its export parts are."""

    number: int
    report: Report
    bad: tuple[tuple[str, str], ...]
    #: The part files of its export, by table (empty without one).
    parts: tuple[tuple[str, str], ...] = ()


def run_chunk(number: int, entries: Sequence[tuple[str, str | None]], job: Job) -> ChunkResult:
    """Review a chunk of files, in order, into one report (and part files, for an export)."""
    builder = Builder(job.now, job.since, job.until)
    bad: list[tuple[str, str]] = []
    exporter = Exporter(job.parts, f".{number:06d}") if job.parts is not None else None
    if exporter is not None:
        exporter.__enter__()
    try:
        for path, why in entries:
            if why is None:
                try:
                    review_file(path, job, builder, exporter)
                except DeescalateError as error:
                    why = reason_of(error)
            if why is not None:
                builder.bad_files += 1
                bad.append((path, why))
    finally:
        if exporter is not None:
            exporter.close()
    parts = tuple((table, str(exporter.path(table))) for table in TABLES) if exporter is not None else ()
    return ChunkResult(number, builder.build(), tuple(bad), parts)


# -- the worker processes -------------------------------------------------------------------------

_JOB: Job | None = None


def _start_worker(
    policy: Policy | str,
    now: datetime | None,
    since: datetime | None,
    until: datetime | None,
    parts: str | None,
) -> None:
    """A worker's start: its job, the policy found by name when it was given one.

    A policy is sent by name where it can be: a fresh interpreter ("spawn") cannot
    receive the rules' functions, only find them again.
    """
    global _JOB
    # Ctrl-C is for the parent, which stops the pool: a worker must not print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _JOB = Job(load_policy(policy), now, since, until, parts)


def _worker_chunk(number: int, entries: Sequence[tuple[str, str | None]]) -> ChunkResult:
    assert _JOB is not None, "the worker was started without its job"
    return run_chunk(number, entries, _JOB)


def _sendable(
    given: Policy | str, policy: Policy, context: multiprocessing.context.BaseContext
) -> Policy | str:
    """The policy as workers started by ``context`` can receive it: by name, unless they fork."""
    if isinstance(given, str):
        return given
    if BUILTIN_POLICIES.get(policy.name) is policy:
        return policy.name
    if context.get_start_method() == "fork":
        return policy  # inherited by the forked workers, never pickled
    raise ArgumentValueError(
        "policy",
        f"worker processes started afresh ({context.get_start_method()}) cannot receive a Policy object: "
        "pass its name as 'module:attribute', or jobs=1",
    )


def _context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe (POSIX, this process runs one thread): workers start at once.

    Elsewhere, a fresh interpreter per worker ("spawn"), which imports what it runs.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1 and sys.platform != "darwin":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _chunks(entries: Iterable[tuple[str, str | None]], size: int) -> Iterator[list[tuple[str, str | None]]]:
    chunk: list[tuple[str, str | None]] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def usable_cpus() -> int:
    """The processors this process may run on (the default ``--jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def report_transcripts(
    paths: Iterable[str],
    policy: Policy | str = "facts-first",
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    jobs: int = 1,
    export: str | os.PathLike[str] | None = None,
    on_bad: OnBad | None = None,
) -> Report:
    """The complaint log over transcript files (a directory stands for its ``*.jsonl`` files).

    Each file is reviewed in advisory mode under ``policy``, in ``jobs`` worker
    processes (1: in this one). Interactions opened before ``since`` or at or after
    ``until`` are left out; with ``now``, the obligations still open at that time are
    counted. A file that cannot be read or is bad input is counted in
    ``bad_files`` and passed to ``on_bad(path, reason)``; the others are still
    reported. With ``export``, the rows go to JSON Lines tables in that directory.
    """
    if isinstance(paths, str | bytes) or not isinstance(paths, Iterable):
        raise ArgumentTypeError("paths", f"must be a list of paths, got {describe(paths)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        raise ArgumentTypeError("jobs", f"must be a whole number, got {describe(jobs)}")
    if jobs < 1:
        raise ArgumentValueError("jobs", f"must be 1 or more, got {jobs}")
    checked_window(now, since, until)
    chosen = load_policy(policy)
    entries = transcripts(str(path) for path in paths)
    say = on_bad or (lambda path, why: None)
    total = Builder(now, since, until)
    exporter = Exporter(export) if export is not None else None
    scratch = None
    try:
        if exporter is not None:
            exporter.__enter__()
            scratch = tempfile.mkdtemp(prefix=".parts-", dir=exporter.directory)
        job = Job(chosen, now, since, until, scratch)
        chunks = _chunks(entries, CHUNK)
        # No more workers than chunks of work (each worker loads the policy), known by
        # looking ahead as many chunks as there may be workers.
        head = list(itertools.islice(chunks, jobs))
        rest = itertools.chain(head, chunks)
        if len(head) < 2:  # one chunk of work (or --jobs 1): no worker to start
            _gather(total, (run_chunk(n, chunk, job) for n, chunk in enumerate(rest)), exporter, say)
        else:
            context = _context()
            spec = _sendable(policy, chosen, context)
            with concurrent.futures.ProcessPoolExecutor(
                len(head),
                mp_context=context,
                initializer=_start_worker,
                initargs=(spec, now, since, until, scratch),
            ) as pool:
                try:
                    _gather(total, _in_order(pool, rest, job, 4 * jobs), exporter, say)
                except BaseException:  # Ctrl-C, a bad output: what is queued is not started
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    finally:
        if exporter is not None:
            exporter.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return total.build()


#: Files per chunk of work: enough that sending a chunk's counts back costs little
#: beside reviewing it, few enough that the workers finish together.
CHUNK = 100


def _in_order(
    pool: concurrent.futures.Executor, chunks: Iterable[list[tuple[str, str | None]]], job: Job, window: int
) -> Iterator[ChunkResult]:
    """Each chunk's result, in order; at most ``window`` chunks in flight, so memory stays flat.

    A chunk holding standard input is reviewed here, in its turn: a worker process has none.
    """
    pending: collections.deque[concurrent.futures.Future[ChunkResult]] = collections.deque()
    for number, chunk in enumerate(chunks):
        if any(path == "-" for path, _ in chunk):
            done: concurrent.futures.Future[ChunkResult] = concurrent.futures.Future()
            done.set_result(run_chunk(number, chunk, job))
            pending.append(done)
        else:
            pending.append(pool.submit(_worker_chunk, number, chunk))
        while len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _gather(total: Builder, results: Iterable[ChunkResult], exporter: Exporter | None, say: OnBad) -> None:
    for result in results:
        total.add_report(result.report)
        for path, why in result.bad:
            say(path, why)
        if exporter is not None:
            for table, part in result.parts:
                exporter.append_file(table, Path(part))
