"""examples/webhook_server.py answers real HTTP requests from a store, as the store page says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the store needs its extra: pip install 'deescalate-fsm[store]'")

from examples.webhook_server import STATUS_BY_FATE, WebhookServer

from deescalate.store import Fate, Store

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "webhook_server.py"
ACCEPTED = {
    "type": "remedy_accepted",
    "at": "2026-04-06T10:06:00Z",
    "restated": True,
    "confirmation_sent": True,
}
TRANSCRIPT = (ROOT / "examples" / "follow-through.jsonl").read_text(encoding="utf-8").splitlines()


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Store]]:
    """The example serving a fresh SQLite file store on a free port of 127.0.0.1."""
    store = Store(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    statuses = getattr(request, "param", STATUS_BY_FATE)
    httpd = WebhookServer(("127.0.0.1", 0), store, statuses=statuses, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", store
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
        store.close()


def request(url: str, body: bytes | None = None, method: str | None = None) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method), timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def post(base: str, interaction_id: str, body: str | bytes) -> tuple[int, Any]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return request(f"{base}/interactions/{interaction_id}/events", data)


def test_a_transcript_posted_line_by_line_is_applied_and_its_obligations_are_due(server) -> None:
    base, store = server
    answers = [post(base, "T-2040", line) for line in TRANSCRIPT]
    assert [(status, body["fate"]) for status, body in answers] == [(200, "applied")] * len(TRANSCRIPT)
    assert [body["position"] for _, body in answers] == list(range(len(TRANSCRIPT)))
    assert answers[0][1]["stage"] == "venting" and answers[-1][1]["stage"] == "agreed"
    assert answers[6][1]["findings"] == []

    status, due = request(f"{base}/due?now=2026-04-07T13:00:00Z")
    assert status == 200 and due["now"] == "2026-04-07T13:00:00+00:00"
    assert [(item["interaction_id"], item["kind"], item["due"], item["overdue"]) for item in due["due"]] == [
        ("T-2040", "progress-report", "2026-04-07T10:17:00+00:00", True),
        ("T-2040", "callback", "2026-04-07T12:00:00+00:00", True),
    ]
    assert request(f"{base}/due?now=2026-04-07T10%3A17%3A00%2B00%3A00")[1]["due"][0]["overdue"] is False
    assert request(f"{base}/due?now=2026-04-06T11:00:00Z") == (
        200,
        {"now": "2026-04-06T11:00:00+00:00", "due": []},
    )
    status, due = request(f"{base}/due")  # the machine's clock
    assert status == 200 and isinstance(due["due"], list) and due["now"].endswith("+00:00")

    status, row = request(f"{base}/interactions/T-2040")
    assert status == 200 and (row["stage"], row["version"], row["policy"]) == ("agreed", 11, "facts-first")
    assert store.get("T-2040").stage.value == "agreed"


def test_each_fate_gets_its_status_and_is_journaled(server) -> None:
    base, store = server
    for line in TRANSCRIPT[:4]:
        assert post(base, "T-2040", line)[0] == 200

    status, body = post(base, "T-2040", TRANSCRIPT[1])  # a redelivery
    assert (status, body["fate"], body["position"], body["stage"]) == (200, "duplicate", None, "acknowledged")

    status, body = post(base, "T-2040", b'{"type": "customer_vented", "at": "2026-04-06T10:00:40Z"')
    assert (status, body["fate"], body["stage"]) == (422, "bad_input", None)
    assert body["error"].startswith("field 'line': is not valid JSON")

    status, body = post(base, "T-2040", b'{"type": "customer_vented", "at": "\xff"}')
    assert (status, body["fate"], body["error"]) == (422, "bad_input", "field 'line': is not valid UTF-8")

    status, body = post(base, "T-2040", '{"type": "refund_issued", "at": "2026-04-06T10:05:00Z"}')
    assert (status, body["error"]) == (422, "field 'type': unknown event type 'refund_issued'")

    late = '{"type": "empathy_expressed", "at": "2026-04-06T10:01:00Z", "event_id": "x-1"}'
    status, body = post(base, "T-2040", late)
    assert (status, body["fate"], body["findings"]) == (202, "late", [])

    early = '{"type": "remedy_proposed", "at": "2026-04-06T10:05:00Z", "remedy": "a voucher", "value": 20}'
    status, body = post(base, "T-2040", early)
    assert (status, body["fate"], body["stage"]) == (409, "refused", "acknowledged")
    assert body["findings"] == [
        {
            "rule": "no-remedy-before-facts",
            "severity": "violation",
            "message": "a remedy was proposed before the facts were established",
            "advice": "Establish the facts (facts_established) before proposing a remedy.",
        }
    ]

    status, body = post(base, "T-2040", json.dumps(ACCEPTED))
    assert (status, body["fate"]) == (409, "invalid")
    assert body["error"] == "remedy_accepted is not possible at stage acknowledged"
    assert body["findings"][0]["advice"] == "Check the interaction's stage before sending the event."

    status, body = post(
        base, "T-9", '{"type": "customer_vented", "at": "2026-04-06T10:06:00Z", "intensity": 3}'
    )
    assert (status, body["fate"], body["stage"]) == (409, "invalid", None)

    fates = [record.fate for record in store.deliveries(interaction_id="T-2040")]
    assert fates == [Fate.APPLIED] * 4 + [
        Fate.DUPLICATE,
        Fate.BAD_INPUT,
        Fate.BAD_INPUT,
        Fate.BAD_INPUT,
        Fate.LATE,
        Fate.REFUSED,
        Fate.INVALID,
    ]
    kept = store.deliveries(fate="bad_input")[0]
    assert kept.payload == '{"type": "customer_vented", "at": "2026-04-06T10:00:40Z"'
    assert len(store.events("T-2040")) == 4


def test_what_is_not_a_delivery_is_answered_without_touching_the_store(server) -> None:
    base, store = server
    assert request(f"{base}/interactions/T-2040/notes", b"{}")[0] == 404
    assert request(f"{base}/interactions//events", b"{}")[0] == 404
    assert request(f"{base}/interactions/nobody")[0] == 404
    assert request(f"{base}/elsewhere")[0] == 404
    status, body = request(f"{base}/due?now=2026-04-07T13:00:00")
    assert status == 400 and "UTC offset" in body["error"]
    assert request(f"{base}/due?now=tomorrow")[0] == 400
    assert post(base, "T-1", b"x" * 70_000)[0] == 413
    assert store.deliveries() == []


@pytest.mark.parametrize("server", [dict.fromkeys(Fate, HTTPStatus.OK)], indirect=True)
def test_a_server_may_answer_200_to_every_fate_the_store_kept(server) -> None:
    base, store = server
    answers = [post(base, "T-2040", body) for body in ("{}", TRANSCRIPT[1], TRANSCRIPT[0], TRANSCRIPT[0])]
    assert [(status, body["fate"]) for status, body in answers] == [
        (200, "bad_input"),
        (200, "invalid"),
        (200, "applied"),
        (200, "duplicate"),
    ]
    assert [record.fate for record in store.deliveries()] == [
        Fate.BAD_INPUT,
        Fate.INVALID,
        Fate.APPLIED,
        Fate.DUPLICATE,
    ]


def test_every_fate_has_a_status_and_only_kept_ones_are_2xx() -> None:
    assert set(STATUS_BY_FATE) == set(Fate)
    assert {fate for fate, status in STATUS_BY_FATE.items() if status < 300} == {
        Fate.APPLIED,
        Fate.DUPLICATE,
        Fate.LATE,
    }


def test_the_store_page_shows_the_example_as_it_is() -> None:
    """Each ```py block of the store page that quotes the example is a verbatim part of it."""
    page = (ROOT / "docs" / "how-to" / "store.md").read_text(encoding="utf-8")
    source = EXAMPLE.read_text(encoding="utf-8")
    quoted = [
        block
        for block in re.findall(r"^```py\n(.*?)^```$", page, re.S | re.M)
        if "STATUS_BY_FATE" in block or "def do_POST" in block
    ]
    assert quoted, "the store page quotes examples/webhook_server.py"
    for block in quoted:
        assert block in source


def test_the_example_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--db" in result.stdout and "--port" in result.stdout
