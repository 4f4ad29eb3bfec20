"""Problem-solving cases (SARA) over the API: cases, their stage moves and their parts.

Every query goes through `crm.access.case_scope`, so a case the caller may not see is a
404. Services do the work (and refuse with 422 naming the field, or 409 on a stale
version_id); the request boundary commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user
from crm.api.common import Blueprint

from crm.access import get_visible_or_404
from crm.api.common import paginate
from crm.cases import services as svc
from crm.cases.figures import case_figures, unit_figures
from crm.cases.schemas import (ActionSchema, ActionUpdateSchema, CaseCreateSchema,
                               CaseDetailSchema, CaseQuerySchema, CaseSchema, CaseUpdateSchema,
                               ContactLinkSchema, CaseErrorSchema, IdeaSchema, IdeaUpdateSchema,
                               MeasureSchema, MeasureValueSchema, ParticipantSchema,
                               TransitionSchema, UnitFiguresQuerySchema, UnitFiguresSchema)
from crm.db import utcnow
from crm.extensions import db
from crm.models import CaseAction, CaseIdea, CaseMeasure, CaseParticipant, ProblemCase

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases",
                description="Problem-solving cases (SARA) run with the community")


@blp.before_request
def _no_analysts():
    if current_user.is_authenticated and current_user.role == "analyst":
        abort(403, description="Analysts use the pseudonymised exports, not case records.")


def _user():
    return current_user._get_current_object()


def _case(case_id: int) -> ProblemCase:
    return get_visible_or_404(ProblemCase, case_id, _user())


def _part(model, part_id: int, case: ProblemCase):
    obj = db.session.get(model, part_id)
    if obj is None or obj.case_id != case.id:
        abort(404)
    return obj


class _CaseView:
    """A case plus the computed parts of its API read (warnings, figures, ...)."""

    def __init__(self, case: ProblemCase, user):
        self._case = case
        g.case_visible_stakeholders = svc.visible_stakeholder_ids(user, svc.stakeholder_ids_of(case))
        self.warnings = svc.competing_warnings(case)
        self.figures = case_figures(case, now=utcnow())
        self.contact_ids = [c.id for c in svc.visible_case_contacts(user, case)]
        self.allowed_moves = [s for s, _ in svc.allowed_moves(case)]

    def __getattr__(self, name):
        return getattr(self._case, name)


def _detail(case: ProblemCase) -> _CaseView:
    db.session.expire(case)
    case = db.session.scalar(
        sa.select(ProblemCase).where(ProblemCase.id == case.id)
        .options(*svc.load_case_options()))
    return _CaseView(case, _user())


ERRORS = {422: "Invalid input, or a refused stage move (errors name the fields)",
          409: "Someone else saved first; `current` holds the saved record",
          404: "No such case among those you may see"}


def _alt(*codes):
    def deco(f):
        for code in codes:
            f = blp.alt_response(code, schema=CaseErrorSchema, description=ERRORS[code])(f)
        return f
    return deco


@blp.route("/")
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, CaseSchema(many=True))
@blp.paginate()
def list_cases(args, pagination_parameters):
    """Cases the caller may see, newest first; filter by stage, beat, lead, overdue actions."""
    q = svc.case_list_query(_user(), stage=args.get("stage"), beat_id=args.get("beat"),
                            lead_id=args.get("lead"), overdue=args.get("overdue", False),
                            q=args.get("q"))
    return paginate(q, pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(CaseCreateSchema)
@blp.response(201, CaseDetailSchema)
@_alt(422)
def create_case(args):
    """Open a case (unit, supervisors, admins)."""
    case = svc.create_case(_user(), **args)
    return _detail(case)


@blp.route("/figures")
@blp.arguments(UnitFiguresQuerySchema, location="query")
@blp.response(200, UnitFiguresSchema)
def figures(args):
    """Co-production figures over the caller's cases (all cases for an admin)."""
    return unit_figures(svc.cases_for_figures(_user(), args.get("member")), now=utcnow())


@blp.route("/<id:case_id>")
@blp.response(200, CaseDetailSchema)
@_alt(404)
def get_case(case_id: int):
    """One case with its participants, ideas, actions, measures, timeline, warnings, figures."""
    return _detail(_case(case_id))


@blp.route("/<id:case_id>", methods=["PATCH"])
@blp.arguments(CaseUpdateSchema)
@blp.response(200, CaseDetailSchema)
@_alt(404, 409, 422)
def update_case(args, case_id: int):
    """Edit the case's fields; send the version_id you read (stale → 409)."""
    case = _case(case_id)
    version = args.pop("version_id")
    svc.update_case(_user(), case, args, version_id=version)
    return _detail(case)


@blp.route("/<id:case_id>/transitions", methods=["POST"])
@blp.arguments(TransitionSchema)
@blp.response(200, CaseDetailSchema)
@_alt(404, 409, 422)
def transition(args, case_id: int):
    """Move the case to another SARA stage; a refused move is a 422 naming what is missing."""
    case = _case(case_id)
    svc.move_case(_user(), case, args["to"], reason=args.get("reason"),
                  version_id=args["version_id"])
    return _detail(case)


@blp.route("/<id:case_id>/participants", methods=["POST"])
@blp.arguments(ParticipantSchema)
@blp.response(201, ParticipantSchema)
@_alt(404, 422)
def add_participant(args, case_id: int):
    case = _case(case_id)
    p = svc.add_participant(_user(), case, **args)
    g.case_visible_stakeholders = svc.visible_stakeholder_ids(_user(), {p.stakeholder_id})
    return p


@blp.route("/<id:case_id>/participants/<id:participant_id>", methods=["DELETE"])
@blp.response(204)
@_alt(404)
def remove_participant(case_id: int, participant_id: int):
    case = _case(case_id)
    svc.remove_participant(_user(), case, _part(CaseParticipant, participant_id, case))


@blp.route("/<id:case_id>/contacts", methods=["POST"])
@blp.arguments(ContactLinkSchema)
@blp.response(201, ContactLinkSchema)
@_alt(404, 422)
def link_contact(args, case_id: int):
    """Link a contact you may see to the analysis ("what we heard")."""
    contact = svc.link_contact(_user(), _case(case_id), args["contact_id"])
    return {"contact_id": contact.id}


@blp.route("/<id:case_id>/contacts/<id:contact_id>", methods=["DELETE"])
@blp.response(204)
@_alt(404, 422)
def unlink_contact(case_id: int, contact_id: int):
    svc.unlink_contact(_user(), _case(case_id), contact_id)


def _idea_out(idea: CaseIdea) -> CaseIdea:
    g.case_visible_stakeholders = svc.visible_stakeholder_ids(
        _user(), {idea.proposed_by_stakeholder_id})
    return idea


@blp.route("/<id:case_id>/ideas", methods=["POST"])
@blp.arguments(IdeaSchema)
@blp.response(201, IdeaSchema)
@_alt(404, 422)
def add_idea(args, case_id: int):
    """Record an idea from the community, credited to a stakeholder or a group."""
    return _idea_out(svc.add_idea(_user(), _case(case_id), **args))


@blp.route("/<id:case_id>/ideas/<id:idea_id>", methods=["PATCH"])
@blp.arguments(IdeaUpdateSchema)
@blp.response(200, IdeaSchema)
@_alt(404, 409, 422)
def update_idea(args, case_id: int, idea_id: int):
    """Adopt or decline (with a reason) an idea, or record when the proposer was told."""
    case = _case(case_id)
    idea = _part(CaseIdea, idea_id, case)
    version = args.pop("version_id")
    return _idea_out(svc.update_idea(_user(), idea, version_id=version, **args))


def _action_out(a: CaseAction) -> CaseAction:
    g.case_visible_stakeholders = svc.visible_stakeholder_ids(_user(), {a.owner_stakeholder_id})
    return a


@blp.route("/<id:case_id>/actions", methods=["POST"])
@blp.arguments(ActionSchema)
@blp.response(201, ActionSchema)
@_alt(404, 422)
def add_action(args, case_id: int):
    """An action owned by an officer, a stakeholder, a group or a partner agency."""
    return _action_out(svc.add_action(_user(), _case(case_id), **args))


@blp.route("/<id:case_id>/actions/<id:action_id>", methods=["PATCH"])
@blp.arguments(ActionUpdateSchema)
@blp.response(200, ActionSchema)
@_alt(404, 409, 422)
def update_action(args, case_id: int, action_id: int):
    case = _case(case_id)
    action = _part(CaseAction, action_id, case)
    version = args.pop("version_id")
    return _action_out(svc.update_action(_user(), action, args, version_id=version))


@blp.route("/<id:case_id>/measures", methods=["POST"])
@blp.arguments(MeasureSchema)
@blp.response(201, MeasureSchema)
@_alt(404, 422)
def add_measure(args, case_id: int):
    return svc.add_measure(_user(), _case(case_id), **args)


@blp.route("/<id:case_id>/measures/<id:measure_id>/values", methods=["POST"])
@blp.arguments(MeasureValueSchema)
@blp.response(201, MeasureValueSchema)
@_alt(404, 422)
def add_measure_value(args, case_id: int, measure_id: int):
    case = _case(case_id)
    return svc.add_measure_value(_user(), _part(CaseMeasure, measure_id, case), **args)
