"""Contacts API: list (scoped, filterable), read, log (idempotent), edit (versioned), delete."""

from __future__ import annotations

import sqlalchemy as sa

from crm.access import get_visible_or_404, require_role
from crm.api.common import Blueprint, check_version, paginate
from crm.contacts import services
from crm.contacts.schemas import (
    ContactCreateSchema,
    ContactQuerySchema,
    ContactSchema,
    ContactUpdateSchema,
)
from crm.errors import ForbiddenError
from crm.extensions import db
from crm.models import Beat, Contact
from crm.web.forms import client_ip

blp = Blueprint("contacts_api", __name__, url_prefix="/api/v1/contacts", description="Contacts")


def _actor(*roles: str):
    return require_role(*(roles or services.LOG_ROLES))


def _contact(contact_id: int, user) -> Contact:
    return get_visible_or_404(Contact, contact_id, user)


@blp.route("/")
@blp.arguments(ContactQuerySchema, location="query")
@blp.response(200, ContactSchema(many=True))
@blp.paginate()
def list_contacts(args, pagination_parameters):
    """Contacts you may see, newest first."""
    user = _actor()
    beat_id = None
    if args.get("beat"):
        beat_id = db.session.scalar(sa.select(Beat.id).where(Beat.code == args["beat"])) or -1
    q = services.contacts_query(
        user, officer_id=args.get("officer"), beat_id=beat_id, group_id=args.get("group"),
        stakeholder_id=args.get("stakeholder"), date_from=args.get("date_from"),
        date_to=args.get("date_to"), initiated_by=args.get("initiated_by"))
    return paginate(q, pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(ContactCreateSchema)
@blp.response(201, ContactSchema)
@blp.alt_response(200, schema=ContactSchema,
                  description="The idempotency key was used before: the first contact.")
@blp.alt_response(422, description="Invalid input, one message list per field")
def create_contact(data):
    """Log a contact. Send an `idempotency_key`: a retry then never makes a second one."""
    user = _actor()
    key = data.pop("idempotency_key", None)
    contact, created = services.log_contact(user, data, key, ip=client_ip())
    return contact, (201 if created else 200)


@blp.route("/<id:contact_id>")
@blp.response(200, ContactSchema)
@blp.alt_response(404, description="Unknown, or not yours to see")
def get_contact(contact_id: int):
    return _contact(contact_id, _actor())


@blp.route("/<id:contact_id>", methods=["PATCH"])
@blp.arguments(ContactUpdateSchema)
@blp.response(200, ContactSchema)
@blp.alt_response(409, description="Someone else saved first; `current` holds their version")
def update_contact(data, contact_id: int):
    """Change the note, place, purpose or follow-up of a contact."""
    user = _actor()
    contact = _contact(contact_id, user)
    if not services.can_edit(user, contact):
        raise ForbiddenError("Only the contact's officers, supervisors and administrators edit it.")
    version = data.pop("version_id")
    check_version(contact, version, ContactSchema().dump)
    return services.update_contact(user, contact, data, version_id=version,
                                   ip=client_ip())


@blp.route("/<id:contact_id>", methods=["DELETE"])
@blp.response(204)
def delete_contact(contact_id: int):
    """Delete a contact (administrators only; recorded in the audit trail)."""
    user = _actor("admin")
    services.delete_contact(user, _contact(contact_id, user), ip=client_ip())
