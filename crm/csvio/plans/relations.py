"""Relations file: `group_a,group_b,type,issue`; the pair is unordered.

As on the page, both groups must be ones the importer can see.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.csvio.plans.base import Planner, count
from crm.errors import ValidationError
from crm.extensions import db
from crm.groups.services import _clean_relation_fields, relation_snapshot
from crm.models import GroupRelation
from crm.vocab import RELATION_TYPES


def current_relations() -> sa.Select:
    return sa.select(GroupRelation).where(GroupRelation.open_on())


class RelationsPlanner(Planner):
    kind = "relations"

    def _row(self, line, r, groups) -> tuple | None:
        check = self.check
        before = check.count
        ids = {}
        for col in ("group_a", "group_b"):
            name = check.text(line, r, col, required=True)
            if name and name not in groups:
                check.error(line, col, f"unknown group {name!r}")
            elif name:
                ids[col] = groups[name].id
        rtype = check.choice(line, r, "type", RELATION_TYPES)
        errors: dict = {}
        issue = _clean_relation_fields({"issue": r["issue"]}, errors)["issue"]
        if errors:
            check.errors_from(line, ValidationError(errors))
        if len(ids) == 2 and ids["group_a"] == ids["group_b"]:
            check.error(line, "group_b", "a group cannot be related to itself")
        if check.count > before:
            return None
        return ids["group_a"], ids["group_b"], rtype, issue

    def plan(self, rows):
        groups = self.groups_by_name({r[c] for _, r in rows for c in ("group_a", "group_b") if r[c]})
        gids = [g.id for g in groups.values()]
        existing: dict[tuple, GroupRelation] = {}
        if gids:
            for rel in db.session.scalars(current_relations().where(
                    GroupRelation.group_a_id.in_(gids), GroupRelation.group_b_id.in_(gids))
                    .order_by(GroupRelation.id)):
                pair = tuple(sorted((rel.group_a_id, rel.group_b_id)))
                existing.setdefault((*pair, rel.type), rel)
        writes = []
        for line, r in self.check.rows(rows):
            parsed = self._row(line, r, groups)
            if parsed is None:
                continue
            a, b, rtype, issue = parsed
            key = (*sorted((a, b)), rtype)
            if not self.first_seen(key, line, "group_b",
                                   f"the {rtype} relation between these two groups"):
                continue
            rel = existing.get(key)
            if count(self.report, rel, rel is not None and rel.issue != issue) != "unchanged":
                writes.append((rel, a, b, rtype, issue))
        return writes

    def apply(self, writes):
        done = []
        for rel, a, b, rtype, issue in writes:
            if rel is None:
                rel = GroupRelation(group_a_id=a, group_b_id=b, type=rtype, issue=issue)
                db.session.add(rel)
                done.append(("group_relation.create", rel, None))
            else:
                done.append(("group_relation.update", rel, relation_snapshot(rel)))
                rel.issue = issue
        db.session.flush()
        for action, rel, before in done:
            detail = {"after": relation_snapshot(rel)}
            if before is not None:
                detail["before"] = before
            self.audit(action, rel, **detail)
