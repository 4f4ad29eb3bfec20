"""Contacts file: `occurred_at,officer,stakeholders,groups,initiated_by,channel,note`.

Matched by an import key (a hash of the natural key) or, for contacts logged in the app, by
the natural key itself: time, officer, note, groups and people. A unit member imports their
own contacts only (`officer` is the importer; administrators may name any officer), with
people and groups they can see, as on the contact form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.contacts.services import MAX_NOTE, beat_for_contact
from crm.csvio.plans.base import Planner, StakeholderRefs, count
from crm.csvio.read import load, split
from crm.db import utcnow
from crm.extensions import db
from crm.models import Contact, ContactGroup, ContactOfficer, ContactStakeholder, User
from crm.text import strip_controls
from crm.timezones import LocalTimeError, from_local
from crm.vocab import CHANNELS, INITIATED_BY

IMPORT_KEY_PREFIX = "import:"


def parse_when(value: str) -> datetime:
    """An ISO date (meaning 12:00 local time) or date and time, as naive UTC: an offset is
    honoured, none means the department's local time (crm.timezones; LocalTimeError for a
    time the clocks skipped, the first of a repeated one)."""
    if len(value) == 10:
        return from_local(datetime.combine(date.fromisoformat(value), time(12, 0)))
    return from_local(datetime.fromisoformat(value))


def contact_natural_key(occurred_at: datetime, officer_id: int, note: str,
                        group_ids: Iterable[int], stakeholder_ids: Iterable[int]) -> tuple:
    return (occurred_at, officer_id, note or "", tuple(sorted(group_ids)),
            tuple(sorted(stakeholder_ids)))


def contact_import_key(natural_key: tuple) -> str:
    """Deterministic idempotency key: "import:" + sha256 of the natural key (fits 64 chars)."""
    occurred_at, officer_id, note, group_ids, stakeholder_ids = natural_key
    payload = "\x1f".join([occurred_at.isoformat(), str(officer_id), note,
                           ",".join(map(str, group_ids)), ",".join(map(str, stakeholder_ids))])
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return (IMPORT_KEY_PREFIX + digest)[:64]


class ContactsPlanner(Planner):
    kind = "contacts"

    def _officers(self, rows) -> dict[str, User]:
        return {u.username: u for u in load(
            lambda c: sa.select(User).where(User.username.in_(c)),
            {r["officer"].lower() for _, r in rows if r["officer"]})}

    def _when(self, line, r, latest) -> datetime | None:
        if not self.check.text(line, r, "occurred_at", required=True):
            return None
        try:
            when = parse_when(r["occurred_at"])
        except LocalTimeError as e:
            self.check.error(line, "occurred_at", str(e))
            return None
        except ValueError:
            self.check.error(line, "occurred_at", f"{r['occurred_at']!r} is not an ISO date "
                             "(2024-05-31) or date and time (2024-05-31T14:30)")
            return None
        if when > latest:
            self.check.error(line, "occurred_at", "is in the future")
        return when

    def _officer(self, line, r, officers) -> User | None:
        if not self.check.text(line, r, "officer", required=True):
            return None
        officer = officers.get(r["officer"].lower())
        if officer is None:
            self.check.error(line, "officer", f"unknown username {r['officer']!r}")
        elif self.restricted and officer.id != self.actor.id:
            # As on the contact form: you record your own contacts.
            self.check.error(line, "officer", f"must be you ({self.actor.username}); only "
                             "administrators import contacts for other officers")
            return None
        return officer

    def _resolve(self, rows) -> list[tuple]:
        check = self.check
        officers = self._officers(rows)
        people = StakeholderRefs({ref for _, r in rows for ref in split(r["stakeholders"])},
                                 self.stakeholder_condition())
        groups = self.groups_by_name(name for _, r in rows for name in split(r["groups"]))
        latest = utcnow() + timedelta(days=1)
        resolved = []
        for line, r in check.rows(rows):
            before = check.count
            when = self._when(line, r, latest)
            officer = self._officer(line, r, officers)
            sids = []
            for ref in split(r["stakeholders"]):
                sid, reason = people.resolve(ref)
                if reason:
                    check.error(line, "stakeholders", reason)
                sids.append(sid)
            unknown = [g for g in split(r["groups"]) if g not in groups]
            if unknown:
                check.error(line, "groups", f"unknown group(s): {', '.join(map(repr, unknown))}")
            initiated_by = check.choice(line, r, "initiated_by", INITIATED_BY)
            channel = check.choice(line, r, "channel", CHANNELS)
            note = strip_controls(r["note"])
            if len(note) > MAX_NOTE:
                check.error(line, "note", f"must be at most {MAX_NOTE} characters (now {len(note)})")
            if check.count > before:
                continue
            gids = sorted({groups[g].id for g in split(r["groups"])})
            key = contact_natural_key(when, officer.id, note, gids, set(sids))
            resolved.append((line, key, initiated_by, channel))
        return resolved

    def _existing(self, resolved) -> tuple[dict, dict]:
        """Existing contacts by import key, and by natural key (contacts logged in the app)."""
        by_key = {c.idempotency_key: c for c in load(
            lambda c: sa.select(Contact).options(selectinload(Contact.group_links))
            .where(Contact.idempotency_key.in_(c)),
            {contact_import_key(k) for _, k, _, _ in resolved})}
        by_natural: dict[tuple, Contact] = {}
        officer_ids = {k[1] for _, k, _, _ in resolved}
        if resolved:
            # Exact times only: a range would load every contact in between, once per chunk.
            for c in load(lambda chunk: sa.select(Contact).options(
                    selectinload(Contact.group_links), selectinload(Contact.stakeholder_links))
                    .where(Contact.occurred_at.in_(chunk)).order_by(Contact.id),
                    {k[0] for _, k, _, _ in resolved}):
                if c.logged_by_id not in officer_ids:
                    continue
                nk = contact_natural_key(c.occurred_at, c.logged_by_id, c.note,
                                         [link.group_id for link in c.group_links],
                                         [link.stakeholder_id for link in c.stakeholder_links])
                by_natural.setdefault(nk, c)
        return by_key, by_natural

    def plan(self, rows):
        resolved = self._resolve(rows)
        by_key, by_natural = self._existing(resolved)
        writes = []
        for line, key, initiated_by, channel in resolved:
            if not self.first_seen(key, line, "", "the same contact (time, officer, "
                                   "note, groups and stakeholders)"):
                continue
            c = by_key.get(contact_import_key(key)) or by_natural.get(key)
            changed = c is not None and (c.initiated_by, c.channel) != (initiated_by, channel)
            if count(self.report, c, changed) != "unchanged":
                writes.append((c, key, initiated_by, channel))
        return writes

    def apply(self, writes):
        done = []
        for c, key, initiated_by, channel in writes:
            if c is None:
                when, officer_id, note, gids, sids = key
                # Filed where the groups and people are, as on the form (None when they
                # disagree: the file has no beat column to settle it).
                beat_id, _ = beat_for_contact(db.session.get(User, officer_id), list(gids),
                                              list(sids))
                c = Contact(occurred_at=when, channel=channel, initiated_by=initiated_by,
                            note=note, logged_by_id=officer_id, beat_id=beat_id,
                            idempotency_key=contact_import_key(key))
                c.officer_links = [ContactOfficer(user_id=officer_id, occurred_at=when)]
                c.group_links = [ContactGroup(group_id=g, occurred_at=when,
                                              initiated_by=initiated_by) for g in gids]
                c.stakeholder_links = [ContactStakeholder(stakeholder_id=s, occurred_at=when)
                                       for s in sids]
                db.session.add(c)
                done.append(("contact.create", c, key))
            else:
                c.initiated_by, c.channel = initiated_by, channel
                for link in c.group_links:
                    link.initiated_by = initiated_by
                done.append(("contact.update", c, None))
        db.session.flush()
        for action, c, key in done:
            detail = {"channel": c.channel, "initiated_by": c.initiated_by}
            if key is not None:
                detail.update(officers=[key[1]], groups=list(key[3]), stakeholders=list(key[4]))
            self.audit(action, c, **detail)
