"""Privacy pages: retention review queue, keep or erase, subject access export, consent.

Views parse and check input, call crm.privacy.services and redirect; the request is the
commit boundary (crm.web). Records are fetched through crm.access, so an id out of the
user's scope is a 404.
"""

from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from crm.access import get_visible_or_404, stakeholder_scope
from crm.audit.services import record_event
from crm.errors import ConflictError, ValidationError
from crm.models import Stakeholder
from crm.privacy import services
from crm.privacy.forms import ConsentForm, EraseForm, KeepForm
from crm.vocab import label
from crm.access import roles_required

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

REVIEW_ROLES = ("supervisor", "admin")      # the retention queue, keep, erase, export
CONSENT_ROLES = ("officer", "unit", "supervisor", "admin")


def _me():
    return current_user._get_current_object()


def _ip() -> str:
    return request.remote_addr or ""


def _version(form) -> int | None:
    raw = (form.version_id.data or "").strip()
    return int(raw) if raw.isdigit() else None


def _errors(form, service_errors: dict | None = None) -> dict[str, list[str]]:
    """Per-field messages, labelled for the page: {"Reason": ["is required"]}."""
    out: dict[str, list[str]] = {}
    for name, msgs in {**form.errors, **(service_errors or {})}.items():
        field = getattr(form, name, None)
        title = field.label.text if field is not None and name != "version_id" else label(name)
        title = title.split(" (")[0]  # "Review again on (default …)" -> "Review again on"
        out[name] = [f"{title}: {m}" for m in (msgs if isinstance(msgs, list) else [msgs])]
    return out


# ---- retention review -----------------------------------------------------------------------

def _review_page(failed: dict | None = None, status: int = 200):
    me = _me()
    services.refresh_review_dates(me)
    rows = services.review_queue(stakeholder_scope(me))
    if rows:
        record_event(me, "stakeholder.review_queue_view", object_type="stakeholders",
                     ip=_ip(), detail={"stakeholder_ids": [r.stakeholder.id for r in rows]})
    return render_template("privacy/review.html", rows=rows, failed=failed or {},
                           keep_form=KeepForm(formdata=None), erase_form=EraseForm(formdata=None),
                           ), status


@bp.route("/review")
@roles_required(*REVIEW_ROLES)
def review():
    return _review_page()


@bp.route("/stakeholders/<int:stakeholder_id>/keep", methods=["POST"])
@roles_required(*REVIEW_ROLES)
def keep(stakeholder_id: int):
    me = _me()
    s = get_visible_or_404(Stakeholder, stakeholder_id, me)
    form = KeepForm()
    if form.validate_on_submit():
        try:
            services.keep_stakeholder(me, s, form.reason.data, until=form.until.data,
                                      version_id=_version(form), ip=_ip())
        except ValidationError as e:
            return _review_page({s.id: ("keep", form, _errors(form, e.errors))}, 422)
        except ConflictError as e:
            form.version_id.data = str(s.version_id)  # a resubmit now means "keep anyway"
            return _review_page({s.id: ("keep", form, {"version_id": [str(e)]})}, 409)
        flash(f"Kept record #{s.id}; next review on {s.review_on.isoformat()}.", "info")
        return redirect(url_for("privacy.review"), 303)
    return _review_page({s.id: ("keep", form, _errors(form))}, 422)


@bp.route("/stakeholders/<int:stakeholder_id>/erase", methods=["GET", "POST"])
@roles_required(*REVIEW_ROLES)
def erase(stakeholder_id: int):
    me = _me()
    s = get_visible_or_404(Stakeholder, stakeholder_id, me)
    from_review = request.form.get("back") == "review"
    form = EraseForm()
    if request.method == "GET":
        if s.erased_at is not None:
            abort(404)
        form.version_id.data = str(s.version_id)
        record_event(me, "stakeholder.read", s, ip=_ip())
        return render_template("privacy/erase.html", s=s, form=form, errors={})

    def again(errors, status):
        if from_review:
            return _review_page({s.id: ("erase", form, errors)}, status)
        return render_template("privacy/erase.html", s=s, form=form, errors=errors), status

    if not form.validate_on_submit():
        return again(_errors(form), 422)
    try:
        services.erase_stakeholder(me, s, form.reason.data, version_id=_version(form),
                                   ip=_ip())
    except ValidationError as e:
        return again(_errors(form, e.errors), 422)
    except ConflictError as e:
        form.version_id.data = str(s.version_id)
        return again({"version_id": [str(e)]}, 409)
    flash(f"Record #{s.id} erased. Contacts and cases keep an anonymous placeholder.", "info")
    return redirect(url_for("privacy.review"), 303)


# ---- subject access export ------------------------------------------------------------------

@bp.route("/stakeholders/<int:stakeholder_id>/export.json")
@roles_required(*REVIEW_ROLES)
def export_json(stakeholder_id: int):
    s = get_visible_or_404(Stakeholder, stakeholder_id, _me())
    data = services.export_subject_access(_me(), s, fmt="json", ip=_ip())
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="subject-access-{s.id}.json"',
                             "Cache-Control": "no-store"})


@bp.route("/stakeholders/<int:stakeholder_id>/export.html")
@roles_required(*REVIEW_ROLES)
def export_html(stakeholder_id: int):
    s = get_visible_or_404(Stakeholder, stakeholder_id, _me())
    data = services.export_subject_access(_me(), s, fmt="html", ip=_ip())
    resp = Response(render_template("privacy/export.html", d=data))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- consent --------------------------------------------------------------------------------

def _saved_consent(s: Stakeholder) -> dict:
    return {"Consent": label(s.consent_status),
            "Date": s.consent_on.isoformat() if s.consent_on else "—",
            "How": s.consent_method or "—", "Purpose": s.consent_purpose or "—",
            "Category": label(s.data_subject_category), "Version": s.version_id}


@bp.route("/stakeholders/<int:stakeholder_id>/consent", methods=["GET", "POST"])
@roles_required(*CONSENT_ROLES)
def consent(stakeholder_id: int):
    me = _me()
    s = get_visible_or_404(Stakeholder, stakeholder_id, me)
    if s.erased_at is not None:
        abort(404)
    if request.method == "GET":
        form = ConsentForm(data={"status": s.consent_status, "consent_on": s.consent_on,
                                 "method": s.consent_method, "purpose": s.consent_purpose,
                                 "category": s.data_subject_category,
                                 "version_id": str(s.version_id)})
        record_event(me, "stakeholder.read", s, ip=_ip())
        return render_template("privacy/consent.html", s=s, form=form, errors={})
    form = ConsentForm()
    if not form.validate_on_submit():
        return render_template("privacy/consent.html", s=s, form=form,
                               errors=_errors(form)), 422
    try:
        services.record_consent(me, s, status=form.status.data, consent_on=form.consent_on.data,
                                method=form.method.data, purpose=form.purpose.data,
                                category=form.category.data, version_id=_version(form),
                                ip=_ip())
    except ValidationError as e:
        return render_template("privacy/consent.html", s=s, form=form,
                               errors=_errors(form, e.errors)), 422
    except ConflictError as e:
        form.version_id.data = str(s.version_id)
        return render_template("privacy/consent.html", s=s, form=form, conflict=str(e),
                               saved=_saved_consent(s), errors={}), 409
    flash("Consent recorded.", "info")
    return redirect(url_for("privacy.consent", stakeholder_id=s.id), 303)
