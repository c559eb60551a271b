"""The contract's built-in rules, each a small function with its principle.

Every check receives the interaction *before* the event. The principles restate,
in our own words, the good practice of the articles the contract draws on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ._durations import say_span
from ._events import (
    CONTACT_EVENTS,
    EVENT_CLASSES,
    ApologyOffered,
    ApologyScope,
    ConcernsAcknowledged,
    ConversationEnded,
    EndReason,
    Escalated,
    FactsEstablished,
    Fault,
    FollowUpCompleted,
    RemedyAccepted,
    RemedyProposed,
)
from ._rules import Params, Rule, rule
from ._stages import Stage

if TYPE_CHECKING:
    from ._events import Event
    from ._interaction import Interaction


def _company_apology(event: Event) -> bool:
    return isinstance(event, ApologyOffered) and event.scope is ApologyScope.COMPANY


@rule(
    "let-them-vent",
    severity="violation",
    on=["concerns_acknowledged", "facts_established", "remedy_proposed", "apology_offered"],
    message="{event.type} while the customer was still venting: the agent talked over them",
    principle=(
        "Interrupting an upset customer feeds their anger. Let each wave of emotion run "
        "its course before summarising, explaining, apologising for the company or offering "
        "anything; when a new wave comes, wait again."
    ),
    advice="Wait for the venting to subside (venting_subsided) before responding.",
)
def let_them_vent(interaction: Interaction, event: Event, params: Params) -> bool:
    if event.type == "apology_offered" and not _company_apology(event):
        return False
    return interaction.wave_open


@rule(
    "acknowledge-first",
    severity="violation",
    on=["facts_established", "remedy_proposed"],
    message="{event.type} before the customer's concerns were summarised back to them",
    principle=(
        "Before working on the problem, show the customer they were heard: repeat the "
        "priorities you understood from their side so you both work on the same thing."
    ),
    advice="Acknowledge the concerns with a summary (concerns_acknowledged) first.",
)
def acknowledge_first(interaction: Interaction, event: Event, params: Params) -> bool:
    return interaction.stage is Stage.VENTING


@rule(
    "acknowledge-with-summary",
    severity="violation",
    on="concerns_acknowledged",
    message="the concerns were acknowledged without summarising any of them",
    principle=(
        "An acknowledgement only reassures when it restates what the customer said; a bare "
        "'I understand' proves nothing was heard."
    ),
    advice="Summarise the customer's concerns in your own words when acknowledging them.",
)
def acknowledge_with_summary(
    interaction: Interaction, event: ConcernsAcknowledged, params: Params
) -> bool:
    return not any(point.strip() for point in event.summary)


@rule(
    "use-their-name",
    severity="warning",
    on="concerns_acknowledged",
    message="the customer was not addressed by name when their concerns were acknowledged",
    principle=(
        "Addressing the customer by name makes the exchange personal and reminds both sides "
        "that two people are solving a problem together."
    ),
    advice="Use the customer's name when you summarise their concerns.",
)
def use_their_name(interaction: Interaction, event: ConcernsAcknowledged, params: Params) -> bool:
    return not event.used_name


@rule(
    "hear-all-sides",
    severity="warning",
    on="facts_established",
    message=(
        "facts established after hearing {interaction.fact_source_count} source(s); "
        "the policy asks for {params.min_fact_sources}"
    ),
    principle=(
        "Find out what really happened by talking to everyone involved before deciding who "
        "is at fault; one side of the story is not the facts."
    ),
    advice="Record the account of every party involved (fact_recorded) before concluding.",
)
def hear_all_sides(interaction: Interaction, event: FactsEstablished, params: Params) -> bool:
    return interaction.fact_source_count < params.min_fact_sources


@rule(
    "no-company-apology-before-facts",
    severity="violation",
    on="apology_offered",
    message="apologised on behalf of the company before the facts were established",
    principle=(
        "Early in a complaint nobody knows yet who is at fault. Empathise with the "
        "customer's situation, but keep the company's apology until the facts are in."
    ),
    advice="Express empathy now (empathy_expressed); apologise for the company once the facts show it erred.",
)
def no_company_apology_before_facts(
    interaction: Interaction, event: ApologyOffered, params: Params
) -> bool:
    return _company_apology(event) and interaction.facts is None


@rule(
    "apologize-only-when-warranted",
    severity="violation",
    on="apology_offered",
    message="apologised on behalf of the company although the facts put the fault elsewhere",
    principle=(
        "Apologise for the company when the facts show the company erred. When they do not, "
        "the customer still needs to hear what the company will do to help."
    ),
    advice="Apologise for the inconvenience instead, and say what the company can do to help.",
)
def apologize_only_when_warranted(
    interaction: Interaction, event: ApologyOffered, params: Params
) -> bool:
    facts = interaction.facts
    return _company_apology(event) and facts is not None and facts.fault is not Fault.COMPANY


@rule(
    "no-scapegoating",
    severity="violation",
    on="apology_offered",
    message="the apology blamed an individual colleague",
    principle=(
        "The company owns its mistakes together: an apology says 'we got this wrong', never "
        "'my colleague got this wrong'."
    ),
    advice="Apologise as the company ('we made a mistake') without naming anyone.",
)
def no_scapegoating(interaction: Interaction, event: ApologyOffered, params: Params) -> bool:
    return event.names_individual


@rule(
    "no-remedy-before-facts",
    severity="violation",
    on="remedy_proposed",
    message="a remedy was proposed before the facts were established",
    principle=(
        "A remedy fits a problem only once the problem is understood; promising before the "
        "facts are known risks promising the wrong thing."
    ),
    advice="Establish the facts (facts_established) before proposing a remedy.",
)
def no_remedy_before_facts(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    return interaction.facts is None


@rule(
    "within-authority",
    severity="violation",
    on="remedy_proposed",
    message=(
        "a remedy worth {event.value} exceeds the {interaction.owner}'s authority limit of "
        "{interaction.authority_limit}"
    ),
    principle=(
        "Promise only what you can deliver. When the remedy the customer needs is beyond "
        "your authority, bring in someone who has it instead of over-promising."
    ),
    advice="Escalate to someone whose authority covers the remedy, or offer one within your limit.",
)
def within_authority(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    return event.value > interaction.authority_limit


@rule(
    "hand-off-when-stuck",
    severity="violation",
    on="remedy_proposed",
    message=(
        "{interaction.owner} proposed another remedy after {interaction.rejections} were "
        "rejected (the policy allows {params.max_rejections})"
    ),
    principle=(
        "An owner whose offers keep being turned down is no longer helping; pass the case to "
        "someone with fresh authority while the customer still trusts the process."
    ),
    advice="Escalate (escalated) to a supervisor or specialist instead of trying again.",
)
def hand_off_when_stuck(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    return interaction.rejections >= params.max_rejections


@rule(
    "always-apologize",
    severity="violation",
    on="remedy_proposed",
    message="a remedy was proposed before any apology was offered",
    principle=(
        "Whatever caused the problem, the customer was inconvenienced: say sorry for that "
        "before moving on to what you will do about it."
    ),
    advice="Apologise (at least for the inconvenience) before proposing a remedy.",
)
def always_apologize(interaction: Interaction, event: RemedyProposed, params: Params) -> bool:
    return not interaction.apologized


@rule(
    "restate-the-agreement",
    severity="violation",
    on="remedy_accepted",
    message="the agreement was accepted without being restated to the customer",
    principle=(
        "An agreement only holds if both sides mean the same thing by it: repeat the terms "
        "back and check the customer reads them as you do."
    ),
    advice="Restate the agreed remedy and check the customer understands it the same way.",
)
def restate_the_agreement(interaction: Interaction, event: RemedyAccepted, params: Params) -> bool:
    return not event.restated


@rule(
    "confirm-in-writing",
    severity="warning",
    on="remedy_accepted",
    message="no written confirmation of the agreement was sent",
    principle="A written confirmation of what was agreed prevents later disputes about it.",
    advice="Send the customer a written confirmation of the agreement.",
)
def confirm_in_writing(interaction: Interaction, event: RemedyAccepted, params: Params) -> bool:
    return not event.confirmation_sent


@rule(
    "report-progress",
    severity="warning",
    on="follow_up_completed",
    message="the follow-through finished without a progress report to the customer",
    principle=(
        "An agreement without follow-through is worse than none. Keep watching the work and "
        "tell the customer how it is going before it is done."
    ),
    advice="Report progress to the customer (progress_reported) while the remedy is carried out.",
)
def report_progress(interaction: Interaction, event: FollowUpCompleted, params: Params) -> bool:
    return not interaction.progress_reported


@rule(
    "prevent-recurrence",
    severity="violation",
    on="follow_up_completed",
    message="the company was at fault but the follow-up says nothing about preventing a repeat",
    principle=(
        "The best complaint is the one that never happens. When the company was at fault, "
        "show the customer what changes so the problem does not come back."
    ),
    advice="Record what the company changes so that the problem does not recur (prevention).",
)
def prevent_recurrence(interaction: Interaction, event: FollowUpCompleted, params: Params) -> bool:
    facts = interaction.facts
    return facts is not None and facts.fault is Fault.COMPANY and not event.prevention.strip()


@rule(
    "handoff-carries-summary",
    severity="violation",
    on="escalated",
    message="escalated to {event.to} with no summary of the concerns to hand over",
    principle=(
        "A customer passed to someone new must never have to tell the whole story again; the "
        "hand-off carries a summary of what was heard."
    ),
    advice="Acknowledge the concerns with a summary before handing the interaction over.",
)
def handoff_carries_summary(interaction: Interaction, event: Escalated, params: Params) -> bool:
    return interaction.summary is None


@rule(
    "escalate-before-asked",
    severity="warning",
    on="escalated",
    message="escalated only after the customer had asked for a manager",
    principle=(
        "A request for a manager is a sign the agent waited too long; involve one as soon as "
        "the case is slipping, so the customer never has to demand it."
    ),
    advice="Escalate as soon as you see you cannot resolve the complaint, before the customer asks.",
)
def escalate_before_asked(interaction: Interaction, event: Escalated, params: Params) -> bool:
    return interaction.manager_requested


@rule(
    "warn-before-ending",
    severity="violation",
    on="conversation_ended",
    message=(
        "ended the conversation for abuse without the warning(s) the policy asks for "
        "({params.warnings_before_ending} after the first abuse observed)"
    ),
    principle=(
        "Nobody has to take abuse, but ending the conversation is the last step: note the "
        "abuse, warn the customer, and end it only if it goes on."
    ),
    advice="Record the abuse (abuse_observed) and warn the customer (abuse_warning_given) before ending.",
)
def warn_before_ending(interaction: Interaction, event: ConversationEnded, params: Params) -> bool:
    if event.reason is not EndReason.ABUSE:
        return False
    return (
        not interaction.abuse_observed
        or interaction.abuse_warnings < params.warnings_before_ending
    )


def _every(span: timedelta) -> str:
    """``every day``, ``every 12 h``: how often, as an agent reads it."""
    if span == timedelta(days=1):
        return "every day"
    if span == timedelta(hours=1):
        return "every hour"
    return f"every {say_span(span)}"


def _late(event: Event, due: datetime) -> str:
    return f"{say_span(event.at - due)} late (it was due by {due.isoformat()})"


@rule(
    "keep-the-promise",
    severity="warning",
    on=sorted(CONTACT_EVENTS),
    message="the customer was contacted after the promised callback time",
    principle=(
        "A promise to call back is a promise: a customer left waiting past the time they "
        "were given concludes they were forgotten. Call when you said you would, even if only "
        "to say the work goes on."
    ),
    advice="Contact the customer by the time you promised; promise a time you can keep.",
)
def keep_the_promise(interaction: Interaction, event: Event, params: Params) -> str | None:
    due = interaction.callback_due
    if due is None or event.at <= due:
        return None
    return f"the first contact after a promised callback came {_late(event, due)}"


@rule(
    "report-progress-on-time",
    severity="warning",
    on=["progress_reported", "follow_up_completed"],
    message="the customer heard about the follow-through's progress later than the policy asks",
    principle=(
        "While an agreed remedy is being carried out, the customer should not have to chase "
        "it: tell them how it is going at regular intervals, before they wonder."
    ),
    advice="Tell the customer how the remedy is going (progress_reported) as often as the policy asks.",
)
def report_progress_on_time(interaction: Interaction, event: Event, params: Params) -> str | None:
    every, since = params.progress_every, interaction.progress_since
    if every is None or since is None or interaction.stage is not Stage.AGREED:
        return None
    due = since + every
    if event.at <= due:
        return None
    silence = say_span(event.at - since)
    return (
        f"the customer heard no progress for {silence}: a report was due by {due.isoformat()} "
        f"(the policy asks for one {_every(every)})"
    )


@rule(
    "follow-up-on-time",
    severity="warning",
    on="follow_up_completed",
    message="the follow-through was completed later than the policy allows after agreement",
    principle=(
        "Acting promptly on an agreement is part of the remedy: the longer the fix takes, the "
        "more the customer's trust wears away."
    ),
    advice="Complete the follow-through in the time the policy allows, or tell the customer why not.",
)
def follow_up_on_time(interaction: Interaction, event: Event, params: Params) -> str | None:
    within, accepted = params.follow_up_within, interaction.accepted_at
    if within is None or accepted is None:
        return None
    due = accepted + within
    if event.at <= due:
        return None
    allowed = say_span(within)
    return f"the follow-up was completed {_late(event, due)}: the policy allows {allowed} after agreement"


@rule(
    "escalate-promptly",
    severity="warning",
    on="escalated",
    message="the customer's request for a manager was met later than the policy allows",
    principle=(
        "A customer who asks for a manager should not wait for one: bring them in quickly, "
        "before the wait becomes a second complaint."
    ),
    advice="Bring a manager in as soon as the customer asks (better: before they have to).",
)
def escalate_promptly(interaction: Interaction, event: Escalated, params: Params) -> str | None:
    within, asked = params.escalate_within, interaction.manager_requested_at
    if within is None or asked is None:
        return None
    due = asked + within
    if event.at <= due:
        return None
    waited = say_span(event.at - asked)
    return f"escalated {_late(event, due)}: the customer asked for a manager {waited} earlier"


def _impossible(interaction: Interaction, event: Event, params: Params) -> bool:
    return True  # the engine, not this check, decides when an event is impossible


#: Not a judgement but a fact: the event cannot happen at this stage. It is part of
#: every policy, always a violation, and applied events never carry it.
INVALID_TRANSITION: Rule = Rule(
    id="invalid-transition",
    severity="violation",
    on=[t for t in EVENT_CLASSES if t != "interaction_opened"],
    check=_impossible,
    message="{event.type} is not possible at this stage",
    principle=(
        "The workflow has an order: some steps only make sense at some stages (a remedy can "
        "only be accepted while one is pending), and nothing follows the end."
    ),
    advice="Check the interaction's stage before sending the event.",
)

#: Every built-in rule, in the order the docs list them (``invalid-transition`` apart).
BUILTIN_RULES: tuple[Rule, ...] = (
    let_them_vent,
    acknowledge_first,
    acknowledge_with_summary,
    use_their_name,
    hear_all_sides,
    no_company_apology_before_facts,
    apologize_only_when_warranted,
    no_scapegoating,
    no_remedy_before_facts,
    within_authority,
    hand_off_when_stuck,
    always_apologize,
    restate_the_agreement,
    confirm_in_writing,
    report_progress,
    prevent_recurrence,
    handoff_carries_summary,
    escalate_before_asked,
    warn_before_ending,
    keep_the_promise,
    report_progress_on_time,
    follow_up_on_time,
    escalate_promptly,
)
