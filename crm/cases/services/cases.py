"""Opening a case, editing its fields, and moving it through SARA."""

from __future__ import annotations

from datetime import date

from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CaseMeasure, CaseParticipant, ProblemCase, User
from crm.timezones import local_today
from crm.vocab import CASE_STAGES, label

from . import lookups
from .rules import (
    ANALYSIS_REQUIRED,
    TEXT_FIELDS,
    case_snapshot,
    check_version,
    field_label,
    require_create,
    require_edit,
)
from .scope import check_grant, grant_note, record_grant
from .timeline import apply_changes, log


def create_case(actor: User, *, title: str, problem_statement: str = "", beat_ids=(),
                lead_id: int | None = None, opened_on: date | None = None) -> ProblemCase:
    """Open a case in scanning on beats of the actor's area. The lead defaults to the actor;
    a unit member who names another lead takes part as an officer, so the case stays in
    their list."""
    require_create(actor)
    errors: dict = {}
    title = lookups.text(title, "title", errors, required=True, max_len=200)
    statement = lookups.text(problem_statement or "", "problem_statement", errors)
    beats = lookups.beats(actor, beat_ids, errors)
    if not beats and "beat_ids" not in errors:
        errors["beat_ids"] = "choose at least one beat"
    lead = lookups.user(lead_id, "lead_id", errors) if lead_id else actor
    if errors:
        raise ValidationError(errors)
    case = ProblemCase(title=title, problem_statement=statement,
                       stage="scanning", lead_id=lead.id, opened_on=opened_on or local_today(),
                       stage_entered_at=utcnow())
    case.beats = beats
    if actor.role == "unit" and lead.id != actor.id:
        case.participants.append(CaseParticipant(kind="officer", role="co_producer",
                                                 user_id=actor.id))
    db.session.add(case)
    db.session.flush()
    log(actor, case, "case.create", f"Opened: {title}", detail={
        "title": title, "lead_id": lead.id, "beats": [b.code for b in beats]})
    return case


def _clean_case_values(actor: User, case: ProblemCase, values: dict, errors: dict
                       ) -> tuple[dict, list | None, dict | None]:
    """(plain field values, new beats or None, scope grant of a new lead or None)."""
    clean: dict = {}
    for f in TEXT_FIELDS:
        if f in values and values[f] is not None:
            clean[f] = lookups.text(values[f], f, errors, required=(f == "title"),
                                    max_len=200 if f == "title" else None)
    grant = None
    if values.get("lead_id") is not None:
        lead = lookups.user(values["lead_id"], "lead_id", errors)
        if lead is not None:
            clean["lead_id"] = lead.id
            if lead.id != case.lead_id:
                grant = check_grant(actor, lead, case, "lead_id", errors)
    beats = None
    if values.get("beat_ids") is not None:
        beats = lookups.beats(actor, values["beat_ids"], errors, keep=case.beats)
        if not beats and "beat_ids" not in errors:
            errors["beat_ids"] = "choose at least one beat"
    return clean, beats, grant


def update_case(actor: User, case: ProblemCase, values: dict, *, version_id: int | None
                ) -> ProblemCase:
    """Edit a case's text fields, lead and beats; one timeline entry with before/after.

    New beats must be in the actor's area (beats already on the case may stay); a new lead
    who would gain groups or people through the case is a scope grant (see `scope`).
    """
    require_edit(actor, case)
    check_version(case, version_id, case_snapshot)
    errors: dict = {}
    clean, beats, grant = _clean_case_values(actor, case, values, errors)
    if errors:
        raise ValidationError(errors)
    changes = apply_changes(case, clean)
    if beats is not None:
        before = [b.code for b in case.beats]
        after = [b.code for b in beats]
        if before != after:
            case.beats = beats
            changes["beats"] = {"before": before, "after": after}
    if not changes:
        return case
    db.session.flush()
    names = ", ".join(field_label(k).lower() for k in changes)
    log(actor, case, "case.update", f"Edited {names}{grant_note(grant)}",
        detail={"changes": changes})
    record_grant(actor, case, grant, via="lead")
    return case


def _measure_has_later_value(m: CaseMeasure) -> bool:
    if m.baseline_value is None:
        return False
    return any(m.baseline_on is None or v.measured_on > m.baseline_on for v in m.values)


def stage_guard_errors(case: ProblemCase, to_stage: str) -> dict[str, str]:
    """What is missing before the case may enter `to_stage` (empty when nothing is)."""
    errors: dict[str, str] = {}
    if to_stage == "response":
        for f in ANALYSIS_REQUIRED:
            if not (getattr(case, f) or "").strip():
                errors[f] = ("write the analysis before the response" if f == "analysis" else
                             f"fill in the {field_label(f).lower()} side of the problem "
                             "analysis triangle")
    if to_stage == "closed":
        if not (case.assessment or "").strip():
            errors["assessment"] = "write the assessment before closing"
        if not any(_measure_has_later_value(m) for m in case.measures):
            errors["measures"] = ("record at least one measure with a baseline and a value "
                                  "measured after it")
        if not (case.community_verdict or "").strip():
            errors["community_verdict"] = "record what the community says before closing"
    return errors


def allowed_moves(case: ProblemCase) -> list[tuple[str, bool]]:
    """(stage, needs a reason) for every move the stage rules allow from here."""
    i = CASE_STAGES.index(case.stage)
    if case.stage == "closed":
        return [("assessment", True), ("analysis", True)]
    moves = [(CASE_STAGES[i + 1], False)]
    moves += [(s, True) for s in reversed(CASE_STAGES[:i])]
    return moves


def _move_errors(case: ProblemCase, to_stage: str, reason: str) -> dict[str, str]:
    """Why the stage rules refuse this move (empty when they allow it)."""
    if to_stage not in CASE_STAGES:
        return {"to": f"must be one of {', '.join(CASE_STAGES)}"}
    here, there = CASE_STAGES.index(case.stage), CASE_STAGES.index(to_stage)
    if there == here:
        return {"to": f"the case is already in {label(to_stage).lower()}"}
    if case.stage == "closed":
        if to_stage not in ("assessment", "analysis"):
            return {"to": "a closed case reopens to assessment or analysis"}
        if not reason:
            return {"reason": "say why the case is reopened"}
    elif there < here:
        if not reason:
            return {"reason": f"say why the case goes back to {label(to_stage).lower()}"}
    elif there > here + 1:
        return {"to": f"move one stage at a time: next is "
                      f"{label(CASE_STAGES[here + 1]).lower()}"}
    return stage_guard_errors(case, to_stage)


def move_case(actor: User, case: ProblemCase, to_stage: str, *, reason: str | None = None,
              version_id: int | None) -> ProblemCase:
    """Move a case through SARA: forward one stage at a time, back only with a reason.

    Guards: no response without a written analysis (text and the triangle's place, victim /
    target and offender); no closing without an assessment, a measure with a value after its
    baseline and the community's verdict; a closed case reopens only with a reason, to
    assessment or analysis. A refused move raises ValidationError naming what is missing.
    """
    require_edit(actor, case)
    check_version(case, version_id, case_snapshot)
    reason = (reason or "").strip()
    errors = _move_errors(case, to_stage, reason)
    if errors:
        raise ValidationError(errors)
    from_stage = case.stage
    now = utcnow()
    case.stage = to_stage
    case.stage_entered_at = now
    case.closed_at = now if to_stage == "closed" else None
    db.session.flush()
    verb = "Closed" if to_stage == "closed" else ("Reopened" if from_stage == "closed" else "Stage")
    summary = f"{verb}: {label(from_stage)} → {label(to_stage)}" + (f" ({reason})" if reason else "")
    log(actor, case, "case.stage", summary,
        detail={"from": from_stage, "to": to_stage, "reason": reason})
    return case
