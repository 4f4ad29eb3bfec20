"""Privacy pages: retention review queue, keep or erase, subject access export, consent.

Views parse and check input, call crm.privacy.services and redirect; the request is the
commit boundary (crm.web). Records are fetched through crm.access, so an id out of the
user's scope is a 404.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from crm.access import get_visible_or_404, roles_required, stakeholder_scope
from crm.audit.services import record_event
from crm.errors import ConflictError, ValidationError
from crm.models import Stakeholder
from crm.privacy import services
from crm.privacy.forms import ConsentForm, EraseForm, KeepForm
from crm.vocab import STAFF_ROLES
from crm.web.forms import apply_errors, client_ip, current_actor, version_of, versioned_edit

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

REVIEW_ROLES = ("supervisor", "admin")      # the retention queue, keep, erase, export
CONSENT_ROLES = STAFF_ROLES


def _errors(form, exc: ValidationError | None = None) -> dict[str, list[str]]:
    """The form's messages for `privacy/_errors.html`, labelled short: {"reason": ["Why keep it: …"]}.

    A service error is first put on its fields (crm.web.forms.apply_errors).
    """
    if exc is not None:
        apply_errors(form, exc)
    out: dict[str, list[str]] = {}
    for name, field in form._fields.items():
        title = field.label.text.split(" (")[0]  # "Review again on (default …)" -> "Review again on"
        if field.errors:
            out[name] = [f"{title}: {m}" for m in field.errors]
    if form.form_errors:
        out["form"] = list(form.form_errors)
    return out


# ---- retention review -----------------------------------------------------------------------

def _review_page(failed: dict | None = None, status: int = 200):
    me = current_actor()
    services.refresh_review_dates(me)
    rows = services.review_queue(stakeholder_scope(me))
    if rows:
        record_event(me, "stakeholder.review_queue_view", object_type="stakeholders",
                     ip=client_ip(), detail={"stakeholder_ids": [r.stakeholder.id for r in rows]})
    return render_template("privacy/review.html", rows=rows, failed=failed or {},
                           keep_form=KeepForm(formdata=None), erase_form=EraseForm(formdata=None),
                           ), status


@bp.route("/review")
@roles_required(*REVIEW_ROLES)
def review():
    return _review_page()


@bp.route("/stakeholders/<id:stakeholder_id>/keep", methods=["POST"])
@roles_required(*REVIEW_ROLES)
def keep(stakeholder_id: int):
    me = current_actor()
    s = get_visible_or_404(Stakeholder, stakeholder_id, me)
    form = KeepForm()
    if form.validate_on_submit():
        try:
            services.keep_stakeholder(me, s, form.reason.data, until=form.until.data,
                                      version_id=version_of(form), ip=client_ip())
        except ValidationError as e:
            return _review_page({s.id: ("keep", form, _errors(form, e))}, 422)
        except ConflictError as e:
            form.version_id.data = str(s.version_id)  # a resubmit now means "keep anyway"
            return _review_page({s.id: ("keep", form, {"version_id": [str(e)]})}, 409)
        flash(f"Kept record #{s.id}; next review on {s.review_on.isoformat()}.", "info")
        return redirect(url_for("privacy.review"), 303)
    return _review_page({s.id: ("keep", form, _errors(form))}, 422)


@bp.route("/stakeholders/<id:stakeholder_id>/erase", methods=["GET", "POST"])
@roles_required(*REVIEW_ROLES)
def erase(stakeholder_id: int):
    me = current_actor()
    s = get_visible_or_404(Stakeholder, stakeholder_id, me)
    from_review = request.form.get("back") == "review"
    form = EraseForm()
    if request.method == "GET":
        if s.erased_at is not None:
            abort(404)
        form.version_id.data = str(s.version_id)
        record_event(me, "stakeholder.read", s, ip=client_ip())
        return render_template("privacy/erase.html", s=s, form=form, errors={})

    def again(errors, status):
        if from_review:
            return _review_page({s.id: ("erase", form, errors)}, status)
        return render_template("privacy/erase.html", s=s, form=form, errors=errors), status

    if not form.validate_on_submit():
        return again(_errors(form), 422)
    try:
        services.erase_stakeholder(me, s, form.reason.data, version_id=version_of(form),
                                   ip=client_ip())
    except ValidationError as e:
        return again(_errors(form, e), 422)
    except ConflictError as e:
        form.version_id.data = str(s.version_id)
        return again({"version_id": [str(e)]}, 409)
    flash(f"Record #{s.id} erased. Contacts and cases keep an anonymous placeholder.", "info")
    return redirect(url_for("privacy.review"), 303)


# ---- subject access export ------------------------------------------------------------------

@bp.route("/stakeholders/<id:stakeholder_id>/export.json")
@roles_required(*REVIEW_ROLES)
def export_json(stakeholder_id: int):
    s = get_visible_or_404(Stakeholder, stakeholder_id, current_actor())
    data = services.export_subject_access(current_actor(), s, fmt="json", ip=client_ip())
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="subject-access-{s.id}.json"',
                             "Cache-Control": "no-store"})


@bp.route("/stakeholders/<id:stakeholder_id>/export.html")
@roles_required(*REVIEW_ROLES)
def export_html(stakeholder_id: int):
    s = get_visible_or_404(Stakeholder, stakeholder_id, current_actor())
    data = services.export_subject_access(current_actor(), s, fmt="html", ip=client_ip())
    resp = Response(render_template("privacy/export.html", d=data))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- consent --------------------------------------------------------------------------------

CONSENT_LABELS = {"status": "Consent", "consent_on": "Date", "method": "How",
                  "purpose": "Purpose", "category": "Category"}


def _consent_snapshot(s: Stakeholder) -> dict:
    return {"status": s.consent_status, "consent_on": s.consent_on, "method": s.consent_method,
            "purpose": s.consent_purpose, "category": s.data_subject_category}


@bp.route("/stakeholders/<id:stakeholder_id>/consent", methods=["GET", "POST"])
@roles_required(*CONSENT_ROLES)
def consent(stakeholder_id: int):
    me = current_actor()

    def load() -> Stakeholder:
        s = get_visible_or_404(Stakeholder, stakeholder_id, me)
        if s.erased_at is not None:
            abort(404)
        return s

    def fill(form, s):
        form.process(data=_consent_snapshot(s))
        record_event(me, "stakeholder.read", s, ip=client_ip())

    def save(s, values, version):
        services.record_consent(me, s, **values, version_id=version, ip=client_ip())

    def render(s, form, conflict):
        return render_template("privacy/consent.html", s=s, form=form, conflict=conflict,
                               errors=_errors(form))

    def done(s):
        flash("Consent recorded.", "info")
        return redirect(url_for("privacy.consent", stakeholder_id=s.id), 303)

    return versioned_edit(
        ConsentForm(), load(), fill=fill,
        typed=lambda form: {k: form[k].data for k in CONSENT_LABELS}, save=save, reload=load,
        snapshot=_consent_snapshot, labels=CONSENT_LABELS, render=render, done=done)
