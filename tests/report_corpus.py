"""A small complaint log whose every figure is worked out by hand (see tests/test_report.py).

Five interactions over two ISO weeks (2026-W10 and W11), each written as
(seconds after the opening, event type, fields):

* **A** (Mon 2 March): clean, resolved, company fault, "Label printer jammed",
  prevention recorded. Acknowledged after 240 s, agreed after 1,200 s, followed up
  after 86,400 s. No finding.
* **B** (Tue 3 March): the agent apologises for the company, naming a colleague,
  while the customer vents (let-them-vent, no-company-apology-before-facts,
  no-scapegoating), forgets the customer's name (use-their-name, a warning), a remedy
  is rejected then another accepted, and the follow-up says the problem is not
  resolved and records no prevention (prevent-recurrence). Root cause
  "label  printer JAMMED " (the same as A's, once case and spacing are ignored).
  180 s, 900 s, 7,200 s.
* **C** (Tue 10 March): the customer asks for a manager at 180 s and is escalated to
  "team lead" at 1,200 s: after asking (escalate-before-asked) and late
  (escalate-promptly), both warnings judged while the agent had it. The team lead
  establishes the facts from one source (hear-all-sides) and gets an agreement
  without restating it (restate-the-agreement): both counted against "team lead".
  A callback is promised by 12:00 that day; still open at the end (stage agreed).
  120 s, 1,500 s.
* **D** (Wed 11 March): abuse, and the call is ended without a warning
  (warn-before-ending).
* **E** (Thu 12 March): a callback promised by 08:30 is met at 08:45
  (keep-the-promise), then the customer leaves. Acknowledged after 2,760 s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Step = tuple[float, str, dict[str, Any]]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def transcript(interaction_id: str, opened: datetime, steps: list[Step]) -> list[str]:
    """JSON Lines: the opening at ``opened``, then each step ``seconds`` after it."""
    lines = [{"type": "interaction_opened", "at": _stamp(opened), "interaction_id": interaction_id,
              "customer_name": "Robin", "event_id": f"{interaction_id}-0"}]
    for n, (seconds, kind, fields) in enumerate(steps, 1):
        at = opened + timedelta(seconds=seconds)
        lines.append({"type": kind, "at": _stamp(at), "event_id": f"{interaction_id}-{n}", **fields})
    return [json.dumps(line) for line in lines]


M, H = 60, 3600
ACK = {"summary": ["the order is late"], "used_name": True}

A = transcript("A", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), [
    (10, "customer_vented", {"intensity": 7}),
    (2 * M, "venting_subsided", {}),
    (4 * M, "concerns_acknowledged", ACK),
    (5 * M, "fact_recorded", {"source": "customer", "detail": "ordered on the 1st"}),
    (6 * M, "fact_recorded", {"source": "warehouse", "detail": "label not printed"}),
    (10 * M, "facts_established", {"fault": "company", "root_cause": "Label printer jammed"}),
    (11 * M, "apology_offered", {"scope": "company", "names_individual": False}),
    (12 * M, "remedy_proposed", {"remedy": "express shipping", "value": 20}),
    (20 * M, "remedy_accepted", {"restated": True, "confirmation_sent": True}),
    (20 * H, "progress_reported", {"detail": "shipped"}),
    (24 * H, "follow_up_completed", {"resolved": True, "prevention": "printer serviced weekly"}),
])

B = transcript("B", datetime(2026, 3, 3, 10, 0, tzinfo=UTC), [
    (10, "customer_vented", {"intensity": 9}),
    (40, "apology_offered", {"scope": "company", "names_individual": True}),
    (2 * M, "venting_subsided", {}),
    (3 * M, "concerns_acknowledged", {"summary": ["the order is late"], "used_name": False}),
    (5 * M, "fact_recorded", {"source": "customer", "detail": "ordered on the 1st"}),
    (6 * M, "fact_recorded", {"source": "billing", "detail": "paid"}),
    (8 * M, "facts_established", {"fault": "company", "root_cause": "label  printer JAMMED "}),
    (9 * M, "remedy_proposed", {"remedy": "voucher", "value": 30}),
    (10 * M, "remedy_rejected", {"counter_request": "refund"}),
    (12 * M, "remedy_proposed", {"remedy": "refund", "value": 50}),
    (15 * M, "remedy_accepted", {"restated": True, "confirmation_sent": True}),
    (1 * H, "progress_reported", {"detail": "refund issued"}),
    (2 * H, "follow_up_completed", {"resolved": False, "prevention": ""}),
])

C = transcript("C", datetime(2026, 3, 10, 9, 0, tzinfo=UTC), [
    (5, "customer_vented", {"intensity": 6}),
    (1 * M, "venting_subsided", {}),
    (2 * M, "concerns_acknowledged", ACK),
    (3 * M, "manager_requested", {}),
    (20 * M, "escalated", {"to": "team lead", "authority_limit": 500}),
    (21 * M, "fact_recorded", {"source": "customer", "detail": "parcel never came"}),
    (22 * M, "facts_established", {"fault": "third_party", "root_cause": "Courier lost the parcel"}),
    (23 * M, "remedy_proposed", {"remedy": "resend", "value": 40}),
    (25 * M, "remedy_accepted", {"restated": False, "confirmation_sent": True}),
    (26 * M, "callback_promised", {"by": "2026-03-10T12:00:00Z"}),
])

D = transcript("D", datetime(2026, 3, 11, 15, 0, tzinfo=UTC), [
    (10, "customer_vented", {"intensity": 10}),
    (1 * M, "abuse_observed", {"detail": "insults"}),
    (2 * M, "conversation_ended", {"reason": "abuse"}),
])

E = transcript("E", datetime(2026, 3, 12, 8, 0, tzinfo=UTC), [
    (10, "customer_vented", {"intensity": 5}),
    (1 * M, "venting_subsided", {}),
    (2 * M, "callback_promised", {"by": "2026-03-12T08:30:00Z"}),
    (45 * M, "empathy_expressed", {}),
    (46 * M, "concerns_acknowledged", ACK),
    (50 * M, "conversation_ended", {"reason": "customer_left"}),
])

CORPUS: dict[str, list[str]] = {"A": A, "B": B, "C": C, "D": D, "E": E}


def write(folder: Path, names: str = "ABCDE") -> Path:
    """The corpus's transcripts as ``<name>.jsonl`` files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.jsonl").write_text("\n".join(CORPUS[name]) + "\n", encoding="utf-8")
    return folder
