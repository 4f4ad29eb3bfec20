"""Offline mode: /sw.js (root scope), the manifest, the field pages and the queue endpoints.

The send queue (static/offline.js) posts each kept item once per attempt to `send_contact` /
`send_done` with a fresh CSRF token from `token`; the idempotency key makes a repeat harmless.
Answers are JSON the queue can act on: 200/201 sent, 422 the server's message (the item waits
for the officer), 401 signed out (sign in, then it sends).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from crm.access import beat_ids_select, get_visible_or_404, roles_required
from crm.audit.services import record_event
from crm.contacts import services as contacts
from crm.contacts.forms import ContactForm
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import Beat, CommunityGroup, Contact, ContactGroup, Membership, Stakeholder
from crm.web.forms import client_ip, current_actor

bp = Blueprint("offline", __name__)

# GET pages a phone may keep for offline use. None of them shows a phone number, an email or
# a contact's note: the contact form (group names, beats, colleagues), the follow-ups (dates,
# follow-up task, group names), the field beat page and the picking list (group names and
# first names), and the queue page (rendered on the device from its own queue).
CACHEABLE = frozenset({"contacts.new", "contacts.follow_ups", "offline.beat", "offline.pick",
                       "offline.queue", "offline.about"})
# What the service worker fetches once the app is opened online ("warming"), so the field
# pages open offline even if the officer never opened them.
WARM_PAGES = ("contacts.new", "contacts.follow_ups", "offline.beat", "offline.pick",
              "offline.queue", "offline.about")
WARM_STATIC = ("app.css", "contacts.css", "network.css", "offline.css", "header-search.css",
               "confirm.js", "char-counter.js", "error-summary.js", "search.js", "beat-preview.js",
               "contacts.js", "offline.js", "icons/icon.svg", "icons/icon-192.png")
FIELD_ROLES = contacts.LOG_ROLES


def enabled() -> bool:
    return bool(current_app.config.get("OFFLINE_MODE_ENABLED", True))


@bp.app_context_processor
def offline_template_globals():
    def offline_config() -> dict | None:
        """What base.html hands static/offline.js; None when offline mode is off."""
        if not enabled():
            return None
        signed_in = current_user.is_authenticated and current_user.has_role(*FIELD_ROLES)
        return {
            "sw": url_for("offline.service_worker"),
            "token": url_for("offline.token"),
            "queue": url_for("offline.queue"),
            "user": str(current_user.id) if signed_in else "",
            "warm": " ".join([url_for(e) for e in WARM_PAGES] +
                             [url_for("static", filename=f) for f in WARM_STATIC])
            if signed_in else "",
        }
    return {"offline_config": offline_config}


@bp.after_app_request
def mark_cacheable(response):
    """Say which answers a phone may keep; on sign-out tell the browser to forget the site."""
    if not enabled():
        return response
    if (request.method == "GET" and response.status_code == 200 and not response.direct_passthrough
            and request.endpoint in CACHEABLE and current_user.is_authenticated):
        response.headers["X-Offline-Cacheable"] = "1"
        response.headers["X-Offline-Fetched-At"] = datetime.now().astimezone().isoformat()
    if request.endpoint == "auth.logout" and request.method == "POST":
        # static/offline.js clears the queue and cache first; this covers a browser without it.
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
    elif "_user_id" in session and not current_user.is_authenticated:
        # The cookie names a user whose sessions were ended (an administrator, a password
        # reset, a lock): the device forgets what it keeps.
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# ---- the installable app ----------------------------------------------------------------------


@bp.route("/sw.js")
def service_worker():
    """The service worker, from the root so its scope covers the whole app. With offline mode
    off, a worker that unregisters itself and empties its caches."""
    name = "sw.js" if enabled() else "offline-sw-off.js"
    response = send_from_directory(current_app.static_folder, name, max_age=0)
    response.direct_passthrough = False
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    response = send_from_directory(current_app.static_folder, "manifest.webmanifest", max_age=0)
    response.headers["Content-Type"] = "application/manifest+json"
    return response


# ---- pages a phone keeps ------------------------------------------------------------------------


def _first_name(name: str | None) -> str:
    return (name or "").split()[0] if (name or "").strip() else "a member"


@bp.app_template_filter("first_name")
def first_name(name: str | None) -> str:
    """A person's first name, for the pages a phone keeps (issue 16: first names only)."""
    return _first_name(name)


@bp.app_template_global("intro_in_first_names")
def intro_in_first_names(assignment) -> dict:
    """An assignment's warm introduction with its people by first name only, for the
    follow-ups (a page a phone keeps): `person`, the one to ask (introductions), and `chain`,
    the chain in words. Names come only for people the signed-in user may see (audited)."""
    from crm.assignments.services import chain_people, chain_text
    from crm.network.pages import visible_names

    actor = current_actor()
    chain = assignment.chain or {}
    wanted = chain_people([chain]) | ({assignment.stakeholder_id} if assignment.stakeholder_id else set())
    names = {sid: _first_name(n) for sid, n in
             visible_names(actor, wanted, ip=client_ip()).items()} if wanted else {}
    return {"person": names.get(assignment.stakeholder_id) or "the first person",
            "chain": chain_text(chain, names, actor) if chain else ""}


def _my_beats(user) -> list[Beat]:
    return list(db.session.scalars(sa.select(Beat).where(Beat.id.in_(beat_ids_select(user)))
                                   .order_by(Beat.code)))


def _beat_groups(beat_ids: list[int]) -> list[CommunityGroup]:
    from crm.groups.models import group_beats

    if not beat_ids:
        return []
    return list(db.session.scalars(
        sa.select(CommunityGroup).where(CommunityGroup.id.in_(
            sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids))))
        .order_by(CommunityGroup.name)))


def _last_contacts(group_ids: list[int]) -> dict[int, datetime]:
    if not group_ids:
        return {}
    return dict(db.session.execute(
        sa.select(ContactGroup.group_id, sa.func.max(Contact.occurred_at))
        .join(Contact, Contact.id == ContactGroup.contact_id)
        .where(ContactGroup.group_id.in_(group_ids)).group_by(ContactGroup.group_id)).all())


def _first_names(actor, group_ids: list[int], *, via: str) -> dict[int, list[dict]]:
    """First names (and ids, for picking) of the live members of `group_ids`, one audit event."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.group_id, Stakeholder.id, Stakeholder.name)
        .join(Stakeholder, Stakeholder.id == Membership.stakeholder_id)
        .where(Membership.group_id.in_(group_ids), Stakeholder.live())
        .order_by(Stakeholder.name)).all()
    out: dict[int, list[dict]] = {}
    for gid, sid, name in rows:
        out.setdefault(gid, []).append({"id": sid, "first_name": _first_name(name)})
    ids = sorted({sid for _, sid, _ in rows})
    if ids:
        record_event(actor, "stakeholder.read", object_type="stakeholders",
                     object_id=",".join(map(str, ids))[:200], ip=client_ip(),
                     detail={"ids": ids, "fields": ["first_name"], "via": via})
    return out


def _intro_chains(user, flags: list[dict]) -> dict[int, list[dict]]:
    """The hard-to-engage groups' introduction chains, people by first name only."""
    from crm.network import pages

    found = pages.introductions_for(user, [f["group"]["id"] for f in flags])
    wanted = {s["id"] for chains in found.chains.values() for c in chains
              for s in c["steps"] if s["kind"] == "stakeholder"}
    names = pages.visible_names(user, wanted, ip=client_ip())
    out = {}
    for gid, chains in found.chains.items():
        out[gid] = []
        for c in chains:
            steps = []
            for s in c["steps"]:
                if s["kind"] == "officer":
                    steps.append("You" if s["id"] == user.id else (s.get("name") or "An officer"))
                elif s["kind"] == "stakeholder":
                    steps.append(_first_name(names.get(s["id"])))
                else:
                    steps.append(s.get("name") or f"Group #{s['id']}")
            out[gid].append({"steps": steps, "hops": c["hops"], "stage": c["stage"],
                             "mine": c["officer"]["id"] == user.id})
    return out


@bp.route("/offline/beat")
@roles_required(*FIELD_ROLES)
def beat():
    """My beat for the field: groups, their stance and last contact, the hard-to-engage groups
    and who could introduce me. No personal data beyond first names, so a phone may keep it."""
    from crm.network.services import compute

    user = current_actor()
    beats = _my_beats(user)
    groups = _beat_groups([b.id for b in beats])
    last = _last_contacts([g.id for g in groups])
    flags = compute("hard-to-engage", beat_ids=[b.id for b in beats], days=90)["groups"] \
        if beats else []
    intros = _intro_chains(user, flags) if flags else {}
    return render_template("offline/beat.html", beats=beats, groups=groups, last=last,
                           flags=flags[:10], intros=intros)


@bp.route("/offline/pick.json")
@roles_required(*FIELD_ROLES)
def pick():
    """For picking offline: my beats' groups and their members' first names, nothing else."""
    user = current_actor()
    groups = _beat_groups([b.id for b in _my_beats(user)])
    members = _first_names(user, [g.id for g in groups], via="offline.pick")
    return jsonify(groups=[{"id": g.id, "name": g.name, "members": members.get(g.id, [])}
                           for g in groups])


@bp.route("/offline/queue")
@roles_required(*FIELD_ROLES)
def queue():
    """The items kept on this phone (rendered by static/offline.js from the device's queue)."""
    return render_template("offline/queue.html")


@bp.route("/offline/about")
def about():
    """What offline mode keeps on a phone, and for how long."""
    return render_template("offline/about.html", enabled=enabled(), cacheable=CACHEABLE)


# ---- the queue's endpoints ----------------------------------------------------------------------


def _signed_out():
    return jsonify(code=401, status="Unauthorized",
                   message="You are signed out. Sign in, then your kept items send."), 401


@bp.route("/offline/token")
def token():
    """A fresh CSRF token for the queue (a cached page's token may be from an old session)."""
    if not current_user.is_authenticated:
        return _signed_out()
    return jsonify(csrf_token=generate_csrf(), user=str(current_user.id))


def _messages(errors: dict) -> str:
    return "; ".join(f"{field}: {m}" for field, msgs in errors.items()
                     for m in (msgs if isinstance(msgs, list) else [msgs]))


@bp.route("/offline/send/contact", methods=["POST"])
def send_contact():
    """The contact form's fields, as the form posts them; JSON back."""
    if not current_user.is_authenticated:
        return _signed_out()
    actor = current_actor()
    if not actor.has_role(*FIELD_ROLES):
        return jsonify(code=403, status="Forbidden", message="Your role may not log contacts."), 403
    form = ContactForm()
    if not form.validate():
        errors = {k: v for k, v in form.errors.items() if k != "csrf_token"}
        return jsonify(code=422, status="ValidationError", errors=errors,
                       message="Not saved: " + _messages(errors)), 422
    try:
        contact, created = contacts.log_contact(actor, form.service_data(),
                                                form.idempotency_key.data, ip=client_ip())
    except ValidationError as e:
        db.session.rollback()
        return jsonify(code=422, status="ValidationError", errors=e.errors,
                       message="Not saved: " + _messages(e.errors)), 422
    return jsonify(id=contact.id, created=created,
                   url=url_for("contacts.detail", contact_id=contact.id)), (201 if created else 200)


@bp.route("/offline/send/done/<id:contact_id>", methods=["POST"])
def send_done(contact_id: int):
    """Mark a follow-up done; doing it twice changes nothing (the service's own guarantee)."""
    if not current_user.is_authenticated:
        return _signed_out()
    actor = current_actor()
    if not actor.has_role(*FIELD_ROLES):
        return jsonify(code=403, status="Forbidden", message="Your role may not do this."), 403
    c = get_visible_or_404(Contact, contact_id, actor)
    try:
        contacts.mark_follow_up_done(actor, c, ip=client_ip())
    except ValidationError as e:
        db.session.rollback()
        return jsonify(code=422, status="ValidationError", errors=e.errors,
                       message="Not marked done: " + _messages(e.errors)), 422
    return jsonify(id=c.id, done=True, url=url_for("contacts.detail", contact_id=c.id)), 200
