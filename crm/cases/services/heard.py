"""What we heard: contacts linked to a case's analysis. Only contacts the actor sees."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import contact_scope
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import Contact, ProblemCase, User, case_contacts
from crm.timezones import local_date

from .lookups import as_id
from .rules import require_edit
from .timeline import log


def visible_case_contacts(actor: User, case: ProblemCase) -> list[Contact]:
    return list(db.session.scalars(
        sa.select(Contact).join(case_contacts, case_contacts.c.contact_id == Contact.id)
        .where(case_contacts.c.case_id == case.id, contact_scope(actor))
        .options(selectinload(Contact.group_links))
        .order_by(Contact.occurred_at.desc())))


def link_contact(actor: User, case: ProblemCase, contact_id) -> Contact:
    require_edit(actor, case)
    ident = as_id(contact_id)
    contact = db.session.scalar(sa.select(Contact).where(
        Contact.id == ident, contact_scope(actor))) if ident else None
    if contact is None:
        raise ValidationError({"contact_id": "is not a contact you can see"})
    linked = db.session.scalar(sa.select(case_contacts.c.contact_id).where(
        case_contacts.c.case_id == case.id, case_contacts.c.contact_id == contact.id))
    if linked:
        raise ValidationError({"contact_id": "is already linked to this case"})
    db.session.execute(case_contacts.insert().values(case_id=case.id, contact_id=contact.id))
    db.session.expire(case, ["contacts"])
    log(actor, case, "contact.link",
        f"Linked what we heard: contact of {local_date(contact.occurred_at).isoformat()}",
        detail={"contact_id": contact.id})
    return contact


def unlink_contact(actor: User, case: ProblemCase, contact_id: int) -> None:
    require_edit(actor, case)
    ident = as_id(contact_id)
    visible = db.session.scalar(sa.select(Contact.id).where(
        Contact.id == ident, contact_scope(actor))) if ident else None
    if not visible:
        raise ValidationError({"contact_id": "is not linked to this case"})
    res = db.session.execute(case_contacts.delete().where(
        case_contacts.c.case_id == case.id, case_contacts.c.contact_id == ident))
    if res.rowcount == 0:
        raise ValidationError({"contact_id": "is not linked to this case"})
    db.session.expire(case, ["contacts"])
    log(actor, case, "contact.unlink", "Unlinked a contact from what we heard",
        detail={"contact_id": ident})
