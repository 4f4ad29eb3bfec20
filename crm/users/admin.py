"""Administration of users: create, assign beats/district/groups, disable. Admins only."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.audit.services import record_event
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import Beat, BeatAssignment, CommunityGroup, District, GroupAssignment, User
from crm.users.services import create_user, set_active
from crm.vocab import ROLES

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")


@bp.before_request
@login_required
def admins_only():
    if current_user.role != "admin":
        abort(403)


def _ip() -> str:
    return request.remote_addr or ""


@bp.route("/", methods=["GET", "POST"])
def index():
    users = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    districts = db.session.scalars(sa.select(District).order_by(District.code)).all()
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        beat_codes = [c.strip() for c in form.get("beats", "").replace(";", ",").split(",") if c.strip()]
        beats = dict(db.session.execute(sa.select(Beat.code, Beat.id).where(Beat.code.in_(beat_codes))).all())
        unknown = [c for c in beat_codes if c not in beats]
        try:
            if unknown:
                raise ValidationError({"beats": f"unknown beat(s): {', '.join(unknown)}"})
            user = create_user(current_user, form.get("username", ""), form.get("role", ""),
                               form.get("password", ""), display_name=form.get("display_name") or None,
                               district_id=request.form.get("district_id", type=int),
                               beat_ids=list(beats.values()))
        except ValidationError as e:
            errors, status = e.errors, 422
        else:
            flash(f"Created {user.role} {user.username}.", "info")
            return redirect(url_for("admin_users.index"))
    return render_template("admin/users.html", users=users, districts=districts, roles=ROLES,
                           errors=errors, form=form), status


@bp.route("/<id:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            _apply_edit(user, request.form)
        except ValidationError as e:
            errors, status = e.errors, 422
        except ConflictError as e:
            errors, status = {"form": [str(e)]}, 409
        else:
            flash(f"Saved {user.username}.", "info")
            return redirect(url_for("admin_users.edit", user_id=user.id))
    beats = db.session.scalars(sa.select(Beat).order_by(Beat.code)).all()
    districts = db.session.scalars(sa.select(District).order_by(District.code)).all()
    group_ids = set(db.session.scalars(sa.select(GroupAssignment.group_id)
                                       .where(GroupAssignment.user_id == user.id)))
    groups = db.session.scalars(sa.select(CommunityGroup).where(CommunityGroup.id.in_(group_ids))
                                .order_by(CommunityGroup.name)).all()
    return render_template("admin/user_edit.html", user=user, beats=beats, districts=districts,
                           roles=ROLES, errors=errors, groups=groups,
                           current_beat_ids={b.id for b in user.current_beats()}), status


def _apply_edit(user: User, form) -> None:
    if form.get("version_id", type=int) != user.version_id:
        raise ConflictError("Someone else changed this user while you edited; reload and redo.")
    before = {"role": user.role, "district_id": user.district_id, "active": user.active,
              "beats": sorted(b.code for b in user.current_beats())}
    role = form.get("role", user.role)
    if role not in ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(ROLES)}"})
    if user.id == current_user.id and (role != "admin" or form.get("active") != "on"):
        raise ValidationError({"role": "you cannot demote or disable yourself"})
    user.role = role
    user.district_id = form.get("district_id", type=int)
    user.display_name = form.get("display_name", user.display_name).strip() or user.display_name
    wanted = set(form.getlist("beat_ids", type=int))
    have = {a.beat_id: a for a in user.assignments if a.ends_on is None}
    for beat_id in wanted - set(have):
        user.assignments.append(BeatAssignment(beat_id=beat_id))
    for beat_id in set(have) - wanted:
        user.assignments.remove(have[beat_id])
    group_names = [n.strip() for n in form.get("groups", "").split(";") if n.strip()]
    if group_names:
        found = dict(db.session.execute(sa.select(CommunityGroup.name, CommunityGroup.id)
                                        .where(CommunityGroup.name.in_(group_names))).all())
        missing = [n for n in group_names if n not in found]
        if missing:
            raise ValidationError({"groups": f"unknown group(s): {'; '.join(missing)}"})
        for gid in found.values():
            if not db.session.get(GroupAssignment, (user.id, gid)):
                db.session.add(GroupAssignment(user_id=user.id, group_id=gid))
    active = form.get("active") == "on"
    if active != user.active:
        set_active(current_user, user, active, reason="admin", ip=_ip())
    db.session.flush()
    after = {"role": user.role, "district_id": user.district_id, "active": user.active,
             "beats": sorted(db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(wanted))))}
    record_event(current_user, "user.update", user, ip=_ip(), detail={"before": before, "after": after})
