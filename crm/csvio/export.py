"""Exports: every record of a kind the user may see, in the import format, spreadsheet-safe."""

from __future__ import annotations

import io
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import contact_scope, group_scope, stakeholder_scope
from crm.audit.services import record_event
from crm.csvio.plans import current_relations, stakeholder_ref
from crm.csvio.read import COLUMNS, EXPORTED_OPTIONAL_COLUMNS, LIST_SEPARATOR, PERSONAL_KINDS
from crm.csvio.safe import SafeWriter
from crm.extensions import db
from crm.models import (
    Beat,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactStakeholder,
    GroupRelation,
    Membership,
    Stakeholder,
)
from crm.timezones import iso_local


def _live_stakeholders() -> sa.Select:
    return sa.select(Stakeholder).where(Stakeholder.live())


def _beats(scope):
    for b in db.session.scalars(sa.select(Beat).options(selectinload(Beat.district))
                                .order_by(Beat.code)):
        yield [b.code, b.name, b.district.code if b.district else ""]


def _groups(scope):
    for g in db.session.scalars(sa.select(CommunityGroup).where(scope(group_scope))
                                .options(selectinload(CommunityGroup.beats))
                                .order_by(CommunityGroup.name)):
        yield [g.name, g.kind, LIST_SEPARATOR.join(b.code for b in g.beats), g.stance,
               "" if g.size_estimate is None else g.size_estimate, g.description]


def _stakeholders(scope):
    for p in db.session.scalars(_live_stakeholders().where(scope(stakeholder_scope))
                                .order_by(Stakeholder.id)):
        yield [p.external_id or "", p.name, p.phone or "", p.email or "", p.language or "",
               p.consent_status, "yes" if p.interpreter_needed else "no"]


def _memberships(scope):
    live = _live_stakeholders().where(scope(stakeholder_scope)).subquery()
    visible = sa.select(CommunityGroup.id).where(scope(group_scope))
    for m in db.session.scalars(
            sa.select(Membership).join(live, live.c.id == Membership.stakeholder_id)
            .where(Membership.group_id.in_(visible))
            .options(selectinload(Membership.stakeholder), selectinload(Membership.group))
            .order_by(Membership.id)):
        yield [stakeholder_ref(m.stakeholder), m.group.name, m.role]


def _relations(scope):
    # Both groups in scope, as the import would need them (a relation naming a group the
    # user cannot see would tell them it exists).
    visible = sa.select(CommunityGroup.id).where(scope(group_scope))
    for rel in db.session.scalars(current_relations().where(
            GroupRelation.group_a_id.in_(visible), GroupRelation.group_b_id.in_(visible))
            .options(selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b))
            .order_by(GroupRelation.id)):
        yield [rel.group_a.name, rel.group_b.name, rel.type, rel.issue]


def _contacts(scope):
    for c in db.session.scalars(sa.select(Contact).where(scope(contact_scope)).options(
            selectinload(Contact.logged_by),
            selectinload(Contact.group_links).selectinload(ContactGroup.group),
            selectinload(Contact.stakeholder_links).selectinload(ContactStakeholder.stakeholder))
            .order_by(Contact.occurred_at, Contact.id)):
        yield [iso_local(c.occurred_at, "auto"), c.logged_by.username,  # local, with offset
               LIST_SEPARATOR.join(sorted(stakeholder_ref(p) for p in c.stakeholders)),
               LIST_SEPARATOR.join(sorted(g.name for g in c.groups)),
               c.initiated_by, c.channel, c.note]


_ROWS = {"beats": _beats, "groups": _groups, "stakeholders": _stakeholders,
         "memberships": _memberships, "relations": _relations, "contacts": _contacts}


def export_rows(kind: str, actor=None) -> Iterable[list]:
    """Rows of `kind`; for a signed-in user only what crm.access lets them see (the CLI,
    run by whoever operates the server, has no actor and exports everything)."""
    def scope(fn):
        return fn(actor) if actor is not None else sa.true()
    return _ROWS[kind](scope)


def export_csv(actor, kind: str, *, ip: str = "") -> str:
    """Every record of `kind` as CSV in the import format; the export is audited."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(COLUMNS[kind] + EXPORTED_OPTIONAL_COLUMNS.get(kind, ()))
    n = 0
    for row in export_rows(kind, actor):
        writer.writerow(row)
        n += 1
    record_event(actor, "csv.export", object_type=kind, ip=ip,
                 detail={"kind": kind, "rows": n, "personal_data": kind in PERSONAL_KINDS})
    return out.getvalue()
