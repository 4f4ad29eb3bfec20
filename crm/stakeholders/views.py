"""Stakeholder pages: search list, the typo-tolerant search JSON used by the contact form,
a person's page (audited read), create with the duplicate check, edit, merge."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from crm.access import get_visible_or_404, roles_required, stakeholder_scope
from crm.audit.services import record_event
from crm.contacts.services import contacts_query
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CommunityGroup, Membership, RelationshipStageChange, Stakeholder
from crm.stakeholders import languages, services
from crm.stakeholders.forms import EditStakeholderForm, MergeForm, NewStakeholderForm
from crm.timezones import local_today
from crm.web.forms import apply_errors, client_ip, current_actor, versioned_edit
from crm.web.paging import paginate

bp = Blueprint("stakeholders", __name__, url_prefix="/stakeholders")

PAGE_SIZE = 50
RETENTION_DEFAULT = timedelta(days=730)

# Languages by name on every page (people's and groups'), and the names a form suggests.
bp.add_app_template_filter(languages.language_name, "language_name")
bp.add_app_template_filter(languages.language_names, "language_names")
bp.add_app_template_global(languages.choices, "language_choices")


def _visible(stakeholder_id: int) -> Stakeholder:
    s = get_visible_or_404(Stakeholder, stakeholder_id, current_actor())
    if s.erased_at is not None:
        abort(404)
    return s


# ---- list and search --------------------------------------------------------------------------


@bp.route("/")
@roles_required(*services.EDIT_ROLES)
def index():
    actor = current_actor()
    q = (request.args.get("q") or "").strip()
    group_id = request.args.get("group", type=int)
    language = (request.args.get("language") or "").strip()[:40]
    groups = services.visible_groups(actor)
    if group_id is not None and group_id not in {g.id for g in groups}:
        group_id = None
    pages = None  # a search shows its best matches only, unpaged
    if q:
        hits = services.search_stakeholders(actor, q, limit=PAGE_SIZE, group_id=group_id,
                                            language=language or None)
        people = [h.stakeholder for h in hits]
        memberships = {h.stakeholder.id: h.groups for h in hits}
    else:
        base = sa.select(Stakeholder).where(stakeholder_scope(actor), services.active_condition())
        if group_id is not None:
            base = base.where(Stakeholder.id.in_(
                sa.select(Membership.stakeholder_id).where(Membership.group_id == group_id)))
        if language:
            base = base.where(languages.column_matches(Stakeholder.language, language))
        pages = paginate(base.order_by(Stakeholder.name, Stakeholder.id), per_page=PAGE_SIZE)
        people = list(pages.items)
        memberships = services.groups_of(actor, [s.id for s in people])
    _audit_names_shown(actor, [s.id for s in people], q)
    return render_template("stakeholders/index.html", people=people, memberships=memberships,
                           q=q, group_id=group_id, groups=groups, pages=pages,
                           language=language, language_options=languages.choices())


def _audit_names_shown(actor, ids: list[int], query: str) -> None:
    """Names are personal data too: one event per list or search, naming the ids shown."""
    if ids:
        record_event(actor, "stakeholder.list", object_type="stakeholders", ip=client_ip(),
                     detail={"ids": ids, "query_length": len(query)})


@bp.route("/search")
@roles_required(*services.EDIT_ROLES)
def search():
    """JSON for the contact form: names and visible groups only, never phone or email."""
    hits = services.search_stakeholders(current_actor(), request.args.get("q", ""),
                                        limit=min(request.args.get("limit", 8, type=int), 20))
    _audit_names_shown(current_actor(), [h.stakeholder.id for h in hits], request.args.get("q", ""))
    return jsonify([{"id": h.stakeholder.id, "name": h.stakeholder.name,
                     "stage": h.stakeholder.stage, "matched": h.matched,
                     "score": round(h.score, 2), "groups": h.groups} for h in hits])


# ---- create -----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.EDIT_ROLES)
def new():
    actor = current_actor()
    form = NewStakeholderForm()
    groups = services.visible_groups(actor)
    form.group_id.choices = [SelectChoice("", "— none —")] + [SelectChoice(g.id, g.name) for g in groups]
    if request.method == "GET":
        form.review_on.data = local_today() + RETENTION_DEFAULT
        if request.args.get("group", type=int) in {g.id for g in groups}:
            form.group_id.data = request.args.get("group", type=int)
        return render_template("stakeholders/new.html", form=form, duplicates=[])
    duplicates = []
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
                                                role=form.role.data, ip=client_ip())
            except ValidationError as e:
                apply_errors(form, e, skip=("duplicates",))
            else:
                flash(f"{s.name} added.", "info")
                return redirect(url_for(".detail", stakeholder_id=s.id), 303)
    return render_template("stakeholders/new.html", form=form, duplicates=duplicates), 422


# ---- read -------------------------------------------------------------------------------------


@bp.route("/<id:stakeholder_id>")
@roles_required(*services.EDIT_ROLES)
def detail(stakeholder_id: int):
    actor = current_actor()
    s = _visible(stakeholder_id)
    if s.merged_into_id:
        flash(f"This person was merged into #{s.merged_into_id}.", "info")
        return redirect(url_for(".detail", stakeholder_id=s.merged_into_id), 303)
    services.read_stakeholder(actor, s, ip=client_ip())
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
                           today=local_today())


# ---- edit -------------------------------------------------------------------------------------


@bp.route("/<id:stakeholder_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDIT_ROLES)
def edit(stakeholder_id: int):
    actor = current_actor()
    s = _visible(stakeholder_id)
    if s.merged_into_id:
        abort(404)
    form = EditStakeholderForm()

    def fill(form, s):
        form.process(obj=s, language=languages.language_name(s.language) or None)
        services.read_stakeholder(actor, s, ip=client_ip())  # the form shows personal data

    return versioned_edit(
        form, s, fill=fill, typed=lambda form: form.service_data(),
        save=lambda s, values, version: services.update_stakeholder(
            actor, s, values, version_id=version, ip=client_ip()),
        reload=lambda: _visible(stakeholder_id), snapshot=services.snapshot,
        labels={key: form[key].label.text for key in form.FIELDS},
        render=lambda s, form, conflict: render_template("stakeholders/edit.html", form=form,
                                                         s=s, conflict=conflict),
        done=_updated)


def _updated(s: Stakeholder):
    flash(f"{s.name} updated.", "info")
    return redirect(url_for(".detail", stakeholder_id=s.id), 303)


# ---- merge ------------------------------------------------------------------------------------


@bp.route("/<id:stakeholder_id>/merge", methods=["POST"])
@roles_required(*services.MERGE_ROLES)
def merge(stakeholder_id: int):
    actor = current_actor()
    source = _visible(stakeholder_id)
    form = MergeForm()
    if not form.validate():
        flash("Merge: choose the person to merge into (their number).", "error")
        return redirect(url_for(".detail", stakeholder_id=source.id), 303)
    target = _visible(form.into_id.data)
    try:
        counts = services.merge_stakeholders(actor, source, target, ip=client_ip())
    except ValidationError as e:
        flash("Merge refused: " + "; ".join(m for ms in e.errors.values() for m in ms), "error")
        return redirect(url_for(".detail", stakeholder_id=source.id), 303)
    flash(f"Merged #{source.id} into {target.name}: {counts['contacts_moved']} contacts and "
          f"{counts['memberships_moved']} memberships moved.", "info")
    return redirect(url_for(".detail", stakeholder_id=target.id), 303)
