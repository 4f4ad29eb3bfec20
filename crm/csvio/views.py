"""CSV import and export pages (units and admins).

Views commit nothing themselves: the request is the commit boundary (crm.web), and a failed
import is answered with 422, so everything it touched is rolled back. A file larger than
`CSV_BACKGROUND_BYTES` is saved and imported in the background (`crm.csvio.jobs`); the job
page shows its progress and, at the end, the same report.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for

from crm.access import roles_required
from crm.csvio import jobs
from crm.csvio.forms import ImportForm
from crm.csvio.models import ImportJob
from crm.csvio.services import COLUMNS, KINDS, OPTIONAL_COLUMNS, export_csv, import_csv
from crm.extensions import db
from crm.timezones import local_today
from crm.web.forms import client_ip, current_actor

bp = Blueprint("csvio", __name__, url_prefix="/data")

ALLOWED_ROLES = ("unit", "admin")
BACKGROUND_BYTES = 1024 * 1024  # larger uploads are imported in the background


def _size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _page(form, report=None, status=200):
    return render_template("csvio/import.html", form=form, report=report, kinds=KINDS,
                           columns=COLUMNS, optional=OPTIONAL_COLUMNS), status


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*ALLOWED_ROLES)
def import_page():
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422 if form.is_submitted() else 200)
    stream = form.file.data.stream  # werkzeug spools large uploads to disk
    limit = current_app.config.get("CSV_BACKGROUND_BYTES", BACKGROUND_BYTES)
    if _size(stream) > limit:
        job = jobs.queue_import(current_actor(), form.kind.data, stream,
                                dry_run=form.dry_run.data, ip=client_ip())
        db.session.commit()  # the job must exist before its thread looks it up
        jobs.launch(job.id)
        return redirect(url_for("csvio.import_job", job_id=job.id), 303)
    report = import_csv(current_actor(), form.kind.data, stream, dry_run=form.dry_run.data,
                        ip=client_ip())
    return _page(form, report, 422 if report.errors else 200)


@bp.route("/import/jobs/<id:job_id>")
@roles_required(*ALLOWED_ROLES)
def import_job(job_id: int):
    job = db.session.get(ImportJob, job_id)
    if job is None or job.user_id != current_actor().id:
        abort(404)
    return render_template("csvio/job.html", job=job)


@bp.route("/export/<kind>")
@roles_required(*ALLOWED_ROLES)
def export(kind: str):
    if kind not in KINDS:
        abort(404)
    text = export_csv(current_actor(), kind, ip=client_ip())
    filename = f"{kind}-{local_today().isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",  # may hold personal data
    })
