"""The complaint log is a mergeable value: the report over a corpus is the merge of the reports over its parts.

Corpora are drawn with the testing kit's transcripts (violations, invalid events
and repeated deliveries included), opened in different weeks; a report judges the
obligations at a drawn ``now`` and keeps a drawn window. However the corpus is cut,
and in whatever order the parts' reports are merged, the result is the report
over the whole, down to its JSON.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from deescalate import FACTS_FIRST, Event, dump_event
from deescalate.report import Builder, Report, to_dict
from deescalate.report._transcripts import Job, count_transcript
from deescalate.testing import START, openings, transcripts

OPENED = st.sampled_from([START + timedelta(days=days, hours=hours) for days in (0, 3, 9, 20) for hours in (0, 7)])
CORPUS = st.lists(transcripts(violations=True, max_events=30, opening=openings(at=OPENED)), max_size=10)
MOMENT = st.none() | st.sampled_from([START + timedelta(days=days) for days in (2, 10, 40)])


def report_of(corpus: list[tuple[Event, ...]], job: Job) -> Report:
    builder = Builder(job.now, job.since, job.until)
    for events in corpus:
        count_transcript([dump_event(event) for event in events], "drawn", job, builder)
    return builder.build()


@settings(max_examples=150, deadline=None)
@given(CORPUS, st.data())
def test_the_report_over_a_corpus_is_the_merge_of_the_reports_over_its_parts(
    corpus: list[tuple[Event, ...]], data: st.DataObject
) -> None:
    now = data.draw(MOMENT, "now")
    since = data.draw(st.none() | st.just(START + timedelta(days=3)), "since")
    job = Job(FACTS_FIRST, now, since, None)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(corpus)), max_size=4), "cuts"))
    bounds = [0, *cuts, len(corpus)]
    parts = [corpus[a:b] for a, b in itertools.pairwise(bounds)]
    whole = report_of(corpus, job)
    reports = [report_of(part, job) for part in parts]
    order = data.draw(st.permutations(range(len(reports))), "order")
    merged = Report.merged((reports[n] for n in order), now=now, since=since)
    assert merged == whole
    assert to_dict(merged) == to_dict(whole)


@settings(max_examples=60, deadline=None)
@given(CORPUS)
def test_each_interaction_is_counted_once_and_every_finding_once(corpus: list[tuple[Event, ...]]) -> None:
    from deescalate import Mode, read_transcript, review

    report = report_of(corpus, Job(FACTS_FIRST))
    assert report.total == len(corpus)
    reviews = [
        review(read_transcript(dump_event(e) for e in events), FACTS_FIRST, Mode.ADVISORY) for events in corpus
    ]
    totals = report.finding_totals()
    assert totals["violation"] == sum(r.violations for r in reviews)
    assert totals["warning"] == sum(r.warnings for r in reviews)
    assert report.events == sum(r.events for r in reviews)
    assert sum(report.stages().values()) == len(corpus)
    assert sum(report.outcomes().values()) == len(corpus)
