"""Case pages: the list, a new case, one case with everything on it, and the forms for each part.

Views only parse forms and call `crm.cases.services`; a refused change re-renders the page
with the typed values and a message per field (422), a stale edit shows both versions (409).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from wtforms import SelectChoice

from crm.access import contact_scope, get_visible_or_404
from crm.cases import forms as F  # noqa: N812
from crm.cases import services as svc
from crm.cases.figures import SARA_STAGES, case_figures, measure_chart, unit_figures
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (Beat, CaseAction, CaseIdea, CaseMeasure, CaseParticipant,
                        Contact, ContactGroup, Membership, ProblemCase,
                        Stakeholder, User, case_beats, case_contacts, group_beats)
from crm.vocab import CASE_STAGES, label

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.before_request
def _signed_in_staff_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role == "analyst":
        abort(403)


def _user() -> User:
    return current_user._get_current_object()


def _case(case_id: int) -> ProblemCase:
    get_visible_or_404(ProblemCase, case_id, _user())
    return db.session.scalar(sa.select(ProblemCase).where(ProblemCase.id == case_id)
                             .options(*svc.load_case_options()))


def _part(model, part_id: int, case: ProblemCase):
    obj = db.session.get(model, part_id)
    if obj is None or obj.case_id != case.id:
        abort(404)
    return obj


def _attach_errors(form, errors: dict) -> None:
    """Put a service's per-field messages on the form's fields (others on the form)."""
    for field, messages in errors.items():
        if field in form._fields:
            form[field].errors = list(form[field].errors or []) + list(messages)
        else:
            form.form_errors.extend(f"{svc.field_label(field)}: {m}" for m in messages)


def _done(case: ProblemCase, message: str, anchor: str = ""):
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id) + (f"#{anchor}" if anchor else ""), 303)


# ---- choices ---------------------------------------------------------------------------

def _opt(rows, blank: str | None = "—"):
    out = [SelectChoice(r.id, getattr(r, "display_name", None) or getattr(r, "name", None))
           for r in rows]
    return ([SelectChoice("", blank)] + out) if blank is not None else out


def _beats():
    return db.session.scalars(sa.select(Beat).order_by(Beat.code)).all()


def _case_group_ids_select(case: ProblemCase):
    """Groups of the case: its participants and the groups of its beats."""
    return sa.union(
        sa.select(CaseParticipant.group_id).where(CaseParticipant.case_id == case.id,
                                                  CaseParticipant.group_id.is_not(None)),
        sa.select(group_beats.c.group_id).join(case_beats, case_beats.c.beat_id == group_beats.c.beat_id)
        .where(case_beats.c.case_id == case.id))


def _group_choices(user: User, case: ProblemCase):
    return db.session.scalars(svc.selectable_groups(user, case).limit(1000)).all()


def _people_choices(user: User, case: ProblemCase):
    """People the user may see who belong to the case's groups or already take part."""
    in_case = sa.or_(
        Stakeholder.id.in_(sa.select(Membership.stakeholder_id)
                           .where(Membership.group_id.in_(_case_group_ids_select(case)))),
        Stakeholder.id.in_(sa.select(CaseParticipant.stakeholder_id)
                           .where(CaseParticipant.case_id == case.id)))
    return db.session.scalars(svc.selectable_stakeholders(user).where(in_case).limit(1000)).all()


def _contact_choices(user: User, case: ProblemCase):
    """Recent contacts the user may see in the case's beats or with its groups, not yet linked."""
    linked = sa.select(case_contacts.c.contact_id).where(case_contacts.c.case_id == case.id)
    near = sa.or_(
        Contact.beat_id.in_(sa.select(case_beats.c.beat_id).where(case_beats.c.case_id == case.id)),
        Contact.id.in_(sa.select(ContactGroup.contact_id)
                       .where(ContactGroup.group_id.in_(_case_group_ids_select(case)))))
    rows = db.session.scalars(
        sa.select(Contact).where(contact_scope(user), near, Contact.id.not_in(linked))
        .order_by(Contact.occurred_at.desc()).limit(50)).all()
    return [SelectChoice("", "—")] + [SelectChoice(c.id, f"{c.occurred_at.date().isoformat()} · {label(c.channel)}"
                                 f"{' · ' + c.purpose if c.purpose else ''}") for c in rows]


def _fill_case_form(form: F.CaseForm) -> None:
    form.beat_ids.choices = [SelectChoice(b.id, f"{b.code} {b.name}") for b in _beats()]
    form.lead_id.choices = _opt(svc.officer_choices(), blank="Me")


def _fill_action_form(form: F.ActionForm, user: User, case: ProblemCase, groups, people,
                      officers) -> None:
    form.owner_user_id.choices = _opt(officers)
    form.owner_stakeholder_id.choices = _opt(people)
    form.owner_group_id.choices = _opt(groups)
    form.liaison_user_id.choices = _opt(officers, blank="The case lead")


# ---- the case page ---------------------------------------------------------------------

def _render_case(case: ProblemCase, forms: dict | None = None, status: int = 200, *,
                 move_errors: dict | None = None, conflict: dict | None = None):
    user = _user()
    forms = forms or {}
    editable = svc.can_edit(user, case)
    groups = _group_choices(user, case) if editable else []
    people = _people_choices(user, case) if editable else []
    officers = svc.officer_choices() if editable else []

    move = forms.get("move") or F.MoveForm(prefix="move", formdata=None,
                                           version_id=case.version_id)
    moves = svc.allowed_moves(case)
    move.to.choices = [SelectChoice(s, label(s) + (" (back: give a reason)" if back else ""))
                       for s, back in moves]
    participant = forms.get("participant") or F.ParticipantForm(prefix="p", formdata=None)
    participant.group_id.choices = _opt(groups)
    participant.stakeholder_id.choices = _opt(people)
    participant.user_id.choices = _opt(officers)
    idea = forms.get("idea") or F.IdeaForm(prefix="idea", formdata=None)
    idea.proposed_by_group_id.choices = _opt(groups)
    idea.proposed_by_stakeholder_id.choices = _opt(people)
    decisions = {}
    for i in case.ideas:
        f = forms.get(f"decision{i.id}") or F.IdeaDecisionForm(
            prefix=f"d{i.id}", formdata=None, version_id=i.version_id, status=i.status,
            decline_reason=i.decline_reason, proposer_told_on=i.proposer_told_on)
        decisions[i.id] = f
    action = forms.get("action") or F.ActionForm(prefix="action", formdata=None)
    _fill_action_form(action, user, case, groups, people, officers)
    measure = forms.get("measure") or F.MeasureForm(prefix="m", formdata=None,
                                                   baseline_on=date.today())
    values = {m.id: forms.get(f"value{m.id}") or F.MeasureValueForm(
        prefix=f"v{m.id}", formdata=None, measured_on=date.today()) for m in case.measures}
    contact = forms.get("contact") or F.ContactLinkForm(prefix="c", formdata=None)
    contact.contact_id.choices = _contact_choices(user, case) if editable else []

    visible_people = svc.visible_stakeholder_ids(user, svc.stakeholder_ids_of(case))
    people_names = {}
    for s in ([p.stakeholder for p in case.participants] + [i.proposed_by_stakeholder for i in case.ideas]
              + [a.owner_stakeholder for a in case.actions]):
        if s is not None and s.id in visible_people:
            people_names[s.id] = s.name
    today = date.today()
    return render_template(
        "cases/show.html", case=case, editable=editable, today=today,
        stages=CASE_STAGES, stage_index=CASE_STAGES.index(case.stage),
        move_form=move, move_errors=move_errors or {}, participant_form=participant,
        idea_form=idea, decision_forms=decisions, action_form=action, measure_form=measure,
        value_forms=values, contact_form=contact, confirm_form=F.ConfirmForm(),
        warnings=svc.competing_warnings(case, today=today),
        figures=case_figures(case, now=utcnow()), sara_stages=SARA_STAGES,
        charts={m.id: measure_chart(m.baseline_value, m.baseline_on, m.values)
                for m in case.measures},
        contacts=svc.visible_case_contacts(user, case),
        people_names=people_names, participant_name=svc.participant_name,
        is_overdue=svc.is_overdue, guard_preview=svc.stage_guard_errors,
        can_update_action=lambda a: svc.can_update_action(user, a),
        field_label=svc.field_label, conflict=conflict,
    ), status


def _run(case: ProblemCase, key: str, form, change, message: str, anchor: str):
    """Validate `form`, call the service, redirect; or re-render the case page with errors."""
    if not svc.can_edit(_user(), case):
        abort(403)
    if not form.validate_on_submit():
        return _render_case(case, {key: form}, 422)
    try:
        change()
    except ValidationError as e:
        _attach_errors(form, e.errors)
        return _render_case(case, {key: form}, 422)
    return _done(case, message, anchor)


@bp.route("/")
def index():
    user = _user()
    args = request.args
    stage = args.get("stage") if args.get("stage") in CASE_STAGES else None
    beat_id = F.optional_int(args.get("beat")) if (args.get("beat") or "").isdigit() else None
    lead_id = F.optional_int(args.get("lead")) if (args.get("lead") or "").isdigit() else None
    overdue = args.get("overdue") in ("1", "on", "true", "y")
    q = (args.get("q") or "").strip() or None
    page = max(int(args.get("page")) if (args.get("page") or "").isdigit() else 1, 1)
    per_page = 50
    query = svc.case_list_query(user, stage=stage, beat_id=beat_id, lead_id=lead_id,
                                overdue=overdue, q=q)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery()))
    cases = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    leads = db.session.scalars(
        sa.select(User).where(User.id.in_(
            sa.select(ProblemCase.lead_id).where(svc.case_scope(user)))).order_by(User.display_name)
    ).all()
    beats = db.session.scalars(
        sa.select(Beat).where(Beat.id.in_(
            sa.select(case_beats.c.beat_id).join(ProblemCase, ProblemCase.id == case_beats.c.case_id)
            .where(svc.case_scope(user)))).order_by(Beat.code)).all()
    return render_template(
        "cases/index.html", cases=cases, total=total, page=page, per_page=per_page,
        overdue_counts=svc.overdue_counts([c.id for c in cases]), stages=CASE_STAGES,
        leads=leads, beats=beats, f={"stage": stage, "beat": beat_id, "lead": lead_id,
                                     "overdue": overdue, "q": q or ""},
        can_create=svc.can_create(user),
        pager_args={k: v for k, v in args.items() if k != "page"})


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = _user()
    if not svc.can_create(user):
        abort(403)
    form = F.CaseForm()
    _fill_case_form(form)
    if form.validate_on_submit():
        try:
            case = svc.create_case(user, title=form.title.data,
                                   problem_statement=form.problem_statement.data,
                                   beat_ids=form.beat_ids.data, lead_id=form.lead_id.data)
        except ValidationError as e:
            _attach_errors(form, e.errors)
        else:
            flash("Case opened. Next: who is involved, and what the community says.", "success")
            return redirect(url_for("cases.show", case_id=case.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("cases/new.html", form=form), status


@bp.route("/figures")
def figures():
    user = _user()
    member_id = F.optional_int(request.args.get("member")) \
        if (request.args.get("member") or "").isdigit() else None
    cases = svc.cases_for_figures(user, member_id)
    now = utcnow()
    members = []
    if user.role in ("admin", "supervisor"):
        members = db.session.scalars(sa.select(User).where(
            User.role == "unit", User.active.is_(True)).order_by(User.display_name)).all()
    rows = sorted(((c, case_figures(c, now=now)) for c in cases),
                  key=lambda r: (r[0].stage == "closed", r[0].title))
    return render_template("cases/figures.html", figures=unit_figures(cases, now=now),
                           rows=rows, members=members, member_id=member_id,
                           sara_stages=SARA_STAGES)


@bp.route("/<id:case_id>")
def show(case_id: int):
    return _render_case(_case(case_id))


@bp.route("/<id:case_id>/edit/<section>", methods=["GET", "POST"])
def edit(case_id: int, section: str):
    """Edit one part of the case (details, analysis, response, assessment), version-checked."""
    if section not in F.SECTIONS:
        abort(404)
    user = _user()
    case = _case(case_id)
    if not svc.can_edit(user, case):
        abort(403)
    form_cls = F.SECTIONS[section]
    if request.method == "GET":
        data = {f: getattr(case, f) for f in form_cls.FIELDS if f != "beat_ids"}
        if "beat_ids" in form_cls.FIELDS:
            data["beat_ids"] = [b.id for b in case.beats]
        form = form_cls(formdata=None, version_id=case.version_id, **data)
    else:
        form = form_cls()
    if section == "details":
        _fill_case_form(form)
    conflict, status = None, 200
    if form.validate_on_submit():
        values = {f: form[f].data for f in form_cls.FIELDS}
        if section == "details" and values["lead_id"] is None:
            values["lead_id"] = case.lead_id
        try:
            svc.update_case(user, case, values, version_id=form.version())
        except ConflictError:
            saved = svc.case_snapshot(case)
            conflict = _comparison(form_cls.FIELDS, values, saved,
                                   display={"beat_ids": _beat_codes, "lead_id": _user_name})
            form.version_id.data = str(case.version_id)  # saving again overwrites, knowingly
            status = 409
        except ValidationError as e:
            _attach_errors(form, e.errors)
            status = 422
        else:
            return _done(case, f"{label(section)} saved.", section)
    elif form.is_submitted():
        status = 422
    return render_template("cases/edit.html", case=case, form=form, section=section,
                           conflict=conflict, fields=form_cls.FIELDS), status


def _beat_codes(ids) -> str:
    ids = list(ids or [])
    return ", ".join(db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(ids))
                                        .order_by(Beat.code)))


def _user_name(uid) -> str:
    u = db.session.get(User, uid) if uid else None
    return u.display_name if u else "—"


def _comparison(fields, yours: dict, saved: dict, display: dict | None = None) -> dict:
    display = display or {}
    rows = []
    for f in fields:
        show = display.get(f, lambda v: "" if v is None else str(v))
        a, b = yours.get(f), saved.get(f)
        rows.append({"field": svc.field_label(f), "yours": show(a), "saved": show(b),
                     "differs": show(a) != show(b)})
    return {"rows": rows, "version": saved.get("version_id")}


@bp.route("/<id:case_id>/move", methods=["POST"])
def move(case_id: int):
    user = _user()
    case = _case(case_id)
    if not svc.can_edit(user, case):
        abort(403)
    form = F.MoveForm(prefix="move")
    if not form.validate_on_submit():
        return _render_case(case, {"move": form}, 422)
    try:
        svc.move_case(user, case, form.to.data, reason=form.reason.data,
                      version_id=form.version())
    except ConflictError:
        conflict = _comparison(["stage"], {"stage": label(form.to.data) + " (your move)"},
                               {"stage": label(case.stage), "version_id": case.version_id})
        return _render_case(case, {"move": form}, 409, conflict=conflict)
    except ValidationError as e:
        return _render_case(case, {"move": form}, 422, move_errors=e.errors)
    return _done(case, f"Case moved to {label(case.stage).lower()}.", "stage")


@bp.route("/<id:case_id>/participants", methods=["POST"])
def add_participant(case_id: int):
    case = _case(case_id)
    form = F.ParticipantForm(prefix="p")
    return _run(case, "participant", form, lambda: svc.add_participant(
        _user(), case, kind=form.kind.data, role=form.role.data, group_id=form.group_id.data,
        stakeholder_id=form.stakeholder_id.data, user_id=form.user_id.data,
        agency=form.agency.data), "Participant added.", "who")


@bp.route("/<id:case_id>/participants/<id:participant_id>/remove", methods=["POST"])
def remove_participant(case_id: int, participant_id: int):
    case = _case(case_id)
    p = _part(CaseParticipant, participant_id, case)
    return _run(case, "confirm", F.ConfirmForm(),
                lambda: svc.remove_participant(_user(), case, p), "Participant removed.", "who")


@bp.route("/<id:case_id>/contacts", methods=["POST"])
def link_contact(case_id: int):
    case = _case(case_id)
    form = F.ContactLinkForm(prefix="c")
    return _run(case, "contact", form,
                lambda: svc.link_contact(_user(), case, form.contact_id.data),
                "Contact linked to the analysis.", "heard")


@bp.route("/<id:case_id>/contacts/<id:contact_id>/remove", methods=["POST"])
def unlink_contact(case_id: int, contact_id: int):
    case = _case(case_id)
    return _run(case, "confirm", F.ConfirmForm(),
                lambda: svc.unlink_contact(_user(), case, contact_id), "Contact unlinked.",
                "heard")


@bp.route("/<id:case_id>/ideas", methods=["POST"])
def add_idea(case_id: int):
    case = _case(case_id)
    form = F.IdeaForm(prefix="idea")
    return _run(case, "idea", form, lambda: svc.add_idea(
        _user(), case, text=form.text.data,
        proposed_by_stakeholder_id=form.proposed_by_stakeholder_id.data,
        proposed_by_group_id=form.proposed_by_group_id.data), "Idea recorded.", "ideas")


@bp.route("/<id:case_id>/ideas/<id:idea_id>", methods=["POST"])
def decide_idea(case_id: int, idea_id: int):
    user = _user()
    case = _case(case_id)
    idea = _part(CaseIdea, idea_id, case)
    if not svc.can_edit(user, case):
        abort(403)
    form = F.IdeaDecisionForm(prefix=f"d{idea.id}")
    key = f"decision{idea.id}"
    if not form.validate_on_submit():
        return _render_case(case, {key: form}, 422)
    try:
        svc.update_idea(user, idea, version_id=form.version(), status=form.status.data,
                        decline_reason=form.decline_reason.data,
                        proposer_told_on=form.proposer_told_on.data)
    except ConflictError:
        typed = {"status": form.status.data, "decline_reason": form.decline_reason.data,
                 "proposer_told_on": form.proposer_told_on.data}
        saved = svc.idea_snapshot(idea)
        conflict = _comparison(["status", "decline_reason", "proposer_told_on"], typed, saved)
        return _render_case(case, {key: form}, 409, conflict=conflict)
    except ValidationError as e:
        _attach_errors(form, e.errors)
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
        _user(), case, **{f: form[f].data for f in F.ActionForm.FIELDS}),
        "Action added.", "actions")


@bp.route("/<id:case_id>/actions/<id:action_id>/edit", methods=["GET", "POST"])
def edit_action(case_id: int, action_id: int):
    user = _user()
    case = _case(case_id)
    action = _part(CaseAction, action_id, case)
    if not svc.can_update_action(user, action):
        abort(403)
    if request.method == "GET":
        form = F.ActionForm(formdata=None, version_id=action.version_id,
                            **{f: getattr(action, f) for f in F.ActionForm.FIELDS})
    else:
        form = F.ActionForm()
    groups, people = _group_choices(user, case), _people_choices(user, case)
    _fill_action_form(form, user, case, groups, people, svc.officer_choices())
    conflict, status = None, 200
    if form.validate_on_submit():
        values = {f: form[f].data for f in F.ActionForm.FIELDS}
        if not svc.can_edit(user, case):  # an owner updates progress, not ownership
            values = {k: values[k] for k in ("status", "outcome", "due_on")}
        try:
            svc.update_action(user, action, values, version_id=form.version())
        except ConflictError:
            conflict = _comparison(list(values), values, svc.action_snapshot(action),
                                   display={"due_on": lambda v: v.isoformat()
                                            if isinstance(v, date) else (v or "")})
            form.version_id.data = str(action.version_id)
            status = 409
        except ValidationError as e:
            _attach_errors(form, e.errors)
            status = 422
        else:
            return _done(case, "Action updated.", "actions")
    elif form.is_submitted():
        status = 422
    return render_template("cases/action_edit.html", case=case, action=action, form=form,
                           conflict=conflict, full=svc.can_edit(user, case)), status


@bp.route("/<id:case_id>/measures", methods=["POST"])
def add_measure(case_id: int):
    case = _case(case_id)
    form = F.MeasureForm(prefix="m")
    return _run(case, "measure", form, lambda: svc.add_measure(
        _user(), case, name=form.name.data, unit=form.unit.data,
        baseline_value=form.baseline_value.data, baseline_on=form.baseline_on.data),
        "Measure added.", "measures")


@bp.route("/<id:case_id>/measures/<id:measure_id>/values", methods=["POST"])
def add_measure_value(case_id: int, measure_id: int):
    case = _case(case_id)
    m = _part(CaseMeasure, measure_id, case)
    form = F.MeasureValueForm(prefix=f"v{m.id}")
    return _run(case, f"value{m.id}", form, lambda: svc.add_measure_value(
        _user(), m, measured_on=form.measured_on.data, value=form.value.data,
        note=form.note.data), "Value recorded.", f"measure-{m.id}")

