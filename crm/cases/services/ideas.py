"""Ideas proposed by the community, credited to who proposed them, adopted or declined."""

from __future__ import annotations

from datetime import date

from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CaseIdea, ProblemCase, User
from crm.timezones import local_today
from crm.vocab import IDEA_STATUSES, label

from . import lookups
from .rules import HIDDEN, check_version, idea_snapshot, person_label, require_edit
from .timeline import apply_changes, log


def idea_credit(i: CaseIdea, visible_stakeholder_ids: set[int] | None = None,
                hidden=HIDDEN) -> str | None:
    """Who proposed the idea; a person outside `visible_stakeholder_ids` shows as "Person #id"
    (or `hidden`)."""
    if i.proposed_by_group_id:
        return i.proposed_by_group.name if i.proposed_by_group else None
    return person_label(i.proposed_by_stakeholder_id, i.proposed_by_stakeholder,
                        visible_stakeholder_ids, hidden)


def add_idea(actor: User, case: ProblemCase, *, text: str, proposed_by_stakeholder_id=None,
             proposed_by_group_id=None) -> CaseIdea:
    """Record a solution proposed by the community, credited to a person or a group."""
    require_edit(actor, case)
    errors: dict = {}
    text = lookups.text(text, "text", errors, required=True)
    s = lookups.stakeholder(actor, proposed_by_stakeholder_id, "proposed_by_stakeholder_id",
                            errors)
    g = lookups.group(actor, proposed_by_group_id, "proposed_by_group_id", errors)
    if s is None and g is None and not errors:
        errors["proposed_by"] = "credit the idea to the person or group who proposed it"
    if errors:
        raise ValidationError(errors)
    idea = CaseIdea(text=text, proposed_by_stakeholder_id=s.id if s else None,
                    proposed_by_group_id=g.id if g else None, status="proposed")
    case.ideas.append(idea)
    db.session.flush()
    by = g.name if g else f"Person #{s.id}"
    log(actor, case, "idea.add", f"Idea from {by}: {text[:120]}", obj=idea,
        detail={"idea_id": idea.id, "text": text,
                "proposed_by_stakeholder_id": idea.proposed_by_stakeholder_id,
                "proposed_by_group_id": idea.proposed_by_group_id})
    return idea


def _idea_values(idea: CaseIdea, errors: dict, *, text, status, decline_reason,
                 proposer_told_on) -> dict:
    values: dict = {}
    if text is not None:
        values["text"] = lookups.text(text, "text", errors, required=True)
    if status is not None:
        if status not in IDEA_STATUSES:
            errors["status"] = f"must be one of {', '.join(IDEA_STATUSES)}"
        values["status"] = status
    new_status = values.get("status", idea.status)
    reason = (decline_reason if decline_reason is not None else
              (idea.decline_reason if new_status == "declined" else "")).strip()
    if new_status == "declined" and not reason:
        errors["decline_reason"] = "say why the idea is declined (the proposer will be told)"
    values["decline_reason"] = reason if new_status == "declined" else ""
    if proposer_told_on is not None:
        if proposer_told_on > local_today():
            errors["proposer_told_on"] = "cannot be in the future"
        values["proposer_told_on"] = proposer_told_on
    return values


def _idea_summary(idea: CaseIdea, changes: dict, detail: dict) -> str:
    if "status" in changes:
        summary = f"Idea {label(idea.status).lower()}: {idea.text[:100]}"
        if idea.status == "declined":
            summary += f" — reason: {idea.decline_reason}"
            if idea.proposer_told_on is None:
                summary += " (proposer to be told)"
                detail["proposer_to_be_told"] = True
        return summary
    if "proposer_told_on" in changes:
        return f"Proposer told on {idea.proposer_told_on.isoformat()}: {idea.text[:100]}"
    return f"Idea edited: {idea.text[:100]}"


def update_idea(actor: User, idea: CaseIdea, *, version_id: int | None, status: str | None = None,
                decline_reason: str | None = None, proposer_told_on: date | None = None,
                text: str | None = None) -> CaseIdea:
    """Adopt or decline an idea, or note when the proposer was told.

    Declining needs a reason, and the proposer is then to be told (the timeline says so
    until `proposer_told_on` is set)."""
    case = idea.case
    require_edit(actor, case)
    check_version(idea, version_id, idea_snapshot)
    errors: dict = {}
    values = _idea_values(idea, errors, text=text, status=status, decline_reason=decline_reason,
                          proposer_told_on=proposer_told_on)
    if errors:
        raise ValidationError(errors)
    changes = apply_changes(idea, values)
    if not changes:
        return idea
    db.session.flush()
    detail = {"idea_id": idea.id, "changes": changes}
    summary = _idea_summary(idea, changes, detail)
    log(actor, case, "idea.update", summary, obj=idea, detail=detail)
    return idea
