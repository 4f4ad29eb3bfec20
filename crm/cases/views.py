"""Case pages: the list, a new case, one case with everything on it, and the forms for each part.

Views only parse forms and call `crm.cases.services` (which also does every query); a refused
change re-renders the page with the typed values and a message per field (422), a stale edit
shows both versions (409), a change the user may not make is the services' ForbiddenError.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from crm.cases import forms as F  # noqa: N812
from crm.cases import services as svc
from crm.cases.figures import SARA_STAGES, case_figures, measure_chart, unit_figures
from crm.db import utcnow
from crm.errors import ConflictError, ForbiddenError, ValidationError
from crm.models import CaseAction, CaseIdea, CaseMeasure, CaseParticipant, ProblemCase
from crm.timezones import local_date, local_today
from crm.vocab import CASE_STAGES, label
from crm.web.forms import apply_errors, conflict_context, current_actor, version_of, versioned_edit
from crm.web.paging import paginate

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50


@bp.before_request
def _signed_in_staff_only():
    actor = current_actor()
    if actor is None:
        return current_app.login_manager.unauthorized()
    if actor.role == "analyst":
        abort(403)
    return None


def _case(case_id: int) -> ProblemCase:
    return svc.get_case(current_actor(), case_id)


def _done(case: ProblemCase, message: str, anchor: str = ""):
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor=anchor or None), 303)


# ---- choices ---------------------------------------------------------------------------

def _opt(rows, blank: str | None = "—"):
    out = [SelectChoice(r.id, getattr(r, "display_name", None) or getattr(r, "name", None))
           for r in rows]
    return ([SelectChoice("", blank)] + out) if blank is not None else out


def _contact_choices(user, case: ProblemCase):
    return [SelectChoice("", "—")] + [
        SelectChoice(c.id, f"{local_date(c.occurred_at).isoformat()} · {label(c.channel)}"
                           f"{' · ' + c.purpose if c.purpose else ''}")
        for c in svc.contact_choices(user, case)]


def _fill_case_form(form: F.CaseForm, user, case: ProblemCase | None = None) -> None:
    form.beat_ids.choices = [SelectChoice(b.id, f"{b.code} {b.name}")
                             for b in svc.beat_choices(user, case)]
    form.lead_id.choices = _opt(svc.officer_choices(), blank="Me")


def _fill_action_form(form: F.ActionForm, groups, people, officers) -> None:
    form.owner_user_id.choices = _opt(officers)
    form.owner_stakeholder_id.choices = _opt(people)
    form.owner_group_id.choices = _opt(groups)
    form.liaison_user_id.choices = _opt(officers, blank="The case lead")


# ---- the case page ---------------------------------------------------------------------

def _part_forms(case: ProblemCase, forms: dict, user, editable: bool) -> dict:
    """Every form of the case page: the one just sent (with its errors) or a blank one."""
    groups = svc.group_choices(user) if editable else []
    people = svc.people_choices(user, case) if editable else []
    officers = svc.officer_choices() if editable else []
    move = forms.get("move") or F.MoveForm(prefix="move", formdata=None,
                                           version_id=case.version_id)
    move.to.choices = [SelectChoice(s, label(s) + (" (back: give a reason)" if back else ""))
                       for s, back in svc.allowed_moves(case)]
    participant = forms.get("participant") or F.ParticipantForm(prefix="p", formdata=None)
    participant.group_id.choices = _opt(groups)
    participant.stakeholder_id.choices = _opt(people)
    participant.user_id.choices = _opt(officers)
    idea = forms.get("idea") or F.IdeaForm(prefix="idea", formdata=None)
    idea.proposed_by_group_id.choices = _opt(groups)
    idea.proposed_by_stakeholder_id.choices = _opt(people)
    decisions = {i.id: forms.get(f"decision{i.id}") or F.IdeaDecisionForm(
        prefix=f"d{i.id}", formdata=None, version_id=i.version_id, status=i.status,
        decline_reason=i.decline_reason, proposer_told_on=i.proposer_told_on)
        for i in case.ideas}
    action = forms.get("action") or F.ActionForm(prefix="action", formdata=None)
    _fill_action_form(action, groups, people, officers)
    measure = forms.get("measure") or F.MeasureForm(prefix="m", formdata=None,
                                                   baseline_on=local_today())
    values = {m.id: forms.get(f"value{m.id}") or F.MeasureValueForm(
        prefix=f"v{m.id}", formdata=None, measured_on=local_today()) for m in case.measures}
    contact = forms.get("contact") or F.ContactLinkForm(prefix="c", formdata=None)
    contact.contact_id.choices = _contact_choices(user, case) if editable else []
    return dict(move_form=move, participant_form=participant, idea_form=idea,
                decision_forms=decisions, action_form=action, measure_form=measure,
                value_forms=values, contact_form=contact, confirm_form=F.ConfirmForm())


def _render_case(case: ProblemCase, forms: dict | None = None, status: int = 200, *,
                 move_errors: dict | None = None, conflict: dict | None = None):
    user = current_actor()
    editable = svc.can_edit(user, case)
    today = local_today()  # overdue actions by the department's day
    return render_template(
        "cases/show.html", case=case, editable=editable, today=today,
        stages=CASE_STAGES, stage_index=CASE_STAGES.index(case.stage),
        move_errors=move_errors or {}, **_part_forms(case, forms or {}, user, editable),
        warnings=svc.competing_warnings(case, today=today),
        figures=case_figures(case, now=utcnow()), sara_stages=SARA_STAGES,
        charts={m.id: measure_chart(m.baseline_value, m.baseline_on, m.values)
                for m in case.measures},
        contacts=svc.visible_case_contacts(user, case),
        people_names=svc.visible_people_names(user, case),
        participant_name=svc.participant_name,
        is_overdue=svc.is_overdue, guard_preview=svc.stage_guard_errors,
        can_update_action=lambda a: svc.can_update_action(user, a),
        field_label=svc.field_label, conflict=conflict,
    ), status


def _run(case: ProblemCase, key: str, form, change, message: str, anchor: str):
    """Validate `form`, call the service, redirect; or re-render the case page with errors."""
    svc.require_edit(current_actor(), case)
    if not form.validate_on_submit():
        return _render_case(case, {key: form}, 422)
    try:
        change()
    except ValidationError as e:
        apply_errors(form, e)
        return _render_case(case, {key: form}, 422)
    return _done(case, message, anchor)


@bp.route("/")
def index():
    user = current_actor()
    args = request.args
    stage = args.get("stage") if args.get("stage") in CASE_STAGES else None
    beat_id, lead_id = svc.as_id(args.get("beat")), svc.as_id(args.get("lead"))
    overdue = args.get("overdue") in ("1", "on", "true", "y")
    q = (args.get("q") or "").strip()[:200] or None
    page = paginate(svc.case_list_query(user, stage=stage, beat_id=beat_id, lead_id=lead_id,
                                        overdue=overdue, q=q), per_page=PER_PAGE)
    leads, beats = svc.list_filter_choices(user)
    return render_template(
        "cases/index.html", cases=page.items, page=page,
        overdue_counts=svc.overdue_counts([c.id for c in page.items]), stages=CASE_STAGES,
        leads=leads, beats=beats, f={"stage": stage, "beat": beat_id, "lead": lead_id,
                                     "overdue": overdue, "q": q or ""},
        can_create=svc.can_create(user),
        pager_args={k: v for k, v in args.items() if k != "page"})


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = current_actor()
    svc.require_create(user)
    form = F.CaseForm()
    _fill_case_form(form, user)
    if form.validate_on_submit():
        try:
            case = svc.create_case(user, title=form.title.data,
                                   problem_statement=form.problem_statement.data,
                                   beat_ids=form.beat_ids.data, lead_id=form.lead_id.data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash("Case opened. Next: who is involved, and what the community says.", "success")
            return redirect(url_for("cases.show", case_id=case.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("cases/new.html", form=form), status


@bp.route("/figures")
def figures():
    user = current_actor()
    member_id = svc.as_id(request.args.get("member"))
    cases = svc.cases_for_figures(user, member_id)
    now = utcnow()
    rows = sorted(((c, case_figures(c, now=now)) for c in cases),
                  key=lambda r: (r[0].stage == "closed", r[0].title))
    return render_template("cases/figures.html", figures=unit_figures(cases, now=now),
                           rows=rows, members=svc.unit_members(user), member_id=member_id,
                           sara_stages=SARA_STAGES)


@bp.route("/<id:case_id>")
def show(case_id: int):
    return _render_case(_case(case_id))


# ---- versioned edits -------------------------------------------------------------------

def _shown_case(values: dict) -> dict:
    """Case values as the conflict table shows them: beat codes and the lead's name."""
    out = dict(values)
    if "beat_ids" in out:
        out["beat_ids"] = svc.beat_codes(out["beat_ids"])
    if "lead_id" in out:
        out["lead_id"] = svc.user_name(out["lead_id"])
    return out


def _fill_section(form, case: ProblemCase) -> None:
    form.process(data={f: ([b.id for b in case.beats] if f == "beat_ids" else getattr(case, f))
                       for f in form.FIELDS})


@bp.route("/<id:case_id>/edit/<section>", methods=["GET", "POST"])
def edit(case_id: int, section: str):
    """Edit one part of the case (details, analysis, response, assessment), version-checked."""
    if section not in F.SECTIONS:
        abort(404)
    user = current_actor()
    case = _case(case_id)
    svc.require_edit(user, case)
    form = F.SECTIONS[section]()
    if section == "details":
        _fill_case_form(form, user, case)

    def typed(form) -> dict:
        values = {f: form[f].data for f in form.FIELDS}
        if section == "details" and values["lead_id"] is None:
            values["lead_id"] = case.lead_id  # "Me" keeps the lead (the form has no blank lead)
        return values

    return versioned_edit(
        form, case, typed=typed,
        save=lambda c, values, version: svc.update_case(user, c, values, version_id=version),
        reload=lambda: _case(case_id),
        snapshot=lambda c: _shown_case(svc.case_snapshot(c)), shown=_shown_case,
        labels={f: form[f].label.text for f in form.FIELDS},
        render=lambda c, form, conflict: render_template(
            "cases/edit.html", case=c, form=form, section=section, conflict=conflict,
            fields=form.FIELDS),
        done=lambda c: _done(c, f"{label(section)} saved.", section),
        fill=_fill_section)


@bp.route("/<id:case_id>/actions/<id:action_id>/edit", methods=["GET", "POST"])
def edit_action(case_id: int, action_id: int):
    """Update an action; its owner or liaison changes progress only, the editors everything."""
    user = current_actor()
    case = _case(case_id)
    action = svc.get_part(CaseAction, action_id, case)
    if not svc.can_update_action(user, action):
        raise ForbiddenError("Only the case's editors and the action's owner or liaison "
                             "update this action.")
    full = svc.can_edit(user, case)
    fields = F.ActionForm.FIELDS if full else ("status", "outcome", "due_on")
    form = F.ActionForm()
    _fill_action_form(form, svc.group_choices(user), svc.people_choices(user, case),
                      svc.officer_choices())

    def typed(form) -> dict:
        return {f: form[f].data for f in fields}

    return versioned_edit(
        form, action, typed=typed,
        save=lambda a, values, version: svc.update_action(user, a, values, version_id=version),
        reload=lambda: svc.get_part(CaseAction, action_id, _case(case_id)),
        snapshot=svc.action_snapshot,
        labels={f: form[f].label.text for f in fields},
        render=lambda a, form, conflict: render_template(
            "cases/action_edit.html", case=a.case, action=a, form=form, conflict=conflict,
            full=full),
        done=lambda a: _done(a.case, "Action updated.", "actions"))


# ---- one-form changes on the case page -------------------------------------------------------

@bp.route("/<id:case_id>/move", methods=["POST"])
def move(case_id: int):
    user = current_actor()
    case = _case(case_id)
    svc.require_edit(user, case)
    form = F.MoveForm(prefix="move")
    if not form.validate_on_submit():
        return _render_case(case, {"move": form}, 422)
    try:
        svc.move_case(user, case, form.to.data, reason=form.reason.data,
                      version_id=version_of(form))
    except ConflictError as e:
        conflict = conflict_context(
            str(e), version_id=case.version_id, labels={"stage": "Stage"},
            yours={"stage": label(form.to.data) + " (your move)"},
            saved={"stage": label(case.stage)},
            reload_url=url_for("cases.show", case_id=case.id), resubmit=False)
        return _render_case(case, {"move": form}, 409, conflict=conflict)
    except ValidationError as e:
        return _render_case(case, {"move": form}, 422, move_errors=e.errors)
    return _done(case, f"Case moved to {label(case.stage).lower()}.", "stage")


@bp.route("/<id:case_id>/participants", methods=["POST"])
def add_participant(case_id: int):
    case = _case(case_id)
    form = F.ParticipantForm(prefix="p")
    return _run(case, "participant", form, lambda: svc.add_participant(
        current_actor(), case, kind=form.kind.data, role=form.role.data,
        group_id=form.group_id.data, stakeholder_id=form.stakeholder_id.data,
        user_id=form.user_id.data, agency=form.agency.data), "Participant added.", "who")


@bp.route("/<id:case_id>/participants/<id:participant_id>/remove", methods=["POST"])
def remove_participant(case_id: int, participant_id: int):
    case = _case(case_id)
    p = svc.get_part(CaseParticipant, participant_id, case)
    return _run(case, "confirm", F.ConfirmForm(),
                lambda: svc.remove_participant(current_actor(), case, p),
                "Participant removed.", "who")


@bp.route("/<id:case_id>/contacts", methods=["POST"])
def link_contact(case_id: int):
    case = _case(case_id)
    form = F.ContactLinkForm(prefix="c")
    return _run(case, "contact", form,
                lambda: svc.link_contact(current_actor(), case, form.contact_id.data),
                "Contact linked to the analysis.", "heard")


@bp.route("/<id:case_id>/contacts/<id:contact_id>/remove", methods=["POST"])
def unlink_contact(case_id: int, contact_id: int):
    case = _case(case_id)
    return _run(case, "confirm", F.ConfirmForm(),
                lambda: svc.unlink_contact(current_actor(), case, contact_id),
                "Contact unlinked.", "heard")


@bp.route("/<id:case_id>/ideas", methods=["POST"])
def add_idea(case_id: int):
    case = _case(case_id)
    form = F.IdeaForm(prefix="idea")
    return _run(case, "idea", form, lambda: svc.add_idea(
        current_actor(), case, text=form.text.data,
        proposed_by_stakeholder_id=form.proposed_by_stakeholder_id.data,
        proposed_by_group_id=form.proposed_by_group_id.data), "Idea recorded.", "ideas")


@bp.route("/<id:case_id>/ideas/<id:idea_id>", methods=["POST"])
def decide_idea(case_id: int, idea_id: int):
    user = current_actor()
    case = _case(case_id)
    idea = svc.get_part(CaseIdea, idea_id, case)
    svc.require_edit(user, case)
    form = F.IdeaDecisionForm(prefix=f"d{idea.id}")
    key = f"decision{idea.id}"
    if not form.validate_on_submit():
        return _render_case(case, {key: form}, 422)
    try:
        svc.update_idea(user, idea, version_id=version_of(form), status=form.status.data,
                        decline_reason=form.decline_reason.data,
                        proposer_told_on=form.proposer_told_on.data)
    except ConflictError as e:
        conflict = conflict_context(
            str(e), version_id=idea.version_id,
            labels={f: form[f].label.text for f in ("status", "decline_reason",
                                                    "proposer_told_on")},
            yours={"status": label(form.status.data), "decline_reason": form.decline_reason.data,
                   "proposer_told_on": form.proposer_told_on.data},
            saved={**svc.idea_snapshot(idea), "status": label(idea.status)},
            reload_url=url_for("cases.show", case_id=case.id, _anchor="ideas"), resubmit=False)
        return _render_case(case, {key: form}, 409, conflict=conflict)
    except ValidationError as e:
        apply_errors(form, e)
        return _render_case(case, {key: form}, 422)
    msg = "Idea updated."
    if idea.status == "declined" and idea.proposer_told_on is None:
        msg = "Idea declined. Remember to tell the proposer, then note the date here."
    return _done(case, msg, "ideas")


@bp.route("/<id:case_id>/actions", methods=["POST"])
def add_action(case_id: int):
    case = _case(case_id)
    form = F.ActionForm(prefix="action")
    return _run(case, "action", form, lambda: svc.add_action(
        current_actor(), case, **{f: form[f].data for f in F.ActionForm.FIELDS}),
        "Action added.", "actions")


@bp.route("/<id:case_id>/measures", methods=["POST"])
def add_measure(case_id: int):
    case = _case(case_id)
    form = F.MeasureForm(prefix="m")
    return _run(case, "measure", form, lambda: svc.add_measure(
        current_actor(), case, name=form.name.data, unit=form.unit.data,
        baseline_value=form.baseline_value.data, baseline_on=form.baseline_on.data),
        "Measure added.", "measures")


@bp.route("/<id:case_id>/measures/<id:measure_id>/values", methods=["POST"])
def add_measure_value(case_id: int, measure_id: int):
    case = _case(case_id)
    m = svc.get_part(CaseMeasure, measure_id, case)
    form = F.MeasureValueForm(prefix=f"v{m.id}")
    return _run(case, f"value{m.id}", form, lambda: svc.add_measure_value(
        current_actor(), m, measured_on=form.measured_on.data, value=form.value.data,
        note=form.note.data), "Value recorded.", f"measure-{m.id}")
