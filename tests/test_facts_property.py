"""Property: whatever sequence of writes goes through the real services, the incrementally
kept engagement facts equal a rebuild from the records, and the live analytics answer as
they would from the records (SQLite and PostgreSQL). In America/Chicago too, with the
contacts spread over the spring-forward and the fall-back day: the day rows are local days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.facts import services as facts
from crm.models import Contact, Stakeholder
from crm.network import services as network
from crm.vocab import INITIATED_BY, STANCES

N_GROUPS, N_PEOPLE = 4, 4

# One write: (kind, a few small numbers the kind interprets).
_write = st.one_of(
    st.tuples(st.just("log"), st.integers(0, 2), st.sets(st.integers(0, N_GROUPS - 1), max_size=3),
              st.sampled_from(INITIATED_BY), st.integers(0, 400), st.integers(0, 2),
              st.booleans(), st.sets(st.integers(0, N_PEOPLE - 1), max_size=2)),
    st.tuples(st.just("edit"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("stance"), st.integers(0, N_GROUPS - 1), st.sampled_from(STANCES)),
    st.tuples(st.just("beats"), st.integers(0, N_GROUPS - 1), st.integers(0, 2)),
    st.tuples(st.just("delete_group"), st.integers(0, N_GROUPS - 1)),
    st.tuples(st.just("import"), st.integers(0, 2), st.integers(0, N_GROUPS - 1),
              st.sampled_from(INITIATED_BY), st.integers(0, 200)),
    st.tuples(st.just("merge"), st.integers(0, N_PEOPLE - 1), st.integers(0, N_PEOPLE - 1)),
    st.tuples(st.just("erase"), st.integers(0, N_PEOPLE - 1)),
)


@pytest.fixture
def base(make):
    """Three beats, three officers (one without a beat), an admin, groups and people."""
    beats = [make.beat(f"01{i}1") for i in range(3)]
    officers = [make.user("off0", beats=[beats[0]]), make.user("off1", beats=beats[1:]),
                make.user("off2", role="unit")]
    admin = make.user("root", role="admin")
    groups = [make.group(f"Group {i}", beats=[beats[i % 3]], stance=STANCES[i % len(STANCES)])
              for i in range(N_GROUPS)]
    people = [make.stakeholder(f"Person {i}") for i in range(N_PEOPLE)]
    for i, p in enumerate(people):
        make.membership(p, groups[i % N_GROUPS])
    make.commit()
    return {"beat_ids": [b.id for b in beats], "officer_ids": [o.id for o in officers],
            "admin_id": admin.id, "group_ids": [g.id for g in groups],
            "people_ids": [p.id for p in people]}


def _env(base: dict) -> dict:
    """The fixture's records, loaded into the example's fresh session."""
    from crm.models import Beat, User
    return {**base, "beats": [db.session.get(Beat, i) for i in base["beat_ids"]],
            "officers": [db.session.get(User, i) for i in base["officer_ids"]],
            "admin": db.session.get(User, base["admin_id"])}


def _apply(w, env):
    from crm.contacts.services import delete_contact, log_contact, update_contact
    from crm.csvio.services import import_csv
    from crm.errors import ValidationError
    from crm.groups.services import delete_group, update_group
    from crm.models import Beat, CommunityGroup
    from crm.privacy.services import erase_stakeholder
    from crm.stakeholders.services import merge_stakeholders

    admin, now = env["admin"], datetime.utcnow()
    groups = [g for g in (db.session.get(CommunityGroup, i) for i in env["group_ids"]) if g]
    contacts = list(db.session.scalars(sa.select(Contact).order_by(Contact.id)))
    kind = w[0]
    if kind == "log":
        _, o, gix, initiated, hours, beat_ix, with_beat, pix = w
        gids = [env["group_ids"][i] for i in gix if db.session.get(CommunityGroup, env["group_ids"][i])]
        people = [i for i in (env["people_ids"][j] for j in pix)
                  if (p := db.session.get(Stakeholder, i)) and p.erased_at is None
                  and p.merged_into_id is None]
        if not gids and not people:
            return
        officers = env["officers"]
        beat_id = env["beats"][beat_ix].id
        if gids:  # the contact's beat must be one of its groups' beats
            beat_id = db.session.get(CommunityGroup, gids[0]).beats[0].id
        data = {"occurred_at": now - timedelta(hours=hours), "initiated_by": initiated,
                "beat_id": beat_id if with_beat else None, "channel": "visit",
                "group_ids": gids, "stakeholder_ids": people,
                "officer_ids": [officers[o].id, officers[(o + 1) % 3].id][: 1 + (hours % 2)]}
        try:
            log_contact(admin, data)
        except ValidationError:
            pass  # refused before any write (e.g. a beat unlike its groups')
    elif kind == "edit" and contacts:
        update_contact(admin, contacts[w[1] % len(contacts)], {"note": "edited"}, version_id=None)
    elif kind == "delete" and contacts:
        delete_contact(admin, contacts[w[1] % len(contacts)])
    elif kind == "stance" and groups:
        update_group(admin, groups[w[1] % len(groups)], {"stance": w[2]}, version_id=None)
    elif kind == "beats" and groups:
        g = groups[w[1] % len(groups)]
        g.beats = [db.session.get(Beat, env["beats"][w[2]].id)]
        db.session.flush()
    elif kind == "delete_group" and len(groups) > 1:
        delete_group(admin, groups[w[1] % len(groups)])
    elif kind == "import" and groups:
        _, o, gi, initiated, hours = w
        g = groups[gi % len(groups)]
        when = (now - timedelta(hours=hours)).replace(microsecond=0)
        text = ("occurred_at,officer,stakeholders,groups,initiated_by,channel,note\n"
                f"{when.isoformat(sep=' ')}+00:00,{env['officers'][o].username},,{g.name},"
                f"{initiated},meeting,imported {hours}\n")
        report = import_csv(admin, "contacts", text)
        assert not report.errors, report.errors
    elif kind in ("merge", "erase"):
        people = [db.session.get(Stakeholder, i) for i in env["people_ids"]]
        try:
            if kind == "merge":
                merge_stakeholders(admin, people[w[1]], people[w[2]])
            else:
                erase_stakeholder(admin, people[w[1]], "asked to be forgotten")
        except ValidationError:
            pass  # already erased or merged, or merged into itself: the service refuses


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("zone", "now"), [
    ("UTC", None),
    # The writes reach back up to 400 hours: over 2027-03-14 (23 hours) and 2026-11-01 (25).
    ("America/Chicago", datetime(2027, 3, 15, 4, 30, tzinfo=UTC)),
    ("America/Chicago", datetime(2026, 11, 2, 5, 30, tzinfo=UTC)),
])
def test_incremental_facts_always_equal_a_rebuild(app, base, zone, now):
    before = app.config["TIME_ZONE"]
    app.config["TIME_ZONE"] = zone
    try:
        if now is None:
            _check_property(base)
        else:
            with time_machine.travel(now, tick=False):
                _check_property(base)
    finally:
        app.config["TIME_ZONE"] = before


def _check_property(base):
    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(_write, min_size=1, max_size=8))
    def check(writes):
        try:
            env = _env(base)
            for w in writes:
                _apply(w, env)
                assert facts.differences() == {}, (w, writes)
            live = {n: network.compute(n) for n in network.LIVE}
            from unittest import mock
            with mock.patch("crm.facts.services.answers_as_of", return_value=False):
                assert live == {n: network.compute(n) for n in network.LIVE}
        finally:
            db.session.rollback()  # services flush, never commit: each example starts clean
            db.session.expunge_all()

    check()
