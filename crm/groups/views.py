"""Group pages: the list, the group page, create and edit, relations and memberships.

Views only parse forms, call `crm.groups.services` and choose what to render; the request
is the commit boundary (crm.web), so a form answered with 4xx leaves nothing behind.
Officers, unit members, supervisors and admins read (scoped by crm.access); unit members,
supervisors and admins change; analysts get 403.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from crm.access import get_visible_or_404, roles_required
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.groups.forms import (
    EndForm,
    GroupFilterForm,
    GroupForm,
    MembershipEditForm,
    MembershipForm,
    RelationEditForm,
    RelationForm,
)
from crm.groups.models import CommunityGroup, GroupRelation
from crm.stakeholders.models import Membership
from crm.vocab import label
from crm.web import picker
from crm.web.forms import (
    STALE_MESSAGE,
    apply_errors,
    conflict_context,
    current_actor,
    version_of,
    versioned_edit,
)
from crm.web.paging import Page, page_arg

bp = Blueprint("groups", __name__, url_prefix="/groups")

PER_PAGE = 25
TIMELINE_SIZE = 20
MEMBERS_SIZE = 20  # ~200 px a member on a phone: 639 members are 32 short pages, not one long one
GROUP_LABELS = {"name": "Name", "kind": "Kind", "stance": "Stance", "stage": "Stage",
                "size_estimate": "Estimated size", "languages": "Languages",
                "channels": "Preferred channels", "description": "Description",
                "contact_interval_days": "Stay in touch every (days)", "beats": "Beats"}
RELATION_LABELS = {"type": "Relation", "issue": "Issue at stake", "starts_on": "Since",
                   "ends_on": "Ended on"}
MEMBERSHIP_LABELS = {"role": "Role", "starts_on": "Since", "ends_on": "Ended on"}


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
        q=(val("q") or "").strip() or None, language=val("language"), sort=form.sort_value(),
        desc=form.order.data == "desc")
    page = page_arg()
    rows, total = services.list_groups(current_actor(), filters, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v not in ("", None)}
    return render_template("groups/index.html", form=form, rows=rows, total=total, args=args,
                           pagination=Page(rows, total, page, PER_PAGE), filters=filters,
                           can_edit=services.can_edit(current_actor()))


# ---- group page -------------------------------------------------------------------------

def _picked(form, formdata, fields: dict[str, str]):
    """Fill `form` from `formdata` with its picker fields (typed names) read as ids."""
    data, errors = picker.resolve_fields(current_actor(), formdata, fields)
    form.process(formdata=data)
    return errors


def _relation_form(group: CommunityGroup, formdata=None) -> tuple[RelationForm, dict]:
    form = RelationForm(formdata=None)
    form.group_b_id.choices = []
    form.group_b_id.validate_choice = False  # a type-ahead picker; the service checks the group
    errors = _picked(form, formdata, {"group_b_id": "group"}) if formdata is not None else {}
    return form, errors


def _render_show(group: CommunityGroup, *, relation_form=None, member_form=None,
                 picked_errors=None, status=200):
    user = current_actor()
    timeline_page = page_arg("timeline")
    members_page = page_arg("members")
    members_q = (request.args.get("mq") or "").strip()[:100] or None
    page = services.group_page(user, group, timeline_size=TIMELINE_SIZE,
                               timeline_page=timeline_page, members_page=members_page,
                               members_size=MEMBERS_SIZE, members_q=members_q)
    editable = services.can_edit(user)
    ctx = {"group": group, "page": page, "row": page.row, "can_edit": editable,
           "timeline": Page(page.timeline, page.timeline_total, timeline_page, TIMELINE_SIZE),
           "members": Page(page.members, page.members_total, members_page, MEMBERS_SIZE),
           "members_q": members_q or "", "picked_errors": picked_errors or {},
           "typed": request.form if request.method == "POST" else {}}
    if editable:
        ctx["relation_form"] = relation_form or _relation_form(group)[0]
        ctx["member_form"] = member_form or MembershipForm(formdata=None)
        ctx["end_form"] = EndForm(formdata=None)
    return render_template("groups/show.html", **ctx), status


@bp.route("/<id:group_id>")
@roles_required(*services.READER_ROLES)
def show(group_id: int):
    return _render_show(get_visible_or_404(CommunityGroup, group_id, current_actor()))


# ---- create and edit --------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def new():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = services.create_group(current_actor(), form.data_for_service())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash(f"Group “{group.name}” created.", "success")
            return redirect(url_for("groups.show", group_id=group.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("groups/group_form.html", form=form, group=None), status


def _typed_group(yours: dict) -> dict:
    """The typed values as the conflict table shows them (lists split like the saved ones)."""
    return {**yours, **{k: services.split_list(yours[k]) for k in ("languages", "channels", "beats")}}


def _fill_group(form: GroupForm, group: CommunityGroup) -> None:
    form.fill_from(services.group_snapshot(group))


@bp.route("/<id:group_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit(group_id: int):
    def load():
        return get_visible_or_404(CommunityGroup, group_id, current_actor())

    return versioned_edit(
        GroupForm(), load(), fill=_fill_group, typed=lambda form: form.data_for_service(),
        save=lambda group, values, version: services.update_group(current_actor(), group,
                                                                   values, version),
        reload=load, snapshot=services.group_snapshot, labels=GROUP_LABELS, shown=_typed_group,
        render=lambda group, form, conflict: render_template(
            "groups/group_form.html", form=form, group=group, conflict=conflict),
        done=lambda group: redirect(url_for("groups.show", group_id=group.id), 303),
        saved_message="Group saved.")


# ---- relations --------------------------------------------------------------------------

def _relation_of(group: CommunityGroup, relation_id: int) -> GroupRelation:
    rel = db.session.scalar(services.relations_query(current_actor()).where(
        GroupRelation.id == relation_id,
        sa.or_(GroupRelation.group_a_id == group.id, GroupRelation.group_b_id == group.id)))
    if rel is None:
        abort(404)
    return rel


@bp.route("/<id:group_id>/relations", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def declare_relation(group_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    form, picked_errors = _relation_form(group, request.form)
    if not picked_errors and form.validate():
        other = services.visible_group(current_actor(), form.group_b_id.data or None)
        try:
            rel = services.declare_relation(current_actor(), group, other, form.type.data, form.issue.data,
                                            form.starts_on.data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash(f"Relation with {rel.other(group.id).name} recorded.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="relations"), 303)
    return _render_show(group, relation_form=form, picked_errors=picked_errors, status=422)


def _render_relation(group, rel, form, *, conflict=None, status=200):
    return render_template("groups/relation_form.html", group=group, rel=rel, form=form,
                           other=rel.other(group.id), conflict=conflict), status


def _load_relation(group_id: int, relation_id: int) -> tuple[CommunityGroup, GroupRelation]:
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    return group, _relation_of(group, relation_id)


def _relation_values(form) -> dict:
    return {"type": form.type.data, "issue": form.issue.data or "",
            "starts_on": form.starts_on.data, "ends_on": form.ends_on.data}


@bp.route("/<id:group_id>/relations/<id:relation_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit_relation(group_id: int, relation_id: int):
    group, rel = _load_relation(group_id, relation_id)

    def done(rel):
        flash(f"Relation with {rel.other(group.id).name} saved.", "success")
        return redirect(url_for("groups.show", group_id=group.id, _anchor="relations"), 303)

    return versioned_edit(
        RelationEditForm(), rel, typed=_relation_values,
        save=lambda rel, values, version: services.update_relation(current_actor(), rel,
                                                                    values, version),
        reload=lambda: _load_relation(group_id, relation_id)[1],
        snapshot=services.relation_snapshot, labels=RELATION_LABELS,
        render=lambda rel, form, conflict: _render_relation(group, rel, form,
                                                            conflict=conflict)[0],
        done=done)


def _end_conflict(e: Exception, load, snapshot, labels: dict, ends_on, form, render,
                  reload_url: str):
    """A one-button end refused as stale: the 409 shows the end date beside the saved values."""
    db.session.rollback()
    group, obj = load()
    yours = {**snapshot(obj), "ends_on": ends_on or "today"}
    message = str(e) if isinstance(e, ConflictError) and str(e) else STALE_MESSAGE
    form.process(formdata=None, obj=obj)
    form.version_id.data = obj.version_id
    conflict = conflict_context(message, version_id=obj.version_id, labels=labels, yours=yours,
                                saved=snapshot(obj), reload_url=reload_url)
    return render(group, obj, form, conflict=conflict, status=409)


@bp.route("/<id:group_id>/relations/<id:relation_id>/end", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def end_relation(group_id: int, relation_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    rel = _relation_of(group, relation_id)
    end = EndForm()
    form = RelationEditForm(formdata=None, obj=rel)
    form.version_id.data = rel.version_id
    if end.validate():
        try:
            services.end_relation(current_actor(), rel, end.ends_on.data, version_of(end))
            db.session.flush()
        except ValidationError as e:
            apply_errors(form, e)
        except (ConflictError, StaleDataError) as e:
            return _end_conflict(e, lambda: _load_relation(group_id, relation_id),
                                 services.relation_snapshot, RELATION_LABELS, end.ends_on.data,
                                 form, _render_relation,
                                 url_for("groups.edit_relation", group_id=group_id,
                                         relation_id=relation_id))
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
    visible = services.visible_stakeholder_ids(current_actor(), [m.stakeholder_id])
    return services.MemberRow(m, m.stakeholder_id in visible).display_name


@bp.route("/<id:group_id>/memberships", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def add_member(group_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    form = MembershipForm(formdata=None)
    picked_errors = _picked(form, request.form, {"stakeholder_id": "person"})
    if not picked_errors and form.validate():
        person = services.visible_stakeholder(current_actor(), form.stakeholder_id.data)
        try:
            m = services.add_membership(current_actor(), person, group, form.role.data, form.starts_on.data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            flash(f"{_member_name(m)} added as {label(m.role).lower()}.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)
    return _render_show(group, member_form=form, picked_errors=picked_errors, status=422)


def _render_membership(group, m, form, *, conflict=None, status=200):
    return render_template("groups/membership_form.html", group=group, m=m, form=form,
                           name=_member_name(m), conflict=conflict), status


def _load_membership(group_id: int, membership_id: int) -> tuple[CommunityGroup, Membership]:
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    return group, _membership_of(group, membership_id)


@bp.route("/<id:group_id>/memberships/<id:membership_id>/edit", methods=["GET", "POST"])
@roles_required(*services.EDITOR_ROLES)
def edit_member(group_id: int, membership_id: int):
    group, m = _load_membership(group_id, membership_id)

    def done(m):
        flash("Membership saved.", "success")
        return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)

    return versioned_edit(
        MembershipEditForm(), m,
        typed=lambda form: {"role": form.role.data, "starts_on": form.starts_on.data,
                            "ends_on": form.ends_on.data},
        save=lambda m, values, version: services.update_membership(current_actor(), m, values,
                                                                    version),
        reload=lambda: _load_membership(group_id, membership_id)[1],
        snapshot=services.membership_snapshot, labels=MEMBERSHIP_LABELS,
        render=lambda m, form, conflict: _render_membership(group, m, form,
                                                            conflict=conflict)[0],
        done=done)


@bp.route("/<id:group_id>/memberships/<id:membership_id>/end", methods=["POST"])
@roles_required(*services.EDITOR_ROLES)
def end_member(group_id: int, membership_id: int):
    group = get_visible_or_404(CommunityGroup, group_id, current_actor())
    m = _membership_of(group, membership_id)
    end = EndForm()
    form = MembershipEditForm(formdata=None, obj=m)
    form.version_id.data = m.version_id
    if end.validate():
        try:
            services.end_membership(current_actor(), m, end.ends_on.data, version_of(end))
            db.session.flush()
        except ValidationError as e:
            apply_errors(form, e)
        except (ConflictError, StaleDataError) as e:
            return _end_conflict(e, lambda: _load_membership(group_id, membership_id),
                                 services.membership_snapshot, MEMBERSHIP_LABELS,
                                 end.ends_on.data, form, _render_membership,
                                 url_for("groups.edit_member", group_id=group_id,
                                         membership_id=membership_id))
        else:
            flash(f"{_member_name(m)} is no longer a member.", "success")
            return redirect(url_for("groups.show", group_id=group.id, _anchor="members"), 303)
    else:
        apply_errors(form, end.errors)
    return _render_membership(group, m, form, status=422)
