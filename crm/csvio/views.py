"""CSV import and export pages (units and admins).

Views commit nothing: the request is the commit boundary (crm.web), and a failed import is
answered with 422, so everything it touched is rolled back.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from crm.csvio.forms import ImportForm
from crm.csvio.services import COLUMNS, KINDS, export_csv, import_csv
from crm.access import roles_required

bp = Blueprint("csvio", __name__, url_prefix="/data")

ALLOWED_ROLES = ("unit", "admin")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*ALLOWED_ROLES)
def import_page():
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        report = import_csv(current_user._get_current_object(), form.kind.data,
                            form.file.data.read(), dry_run=form.dry_run.data,
                            ip=request.remote_addr or "")
        if report.errors:
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template("csvio/import.html", form=form, report=report, kinds=KINDS,
                           columns=COLUMNS), status


@bp.route("/export/<kind>")
@roles_required(*ALLOWED_ROLES)
def export(kind: str):
    if kind not in KINDS:
        abort(404)
    text = export_csv(current_user._get_current_object(), kind, ip=request.remote_addr or "")
    filename = f"{kind}-{date.today().isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",  # may hold personal data
    })
