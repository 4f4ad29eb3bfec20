"""Administration of users: create, assign beats/district/groups, reset a password, disable.

Admins only. The forms are in `crm.users.forms`, the rules in `crm.users.services`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from crm.access import require_role
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import Beat, CommunityGroup, District, GroupAssignment, User
from crm.users import signin
from crm.users.forms import ResetSecondFactorForm, UnlockForm, UserCreateForm, UserEditForm
from crm.users.second_factor import recovery_codes_left, reset_second_factor
from crm.users.services import UserChanges, create_user, update_user
from crm.web.forms import apply_errors, client_ip, current_actor, versioned_edit

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

# The rows of the conflict table when two admins edit one user at once.
EDIT_LABELS = {"role": "Role", "display_name": "Display name", "district_id": "District",
               "beats": "Beats", "active": "Active"}


@bp.before_request
@login_required
def admins_only():
    require_role("admin")


def _districts():
    return db.session.scalars(sa.select(District).order_by(District.code)).all()


@bp.route("/", methods=["GET", "POST"])
def index():
    form = UserCreateForm()
    form.set_districts(_districts())
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            codes = form.beat_codes()
            beats = dict(db.session.execute(sa.select(Beat.code, Beat.id)
                                            .where(Beat.code.in_(codes))).all())
            unknown = [c for c in codes if c not in beats]
            try:
                if unknown:
                    raise ValidationError({"beats": f"unknown beat(s): {', '.join(unknown)}"})
                user = create_user(current_actor(), form.username.data, form.role.data,
                                   form.password.data, display_name=form.display_name.data or None,
                                   district_id=form.district_id.data,
                                   beat_ids=list(beats.values()), ip=client_ip())
            except ValidationError as e:
                apply_errors(form, e)
            else:
                flash(f"Created {user.role} {user.username}.", "info")
                return redirect(url_for("admin_users.index"))
    users = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=users, form=form,
                           source_locked=signin.user_ids_with_locked_sources()), status


@bp.route("/<id:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm()
    form.set_districts(_districts())
    form.set_beats(db.session.scalars(sa.select(Beat).order_by(Beat.code)).all())

    def typed(f: UserEditForm) -> UserChanges:
        return UserChanges(role=f.role.data, display_name=f.display_name.data,
                           district_id=f.district_id.data, beat_ids=set(f.beat_ids.data or ()),
                           group_names=f.group_names(), active=bool(f.active.data),
                           new_password=f.new_password.data or None)

    def save(record: User, changes: UserChanges, version_id: int | None) -> None:
        update_user(current_actor(), record, changes, version_id=version_id, ip=client_ip())

    def snapshot(record: User) -> dict:
        return {"role": record.role, "display_name": record.display_name,
                "district_id": record.district.code if record.district else None,
                "beats": sorted(b.code for b in record.current_beats()), "active": record.active}

    def shown(changes: UserChanges) -> dict:
        beat_codes = db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(changes.beat_ids)))
        district = db.session.get(District, changes.district_id) if changes.district_id else None
        return {"role": changes.role, "display_name": changes.display_name,
                "district_id": district.code if district else None,
                "beats": sorted(beat_codes), "active": changes.active}

    def fill(f: UserEditForm, record: User) -> None:
        f.process(obj=record, beat_ids=[b.id for b in record.current_beats()])

    def render(record: User, f: UserEditForm, conflict: dict | None) -> str:
        groups = db.session.scalars(
            sa.select(CommunityGroup).join(GroupAssignment,
                                           GroupAssignment.group_id == CommunityGroup.id)
            .where(GroupAssignment.user_id == record.id).order_by(CommunityGroup.name)).all()
        return render_template("admin/user_edit.html", user=record, form=f, groups=groups,
                               conflict=conflict, locks=signin.active_locks(record),
                               unlock_form=UnlockForm(formdata=None),
                               reset_form=ResetSecondFactorForm(formdata=None),
                               recovery_left=recovery_codes_left(record))

    return versioned_edit(
        form, user, typed=typed, save=save, reload=lambda: db.get_or_404(User, user_id),
        snapshot=snapshot, labels=EDIT_LABELS, render=render, fill=fill, shown=shown,
        done=lambda record: redirect(url_for("admin_users.edit", user_id=record.id)),
        saved_message=f"Saved {user.username}.")


@bp.route("/<id:user_id>/unlock", methods=["POST"])
def unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    if not UnlockForm(request.form).validate():
        return redirect(url_for("admin_users.edit", user_id=user.id))
    signin.unlock(current_actor(), user, ip=client_ip())
    flash(f"Unlocked {user.username}: every address may sign in again.", "info")
    return redirect(url_for("admin_users.edit", user_id=user.id))


@bp.route("/<id:user_id>/reset-second-factor", methods=["POST"])
def reset_factor(user_id: int):
    """Clear a user's authenticator key and recovery codes (a lost phone); audited."""
    user = db.get_or_404(User, user_id)
    if not ResetSecondFactorForm(request.form).validate():
        return redirect(url_for("admin_users.edit", user_id=user.id))
    reset_second_factor(current_actor(), user, ip=client_ip())
    flash(f"Second factor of {user.username} reset: they set up a new one at their next "
          "sign-in (required for their role) or from their account page.", "info")
    return redirect(url_for("admin_users.edit", user_id=user.id))
