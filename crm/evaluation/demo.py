"""Evaluation demo data: a trial in its follow-up period and two survey waves, on top of the
demo community (`seed_evaluation_demo`, called after `crm.demo.services.seed_demo`)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from crm.evaluation import services as svc
from crm.extensions import db
from crm.models import Beat, BeatAssignment, CommunityGroup, Contact, ContactGroup, User
from crm.timezones import day_start_utc, local_today


def _busiest_groups(today: date, n: int) -> list[int]:
    """The `n` groups with the most contacts in the last 180 days (the ones a newcomer meets
    first on the coverage and group pages), ties by id; any groups when none has a contact."""
    since = day_start_utc(today - timedelta(days=180))
    busy = sa.func.count(ContactGroup.contact_id)
    picked = list(db.session.scalars(
        sa.select(ContactGroup.group_id).where(ContactGroup.occurred_at >= since)
        .group_by(ContactGroup.group_id).order_by(busy.desc(), ContactGroup.group_id).limit(n)))
    return picked or list(db.session.scalars(sa.select(CommunityGroup.id).order_by(CommunityGroup.id).limit(n)))


def _busiest_beat(today: date) -> int | None:
    since = day_start_utc(today - timedelta(days=180))
    busy = sa.func.count(Contact.id)
    return db.session.scalar(sa.select(Contact.beat_id).where(Contact.occurred_at >= since,
                                                              Contact.beat_id.is_not(None))
                             .group_by(Contact.beat_id).order_by(busy.desc(), Contact.beat_id).limit(1))


def seed_evaluation_demo(*, today: date | None = None, seed: int = 0, groups: int = 3) -> dict:
    """Design and allocate "Demo beat trial" (baseline 180 to 91 days ago, follow-up from 90
    days ago to 30 days ahead), train the officers of treated beats, and run two survey waves
    for the `groups` busiest groups and the busiest beat (the first wave closed, the second
    open), so the trust trend shows on their pages. Flushes only; returns counts."""
    today = today or local_today()
    rng = random.Random(seed)
    counts = {"trials": 0, "training": 0, "survey_answers": 0}
    baseline = (today - timedelta(days=180), today - timedelta(days=91))
    follow_up = (today - timedelta(days=90), today + timedelta(days=30))
    if len(svc._units_with_contacts("beat", *baseline)) >= 2:
        trial = svc.create_trial(None, name="Demo beat trial", unit="beat", strata="district",
                                 baseline=baseline, follow_up=follow_up,
                                 outcomes=["proactive_share", "hard_to_engage_reached", "groups_reached",
                                           "wary_hostile_share", "enforcement_per_contact"],
                                 seed=seed or 2026)
        svc.allocate_trial(None, trial)
        counts["trials"] = 1
        treated = [u.unit_key for u in trial.units if u.arm == "treatment"]
        officers = db.session.scalars(
            sa.select(User.username).join(BeatAssignment, BeatAssignment.user_id == User.id)
            .join(Beat, Beat.id == BeatAssignment.beat_id)
            .where(Beat.code.in_(treated), User.role == "officer").distinct()).all()
        for username in sorted(officers):
            for i, module in enumerate(svc.training_modules()):
                svc.record_completion(None, officer=username, module=module,
                                      completed_on=follow_up[0] - timedelta(days=30 - 3 * i),
                                      trainer="Academy", today=today)
                counts["training"] += 1
    targets = [{"group_id": g} for g in _busiest_groups(today, groups)]
    beat_id = _busiest_beat(today)
    if beat_id is not None:
        targets.append({"beat_id": beat_id})
    for target in targets:
        for wave, (opens, shift) in enumerate(((today - timedelta(days=150), 0.0),
                                                (today - timedelta(days=20), 0.5)), start=1):
            c = svc.create_campaign(None, name=f"Wave {wave}", opens_on=opens,
                                    closes_on=opens + timedelta(days=40), **target)
            for _ in range(rng.randint(8, 16)):
                answers = {i["key"]: min(5, max(1, round(rng.gauss(3.0 + shift, 1.0)))) for i in c.items}
                svc.submit_response(None, c, answers, source="paper", today=opens + timedelta(days=3))
                counts["survey_answers"] += 1
    return counts
