"""ORM session events that keep the engagement facts equal to the records in every flush.

`before_flush` notes which contacts the flush touches (new, edited or deleted contacts and
links, and all contacts of a group whose stance changes or that is deleted) and reads what
they contributed; `after_flush` reads what they contribute now and applies the difference,
in the same transaction as the write. Registered once from `create_app`, so no service can
forget it; Core writers that bypass the ORM call `crm.facts.services` themselves.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from crm.facts import services
from crm.models import CommunityGroup, Contact, ContactGroup, ContactOfficer

_KEY = "crm_facts"
# Contact columns the facts are built from: editing a note or a follow-up changes nothing.
_CONTACT_FIELDS = ("occurred_at", "initiated_by", "beat_id")
_LINK_FIELDS = ("contact_id", "user_id", "group_id", "occurred_at", "initiated_by")


def _changed(obj, fields) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _old_values(obj, name: str) -> list:
    hist = inspect(obj).attrs[name].history
    return [v for v in (*hist.deleted, *hist.unchanged) if v is not None]


def _touched(session: Session) -> tuple[set[int], list, set[int]]:
    """(contact ids touched, new or moved objects to resolve after the flush, groups whose
    contacts all count differently now)."""
    ids: set[int] = set()
    pending: list = []  # objects whose contact id is known only after the flush
    groups: set[int] = set()
    for obj in session.new:
        if isinstance(obj, (Contact, ContactOfficer, ContactGroup)):
            pending.append(obj)
            if not isinstance(obj, Contact):  # a link added to an existing contact?
                parent = obj.__dict__.get("contact")
                ids.update(i for i in (obj.contact_id, getattr(parent, "id", None))
                           if i is not None)
    for obj in session.dirty:
        if isinstance(obj, Contact):
            if _changed(obj, _CONTACT_FIELDS):
                ids.add(obj.id)
        elif isinstance(obj, (ContactOfficer, ContactGroup)):
            if _changed(obj, [f for f in _LINK_FIELDS if f in inspect(obj).attrs]):
                ids.update(_old_values(obj, "contact_id"))
                pending.append(obj)
        elif isinstance(obj, CommunityGroup) and obj.id is not None and _changed(obj, ("stance",)):
            groups.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Contact):
            ids.add(obj.id)
        elif isinstance(obj, (ContactOfficer, ContactGroup)):
            ids.update(_old_values(obj, "contact_id"))
        elif isinstance(obj, CommunityGroup):
            groups.add(obj.id)
    return ids, pending, groups


def before_flush(session: Session, flush_context, _instances) -> None:
    ids, pending, groups = _touched(session)
    if not (ids or pending or groups):
        return
    conn = session.connection()
    if groups:
        ids |= services.contacts_of_groups(conn, groups)
    old = services.contribution(conn, ids) if ids else services.Contribution()
    flush_context.attributes[_KEY] = (ids, pending, old)


def after_flush(session: Session, flush_context) -> None:
    state = flush_context.attributes.pop(_KEY, None)
    if state is None:
        return
    ids, pending, old = state
    if not ids and all(isinstance(o, Contact) for o in pending):
        return  # only new contacts whose links come in a later flush: nothing to count yet
    ids = set(ids)
    for obj in pending:
        ids.add(obj.id if isinstance(obj, Contact) else obj.contact_id)
    conn = session.connection()
    services.apply_change(conn, old, services.contribution(conn, ids, with_facts=True))


def register_listeners(app: Flask | None = None) -> None:
    """Listen on every ORM session (idempotent: tests build several apps)."""
    for name, fn in (("before_flush", before_flush), ("after_flush", after_flush)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
