"""Group pages: the list, the group page, create and edit, relations and memberships.

Views only parse forms, call `crm.groups.services` and choose what to render; the request
is the commit boundary (crm.web), so a form answered with 4xx leaves nothing behind.
Officers, unit members, supervisors and admins read (scoped by crm.access); unit members,
supervisors and admins change; analysts get 403.
"""

from __future__ import annotations

from math import ceil

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crm.access import get_visible_or_404, group_scope, stakeholder_scope
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.groups.forms import (EndForm, GroupFilterForm, GroupForm, MembershipEditForm,
                              MembershipForm, RelationEditForm, RelationForm, apply_errors,
                              version_of)
from crm.groups.models import CommunityGroup, GroupRelation
from crm.stakeholders.models import Membership, Stakeholder
from crm.vocab import label
from crm.access import roles_required

bp = Blueprint("groups", __name__, url_prefix="/groups")

PER_PAGE = 25
TIMELINE_SIZE = 20
CHOICE_LIMIT = 1000
GROUP_LABELS = {"name": "Name", "kind": "Kind", "stance": "Stance", "stage": "Stage",
                "size_estimate": "Estimated size", "languages": "Languages",
                "channels": "Preferred channels", "description": "Description",
                "contact_interval_days": "Stay in touch every (days)", "beats": "Beats"}
RELATION_LABELS = {"type": "Relation", "issue": "Issue at stake", "starts_on": "Since",
                   "ends_on": "Ended on"}
MEMBERSHIP_LABELS = {"role": "Role", "starts_on": "Since", "ends_on": "Ended on"}


def _me():
    return current_user._get_current_object()


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def conflict_rows(labels: dict, yours: dict, saved: dict) -> list[dict]:
    """Field by field: what the user typed and what is saved now (both shown on a 409 page)."""
    return [{"field": text, "yours": _show(yours.get(key)), "saved": _show(saved.get(key)),
             "differs": _show(yours.get(key)) != _show(saved.get(key))}
            for key, text in labels.items() if key in yours or key in saved]


# ---- list -------------------------------------------------------------------------------

@bp.route("/")
@roles_required(*services.READER_ROLES)
def index():
    form = GroupFilterForm(formdata=request.args)
    form.validate()
    ok = {name for name, field in form._fields.items() if not field.errors}

    def val(name):
        return getattr(form, name).data if name in ok and getattr(form, name).data else None

    filters = services.GroupFilters(
        beat=(val("beat") or "").strip() or None, kind=val("kind"), stance=val("stance"),
        stage=val("stage"), min_days=val("min_days"), never=bool(val("never")),
        q=(val("q") or "").strip() or None, sort=form.sort_value(),
        desc=form.order.data == "desc")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = services.list_groups(_me(), filters, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v not in ("", None)}
    return render_template("groups/index.html", form=form, rows=rows, total=total, page=page,
                           pages=max(ceil(total / PER_PAGE), 1), args=args, filters=filters,
                           can_edit=services.can_edit(_me()))


# ---- group page -------------------------------------------------------------------------

def _relation_form(group: CommunityGroup, formdata=None) -> RelationForm:
    form = RelationForm(formdata=formdata) if formdata is not None else RelationForm(formdata=None)
    form.group_b_id.choices = [SelectChoice(0, "Choose a group")] + [
        SelectChoice(gid, name) for gid, name in db.session.execute(
            sa.select(CommunityGroup.id, CommunityGroup.name)
            .where(group_scope(_me()), CommunityGroup.id != group.id)
            .order_by(CommunityGroup.name).limit(CHOICE_LIMIT))]
    form.group_b_id.validate_choice = False  # the service checks the group is visible
    return form


def _candidate_members(group: CommunityGroup) -> list[tuple[int, str]]:
    """People the user may see who are not in the group yet (the fallback to the search box)."""
    already = sa.select(Membership.stakeholder_id).where(Membership.group_id == group.id)
    return [tuple(r) for r in db.session.execute(
        sa.select(Stakeholder.id, Stakeholder.name)
        .where(stakeholder_scope(_me()), Stakeholder.erased_at.is_(None),
               Stakeholder.merged_into_id.is_(None), Stakeholder.id.not_in(already))
        .order_by(Stakeholder.name, Stakeholder.id).limit(CHOICE_LIMIT))]


def _render_show(group: CommunityGroup, *, relation_form=None, member_form=None, status=200):
    user = _me()
    page = services.group_page(user, group, timeline_size=TIMELINE_SIZE,
                               timeline_page=max(request.args.get("timeline", 1, type=int) or 1, 1))
    editable = services.can_edit(user)
    ctx = {"group": group, "page": page, "row": page.row, "can_edit": editable,
           "timeline_page": max(request.args.get("timeline", 1, type=int) or 1, 1),
           "timeline_pages": max(ceil(page.timeline_total / TIMELINE_SIZE), 1)}
    if editable:
        ctx["relation_form"] = relation_form or _relation_form(group)
        ctx["member_form"] = member_form or MembershipForm(formdata=None)
        ctx["candidates"] = _candidate_members(group)
        ctx["end_form"] = EndForm(formdata=None)
    return render_template("groups/show.html", **ctx), status


@bp.route("/<int:group_id>")
@roles_required(*services.READER_ROLES)
def show(group_id: int):
    return _render_show(get_visible_or_404(CommunityGroup, group_id, _me()))


# ---- create and edit --------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def new():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = services.create_group(_me(), form.data_for_service())
        except ValidationError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"Group “{group.name}” created.", "success")
            return redirect(url_for("groups.show", group_id=group.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("groups/group_form.html", form=form, group=None), status


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit(group_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    form = GroupForm()
    conflict = None
    if not form.is_submitted():
        form.fill_from(services.group_snapshot(group))
        form.version_id.data = group.version_id
    elif form.validate_on_submit():
        yours = form.data_for_service()
        try:
            services.update_group(_me(), group, yours, version_of(form))
        except ValidationError as e:
            apply_errors(form, e.errors)
        except ConflictError as e:
            db.session.rollback()
            group = get_visible_or_404(CommunityGroup, group_id, _me())
            saved = services.group_snapshot(group)
            typed = {**yours, "languages": services.split_list(yours["languages"]),
                     "channels": services.split_list(yours["channels"]),
                     "beats": services.split_list(yours["beats"])}
            conflict = {"message": str(e), "version_id": group.version_id,
                        "rows": conflict_rows(GROUP_LABELS, typed, saved)}
            form.version_id.data = group.version_id  # saving again now overwrites, knowingly
            return render_template("groups/group_form.html", form=form, group=group,
                                   conflict=conflict), 409
        else:
            flash("Group saved.", "success")
            return redirect(url_for("groups.show", group_id=group.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("groups/group_form.html", form=form, group=group,
                           conflict=conflict), status


# ---- relations --------------------------------------------------------------------------

def _relation_of(group: CommunityGroup, relation_id: int) -> GroupRelation:
    rel = db.session.scalar(services.relations_query(_me()).where(
        GroupRelation.id == relation_id,
        sa.or_(GroupRelation.group_a_id == group.id, GroupRelation.group_b_id == group.id)))
    if rel is None:
        abort(404)
    return rel


@bp.route("/<int:group_id>/relations", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def declare_relation(group_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    form = _relation_form(group, request.form)
    if form.validate():
        other = services.visible_group(_me(), form.group_b_id.data or None)
        try:
            rel = services.declare_relation(_me(), group, other, form.type.data, form.issue.data,
                                            form.starts_on.data)
        except ValidationError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"Relation with {rel.other(group.id).name} recorded.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="relations"), 303)
    return _render_show(group, relation_form=form, status=422)


def _render_relation(group, rel, form, *, conflict=None, status=200):
    return render_template("groups/relation_form.html", group=group, rel=rel, form=form,
                           other=rel.other(group.id), conflict=conflict), status


def _relation_conflict(group_id: int, relation_id: int, e: ConflictError, yours: dict, form):
    db.session.rollback()
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    rel = _relation_of(group, relation_id)
    saved = services.relation_snapshot(rel)
    conflict = {"message": str(e), "version_id": rel.version_id,
                "rows": conflict_rows(RELATION_LABELS, yours, saved),
                "reload_url": url_for("groups.edit_relation", group_id=group.id,
                                      relation_id=rel.id)}
    form.version_id.data = rel.version_id
    return _render_relation(group, rel, form, conflict=conflict, status=409)


@bp.route("/<int:group_id>/relations/<int:relation_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit_relation(group_id: int, relation_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    rel = _relation_of(group, relation_id)
    form = RelationEditForm()
    if not form.is_submitted():
        form = RelationEditForm(obj=rel)
        form.version_id.data = rel.version_id
        return _render_relation(group, rel, form)
    if form.validate():
        yours = {"type": form.type.data, "issue": form.issue.data or "",
                 "starts_on": form.starts_on.data, "ends_on": form.ends_on.data}
        try:
            services.update_relation(_me(), rel, yours, version_of(form))
        except ValidationError as e:
            apply_errors(form, e.errors)
        except ConflictError as e:
            return _relation_conflict(group_id, relation_id, e, yours, form)
        else:
            flash(f"Relation with {rel.other(group.id).name} saved.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="relations"), 303)
    return _render_relation(group, rel, form, status=422)


@bp.route("/<int:group_id>/relations/<int:relation_id>/end", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def end_relation(group_id: int, relation_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    rel = _relation_of(group, relation_id)
    end = EndForm()
    form = RelationEditForm(formdata=None, obj=rel)
    form.version_id.data = rel.version_id
    if end.validate():
        try:
            services.end_relation(_me(), rel, end.ends_on.data, version_of(end))
        except ValidationError as e:
            apply_errors(form, e.errors)
        except ConflictError as e:
            yours = {**services.relation_snapshot(rel), "ends_on": end.ends_on.data or "today"}
            return _relation_conflict(group_id, relation_id, e, yours, form)
        else:
            flash(f"Relation with {rel.other(group.id).name} ended.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="relations"), 303)
    else:
        apply_errors(form, end.errors)
    return _render_relation(group, rel, form, status=422)


# ---- memberships ------------------------------------------------------------------------

def _membership_of(group: CommunityGroup, membership_id: int) -> Membership:
    m = db.session.scalar(sa.select(Membership).where(
        Membership.id == membership_id, Membership.group_id == group.id))
    if m is None:
        abort(404)
    return m


def _member_name(m: Membership) -> str:
    visible = services.visible_stakeholder_ids(_me(), [m.stakeholder_id])
    return services.MemberRow(m, m.stakeholder_id in visible).display_name


@bp.route("/<int:group_id>/memberships", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def add_member(group_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    form = MembershipForm()
    if form.validate():
        person = services.visible_stakeholder(_me(), form.stakeholder_id.data)
        try:
            m = services.add_membership(_me(), person, group, form.role.data, form.starts_on.data)
        except ValidationError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"{_member_name(m)} added as {label(m.role).lower()}.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)
    return _render_show(group, member_form=form, status=422)


def _render_membership(group, m, form, *, conflict=None, status=200):
    return render_template("groups/membership_form.html", group=group, m=m, form=form,
                           name=_member_name(m), conflict=conflict), status


def _membership_conflict(group_id, membership_id, e, yours, form):
    db.session.rollback()
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    m = _membership_of(group, membership_id)
    conflict = {"message": str(e), "version_id": m.version_id,
                "rows": conflict_rows(MEMBERSHIP_LABELS, yours, services.membership_snapshot(m)),
                "reload_url": url_for("groups.edit_member", group_id=group.id,
                                      membership_id=m.id)}
    form.version_id.data = m.version_id
    return _render_membership(group, m, form, conflict=conflict, status=409)


@bp.route("/<int:group_id>/memberships/<int:membership_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit_member(group_id: int, membership_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    m = _membership_of(group, membership_id)
    form = MembershipEditForm()
    if not form.is_submitted():
        form = MembershipEditForm(obj=m)
        form.version_id.data = m.version_id
        return _render_membership(group, m, form)
    if form.validate():
        yours = {"role": form.role.data, "starts_on": form.starts_on.data,
                 "ends_on": form.ends_on.data}
        try:
            services.update_membership(_me(), m, yours, version_of(form))
        except ValidationError as e:
            apply_errors(form, e.errors)
        except ConflictError as e:
            return _membership_conflict(group_id, membership_id, e, yours, form)
        else:
            flash("Membership saved.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)
    return _render_membership(group, m, form, status=422)


@bp.route("/<int:group_id>/memberships/<int:membership_id>/end", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def end_member(group_id: int, membership_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, _me())
    m = _membership_of(group, membership_id)
    end = EndForm()
    form = MembershipEditForm(formdata=None, obj=m)
    form.version_id.data = m.version_id
    if end.validate():
        try:
            services.end_membership(_me(), m, end.ends_on.data, version_of(end))
        except ValidationError as e:
            apply_errors(form, e.errors)
        except ConflictError as e:
            yours = {**services.membership_snapshot(m), "ends_on": end.ends_on.data or "today"}
            return _membership_conflict(group_id, membership_id, e, yours, form)
        else:
            flash(f"{_member_name(m)} is no longer a member.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)
    else:
        apply_errors(form, end.errors)
    return _render_membership(group, m, form, status=422)
