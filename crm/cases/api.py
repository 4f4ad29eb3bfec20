"""Problem-solving cases (SARA) over the API: cases, their stage moves and their parts.

Every query goes through `crm.access.case_scope`, so a case the caller may not see is a
404. Services do the work (and refuse with 422 naming the field, or 409 on a stale
version_id); the request boundary commits.
"""

from __future__ import annotations

from flask import abort

from crm.api.common import Blueprint, paginate
from crm.cases import services as svc
from crm.cases.figures import case_figures, unit_figures
from crm.cases.schemas import (
    ActionSchema,
    ActionUpdateSchema,
    CaseCreateSchema,
    CaseDetailSchema,
    CaseErrorSchema,
    CaseQuerySchema,
    CaseSchema,
    CaseUpdateSchema,
    ContactLinkSchema,
    IdeaSchema,
    IdeaUpdateSchema,
    MeasureSchema,
    MeasureValueSchema,
    ParticipantSchema,
    TransitionSchema,
    UnitFiguresQuerySchema,
    UnitFiguresSchema,
)
from crm.db import utcnow
from crm.models import CaseAction, CaseIdea, CaseMeasure, CaseParticipant, ProblemCase
from crm.web.forms import current_actor

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases",
                description="Problem-solving cases (SARA) run with the community")


@blp.before_request
def _no_analysts():
    actor = current_actor()
    if actor is not None and actor.role == "analyst":
        abort(403, description="Analysts use the pseudonymised exports, not case records.")


def _case(case_id: int) -> ProblemCase:
    return svc.get_case(current_actor(), case_id, full=False)


class _Shown:
    """A record plus what this caller's answer adds to it (display names, warnings, ...).

    The names are decided here, for this caller, and handed to the schema as plain
    attributes: a person the caller may not see has no name (null)."""

    def __init__(self, obj, **extra):
        self._obj = obj
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._obj, name)


def _visible(*ids) -> set[int]:
    return svc.visible_stakeholder_ids(current_actor(), ids)


def _participant_out(p: CaseParticipant, visible: set[int]) -> _Shown:
    return _Shown(p, name=svc.participant_name(p, visible, hidden=None))


def _idea_out(i: CaseIdea, visible: set[int] | None = None) -> _Shown:
    visible = _visible(i.proposed_by_stakeholder_id) if visible is None else visible
    return _Shown(i, proposed_by_name=svc.idea_credit(i, visible, hidden=None))


def _action_out(a: CaseAction, visible: set[int] | None = None) -> _Shown:
    visible = _visible(a.owner_stakeholder_id) if visible is None else visible
    return _Shown(a, owner_name=svc.action_owner(a, visible, hidden=None))


def _detail(case: ProblemCase) -> _Shown:
    """The case as this caller may read it, with its parts and computed figures."""
    actor = current_actor()
    case = svc.reload_case(case)
    visible = svc.visible_stakeholder_ids(actor, svc.stakeholder_ids_of(case))
    return _Shown(
        case,
        participants=[_participant_out(p, visible) for p in case.participants],
        ideas=[_idea_out(i, visible) for i in case.ideas],
        actions=[_action_out(a, visible) for a in case.actions],
        warnings=svc.competing_warnings(case),
        figures=case_figures(case, now=utcnow()),
        contact_ids=[c.id for c in svc.visible_case_contacts(actor, case)],
        allowed_moves=[s for s, _ in svc.allowed_moves(case)])


ERRORS = {403: "You may see this case but not change it (or your role may not open cases)",
          422: "Invalid input, or a refused stage move (errors name the fields)",
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
    q = svc.case_list_query(current_actor(), stage=args.get("stage"), beat_id=args.get("beat"),
                            lead_id=args.get("lead"), overdue=args.get("overdue", False),
                            q=args.get("q"))
    return paginate(q, pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(CaseCreateSchema)
@blp.response(201, CaseDetailSchema)
@_alt(422, 403)
def create_case(args):
    """Open a case (unit, supervisors, admins)."""
    case = svc.create_case(current_actor(), **args)
    return _detail(case)


@blp.route("/figures")
@blp.arguments(UnitFiguresQuerySchema, location="query")
@blp.response(200, UnitFiguresSchema)
def figures(args):
    """Co-production figures over the caller's cases (all cases for an admin)."""
    return unit_figures(svc.cases_for_figures(current_actor(), args.get("member")), now=utcnow())


@blp.route("/<id:case_id>")
@blp.response(200, CaseDetailSchema)
@_alt(404)
def get_case(case_id: int):
    """One case with its participants, ideas, actions, measures, timeline, warnings, figures."""
    return _detail(_case(case_id))


@blp.route("/<id:case_id>", methods=["PATCH"])
@blp.arguments(CaseUpdateSchema)
@blp.response(200, CaseDetailSchema)
@_alt(404, 409, 422, 403)
def update_case(args, case_id: int):
    """Edit the case's fields; send the version_id you read (stale → 409)."""
    case = _case(case_id)
    version = args.pop("version_id")
    svc.update_case(current_actor(), case, args, version_id=version)
    return _detail(case)


@blp.route("/<id:case_id>/transitions", methods=["POST"])
@blp.arguments(TransitionSchema)
@blp.response(200, CaseDetailSchema)
@_alt(404, 409, 422, 403)
def transition(args, case_id: int):
    """Move the case to another SARA stage; a refused move is a 422 naming what is missing."""
    case = _case(case_id)
    svc.move_case(current_actor(), case, args["to"], reason=args.get("reason"),
                  version_id=args["version_id"])
    return _detail(case)


@blp.route("/<id:case_id>/participants", methods=["POST"])
@blp.arguments(ParticipantSchema)
@blp.response(201, ParticipantSchema)
@_alt(404, 422, 403)
def add_participant(args, case_id: int):
    case = _case(case_id)
    p = svc.add_participant(current_actor(), case, **args)
    return _participant_out(p, _visible(p.stakeholder_id))


@blp.route("/<id:case_id>/participants/<id:participant_id>", methods=["DELETE"])
@blp.response(204)
@_alt(404, 403)
def remove_participant(case_id: int, participant_id: int):
    case = _case(case_id)
    svc.remove_participant(current_actor(), case,
                           svc.get_part(CaseParticipant, participant_id, case))


@blp.route("/<id:case_id>/contacts", methods=["POST"])
@blp.arguments(ContactLinkSchema)
@blp.response(201, ContactLinkSchema)
@_alt(404, 422, 403)
def link_contact(args, case_id: int):
    """Link a contact you may see to the analysis ("what we heard")."""
    contact = svc.link_contact(current_actor(), _case(case_id), args["contact_id"])
    return {"contact_id": contact.id}


@blp.route("/<id:case_id>/contacts/<id:contact_id>", methods=["DELETE"])
@blp.response(204)
@_alt(404, 422, 403)
def unlink_contact(case_id: int, contact_id: int):
    svc.unlink_contact(current_actor(), _case(case_id), contact_id)


@blp.route("/<id:case_id>/ideas", methods=["POST"])
@blp.arguments(IdeaSchema)
@blp.response(201, IdeaSchema)
@_alt(404, 422, 403)
def add_idea(args, case_id: int):
    """Record an idea from the community, credited to a stakeholder or a group."""
    return _idea_out(svc.add_idea(current_actor(), _case(case_id), **args))


@blp.route("/<id:case_id>/ideas/<id:idea_id>", methods=["PATCH"])
@blp.arguments(IdeaUpdateSchema)
@blp.response(200, IdeaSchema)
@_alt(404, 409, 422, 403)
def update_idea(args, case_id: int, idea_id: int):
    """Adopt or decline (with a reason) an idea, or record when the proposer was told."""
    case = _case(case_id)
    idea = svc.get_part(CaseIdea, idea_id, case)
    version = args.pop("version_id")
    return _idea_out(svc.update_idea(current_actor(), idea, version_id=version, **args))


@blp.route("/<id:case_id>/actions", methods=["POST"])
@blp.arguments(ActionSchema)
@blp.response(201, ActionSchema)
@_alt(404, 422, 403)
def add_action(args, case_id: int):
    """An action owned by an officer, a stakeholder, a group or a partner agency."""
    return _action_out(svc.add_action(current_actor(), _case(case_id), **args))


@blp.route("/<id:case_id>/actions/<id:action_id>", methods=["PATCH"])
@blp.arguments(ActionUpdateSchema)
@blp.response(200, ActionSchema)
@_alt(404, 409, 422, 403)
def update_action(args, case_id: int, action_id: int):
    case = _case(case_id)
    action = svc.get_part(CaseAction, action_id, case)
    version = args.pop("version_id")
    return _action_out(svc.update_action(current_actor(), action, args, version_id=version))


@blp.route("/<id:case_id>/measures", methods=["POST"])
@blp.arguments(MeasureSchema)
@blp.response(201, MeasureSchema)
@_alt(404, 422, 403)
def add_measure(args, case_id: int):
    return svc.add_measure(current_actor(), _case(case_id), **args)


@blp.route("/<id:case_id>/measures/<id:measure_id>/values", methods=["POST"])
@blp.arguments(MeasureValueSchema)
@blp.response(201, MeasureValueSchema)
@_alt(404, 422, 403)
def add_measure_value(args, case_id: int, measure_id: int):
    case = _case(case_id)
    return svc.add_measure_value(current_actor(), svc.get_part(CaseMeasure, measure_id, case),
                                 **args)
