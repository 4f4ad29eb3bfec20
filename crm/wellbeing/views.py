"""Well-being pages: an officer's own check-ins, and aggregates for supervisors and admins.

A check-in is only ever looked up together with its author (services.get_own_checkin_or_404),
so any other user, whatever their role, gets a 404 for it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from crm.access import roles_required
from crm.errors import ValidationError
from crm.extensions import db
from crm.timezones import typed_to_utc
from crm.web.forms import apply_errors, current_actor
from crm.wellbeing import services
from crm.wellbeing.forms import CheckinForm

bp = Blueprint("wellbeing", __name__, url_prefix="/wellbeing")

WINDOWS = (7, 30, 90, 365)


@bp.route("/", methods=["GET", "POST"])
@roles_required(*services.AUTHOR_ROLES)
def index():
    me = current_actor()
    form = CheckinForm()
    status = 200
    if request.method == "GET" and request.args.get("contact", type=int):
        form.contact_id.data = request.args.get("contact", type=int)
    if form.validate_on_submit():
        try:
            services.create_checkin(
                me, stress_level=form.stress_level.data,
                boundary_crossed=form.boundary_crossed.data, coping=form.coping.data,
                debrief_wanted=form.debrief_wanted.data, contact_id=form.contact_id.data,
                occurred_at=typed_to_utc(form.occurred_at.data))  # typed in local time
        except ValidationError as e:
            apply_errors(form, e)
            status = 422
        else:
            msg = "Check-in saved. Only you can see it."
            if form.debrief_wanted.data:
                msg += " Your wish for a debrief counts in your supervisor's anonymous overview; " \
                       "ask for one directly if you want it soon."
            flash(msg, "info")
            return redirect(url_for("wellbeing.index"), 303)
    elif form.is_submitted():
        status = 422
    checkins = db.session.scalars(services.own_checkins(me).limit(100)).all()
    return render_template("wellbeing/index.html", form=form, checkins=checkins), status


@bp.route("/<id:checkin_id>")
@roles_required(*services.AUTHOR_ROLES, *services.AGGREGATE_ROLES)
def show(checkin_id: int):
    checkin = services.get_own_checkin_or_404(current_actor(), checkin_id)
    return render_template("wellbeing/show.html", c=checkin)


@bp.route("/<id:checkin_id>/delete", methods=["POST"])
@roles_required(*services.AUTHOR_ROLES, *services.AGGREGATE_ROLES)
def delete(checkin_id: int):
    me = current_actor()
    services.delete_checkin(me, services.get_own_checkin_or_404(me, checkin_id))
    flash("Check-in deleted.", "info")
    return redirect(url_for("wellbeing.index"), 303)


@bp.route("/aggregate")
@roles_required(*services.AGGREGATE_ROLES)
def aggregate():
    days = request.args.get("days", type=int) or 30
    if days not in WINDOWS:
        days = 30
    agg = services.aggregate_checkins(current_actor(), days=days)
    return render_template("wellbeing/aggregate.html", agg=agg, windows=WINDOWS,
                           min_officers=services.MIN_OFFICERS)
