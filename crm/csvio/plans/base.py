"""What every planner shares: the importer's scope and the row bookkeeping.

A planner checks one chunk of rows (`plan`), counting what would be created, updated or left
unchanged, and returns the writes; `apply` makes them, one audit event per changed record.
Field rules come from the service cleaners (`crm.stakeholders.services.clean_fields`,
`crm.groups.services.clean_group_fields`), so a file and a page accept the same values.

Scope: an import may change only what the importer could change on a page. The command line
(no actor) and administrators reach everything; a unit member reaches the groups and people
of `crm.access`. A reference to a record the importer cannot see gets exactly the message of
a reference to a record that does not exist, in a dry run and a real run alike.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from crm.access import group_scope, stakeholder_scope
from crm.audit.services import record_events
from crm.csvio.read import Check, ImportReport, load
from crm.models import CommunityGroup, Stakeholder


class Planner:
    kind = ""
    VIA = {"via": "csv.import"}

    def __init__(self, actor, check: Check, *, ip: str = ""):
        self.actor = actor
        self.check = check
        self.report: ImportReport = check.report
        self.ip = ip
        self.seen: dict = {}
        self.pending: list[tuple[str, object, dict]] = []
        # None (the command line) and administrators see everything.
        self.restricted = actor is not None and actor.role != "admin"

    def refusal(self) -> str | None:
        """Why this importer may not import this kind at all (None: they may)."""
        return None

    def plan(self, rows: list[tuple[int, dict]]) -> list:
        raise NotImplementedError

    def apply(self, writes: list) -> None:
        raise NotImplementedError

    # ---- shared checks ------------------------------------------------------------------

    def first_seen(self, key, line: int, column: str, what: str) -> bool:
        if key in self.seen:
            self.check.error(line, column, f"{what} appears twice (also on line {self.seen[key]})")
            return False
        self.seen[key] = line
        return True

    def visible_group_ids(self, ids: Iterable[int]) -> set[int]:
        ids = set(ids)
        if not self.restricted or not ids:
            return ids
        return set(load(lambda c: sa.select(CommunityGroup.id).where(
            CommunityGroup.id.in_(c), group_scope(self.actor)), ids))

    def groups_by_name(self, names: Iterable[str]) -> dict[str, CommunityGroup]:
        """Groups named in the file that the importer may see, by name."""
        groups = {g.name: g for g in load(
            lambda c: sa.select(CommunityGroup).where(CommunityGroup.name.in_(c)), set(names))}
        visible = self.visible_group_ids(g.id for g in groups.values())
        return {name: g for name, g in groups.items() if g.id in visible}

    def stakeholder_condition(self) -> sa.ColumnElement[bool]:
        return stakeholder_scope(self.actor) if self.restricted else sa.true()

    def audit(self, action: str, obj, **detail) -> None:
        """One audit event per changed record, written together by `write_audit`."""
        self.pending.append((action, obj, {**self.VIA, **detail}))

    def write_audit(self) -> None:
        record_events(self.actor, self.pending, ip=self.ip)
        self.pending = []


def count(report: ImportReport, existing, changed: bool) -> str:
    """Count a row as created, updated or unchanged; returns which."""
    what = "created" if existing is None else "updated" if changed else "unchanged"
    setattr(report, what, getattr(report, what) + 1)
    return what


class StakeholderRefs:
    """Resolves references written as an external_id or, for people without one, a unique name.

    Only people the importer may see are found: anyone else is "unknown", with the same words.
    """

    def __init__(self, refs: set[str], condition: sa.ColumnElement[bool]):
        self.by_external = {s.external_id: s for s in load(
            lambda chunk: sa.select(Stakeholder).where(Stakeholder.external_id.in_(chunk),
                                                       condition), refs)}
        self.by_name: dict[str, list[int]] = {}
        for s in load(lambda chunk: sa.select(Stakeholder).where(
                Stakeholder.name.in_(chunk), Stakeholder.live(), condition), refs):
            self.by_name.setdefault(s.name, []).append(s.id)

    def resolve(self, ref: str) -> tuple[int | None, str | None]:
        s = self.by_external.get(ref)
        if s is not None:
            if s.erased_at is not None:
                return None, f"stakeholder {ref!r} was erased"
            if s.merged_into_id is not None:
                return None, f"stakeholder {ref!r} was merged into another record"
            return s.id, None
        ids = self.by_name.get(ref, [])
        if len(ids) == 1:
            return ids[0], None
        if ids:
            return None, (f"{len(ids)} stakeholders are named {ref!r}; "
                          "refer to them by external_id")
        return None, f"unknown stakeholder {ref!r} (neither an external_id nor a name)"


def stakeholder_ref(s: Stakeholder) -> str:
    return s.external_id or s.name
