"""Stakeholders file: `external_id,name,phone,email,language,consent[,group][,interpreter]`.

Matched by external_id, or by name for people without one. Field rules are
`crm.stakeholders.services.clean_fields`. A unit member may change only people in their
scope, and a new person must join one of their groups (the optional `group` column), as on
the page, so nobody they add vanishes from their own view.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.csvio.plans.base import Planner, count
from crm.csvio.read import load
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import Membership, Stakeholder
from crm.stakeholders.services import clean_fields
from crm.vocab import CONSENT_STATUSES

FIELDS = ("name", "phone", "email", "language", "consent_status", "interpreter_needed")
COLUMN_OF = {"consent_status": "consent", "interpreter_needed": "interpreter"}


class StakeholdersPlanner(Planner):
    kind = "stakeholders"

    def _lookups(self, rows):
        condition = self.stakeholder_condition()
        by_external = {s.external_id: s for s in load(
            lambda c: sa.select(Stakeholder).where(Stakeholder.external_id.in_(c)),
            {r["external_id"] for _, r in rows if r["external_id"]})}
        visible = set(load(lambda c: sa.select(Stakeholder.id).where(
            Stakeholder.id.in_(c), condition), [s.id for s in by_external.values()]))
        # People without an external_id are known by their name (among those the importer sees).
        by_name: dict[str, list[Stakeholder]] = {}
        for s in load(lambda c: sa.select(Stakeholder).where(
                Stakeholder.name.in_(c), Stakeholder.external_id.is_(None),
                Stakeholder.live(), condition),
                {r["name"] for _, r in rows if r["name"] and not r["external_id"]}):
            by_name.setdefault(s.name, []).append(s)
        return by_external, visible, by_name

    def _clean(self, line: int, r: dict) -> tuple[str | None, dict | None]:
        check = self.check
        external_id = check.text(line, r, "external_id", Stakeholder.external_id)
        consent = check.choice(line, r, "consent", CONSENT_STATUSES, "not_asked")
        try:
            fields = {"name": r["name"], "phone": r["phone"], "email": r["email"],
                      "language": r["language"], "consent_status": consent or "not_asked"}
            if r.get("interpreter"):  # blank or absent: leave it as it is
                fields["interpreter_needed"] = r["interpreter"]
            values = clean_fields(fields)
        except ValidationError as e:
            check.errors_from(line, e, COLUMN_OF)
            return external_id, None
        return external_id, {k: values.get(k) for k in FIELDS
                             if k != "interpreter_needed" or k in values}

    def _match(self, line, external_id, name, lookups) -> tuple[bool, Stakeholder | None]:
        """(usable, existing record) for one row."""
        check = self.check
        by_external, visible, by_name = lookups
        if not external_id:
            if not self.first_seen(("name", name), line, "name",
                                   f"stakeholder {name!r} without an external_id"):
                return False, None
            matches = by_name.get(name, [])
            if len(matches) > 1:
                check.error(line, "name", f"{len(matches)} stakeholders without an external_id "
                            f"are named {name!r}; add an external_id to tell them apart")
                return False, None
            return True, (matches[0] if matches else None)
        if not self.first_seen(("external_id", external_id), line, "external_id",
                               f"external_id {external_id!r}"):
            return False, None
        existing = by_external.get(external_id)
        if existing is not None and existing.id not in visible:
            check.error(line, "external_id", "is already used by another record; "
                        "ask an administrator")
            return False, None
        if existing is not None and existing.erased_at is not None:
            check.error(line, "external_id", "this stakeholder's personal data was erased; "
                        "an import does not bring it back")
            return False, None
        if existing is not None and existing.merged_into_id is not None:
            check.error(line, "external_id", "this stakeholder was merged into another "
                        "record; import the surviving record instead")
            return False, None
        return True, existing

    def plan(self, rows):
        lookups = self._lookups(rows)
        groups = self.groups_by_name(r["group"] for _, r in rows if r["group"])
        writes = []
        for line, r in self.check.rows(rows):
            before = self.check.count
            external_id, values = self._clean(line, r)
            group = groups.get(r["group"]) if r["group"] else None
            if r["group"] and group is None:
                self.check.error(line, "group", f"unknown group {r['group']!r}")
            if self.check.count > before:
                continue
            usable, existing = self._match(line, external_id, values["name"], lookups)
            if not usable:
                continue
            if existing is None and group is None and self.restricted:
                self.check.error(line, "group", "a new person needs one of your groups here, "
                                 "so they stay visible to you")
                continue
            changed = existing is not None and any(
                getattr(existing, k) != v for k, v in values.items())
            if count(self.report, existing, changed) != "unchanged":
                writes.append((existing, external_id, values, group.id if group else None))
        return writes

    def apply(self, writes):
        created, updated = [], []
        for existing, external_id, values, group_id in writes:
            if existing is None:
                s = Stakeholder(external_id=external_id, **values)
                if group_id is not None:
                    s.memberships.append(Membership(group_id=group_id, role="member"))
                db.session.add(s)
                created.append((s, group_id))
            else:
                changed = [k for k, v in values.items() if getattr(existing, k) != v]
                for k in changed:
                    setattr(existing, k, values[k])
                updated.append((existing, changed))
        db.session.flush()
        # Field names only: the trail never holds personal values.
        for s, group_id in created:
            self.audit("stakeholder.create", s, fields=[k for k in FIELDS if getattr(s, k)],
                       group_id=group_id)
        for s, changed in updated:
            self.audit("stakeholder.update", s, changed=changed)
