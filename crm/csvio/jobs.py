"""Large CSV uploads imported in the background, with progress the page can show.

The upload is copied to a private file (`IMPORT_DIR`, mode 0600) in bounded memory, an
`ImportJob` row records it, and `run_import(job_id)` does the work: a plain callable, run
today on a thread (`launch`), movable onto a task queue unchanged. It checks every row, then
writes in short committed chunks (`crm.csvio.services.import_csv` with `commit`), keeping
the job's counters up to date, and always ends the job as "done" or "failed" with the
report; the file is deleted then.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid

from flask import current_app

from crm.csvio.models import ImportJob
from crm.csvio.read import MAX_ERRORS
from crm.db import utcnow
from crm.extensions import db

log = logging.getLogger(__name__)
COPY_BUFFER = 1024 * 1024


def import_dir() -> str:
    path = current_app.config.get("IMPORT_DIR") or os.path.join(current_app.instance_path,
                                                                 "imports")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def queue_import(actor, kind: str, stream, *, dry_run: bool, ip: str = "") -> ImportJob:
    """Save the uploaded `stream` and record a queued job (flushed; the caller commits)."""
    path = os.path.join(import_dir(), f"{uuid.uuid4().hex}.csv")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        stream.seek(0)
        shutil.copyfileobj(stream, out, COPY_BUFFER)
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    job = ImportJob(user_id=actor.id if actor else None, kind=kind, dry_run=dry_run, path=path,
                    ip=ip, rows_total=max(lines - 1, 0))
    db.session.add(job)
    db.session.flush()
    return job


def run_import(job_id: int) -> None:
    """Run one queued import to its end (needs an app context; commits as it goes)."""
    from crm.csvio.services import import_csv
    from crm.models import User

    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "queued":
        return
    actor = db.session.get(User, job.user_id) if job.user_id else None
    checked = 0

    def progress(n: int) -> None:
        nonlocal checked
        checked += n

    def commit() -> None:
        job.rows_checked = checked
        db.session.commit()

    def on_written(rows: int) -> None:
        job.status, job.rows_written = "writing", rows

    job.status = "checking"
    db.session.commit()
    try:
        with open(job.path, "rb") as f:
            report = import_csv(actor, job.kind, f, dry_run=job.dry_run, ip=job.ip,
                                progress=progress, commit=commit, on_written=on_written)
        if report.errors and not report.committed_rows:
            db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status = "failed" if report.errors else "done"
        job.rows_checked = checked
        job.committed_rows = report.committed_rows
        job.summary = report.summary()
        job.errors = [[e.line, e.column, e.reason] for e in report.errors[:MAX_ERRORS]]
    except Exception:  # noqa: BLE001 - the job must end, and say so
        log.exception("CSV import job %s failed", job_id)
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status = "failed"
        job.summary = (f"{job.kind}: the import stopped on an unexpected error after "
                       f"{job.rows_written} rows were saved. Import the same file again to "
                       "finish: rows already saved are left unchanged.")
    job.finished_at = utcnow()
    db.session.commit()
    _remove(job.path)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def launch(job_id: int) -> None:
    """Run the job on a thread of its own, with its own app context and session."""
    app = current_app._get_current_object()
    if app.config.get("IMPORT_JOBS_INLINE"):
        run_import(job_id)
        return

    def work():
        with app.app_context():
            try:
                run_import(job_id)
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"csv-import-{job_id}", daemon=True).start()
