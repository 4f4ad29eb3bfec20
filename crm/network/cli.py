"""`flask crm analytics NAME --json`: prints the same document as GET /api/v1/analytics/NAME."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa

from crm.network.services import NAMES, compute


def register(group) -> None:
    register_worker(group)

    @group.command("analytics")
    @click.argument("name", type=click.Choice(NAMES))
    @click.option("--json", "as_json", is_flag=True, help="Print the JSON document.")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="End of the window.")
    @click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
    @click.option("--group", "group_id", type=int, help="Target group id (introductions).")
    @click.option("--officer", "officer_id", type=int, help="Officer id (introductions).")
    @click.option("--beat", "beats", multiple=True, help="Beat code to restrict to (repeatable).")
    @click.option("--district", help="District code to restrict to.")
    @click.option("--limit", type=click.IntRange(1, 100000))
    def analytics_cmd(name, as_json, as_of, days, group_id, officer_id, beats, district, limit):
        """Run analytic NAME over the current data."""
        from crm.extensions import db
        from crm.models import Beat, District

        beat_ids = None
        if beats or district:
            q = sa.select(Beat.id)
            if beats:
                q = q.where(Beat.code.in_(beats))
            if district:
                q = q.join(District).where(District.code == district)
            beat_ids = sorted(db.session.scalars(q))
        try:
            doc = compute(name, as_of=as_of.date() if as_of else None, days=days,
                          beat_ids=beat_ids, group_id=group_id, officer_id=officer_id,
                          limit=limit)
        except (ValueError, LookupError) as e:
            raise click.ClickException(str(e)) from e
        if as_json:
            click.echo(json.dumps(doc, indent=2, sort_keys=True))
            return
        for key, value in doc.items():
            if isinstance(value, list):
                click.echo(f"{key}: {len(value)}")
                for item in value[:10]:
                    click.echo(f"  {json.dumps(item, sort_keys=True)[:160]}")
            else:
                click.echo(f"{key}: {value}")


def register_worker(group) -> None:
    @group.command("worker")
    @click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
                  help="Worker threads in this process.")
    def worker_cmd(workers):
        """Run background analytics jobs until stopped (Ctrl-C / SIGTERM finishes the current job).

        Start as many as you like, on any machine that reaches the same database and REDIS_URL.
        """
        from flask import current_app

        from crm.network import jobs

        try:
            consumer = jobs.consumer(current_app._get_current_object(), workers)
        except RuntimeError as e:
            raise click.ClickException(str(e)) from e
        click.echo(f"analytics worker: {workers} thread(s) on the "
                   f"{current_app.extensions['crm_queue']['mode']} queue")
        consumer.run()


def register_outcomes(group) -> None:
    @group.command("export-outcomes")
    @click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]))
    def export_outcomes_cmd(date_from, date_to):
        """Pseudonymised monthly outcome measures per officer and group, as CSV on stdout."""
        from flask import current_app

        from crm.extensions import db
        from crm.network.outcomes import export_outcomes

        click.echo(export_outcomes(None, current_app.config["SECRET_KEY"],
                                   date_from=date_from.date() if date_from else None,
                                   date_to=date_to.date() if date_to else None), nl=False)
        db.session.commit()
