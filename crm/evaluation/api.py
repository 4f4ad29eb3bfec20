"""Trials API: design, allocation and the difference-in-differences analysis."""

import sqlalchemy as sa
from flask import jsonify

from crm.access import require_role
from crm.api.common import Blueprint
from crm.evaluation import services as svc
from crm.evaluation.jobs import stored_analysis, stored_panels
from crm.evaluation.models import Trial
from crm.evaluation.schemas import (
    AnalysisQuerySchema,
    AnalysisSchema,
    CrossoverSchema,
    PanelQuerySchema,
    TrialCreateSchema,
    TrialSchema,
    TrialShowSchema,
)
from crm.extensions import db
from crm.network.schemas import ComputingSchema
from crm.web.forms import client_ip, current_actor

blp = Blueprint("trials_api", __name__, url_prefix="/api/v1/trials",
                description="Randomized trials of the training: allocation and analysis")
RETRY_AFTER = 5  # seconds; one outcome of the large demo takes a few


@blp.route("/")
@blp.response(200, TrialSchema(many=True))
@blp.alt_response(403, description="Officers have no trials")
def list_trials():
    """Every trial, newest first."""
    require_role(*svc.TRIAL_VIEW_ROLES)
    return db.session.scalars(sa.select(Trial).order_by(Trial.id.desc())).all()


@blp.route("/<id:trial_id>")
@blp.response(200, TrialShowSchema)
@blp.alt_response(404, description="No such trial")
def show_trial(trial_id: int):
    """The design hash and the allocation (pseudonyms for analysts, arms hidden from
    supervisors unless the trial shows them)."""
    require_role(*svc.TRIAL_VIEW_ROLES)
    return svc.show_trial(current_actor(), svc.get_trial(trial_id))


@blp.route("/<id:trial_id>/allocate", methods=["POST"])
@blp.response(200, TrialShowSchema)
@blp.alt_response(422, description="Already allocated")
def allocate_trial(trial_id: int):
    """Allocate once; the design is frozen by its SHA-256."""
    require_role(*svc.TRIAL_EDIT_ROLES)
    me = current_actor()
    t = svc.allocate_trial(me, svc.get_trial(trial_id), ip=client_ip())
    return svc.show_trial(me, t)


@blp.route("/<id:trial_id>/analysis")
@blp.arguments(AnalysisQuerySchema, location="query")
@blp.response(200, AnalysisSchema)
@blp.alt_response(202, schema=ComputingSchema, description="Not computed yet: ask again shortly")
@blp.alt_response(422, description="Unknown outcome, or the trial is not allocated")
def analyse(args, trial_id: int):
    """Difference in differences (baseline vs follow-up) with its 95 % interval: the newest
    stored result at once, with a `computed` block saying when; it is worked out by a
    background job, and until the first one is done the answer is 202."""
    require_role(*svc.TRIAL_VIEW_ROLES)
    doc, res = stored_analysis(current_actor(), svc.get_trial(trial_id), args["outcome"])
    if doc is None:
        return _computing(res.meta())
    return {**doc, "computed": res.meta()}


def _computing(meta: dict | None):
    r = jsonify({"status": "computing", "message": "computing in the background; ask again shortly",
                 **({"computed": meta} if meta else {})})
    r.status_code, r.headers["Retry-After"] = 202, str(RETRY_AFTER)
    return r


@blp.route("/<id:trial_id>/panel")
@blp.arguments(PanelQuerySchema, location="query")
@blp.response(200, content_type="text/csv", description=(
    "The pseudonymised panel: one row per unit and period with arm, stratum, period dates, "
    "contacts and one column per outcome; text/csv, or application/vnd.apache.parquet with "
    "?format=parquet"))
@blp.alt_response(202, schema=ComputingSchema, description="Not computed yet: ask again shortly")
@blp.alt_response(422, description="Unknown outcome or format, or the trial is not allocated")
def panel(args, trial_id: int):
    """Download the pseudonymised panel (CSV or Parquet) for R or pandas, from the stored
    analysis (202 while it is first computed)."""
    from crm.evaluation.views import panel_response
    require_role(*svc.TRIAL_VIEW_ROLES)
    me, t = current_actor(), svc.get_trial(trial_id)
    outcome = args.get("outcome")
    panels = stored_panels(me, t, outcome)
    if panels is None:
        return _computing(None)
    body = svc.export_panel(me, t, outcome, ip=client_ip(), fmt=args["format"], panels=panels)
    return panel_response(t, outcome, args["format"], body)


@blp.route("/", methods=["POST"])
@blp.arguments(TrialCreateSchema)
@blp.response(201, TrialSchema)
@blp.alt_response(422, description="Invalid design (the field is named)")
def create_trial(data):
    """Design a trial (unit and admin roles)."""
    require_role(*svc.TRIAL_EDIT_ROLES)
    baseline = (data.pop("baseline_start"), data.pop("baseline_end"))
    follow_up = (data.pop("follow_up_start"), data.pop("follow_up_end"))
    return svc.create_trial(current_actor(), baseline=baseline, follow_up=follow_up, **data)


@blp.route("/<id:trial_id>/crossovers", methods=["POST"])
@blp.arguments(CrossoverSchema)
@blp.response(201, CrossoverSchema)
@blp.alt_response(422, description="Not allocated, or not a unit of the trial")
def record_crossover(data, trial_id: int):
    """Record a deviation from the allocation (a control officer trained anyway, a move)."""
    require_role(*svc.TRIAL_EDIT_ROLES)
    return svc.record_crossover(current_actor(), svc.get_trial(trial_id), **data)
