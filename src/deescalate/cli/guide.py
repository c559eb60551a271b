"""``deescalate guide``: what the agent should do now, after a transcript's last event.

Reads a transcript, replays it (advisory: it says what happened), and prints
:func:`~deescalate.guide`'s answer at ``--now`` (by default the last event's time):
as text written for the agent, or as one JSON object for an agent-assist UI.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, TextIO

from .._apply import Mode
from .._errors import ArgumentValueError
from .._guidance import ActionStatus, Guidance, guide
from .._loading import load_policy
from .._review import review
from ..transcript import read_transcript
from ._shared import Styles, add_policy_option, lines, owed_line, parse_now, writes_unicode

if TYPE_CHECKING:
    import argparse

__all__ = ["ACTION_LABELS", "configure", "format_guidance", "label", "run"]

#: How each agent action reads in the text for the agent.
ACTION_LABELS: dict[str, str] = {
    "concerns_acknowledged": "Summarise the customer's concerns back to them",
    "empathy_expressed": "Show empathy",
    "fact_recorded": "Record another side's account",
    "facts_established": "Establish the facts",
    "apology_offered": "Apologise",
    "remedy_proposed": "Propose a remedy",
    "progress_reported": "Report progress",
    "callback_promised": "Promise a callback",
    "follow_up_completed": "Complete the follow-up",
    "escalated": "Escalate",
    "abuse_warning_given": "Warn about the abuse",
    "conversation_ended": "End the conversation",
}


def label(action: str, variant: str | None = None) -> str:
    """An action as the agent reads it: ``Apologise (for the company)``."""
    text = ACTION_LABELS.get(action, action)
    if action == "apology_offered" and variant is not None:
        text += " for the inconvenience" if variant == "inconvenience" else " for the company"
    elif action == "conversation_ended" and variant == "abuse":
        text += " for abuse"
    return text


def format_guidance(guidance: Guidance, styles: Styles) -> str:
    """The guidance for an agent: what to do now and why, what not to do, what we wait for, what is due."""
    now = guidance.now
    out = [
        styles.bold(
            f"{guidance.interaction_id}: stage {guidance.stage.value}, "
            f"policy {guidance.policy}, at {now.isoformat()}"
        ),
        "",
    ]
    if guidance.recommended:
        out.append(styles.bold("Do now:"))
        for number, item in enumerate(guidance.recommended, 1):
            out.append(f"  {number}. {label(item.action, item.variant)} ({item.action}): {item.reason}")
    elif guidance.stage.terminal:
        out.append("Nothing to do: the interaction is over.")
    else:
        out.append("Nothing to do now but wait.")
    refused = [a for a in guidance.actions if a.status is ActionStatus.REFUSED]
    if refused:
        out += ["", styles.bold("Don't:")]
        for action in refused:
            out.append(f"  - {label(action.action, action.variant)} ({', '.join(action.rules)})")
            for advice in dict.fromkeys(action.advice):
                out.append(styles.dim(f"      instead: {advice}"))
    if guidance.awaiting:
        out += ["", styles.bold("Waiting for:")]
        awaited = set(guidance.awaiting)
        if "venting_subsided" in awaited:
            out.append("  - the customer to finish venting (venting_subsided)")
        answers = [kind for kind in ("remedy_accepted", "remedy_rejected") if kind in awaited]
        if answers:
            out.append(f"  - the customer's answer to the remedy ({' or '.join(answers)})")
    if guidance.obligations:
        out += ["", styles.bold("Owed to the customer:")]
        out += [owed_line(owed, now, styles) for owed in guidance.obligations]
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate guide``: 0, or 2 (raised) on bad input."""
    policy = load_policy(args.policy)
    now = parse_now(args.now) if args.now is not None else None
    report = review(read_transcript(lines(args.file)), policy, Mode.ADVISORY)
    last = report.last_at  # of any line, applied or not
    if now is None:
        now = last
    elif now < last:
        raise ArgumentValueError("--now", f"is earlier than the transcript's last event ({last.isoformat()})")
    guidance = guide(report.interaction, policy, now)
    if args.format == "json":
        out.write(json.dumps(guidance.to_dict(), ensure_ascii=not writes_unicode(out)) + "\n")
    else:
        out.write(format_guidance(guidance, Styles(out)))
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``guide``'s description and arguments to its parser."""
    parser.description = (
        "Replay a transcript and say what the agent should do next: the recommended "
        "actions and why, the actions the policy would refuse and what to do instead, what the "
        "interaction waits for, and what is owed to the customer by when. "
        "Exit 0, or 2 on bad input."
    )
    parser.add_argument("file", metavar="FILE", help="the transcript, or - for standard input")
    add_policy_option(parser)
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="the time to guide at (ISO-8601 with a UTC offset); default: the last event's time",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) for the agent, or json: one JSON object for an agent-assist UI",
    )
    parser.set_defaults(run=run)
