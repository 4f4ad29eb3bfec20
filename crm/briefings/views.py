"""Printable briefing pages: /beats/<code or id>/briefing and /cases/<id>/summary.

Both print on A4 or Letter without the navigation (static/print.css). A beat or case the
viewer may not see is a 404, like every other record outside their scope.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from crm.access import roles_required
from crm.briefings import services
from crm.cases import services as cases
from crm.cases.figures import case_figures
from crm.db import utcnow
from crm.errors import NotFoundError
from crm.timezones import local_today
from crm.vocab import CASE_STAGES
from crm.web.forms import client_ip, current_actor

bp = Blueprint("briefings", __name__)


@bp.route("/beats/<beat>/briefing")
@roles_required(*services.BRIEFING_ROLES)
def beat_briefing(beat: str):
    user = current_actor()
    found = services.find_beat(beat)
    if found is None or not services.may_brief(user, found.id):
        abort(404)
    b = services.beat_briefing(user, found, ip=client_ip())
    return render_template("briefings/beat.html", b=b, printed_by=user, now=utcnow())


@bp.route("/cases/<id:case_id>/summary")
@roles_required(*services.BRIEFING_ROLES)
def case_summary(case_id: int):
    user = current_actor()
    try:
        case = cases.get_case(user, case_id)
    except NotFoundError:
        abort(404)
    today = local_today()
    names = services.case_people_names(user, case, ip=client_ip())
    return render_template(
        "briefings/case.html", case=case, names=names, today=today, printed_by=user,
        now=utcnow(), stages=CASE_STAGES, figures=case_figures(case, now=utcnow()),
        participant_name=cases.participant_name, is_overdue=cases.is_overdue,
        warnings=cases.competing_warnings(case, today=today))
