"""Memberships file: `stakeholder,group,role`; one row per person and group.

A unit member may only link people they can see to groups they can see: anyone or any
group outside their scope is "unknown", in the very words used for a name that exists nowhere.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.csvio.plans.base import Planner, StakeholderRefs, count
from crm.csvio.read import load
from crm.extensions import db
from crm.groups.services import membership_snapshot
from crm.models import Membership
from crm.vocab import MEMBERSHIP_ROLES


class MembershipsPlanner(Planner):
    kind = "memberships"

    def plan(self, rows):
        check = self.check
        people = StakeholderRefs({r["stakeholder"] for _, r in rows if r["stakeholder"]},
                                 self.stakeholder_condition())
        groups = self.groups_by_name(r["group"] for _, r in rows if r["group"])
        resolved = []
        for line, r in check.rows(rows):
            before = check.count
            sid = None
            if check.text(line, r, "stakeholder", required=True):
                sid, reason = people.resolve(r["stakeholder"])
                if reason:
                    check.error(line, "stakeholder", reason)
            gname = check.text(line, r, "group", required=True)
            if gname and gname not in groups:
                check.error(line, "group", f"unknown group {gname!r}")
            role = check.choice(line, r, "role", MEMBERSHIP_ROLES, "member")
            if check.count == before:
                resolved.append((line, sid, groups[gname].id, role))
        existing = {(m.stakeholder_id, m.group_id): m for m in load(
            lambda c: sa.select(Membership).where(Membership.stakeholder_id.in_(c)),
            {sid for _, sid, _, _ in resolved})}
        writes = []
        for line, sid, gid, role in resolved:
            if not self.first_seen((sid, gid), line, "stakeholder",
                                   "this stakeholder and group pair"):
                continue
            m = existing.get((sid, gid))
            if count(self.report, m, m is not None and m.role != role) != "unchanged":
                writes.append((m, sid, gid, role))
        return writes

    def apply(self, writes):
        done = []
        for m, sid, gid, role in writes:
            if m is None:
                m = Membership(stakeholder_id=sid, group_id=gid, role=role)
                db.session.add(m)
                done.append(("membership.create", m, None))
            else:
                done.append(("membership.update", m, m.role))
                m.role = role
        db.session.flush()
        for action, m, old_role in done:
            detail = {"after": membership_snapshot(m)}
            if old_role is not None:
                detail["before"] = {"role": old_role}
            self.audit(action, m, **detail)
