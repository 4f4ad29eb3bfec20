"""A large CSV import through the background job path (what the import page does).

    ROWS=200000 KIND=stakeholders .venv/bin/python -m bench.csv_import
    ROWS=200000 KIND=contacts DB=postgresql+psycopg://... .venv/bin/python -m bench.csv_import

Writes a synthetic file, queues it (`crm.csvio.jobs.queue_import`), runs `run_import`, and
prints the time, the job's summary, the audit events written and the peak RSS. The database
is emptied first (a fresh SQLite file by default).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time

import sqlalchemy as sa

from config import TestingConfig
from crm import create_app
from crm.extensions import db


def write_file(path: str, kind: str, rows: int) -> None:
    with open(path, "w") as f:
        if kind == "stakeholders":
            f.write("external_id,name,phone,email,language,consent\n")
            for i in range(rows):
                f.write(f"S{i},Person {i},555-{i:07d},p{i}@example.org,en,given\n")
        else:
            f.write("occurred_at,officer,stakeholders,groups,initiated_by,channel,note\n")
            for i in range(rows):
                f.write(f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:"
                        f"{i % 59:02d},ada,,Ours,proactive,visit,walk {i}\n")


def main() -> None:
    rows = int(os.environ.get("ROWS", "200000"))
    kind = os.environ.get("KIND", "stakeholders")

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DB", f"sqlite:///{tempfile.mkdtemp()}/bench.db")

    app = create_app(Config)
    with app.app_context():
        from crm.csvio import jobs
        from crm.csvio.models import ImportJob
        from crm.models import AuditEvent, CommunityGroup, User

        db.drop_all()
        db.create_all()
        admin = User(username="ada", display_name="Ada", role="admin",
                     password_hash="!")  # noqa: S106 - nobody signs in to the bench
        db.session.add_all([admin, CommunityGroup(name="Ours")])
        db.session.commit()
        fd, path = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        write_file(path, kind, rows)
        size = os.path.getsize(path)
        start = time.perf_counter()
        with open(path, "rb") as stream:
            job = jobs.queue_import(admin, kind, stream, dry_run=False)
        db.session.commit()
        job_id = job.id
        jobs.run_import(job_id)
        took = time.perf_counter() - start
        job = db.session.get(ImportJob, job_id)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        print(f"{kind}: {rows} rows, {size / 1e6:.1f} MB file, {took:.0f} s, {job.status}: "
              f"{job.summary} {events} audit events; peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        os.remove(path)


if __name__ == "__main__":
    main()
