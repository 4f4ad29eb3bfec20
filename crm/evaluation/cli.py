"""`flask crm training import FILE` and `flask crm trial create|allocate|show|analyse`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from crm.errors import DomainError
from crm.extensions import db

training_cli = AppGroup("training", help="The training roster.")
trial_cli = AppGroup("trial", help="Randomized trials of the training.")


def _fail(e: DomainError):
    db.session.rollback()
    raise click.ClickException(str(e))


@training_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_cmd(file):
    """Import officer,module,completed_on[,trainer] rows from FILE (all or nothing)."""
    from crm.evaluation.services import import_training_csv
    try:
        n = import_training_csv(None, file.read())
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"imported {n} training record(s)")


@trial_cli.command("create")
@click.argument("name")
@click.option("--unit", type=click.Choice(["beat", "officer"]), required=True)
@click.option("--strata", type=click.Choice(["district", "none"]), default="none")
@click.option("--baseline", required=True, help="YYYY-MM-DD:YYYY-MM-DD")
@click.option("--follow-up", "follow_up", required=True, help="YYYY-MM-DD:YYYY-MM-DD")
@click.option("--outcome", "outcomes", multiple=True, required=True)
@click.option("--seed", type=int, required=True)
@click.option("--eligible", help="Beat codes or usernames, comma-separated (default: every "
                                 "unit with a contact in the baseline)")
def create_cmd(name, unit, strata, baseline, follow_up, outcomes, seed, eligible):
    """Design trial NAME."""
    from crm.evaluation import services as svc
    try:
        trial = svc.create_trial(None, name=name, unit=unit, strata=strata,
                                 baseline=svc.parse_period(baseline, "baseline"),
                                 follow_up=svc.parse_period(follow_up, "follow_up"),
                                 outcomes=list(outcomes), seed=seed,
                                 eligible=eligible.split(",") if eligible else None)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"created trial {trial.name} with {len(trial.eligible)} eligible {unit}s")


@trial_cli.command("allocate")
@click.argument("name")
def allocate_cmd(name):
    """Allocate trial NAME (once)."""
    from crm.evaluation import services as svc
    try:
        trial = svc.allocate_trial(None, svc.get_trial(name))
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"allocated {len(trial.units)} units; design hash {trial.design_hash}")


@trial_cli.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show_cmd(name, as_json):
    """Show trial NAME's design hash and allocation."""
    from crm.evaluation import services as svc
    try:
        doc = svc.show_trial(None, svc.get_trial(name))
    except DomainError as e:
        _fail(e)
    doc.pop("design_changed", None) if not doc.get("design_changed") else None
    if as_json:
        click.echo(json.dumps(doc))
        return
    click.echo(f"{doc['name']} ({doc['unit']}, seed {doc['seed']}) hash {doc['design_hash']}")
    for u in doc["units"]:
        click.echo(f"  {u['unit']:<20} {u['arm'] or '-':<10} {u['stratum']}")


@trial_cli.command("analyse")
@click.argument("name")
@click.option("--outcome", required=True)
@click.option("--json", "as_json", is_flag=True)
def analyse_cmd(name, outcome, as_json):
    """Difference in differences for one pre-registered outcome of trial NAME."""
    from crm.evaluation import services as svc
    try:
        doc = svc.analyse_trial(None, svc.get_trial(name), outcome)
    except DomainError as e:
        _fail(e)
    doc.pop("means", None) if as_json else None
    if as_json:
        click.echo(json.dumps(doc))
        return
    click.echo(f"{outcome}: {doc['estimate']} (95% CI {doc['ci_low']} to {doc['ci_high']}), "
               f"{doc['n_treatment']} treated / {doc['n_control']} control units")


@trial_cli.command("seed-demo")
@click.option("--seed", type=int, default=0)
def seed_demo_cmd(seed):
    """Add a trial in its follow-up period and two survey waves to the demo community."""
    from crm.evaluation.demo import seed_evaluation_demo
    try:
        counts = seed_evaluation_demo(seed=seed)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


def register(crm_cli: AppGroup) -> None:
    crm_cli.add_command(training_cli)
    crm_cli.add_command(trial_cli)
