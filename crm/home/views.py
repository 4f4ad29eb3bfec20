"""The home page, one per role."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import login_required

from crm.access import scoped
from crm.assignments import services as assignment_services
from crm.assignments.services import my_open as my_assignments
from crm.cases.services import overdue_actions_for, overdue_actions_in_scope
from crm.extensions import db
from crm.home import services
from crm.models import CommunityGroup, Contact, ProblemCase, Stakeholder, User
from crm.timezones import local_today
from crm.web.forms import current_actor

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    user = current_actor()
    today = local_today()  # the department's day: follow-ups, overdue actions, days since
    if user.role == "officer":
        beat_ids = [b.id for b in user.current_beats()]
        return render_template(
            "home/officer.html", beats=user.current_beats(), today=today,
            groups=services.groups_by_days_since_contact(beat_ids, today=today),
            follow_ups=services.follow_ups_due(officer_ids=[user.id], today=today),
            overdue_actions=overdue_actions_for(user, today=today),
            assignments=my_assignments(user))
    if user.role == "supervisor":
        beat_ids = services.district_beat_ids(user)
        return render_template(
            "home/supervisor.html", district=user.district, today=today,
            groups=services.groups_by_days_since_contact(beat_ids, today=today),
            follow_ups=services.follow_ups_due(beat_ids=beat_ids, today=today),
            overdue_assignments=assignment_services.overdue(user, today=today))
    if user.role == "unit":
        open_cases = db.session.scalars(
            scoped(ProblemCase, user).where(ProblemCase.stage != "closed")
            .order_by(ProblemCase.opened_on.desc()).limit(50)).all()
        return render_template(
            "home/unit.html", today=today, open_cases=open_cases,
            follow_ups=services.follow_ups_due(officer_ids=[user.id], today=today),
            overdue_actions=overdue_actions_in_scope(user, today=today),
            assignments=my_assignments(user))
    counts = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
              for name, model in [("users", User), ("groups", CommunityGroup),
                                  ("stakeholders", Stakeholder), ("contacts", Contact),
                                  ("cases", ProblemCase)]}
    return render_template(f"home/{user.role}.html", counts=counts, today=today)
