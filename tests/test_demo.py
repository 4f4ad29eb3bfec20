"""Demo seeding: the real beats load idempotently, and the small demo has the intended shape."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm.beats.services import load_geography
from crm.db import utcnow
from crm.demo.services import DEMO_PASSWORD, DemoDataExistsError, seed_demo
from crm.extensions import db
from crm.models import (
    AuditEvent,
    Beat,
    CaseAction,
    CaseIdea,
    CaseMeasure,
    CaseParticipant,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    District,
    GroupRelation,
    Membership,
    ProblemCase,
    RelationshipStageChange,
    Stakeholder,
    User,
)
from crm.vocab import CASE_STAGES, GROUP_KINDS


@pytest.fixture
def seeded(app):
    report = seed_demo("small", "chicago", seed=1)
    db.session.commit()
    return report


def scalar(stmt):
    return db.session.scalar(stmt)


def test_load_geography_is_idempotent(app):
    districts, beats = load_geography("chicago")
    db.session.commit()
    again_d, again_b = load_geography("chicago")
    db.session.commit()
    assert len(districts) == len(again_d) == scalar(sa.select(sa.func.count(District.id)))
    assert len(beats) == len(again_b) == scalar(sa.select(sa.func.count(Beat.id))) == 275
    b = db.session.scalar(sa.select(Beat).where(Beat.code == "0111"))
    assert b.name == "Beat 0111" and b.district.code == "01"
    assert b.geometry["type"] == "Polygon"
    assert abs(b.centroid_lat - 41.886) < 0.01 and abs(b.centroid_lon + 87.628) < 0.01
    assert b.district.geometry is not None
    airport = db.session.scalar(sa.select(Beat).where(Beat.code == "3100"))
    assert airport.geometry["type"] == "MultiPolygon"


def test_load_geography_charlottesville(app):
    districts, beats = load_geography("charlottesville")
    db.session.commit()
    assert len(beats) == 33 and all(d.geometry is None for d in districts)
    belmont = db.session.scalar(sa.select(Beat).where(Beat.code == "10"))
    assert belmont.name == "Belmont" and belmont.district.code == "2"
    assert 37.9 < belmont.centroid_lat < 38.1 and -78.6 < belmont.centroid_lon < -78.4


def test_small_demo_structure(seeded):
    counts = seeded.counts
    assert counts["community_groups"] == 40
    assert counts["stakeholders"] == 300
    assert counts["memberships"] >= 800
    assert counts["contacts"] == 2000
    # every kind present, names unique
    kinds = set(db.session.scalars(sa.select(CommunityGroup.kind)))
    assert kinds == set(GROUP_KINDS)
    names = list(db.session.scalars(sa.select(CommunityGroup.name)))
    assert len(names) == len(set(names))
    # at least one group nobody has contacted
    contacted = sa.select(ContactGroup.group_id)
    assert scalar(sa.select(sa.func.count(CommunityGroup.id))
                  .where(CommunityGroup.id.not_in(contacted))) >= 1
    # competing relations with an issue
    competing = db.session.scalars(
        sa.select(GroupRelation).where(GroupRelation.type == "competing")).all()
    assert competing and all(r.issue for r in competing)
    # contacts only within the past year
    now = utcnow()
    first, last = db.session.execute(
        sa.select(sa.func.min(Contact.occurred_at), sa.func.max(Contact.occurred_at))).one()
    assert first >= now - timedelta(days=366) and last <= now
    # link rows repeat the contact's time (and, for groups, who initiated)
    mismatched = scalar(sa.select(sa.func.count()).select_from(ContactGroup).join(Contact).where(
        sa.or_(ContactGroup.occurred_at != Contact.occurred_at,
               ContactGroup.initiated_by != Contact.initiated_by)))
    assert mismatched == 0
    assert scalar(sa.select(sa.func.count()).select_from(ContactOfficer)) >= 2000
    # mostly no enforcement
    enforced = scalar(sa.select(sa.func.count(Contact.id)).where(Contact.enforcement != "none"))
    assert enforced < 2000 * 0.1


def test_officers_favour_receptive_groups(seeded):
    per_group = sa.select(CommunityGroup.stance, sa.func.count(ContactGroup.contact_id)) \
        .outerjoin(ContactGroup, ContactGroup.group_id == CommunityGroup.id) \
        .group_by(CommunityGroup.id, CommunityGroup.stance)
    totals: dict[str, list[int]] = {}
    for stance, n in db.session.execute(per_group):
        totals.setdefault(stance, []).append(n)
    avg = {s: sum(v) / len(v) for s, v in totals.items()}
    assert avg["receptive"] > avg["hostile"]


def test_group_stage_is_the_latest_change(seeded):
    groups = db.session.scalars(sa.select(CommunityGroup)).all()
    for g in groups:
        last = db.session.scalar(
            sa.select(RelationshipStageChange.to_stage)
            .where(RelationshipStageChange.group_id == g.id)
            .order_by(RelationshipStageChange.changed_at.desc(),
                      RelationshipStageChange.id.desc()).limit(1))
        assert g.stage == (last or "none")


def test_cases_at_every_stage_with_community_owned_actions(seeded):
    stages = set(db.session.scalars(sa.select(ProblemCase.stage)))
    assert stages == set(CASE_STAGES)
    owners = set(db.session.scalars(sa.select(CaseAction.owner_kind)))
    assert {"officer", "stakeholder", "group", "agency"} <= owners
    community = db.session.scalars(sa.select(CaseAction).where(
        CaseAction.owner_kind.in_(("stakeholder", "group")))).all()
    assert community and all(a.liaison_user_id for a in community)
    for case in db.session.scalars(sa.select(ProblemCase)):
        assert any(a.owner_kind in ("stakeholder", "group") for a in case.actions)
        assert case.events
    roles = set(db.session.scalars(sa.select(CaseParticipant.role)
                                   .where(CaseParticipant.kind == "group")))
    assert {"co_producer", "competing_interest"} <= roles
    assert set(db.session.scalars(sa.select(CaseIdea.status))) == {"proposed", "adopted",
                                                                   "declined"}
    assert scalar(sa.select(sa.func.count(CaseMeasure.id))) > 0
    overdue = scalar(sa.select(sa.func.count(CaseAction.id)).where(
        CaseAction.due_on < utcnow().date(), CaseAction.status.in_(("open", "in_progress"))))
    assert overdue >= 1


def test_people_and_audit(seeded):
    roles = set(db.session.scalars(sa.select(Membership.role)))
    assert {"leader", "member"} <= roles
    assert scalar(sa.select(sa.func.count(Stakeholder.id)).where(Stakeholder.review_on.is_(None))) == 0
    officer1 = db.session.scalar(sa.select(User).where(User.username == "officer1"))
    assert 1 <= len(officer1.current_beats()) <= 3
    supervisors = db.session.scalars(sa.select(User).where(User.role == "supervisor")).all()
    assert len(supervisors) >= 2 and all(s.district_id for s in supervisors)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "demo.seed")).all()
    assert len(events) == 1 and events[0].detail["counts"]["contacts"] == 2000
    assert {lg.username for lg in seeded.logins} >= {"admin", "analyst", "supervisor1", "unit1",
                                                     "officer1"}


def test_demo_login_works(seeded, auth):
    r = auth.login("officer1", DEMO_PASSWORD)
    assert r.status_code == 302


def test_refuses_a_database_with_groups(seeded):
    with pytest.raises(DemoDataExistsError):
        seed_demo("small", "chicago", seed=2)


# Columns that are random by design (salted hashes, nonces), not drawn from the seed.
UNSEEDED_COLUMNS = {"password_hash", "session_nonce", "totp_secret", "token_hash",
                    "public_token"}  # a survey's public link: drawn by secrets, never guessable


def _every_row() -> dict[str, list[tuple]]:
    out = {}
    for t in db.metadata.sorted_tables:
        cols = [c for c in t.columns if c.name not in UNSEEDED_COLUMNS]
        out[t.name] = [tuple(r) for r in db.session.execute(
            sa.select(*cols).order_by(*(t.primary_key.columns or cols)))]
    return out


def test_same_seed_same_community(app):
    """Every column of every table, not just the counts: the seed alone decides the demo."""
    def snapshot(seed):
        with time_machine.travel(datetime(2026, 6, 1, 12), tick=False):
            seed_demo("small", "chicago", seed=seed)
            db.session.commit()
        rows = _every_row()
        db.session.remove()
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                tables = ", ".join(t.name for t in db.metadata.sorted_tables)
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for t in reversed(db.metadata.sorted_tables):
                    conn.execute(t.delete())
        return rows

    first = snapshot(7)
    assert sum(map(len, first.values())) > 5000
    assert snapshot(7) == first
    assert snapshot(8)["community_groups"] != first["community_groups"]


def test_cli_seed_and_if_empty(runner):
    result = runner.invoke(args=["crm", "seed-demo", "--size", "small", "--city",
                                 "charlottesville", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output and "officer1" in result.output
    assert "contacts" in result.output and "elapsed" in result.output
    codes = set(db.session.scalars(sa.select(Beat.code)))
    assert "10" in codes and "0111" not in codes
    again = runner.invoke(args=["crm", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "skipped" in again.output and "officer1" in again.output
    refused = runner.invoke(args=["crm", "seed-demo"])
    assert refused.exit_code != 0


def test_new_rows_after_the_seed_get_fresh_ids(seeded, make):
    """Ids were assigned explicitly; the next ORM insert must not collide (PostgreSQL sequences)."""
    g = make.group(name="A group created after the seed")
    db.session.commit()
    assert g.id > 40


def test_demo_unit_members_look_after_groups_hard_ones_first(app):
    from crm.demo.services import seed_demo
    from crm.models import CommunityGroup, GroupAssignment
    seed_demo("small", "chicago", seed=0)
    rows = db.session.execute(sa.select(GroupAssignment.user_id, CommunityGroup.stance)
                              .join(CommunityGroup, CommunityGroup.id == GroupAssignment.group_id)).all()
    assert len({u for u, _ in rows}) == 2
    stances = [s for _, s in rows]
    wary = db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup)
                             .where(CommunityGroup.stance.in_(("wary", "hostile"))))
    assert sum(s in ("wary", "hostile") for s in stances) == min(wary, len(stances))
