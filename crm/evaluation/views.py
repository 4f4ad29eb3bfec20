"""Evaluation pages: training roster, trials (design, allocation, analysis), surveys, and the
public survey link (anonymous, rate-limited)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms import SelectChoice

from crm.access import roles_required
from crm.errors import ValidationError
from crm.evaluation import services as svc
from crm.evaluation.charts import means_chart
from crm.evaluation.forms import (
    CampaignForm,
    CompletionForm,
    CrossoverForm,
    TrainingImportForm,
    TrialForm,
    answer_form,
)
from crm.evaluation.jobs import stored_panels, stored_report
from crm.evaluation.models import Trial
from crm.extensions import db, limiter
from crm.models import Beat
from crm.web.forms import apply_errors, client_ip, current_actor

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")
public_bp = Blueprint("survey_public", __name__, url_prefix="/s")


@bp.route("/training", methods=["GET", "POST"])
@roles_required(*svc.TRAINING_VIEW_ROLES)
def training():
    me = current_actor()
    form, upload = CompletionForm(prefix="one"), TrainingImportForm(prefix="csv")
    form.module.choices = [SelectChoice(m, m.replace("_", " ")) for m in svc.training_modules()]
    status, import_errors = 200, []
    if request.method == "POST":
        if me.role not in svc.TRAINING_EDIT_ROLES:
            return render_template("error.html", code=403, message="Only the unit or an admin enters training."), 403
        try:
            if upload.file.data and upload.validate_on_submit():
                n = svc.import_training_csv(me, upload.file.data.read().decode("utf-8", "replace"))
                flash(f"Imported {n} training record(s).", "success")
                return redirect(url_for("evaluation.training"), 303)
            if form.validate_on_submit():
                svc.record_completion(me, officer=form.officer.data, module=form.module.data,
                                      completed_on=form.completed_on.data, trainer=form.trainer.data)
                flash("Training recorded.", "success")
                return redirect(url_for("evaluation.training"), 303)
            status = 422
        except ValidationError as e:
            import_errors = apply_errors(form, e) if not upload.file.data else \
                [f"{k}: {', '.join(v)}" for k, v in e.errors.items()]
            status = 422
    return render_template("evaluation/training.html", rows=svc.roster(me), modules=svc.training_modules(),
                           form=form, upload=upload, import_errors=import_errors,
                           can_edit=me.role in svc.TRAINING_EDIT_ROLES), status


@bp.route("/training/mine")
@roles_required("officer", "unit", "supervisor")
def my_training():
    """An officer's own modules and Proactive Guardian status."""
    me = current_actor()
    done = svc.completions_of(me.id)
    return render_template("evaluation/my_training.html", modules=svc.training_modules(), done=done,
                           guardian=all(m in done for m in svc.training_modules()))


@bp.route("/trials", methods=["GET", "POST"])
@roles_required(*svc.TRIAL_VIEW_ROLES)
def trials():
    me = current_actor()
    form = TrialForm()
    status = 200
    if request.method == "POST":
        if me.role not in svc.TRIAL_EDIT_ROLES:
            return render_template("error.html", code=403, message="Your role may not design trials."), 403
        if form.validate_on_submit():
            try:
                t = svc.create_trial(
                    me, name=form.name.data, unit=form.unit.data, strata=form.strata.data,
                    baseline=(form.baseline_start.data, form.baseline_end.data),
                    follow_up=(form.follow_up_start.data, form.follow_up_end.data),
                    outcomes=form.outcomes.data, seed=form.seed.data,
                    eligible=[e for e in (form.eligible.data or "").split(",") if e.strip()] or None,
                    arms_visible_to_supervisors=form.arms_visible_to_supervisors.data)
            except ValidationError as e:
                apply_errors(form, e)
            else:
                flash("Trial designed. Check it, then allocate.", "success")
                return redirect(url_for("evaluation.trial", trial_id=t.id), 303)
        status = 422
    rows = db.session.scalars(sa.select(Trial).order_by(Trial.created_at.desc(), Trial.id.desc())).all()
    return render_template("evaluation/trials.html", trials=rows, form=form,
                           can_edit=me.role in svc.TRIAL_EDIT_ROLES), status


@bp.route("/trials/<id:trial_id>", methods=["GET", "POST"])
@roles_required(*svc.TRIAL_VIEW_ROLES)
def trial(trial_id: int):
    """The design, the allocation, crossovers (recorded here) and the analysis."""
    me = current_actor()
    t = svc.get_trial(trial_id)
    form = CrossoverForm()
    status = 200
    if request.method == "POST":
        if me.role not in svc.TRIAL_EDIT_ROLES:
            return render_template("error.html", code=403, message="Your role may not record crossovers."), 403
        if form.validate_on_submit():
            try:
                svc.record_crossover(me, t, unit_key=form.unit_key.data.strip(), kind=form.kind.data,
                                     occurred_on=form.occurred_on.data)
            except ValidationError as e:
                apply_errors(form, e)
            else:
                flash("Crossover recorded.", "success")
                return redirect(url_for("evaluation.trial", trial_id=t.id), 303)
        status = 422
    report = stored_report(me, t)  # never computes here: the analysis runs as a background job
    analyses = [{**a, "chart": means_chart(a["means"])} for a in report["analyses"]]
    return render_template("evaluation/trial.html", t=t, doc=svc.show_trial(me, t),
                           analyses=analyses, balance=report["balance"], strata=report["strata"],
                           pending=report["pending"], analysis_status=report["status"],
                           computed_at=report["computed_at"], form=form,
                           can_edit=me.role in svc.TRIAL_EDIT_ROLES), status


@bp.route("/trials/<id:trial_id>/allocate", methods=["POST"])
@roles_required(*svc.TRIAL_EDIT_ROLES)
def allocate(trial_id: int):
    t = svc.allocate_trial(current_actor(), svc.get_trial(trial_id), ip=client_ip())
    flash(f"Allocated {len(t.units)} units; the design is frozen.", "success")
    return redirect(url_for("evaluation.trial", trial_id=t.id), 303)


@bp.route("/trials/<id:trial_id>/panel.csv")
@roles_required(*svc.TRIAL_VIEW_ROLES)
def panel(trial_id: int):
    """The pseudonymised panel, one row per unit and period (every pre-registered outcome as a
    column, or only `?outcome=`), as CSV."""
    return _panel(trial_id, "csv")


@bp.route("/trials/<id:trial_id>/panel.parquet")
@roles_required(*svc.TRIAL_VIEW_ROLES)
def panel_parquet(trial_id: int):
    """The same panel as Parquet (typed columns, the design hash in the file's metadata)."""
    return _panel(trial_id, "parquet")


def _panel(trial_id: int, fmt: str) -> Response:
    """From the stored analysis; while it is being computed, back to the trial page, which
    reloads itself until it is done."""
    me, t = current_actor(), svc.get_trial(trial_id)
    outcome = request.args.get("outcome") or None
    panels = stored_panels(me, t, outcome)
    if panels is None:
        flash("The panel is being computed in the background; download it again in a few seconds.", "info")
        return redirect(url_for("evaluation.trial", trial_id=t.id), 303)
    body = svc.export_panel(me, t, outcome, ip=client_ip(), fmt=fmt, panels=panels)
    return panel_response(t, outcome, fmt, body)


def panel_response(t: Trial, outcome: str | None, fmt: str, body) -> Response:
    name = f"trial-{t.id}-panel{'-' + outcome if outcome else ''}.{fmt}"
    return Response(body, mimetype="text/csv" if fmt == "csv" else "application/vnd.apache.parquet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/surveys", methods=["GET", "POST"])
@roles_required(*svc.SURVEY_VIEW_ROLES)
def surveys():
    me = current_actor()
    form = CampaignForm()
    status = 200
    if request.method == "POST":
        if me.role not in svc.SURVEY_EDIT_ROLES:
            return render_template("error.html", code=403, message="Your role may not run surveys."), 403
        if form.validate_on_submit():
            beat_id = None
            if form.beat_code.data:
                beat_id = db.session.scalar(sa.select(Beat.id).where(Beat.code == form.beat_code.data.strip())) or 0
            try:
                c = svc.create_campaign(me, name=form.name.data, group_id=form.group_id.data, beat_id=beat_id,
                                        opens_on=form.opens_on.data, closes_on=form.closes_on.data)
            except ValidationError as e:
                apply_errors(form, e)
            else:
                flash("Survey campaign created.", "success")
                return redirect(url_for("evaluation.survey", campaign_id=c.id), 303)
        status = 422
    rows = db.session.scalars(svc.campaigns_for(me).limit(200)).all()
    return render_template("evaluation/surveys.html", campaigns=rows, form=form,
                           can_edit=me.role in svc.SURVEY_EDIT_ROLES), status


@bp.route("/surveys/<id:campaign_id>", methods=["GET", "POST"])
@roles_required(*svc.SURVEY_VIEW_ROLES)
def survey(campaign_id: int):
    me = current_actor()
    c = svc.get_campaign(me, campaign_id)
    can_edit = me.role in svc.SURVEY_EDIT_ROLES
    form = answer_form(c.items)
    status = 200
    if request.method == "POST":
        if not can_edit:
            return render_template("error.html", code=403, message="Your role may not enter answers."), 403
        if form.validate_on_submit():
            try:
                svc.submit_response(me, c, _answers(form, c), source="paper")
            except ValidationError as e:
                apply_errors(form, {f"q_{k}" if k != "answers" and k != "survey" else k: v
                                    for k, v in e.errors.items()})
            else:
                flash("Paper answer sheet entered.", "success")
                return redirect(url_for("evaluation.survey", campaign_id=c.id), 303)
        status = 422
    return render_template("evaluation/survey.html", c=c, results=svc.campaign_results(c), form=form,
                           can_edit=can_edit, k=svc.K_MIN), status


def _answers(form, campaign) -> dict:
    return {i["key"]: getattr(form, f"q_{i['key']}").data for i in campaign.items
            if getattr(form, f"q_{i['key']}").data}


def _survey_rate_limit() -> str:
    return current_app.config.get("SURVEY_RATE_LIMIT", "20 per minute")


@public_bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(_survey_rate_limit, methods=["POST"])
def answer(token: str):
    """The public link: no sign-in, no personal data asked or stored, closes on its date."""
    c = svc.campaign_by_token(token)
    form = answer_form(c.items)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                svc.submit_response(None, c, _answers(form, c), source="link")
            except ValidationError as e:
                apply_errors(form, {f"q_{k}" if k not in ("answers", "survey") else k: v
                                    for k, v in e.errors.items()})
            else:
                return render_template("evaluation/thanks.html", c=c)
        return render_template("evaluation/public.html", c=c, form=form), 422
    return render_template("evaluation/public.html", c=c, form=form)


@bp.app_template_global("trust_trends")
def trust_trends(scope=None, group=None, campaign=None) -> list[dict]:
    """For `templates/_trust_trend.html`: a group's trend (the group page, which has checked
    that the viewer sees the group), the trend of a survey's group or beat (its page, which has
    checked the survey), or the trends of the coverage page's beats and their groups."""
    if campaign is not None:
        return (svc.trust_series(group_ids=[campaign.group_id]) if campaign.group_id
                else svc.trust_series(beat_ids=[campaign.beat_id], beats_only=True))
    if group is not None:
        return svc.trust_series(group_ids=[group.id])
    if scope is not None:
        beat_ids = scope.beat_ids if scope.beat_ids is not None else [b.id for b in scope.map_beats]
        return svc.trust_series(beat_ids=beat_ids)
    return []

