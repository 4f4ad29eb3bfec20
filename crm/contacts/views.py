"""Contacts pages: log a contact (one phone screen), read it, edit its note, follow-ups.

Views only parse forms, call `crm.contacts.services` and pick the response; the request
boundary in crm.web commits (2xx/3xx) or rolls back (4xx), so a refused form writes nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import uuid4

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms import ValidationError as WtfValidationError
from wtforms.validators import Length, Optional

from crm.access import get_visible_or_404, roles_required, stakeholder_scope
from crm.contacts import services
from crm.contacts.forms import ContactEditForm, ContactForm, DoneForm
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CommunityGroup, Contact, RelationshipStageChange, Stakeholder
from crm.stakeholders.services import groups_of, visible_group_ids
from crm.timezones import local_now, local_today
from crm.vocab import TECHNIQUES
from crm.web.forms import apply_errors, client_ip, current_actor, versioned_edit

bp = Blueprint("contacts", __name__, url_prefix="/contacts")


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") \
            and urlsplit(target).netloc == "":
        return target
    return default


# ---- log a contact ----------------------------------------------------------------------------


def _render_new(form: ContactForm, actor, status: int):
    beats = services.beat_choices(actor)
    groups = services.offered_groups(actor)
    chosen_group_ids = [g for g in (form.group_ids.data or []) if isinstance(g, int)]
    missing = [g for g in chosen_group_ids if g not in {x.id for x in groups}]
    if missing:
        extra = visible_group_ids(actor, missing)
        groups += list(db.session.scalars(sa.select(CommunityGroup)
                                          .where(CommunityGroup.id.in_(extra))))
    chosen_ids = [s for s in (form.stakeholder_ids.data or []) if isinstance(s, int)]
    chosen = []
    if chosen_ids:
        found = {s.id: s for s in db.session.scalars(sa.select(Stakeholder).where(
            Stakeholder.id.in_(chosen_ids), stakeholder_scope(actor)))}
        memberships = groups_of(actor, list(found))
        chosen = [{"id": i, "name": found[i].name,
                   "groups": memberships.get(i, [])} for i in chosen_ids if i in found]
    beats += [b for b in services.candidate_beats(chosen_group_ids, chosen_ids) if b not in beats]
    return render_template(
        "contacts/new.html", form=form, beats=beats, groups=groups, chosen=chosen,
        group_beats=services.group_beat_codes([g.id for g in groups]),
        default_beat=services.default_beat(actor),
        own_beat_codes=[b.code for b in actor.current_beats()],
        chosen_group_ids=set(chosen_group_ids), co_officers=services.co_officer_choices(actor),
        techniques=TECHNIQUES, note_warning=services.NOTE_WARNING,
        has_errors=status >= 400), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.LOG_ROLES)
def new():
    actor = current_actor()
    form = ContactForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid4().hex
        # Local now, as on the officer's phone; stored as UTC by form.service_data().
        form.occurred_at.data = local_now().replace(tzinfo=None, second=0, microsecond=0)
        form.beat_id.data = None  # decided by the groups and people chosen (see pick_beat)
        return _render_new(form, actor, 200)
    if not form.validate():
        return _render_new(form, actor, 422)
    try:
        contact, created = services.log_contact(actor, form.service_data(),
                                                form.idempotency_key.data, ip=client_ip())
    except ValidationError as e:
        apply_errors(form, e)
        return _render_new(form, actor, 422)
    flash("Contact saved." if created else "Already saved: this is the contact you sent.",
          "info")
    return redirect(url_for(".detail", contact_id=contact.id), 303)


# ---- read and edit ----------------------------------------------------------------------------


def _visible_contact(contact_id: int) -> Contact:
    user = current_actor()
    if not user.has_role(*services.LOG_ROLES):
        abort(404)
    return get_visible_or_404(Contact, contact_id, user)


@bp.route("/<id:contact_id>")
@login_required
def detail(contact_id: int):
    actor = current_actor()
    c = _visible_contact(contact_id)
    visible = services.visible_stakeholder_ids(actor, [link.stakeholder_id
                                                       for link in c.stakeholder_links])
    stage_changes = list(db.session.scalars(
        sa.select(RelationshipStageChange).where(RelationshipStageChange.contact_id == c.id)))
    return render_template("contacts/detail.html", c=c, visible=visible,
                           can_edit=services.can_edit(actor, c), stage_changes=stage_changes,
                           done_form=DoneForm())


CONTACT_LABELS = {"place": "Place", "purpose": "Purpose", "note": "Note",
                  "follow_up_on": "Follow up on", "follow_up_note": "Follow-up note"}


@bp.route("/<id:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    actor = current_actor()
    c = _visible_contact(contact_id)
    if not services.can_edit(actor, c):
        abort(403)
    return versioned_edit(
        ContactEditForm(), c, typed=lambda form: form.service_data(),
        save=lambda c, values, version: services.update_contact(
            actor, c, values, version_id=version, ip=client_ip()),
        reload=lambda: _visible_contact(contact_id), snapshot=services.snapshot,
        labels=CONTACT_LABELS,
        render=lambda c, form, conflict: render_template("contacts/edit.html", form=form, c=c,
                                                         conflict=conflict),
        done=lambda c: redirect(url_for(".detail", contact_id=c.id), 303),
        saved_message="Contact updated.")


# ---- follow-ups -------------------------------------------------------------------------------


@bp.route("/follow-ups")
@roles_required(*services.LOG_ROLES)
def follow_ups():
    actor = current_actor()
    code = (request.args.get("beat") or "").strip()
    beat = None
    if code:
        beat = services.follow_up_beat(actor, code)
        if beat is None:
            abort(404)
    lists = services.follow_ups(actor, beat_id=beat.id if beat else None)
    from crm.assignments.services import my_open
    return render_template("contacts/follow_ups.html", lists=lists, beat=beat,
                           assignments=my_open(actor) if beat is None else [],
                           beats=services.user_beats(actor), done_form=DoneForm(),
                           today=local_today(), here=request.full_path.rstrip("?"))


# ---- my contacts ------------------------------------------------------------------------------


MINE_PAGE_SIZE = 25


class MineForm(FlaskForm):
    """Filters of "My contacts", read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    group = SelectField("Group", validators=[Optional()])
    person = StringField("Person", validators=[Optional(), Length(max=100)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise WtfValidationError("must be on or after the From date")


def _my_groups(actor) -> list[tuple[int, str]]:
    """Groups the actor had contacts with and may still see, by name (the group filter)."""
    from crm.access import group_ids_select
    from crm.models import ContactGroup, ContactOfficer
    q = (sa.select(CommunityGroup.id, CommunityGroup.name).distinct()
         .join(ContactGroup, ContactGroup.group_id == CommunityGroup.id)
         .join(ContactOfficer, ContactOfficer.contact_id == ContactGroup.contact_id)
         .where(ContactOfficer.user_id == actor.id).order_by(CommunityGroup.name).limit(500))
    visible = group_ids_select(actor)
    if visible is not None:
        q = q.where(CommunityGroup.id.in_(visible))
    return [tuple(r) for r in db.session.execute(q)]


@bp.route("/mine")
@roles_required(*services.LOG_ROLES)
def mine():
    """The contacts the signed-in user took part in, newest first, filtered and paged."""
    from crm.audit.services import record_event
    from crm.models import ContactStakeholder
    from crm.stakeholders.services import search_stakeholders
    from crm.web.paging import paginate

    actor = current_actor()
    form = MineForm(formdata=request.args)
    groups = _my_groups(actor)
    form.group.choices = [("", "All groups")] + [(str(i), n) for i, n in groups]
    ctx = {"form": form, "pages": None, "contacts": [], "visible": set(), "people": None,
           "args": {k: v for k, v in request.args.items() if k != "page" and v}}
    if not form.validate():
        return render_template("contacts/mine.html", **ctx), 422
    q = services.contacts_query(actor, officer_id=actor.id,
                                group_id=int(form.group.data) if form.group.data else None,
                                date_from=form.date_from.data, date_to=form.date_to.data)
    person = (form.person.data or "").strip()
    if person:
        ctx["people"] = [h.stakeholder for h in search_stakeholders(actor, person, limit=50)]
        q = q.where(Contact.id.in_(sa.select(ContactStakeholder.contact_id).where(
            ContactStakeholder.stakeholder_id.in_([p.id for p in ctx["people"]] or [0]))))
    pages = paginate(q, per_page=MINE_PAGE_SIZE)
    contacts = list(pages.items)
    visible = services.visible_stakeholder_ids(
        actor, [link.stakeholder_id for c in contacts for link in c.stakeholder_links])
    if visible:
        record_event(actor, "stakeholder.list", object_type="stakeholders", ip=client_ip(),
                     detail={"ids": sorted(visible), "via": "contacts.mine"})
    ctx.update(pages=pages, contacts=contacts, visible=visible)
    return render_template("contacts/mine.html", **ctx)


@bp.route("/<id:contact_id>/follow-up/done", methods=["POST"])
@roles_required(*services.LOG_ROLES)
def follow_up_done(contact_id: int):
    c = _visible_contact(contact_id)
    form = DoneForm()
    if not form.validate():
        abort(400)
    try:
        services.mark_follow_up_done(current_actor(), c, ip=client_ip())
    except ValidationError as e:
        flash("; ".join(m for msgs in e.errors.values() for m in msgs), "error")
        return redirect(url_for(".detail", contact_id=c.id), 303)
    flash(f"Follow-up of {c.follow_up_on.isoformat()} marked done.", "info")
    return redirect(_safe_next(request.form.get("next"), url_for(".follow_ups")), 303)
