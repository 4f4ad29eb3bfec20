"""Stakeholder pages: search list, the typo-tolerant search JSON used by the contact form,
a person's page (audited read), create with the duplicate check, edit, merge."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from crm.audit.services import record_event
from crm.access import get_visible_or_404, stakeholder_scope
from crm.contacts.services import contacts_query
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import CommunityGroup, Membership, RelationshipStageChange, Stakeholder, User
from crm.stakeholders import services
from crm.stakeholders.forms import EditStakeholderForm, MergeForm, NewStakeholderForm
from crm.access import roles_required

bp = Blueprint("stakeholders", __name__, url_prefix="/stakeholders")

PAGE_SIZE = 50
RETENTION_DEFAULT = timedelta(days=730)


def _actor() -> User:
    return current_user._get_current_object()


def _ip() -> str:
    return request.remote_addr or ""


def _attach(form, errors: dict) -> list[str]:
    loose = []
    for key, messages in errors.items():
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors") and key != "duplicates":
            field.errors = list(field.errors) + list(messages)
        elif key != "duplicates":
            loose.extend(f"{key.replace('_', ' ').capitalize()}: {m}" for m in messages)
    return loose


def _visible(stakeholder_id: int) -> Stakeholder:
    s = get_visible_or_404(Stakeholder, stakeholder_id, _actor())
    if s.erased_at is not None:
        abort(404)
    return s


# ---- list and search --------------------------------------------------------------------------


@bp.route("/")
@roles_required(*services.EDIT_ROLES)
def index():
    actor = _actor()
    q = (request.args.get("q") or "").strip()
    group_id = request.args.get("group", type=int)
    page = max(1, request.args.get("page", 1, type=int))
    groups = services.visible_groups(actor)
    if group_id is not None and group_id not in {g.id for g in groups}:
        group_id = None
    if q:
        hits = services.search_stakeholders(actor, q, limit=PAGE_SIZE, group_id=group_id)
        people = [h.stakeholder for h in hits]
        memberships = {h.stakeholder.id: h.groups for h in hits}
        total = len(people)
    else:
        base = sa.select(Stakeholder).where(stakeholder_scope(actor), services.active_condition())
        if group_id is not None:
            base = base.where(Stakeholder.id.in_(
                sa.select(Membership.stakeholder_id).where(Membership.group_id == group_id)))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
        people = list(db.session.scalars(base.order_by(Stakeholder.name, Stakeholder.id)
                                         .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
        memberships = services.groups_of(actor, [s.id for s in people])
    _audit_names_shown(actor, [s.id for s in people], q)
    return render_template("stakeholders/index.html", people=people, memberships=memberships,
                           q=q, group_id=group_id, groups=groups, page=page, total=total,
                           page_size=PAGE_SIZE)


def _audit_names_shown(actor, ids: list[int], query: str) -> None:
    """Names are personal data too: one event per list or search, naming the ids shown."""
    if ids:
        record_event(actor, "stakeholder.list", object_type="stakeholders", ip=_ip(),
                     detail={"ids": ids, "query_length": len(query)})


@bp.route("/search")
@roles_required(*services.EDIT_ROLES)
def search():
    """JSON for the contact form: names and visible groups only, never phone or email."""
    hits = services.search_stakeholders(_actor(), request.args.get("q", ""),
                                        limit=min(request.args.get("limit", 8, type=int), 20))
    _audit_names_shown(_actor(), [h.stakeholder.id for h in hits], request.args.get("q", ""))
    return jsonify([{"id": h.stakeholder.id, "name": h.stakeholder.name,
                     "stage": h.stakeholder.stage, "matched": h.matched,
                     "score": round(h.score, 2), "groups": h.groups} for h in hits])


# ---- create -----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.EDIT_ROLES)
def new():
    actor = _actor()
    form = NewStakeholderForm()
    groups = services.visible_groups(actor)
    form.group_id.choices = [SelectChoice("", "— none —")] + [SelectChoice(g.id, g.name) for g in groups]
    if request.method == "GET":
        form.review_on.data = date.today() + RETENTION_DEFAULT
        if request.args.get("group", type=int) in {g.id for g in groups}:
            form.group_id.data = request.args.get("group", type=int)
        return render_template("stakeholders/new.html", form=form, duplicates=[])
    duplicates, loose = [], []
    if form.validate():
        data = form.service_data()
        if not form.create_anyway.data:
            duplicates = services.find_duplicates(
                actor, name=data["name"], phone=data["phone"], email=data["email"],
                group_ids=[form.group_id.data] if form.group_id.data else None)
        if not duplicates:
            try:
                s = services.create_stakeholder(actor, data, allow_duplicate=True,
                                                group_id=form.group_id.data,
                                                role=form.role.data, ip=_ip())
            except ValidationError as e:
                loose = _attach(form, e.errors)
            else:
                flash(f"{s.name} added.", "info")
                return redirect(url_for(".detail", stakeholder_id=s.id), 303)
    return render_template("stakeholders/new.html", form=form, duplicates=duplicates,
                           loose_errors=loose), 422


# ---- read -------------------------------------------------------------------------------------


@bp.route("/<int:stakeholder_id>")
@roles_required(*services.EDIT_ROLES)
def detail(stakeholder_id: int):
    actor = _actor()
    s = _visible(stakeholder_id)
    if s.merged_into_id:
        flash(f"This person was merged into #{s.merged_into_id}.", "info")
        return redirect(url_for(".detail", stakeholder_id=s.merged_into_id), 303)
    services.read_stakeholder(actor, s, ip=_ip())
    memberships = list(db.session.scalars(
        sa.select(Membership).where(Membership.stakeholder_id == s.id)
        .options(selectinload(Membership.group)).join(CommunityGroup)
        .order_by(CommunityGroup.name)))
    visible_groups = {g["id"] for g in services.groups_of(actor, [s.id]).get(s.id, [])}
    contacts = list(db.session.scalars(contacts_query(actor, stakeholder_id=s.id).limit(50)))
    history = list(db.session.scalars(
        sa.select(RelationshipStageChange).where(RelationshipStageChange.stakeholder_id == s.id)
        .order_by(RelationshipStageChange.changed_at.desc()).limit(50)))
    can_merge = actor.has_role(*services.MERGE_ROLES)
    duplicates = []
    if can_merge:
        duplicates = services.find_duplicates(
            actor, name=s.name, phone=s.phone, email=s.email,
            group_ids=[m.group_id for m in memberships] or None, exclude_id=s.id)
    return render_template("stakeholders/detail.html", s=s, memberships=memberships,
                           visible_groups=visible_groups, contacts=contacts, history=history,
                           can_merge=can_merge, duplicates=duplicates, merge_form=MergeForm(),
                           today=date.today())


# ---- edit -------------------------------------------------------------------------------------


@bp.route("/<int:stakeholder_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDIT_ROLES)
def edit(stakeholder_id: int):
    actor = _actor()
    s = _visible(stakeholder_id)
    if s.merged_into_id:
        abort(404)
    form = EditStakeholderForm(obj=s if request.method == "GET" else None)
    if request.method == "GET":
        services.read_stakeholder(actor, s, ip=_ip())
        return render_template("stakeholders/edit.html", form=form, s=s, current=None)
    if not form.validate():
        return render_template("stakeholders/edit.html", form=form, s=s, current=None), 422
    try:
        services.update_stakeholder(actor, s, form.service_data(),
                                    version_id=form.version_id.data, ip=_ip())
    except ConflictError as e:
        return render_template("stakeholders/edit.html", form=form, s=s, current=e.current,
                               conflict=str(e)), 409
    except ValidationError as e:
        loose = _attach(form, e.errors)
        return render_template("stakeholders/edit.html", form=form, s=s, current=None,
                               loose_errors=loose), 422
    flash(f"{s.name} updated.", "info")
    return redirect(url_for(".detail", stakeholder_id=s.id), 303)


# ---- merge ------------------------------------------------------------------------------------


@bp.route("/<int:stakeholder_id>/merge", methods=["POST"])
@roles_required(*services.MERGE_ROLES)
def merge(stakeholder_id: int):
    actor = _actor()
    source = _visible(stakeholder_id)
    form = MergeForm()
    if not form.validate():
        flash("Merge: choose the person to merge into (their number).", "error")
        return redirect(url_for(".detail", stakeholder_id=source.id), 303)
    target = _visible(form.into_id.data)
    try:
        counts = services.merge_stakeholders(actor, source, target, ip=_ip())
    except ValidationError as e:
        flash("Merge refused: " + "; ".join(m for ms in e.errors.values() for m in ms), "error")
        return redirect(url_for(".detail", stakeholder_id=source.id), 303)
    flash(f"Merged #{source.id} into {target.name}: {counts['contacts_moved']} contacts and "
          f"{counts['memberships_moved']} memberships moved.", "info")
    return redirect(url_for(".detail", stakeholder_id=target.id), 303)
