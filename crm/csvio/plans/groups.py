"""Groups file: `name,kind,beats,stance,size_estimate,description`, matched by name."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.csvio.plans.base import Planner, count
from crm.csvio.read import load, split
from crm.errors import ValidationError
from crm.extensions import db
from crm.groups.services import clean_group_fields, group_snapshot
from crm.models import Beat, CommunityGroup, GroupAssignment
from crm.vocab import GROUP_KINDS, STANCES

_FIELDS = ("kind", "stance", "size_estimate", "description")


class GroupsPlanner(Planner):
    kind = "groups"

    def _existing(self, rows) -> dict[str, CommunityGroup]:
        """Groups whose name matches a row's, ignoring case (as the page's clash check does)."""
        names = {r["name"].lower() for _, r in rows if r["name"]}
        return {g.name.lower(): g for g in load(
            lambda c: sa.select(CommunityGroup).options(selectinload(CommunityGroup.beats))
            .where(sa.func.lower(CommunityGroup.name).in_(c)), names)}

    def plan(self, rows):
        check = self.check
        groups = self._existing(rows)
        visible = self.visible_group_ids(g.id for g in groups.values())
        beat_codes = {code for _, r in rows for code in split(r["beats"])}
        beats = {b.code: b for b in load(lambda c: sa.select(Beat).where(Beat.code.in_(c)),
                                          beat_codes)}
        writes = []
        for line, r in check.rows(rows):
            before = check.count
            kind = check.choice(line, r, "kind", GROUP_KINDS, "other")
            stance = check.choice(line, r, "stance", STANCES, "unknown")
            try:
                values = clean_group_fields(
                    {"name": r["name"], "kind": kind or "other", "stance": stance or "unknown",
                     "size_estimate": r["size_estimate"], "description": r["description"]},
                    creating=True)
            except ValidationError as e:
                check.errors_from(line, e)
                values = None
            codes = split(r["beats"])
            unknown = [c for c in codes if c not in beats]
            if unknown:
                check.error(line, "beats", f"unknown beat code(s): {', '.join(unknown)}")
            if check.count > before:
                continue
            name = values.pop("name")
            if not self.first_seen(name.lower(), line, "name", f"group {name!r}"):
                continue
            group = groups.get(name.lower())
            if group is not None and (group.name != name or group.id not in visible):
                # As on the page: a name is taken, whether or not the importer sees the group.
                check.error(line, "name", "another group already has this name")
                continue
            group_beats = [beats[c] for c in codes]
            changed = group is not None and (
                any(getattr(group, k) != values[k] for k in _FIELDS)
                or {b.id for b in group.beats} != {b.id for b in group_beats})
            if count(self.report, group, changed) != "unchanged":
                writes.append((group, name, values, group_beats))
        return writes

    def apply(self, writes):
        created, updated = [], []
        for group, name, values, group_beats in writes:
            if group is None:
                group = CommunityGroup(name=name, beats=group_beats, **values)
                db.session.add(group)
                created.append(group)
                continue
            before = group_snapshot(group)
            for k, v in values.items():
                setattr(group, k, v)
            if {b.id for b in group.beats} != {b.id for b in group_beats}:
                group.beats = group_beats
            updated.append((group, before))
        db.session.flush()
        for group in created:
            if self.actor is not None and self.actor.role == "unit":
                # As on the page: the unit member who creates a group looks after it.
                db.session.add(GroupAssignment(user_id=self.actor.id, group_id=group.id))
            self.audit("group.create", group, after=group_snapshot(group))
        for group, before in updated:
            after = group_snapshot(group)
            changed = [k for k in after if after[k] != before[k]]
            self.audit("group.update", group, before={k: before[k] for k in changed},
                       after={k: after[k] for k in changed})
