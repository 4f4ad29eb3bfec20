"""Hand-over pages: the supervisor plans and transfers, the leaving officer adds notes, the
successor reads what they were given. Thin views: the services decide and audit; the request
boundary commits."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from crm.access import beat_ids_select, roles_required
from crm.errors import ValidationError
from crm.extensions import db
from crm.handovers import services
from crm.handovers.forms import NoteForm, PlanForm, SuccessorForm, TransferForm
from crm.handovers.models import HandoverItem
from crm.models import Beat, BeatAssignment, User
from crm.timezones import local_today
from crm.web.forms import apply_errors, client_ip, current_actor
from crm.web.paging import paginate

bp = Blueprint("handovers", __name__, url_prefix="/handovers")

ROLES = ("officer", "supervisor", "admin")


def _beats(user: User) -> list[Beat]:
    q = sa.select(Beat).order_by(Beat.code)
    if user.role != "admin":
        q = q.where(Beat.id.in_(beat_ids_select(user)))
    return list(db.session.scalars(q))


def _officers(beat_ids: list[int]) -> list[User]:
    """Active officers assigned (now or before) to any of these beats."""
    return list(db.session.scalars(
        sa.select(User).where(User.role == "officer", User.active.is_(True),
                              User.id.in_(sa.select(BeatAssignment.user_id)
                                          .where(BeatAssignment.beat_id.in_(beat_ids))))
        .order_by(User.display_name)))


@bp.route("/")
@roles_required(*ROLES)
def index():
    me = current_actor()
    page = paginate(services.handovers_for(me), per_page=30)
    return render_template("handovers/index.html", page=page, can_plan=me.role in services.PLAN_ROLES)


@bp.route("/plan", methods=["GET", "POST"])
@roles_required(*services.PLAN_ROLES)
def plan():
    me = current_actor()
    beats = _beats(me)
    form = PlanForm()
    form.beat_id.choices = [(b.id, f"{b.code} {b.name}") for b in beats]
    form.officer_id.choices = [(u.id, u.display_name) for u in _officers([b.id for b in beats])]
    if form.validate_on_submit():
        officer = db.session.get(User, form.officer_id.data)
        beat = db.session.get(Beat, form.beat_id.data)
        try:
            h = services.draft_handover(me, officer, beat, leaves_on=form.leaves_on.data,
                                        ip=client_ip())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash(f"Hand-over of beat {beat.code} drafted: {len(h.items)} item(s).", "info")
            return redirect(url_for("handovers.show", handover_id=h.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("handovers/plan.html", form=form), status


def _get(handover_id: int):
    h = services.get_handover(current_actor(), handover_id)
    if h is None:
        abort(404)
    return h


def _show(h, *, successor_form=None, transfer_form=None, status=200):
    me = current_actor()
    can_plan = services.may_plan(me, h.beat_id)
    successor_form = successor_form or SuccessorForm(formdata=None)
    successor_form.successor_id.choices = [
        (u.id, u.display_name) for u in _officers([b.id for b in _beats(me)] if can_plan else [])
        if u.id != h.leaving_officer_id]
    rows = services.item_rows(me, h)
    return render_template(
        "handovers/show.html", h=h, rows=rows, can_plan=can_plan,
        is_leaver=me.id == h.leaving_officer_id, successor_form=successor_form,
        transfer_form=transfer_form or TransferForm(formdata=None),
        note_form=NoteForm(formdata=None), waiting=sum(1 for i in h.items if i.successor_id is None),
        today=local_today()), status


@bp.route("/<id:handover_id>")
@roles_required(*ROLES)
def show(handover_id: int):
    return _show(_get(handover_id))


@bp.route("/<id:handover_id>/successor", methods=["POST"])
@roles_required(*services.PLAN_ROLES)
def successor(handover_id: int):
    h = _get(handover_id)
    me = current_actor()
    form = SuccessorForm()
    form.successor_id.choices = [(u.id, u.display_name) for u in _officers([b.id for b in _beats(me)])]
    if form.validate_on_submit():
        try:
            chosen = services.assign_successor(me, h, db.session.get(User, form.successor_id.data),
                                               item_ids=form.item_ids.data or None, ip=client_ip())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash(f"{len(chosen)} item(s) given to the successor.", "info")
            return redirect(url_for("handovers.show", handover_id=h.id), 303)
    return _show(h, successor_form=form, status=422)


@bp.route("/<id:handover_id>/transfer", methods=["POST"])
@roles_required(*services.PLAN_ROLES)
def transfer(handover_id: int):
    h = _get(handover_id)
    form = TransferForm()
    if form.validate_on_submit():
        try:
            services.transfer(current_actor(), h, meet_by=form.meet_by.data, ip=client_ip())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash("Hand-over transferred: the successors have their introductions.", "info")
            return redirect(url_for("handovers.show", handover_id=h.id), 303)
    return _show(h, transfer_form=form, status=422)


@bp.route("/items/<id:item_id>/note", methods=["POST"])
@roles_required("officer")
def note(item_id: int):
    me = current_actor()
    item = db.session.get(HandoverItem, item_id)
    if item is None or item.handover.leaving_officer_id != me.id:
        abort(404)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.set_note(me, item, form.note.data or "", ip=client_ip())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash("Note saved.", "info")
            return redirect(url_for("handovers.show", handover_id=item.handover_id) + f"#item-{item.id}", 303)
    msgs = [f"Note: {m}" for m in form.note.errors] or ["Note: could not be saved"]
    h = item.handover
    return render_template("handovers/note_error.html", h=h, item=item, form=form, msgs=msgs), 422


@bp.app_template_global("handover_coverage")
def handover_coverage(scope) -> dict:
    """For the coverage page (templates/network/coverage.html): its beats' hand-over figures."""
    beat_ids = scope.beat_ids if scope.beat_ids is not None else [b.id for b in scope.map_beats]
    return services.coverage_figures(beat_ids, scope.as_of, scope.days)
