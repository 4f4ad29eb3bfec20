"""Assignment pages: assign a visit (supervisors), list them, cancel one, ask for an introduction.

Views parse the form and call `crm.assignments.services`; the request boundary commits.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from crm.access import roles_required
from crm.assignments import services
from crm.assignments.forms import AssignForm, ButtonForm, IntroductionForm
from crm.errors import ValidationError
from crm.extensions import db
from crm.timezones import local_today
from crm.vocab import STAFF_ROLES
from crm.web.forms import apply_errors, client_ip, current_actor

bp = Blueprint("assignments", __name__, url_prefix="/assignments")

DEFAULT_DUE_DAYS = 14


@bp.app_template_global("assignment_chain")
def assignment_chain(chain, names=None) -> str:
    """A stored chain in words for the signed-in user (names: the people they may see)."""
    return services.chain_text(chain, names or {}, current_actor())


def _names(actor, chains) -> dict[int, str]:
    """Names of the chains' people the actor may see (audited as stakeholder.read)."""
    from crm.network.pages import visible_names
    return visible_names(actor, services.chain_people(chains), ip=client_ip())


def _render_new(form: AssignForm, group, actor, status: int):
    from crm.network import results
    # The best stored chain; the assigned officer's own best is attached when they have one.
    chain = ((results.latest("introductions", group_id=group.id).document or {})
             .get("chains") or [None])[0]
    names = _names(actor, [chain]) if chain else {}
    existing = services.open_by_group(actor, [group.id]).get(group.id, [])
    return render_template("assignments/new.html", form=form, group=group, chain=chain,
                           chain_text=services.chain_text(chain, names, actor) if chain else "",
                           existing=existing, today=local_today()), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.ASSIGN_ROLES)
def new():
    actor = current_actor()
    form = AssignForm()
    group_id = request.args.get("group", type=int) or request.form.get("group_id", type=int)
    group = services.group_for_assignment(actor, group_id) if group_id and group_id < 2**31 else None
    if group is None:
        abort(404, description="No such group in your district.")
    officers = services.assignable_officers(actor)
    form.officer_id.choices = [(0, "Choose an officer…")] + [(u.id, u.display_name)
                                                              for u in officers]
    if request.method == "GET":
        form.group_id.data = str(group.id)
        form.due_on.data = local_today() + timedelta(days=DEFAULT_DUE_DAYS)
        return _render_new(form, group, actor, 200)
    if not form.validate():
        return _render_new(form, group, actor, 422)
    try:
        a = services.assign_visit(actor, {"group_id": group.id, "officer_id": form.officer_id.data,
                                          "due_on": form.due_on.data, "note": form.note.data},
                                  ip=client_ip())
    except ValidationError as e:
        apply_errors(form, e)
        return _render_new(form, group, actor, 422)
    flash(f"Visit to {group.name} assigned to {a.officer.display_name}, due "
          f"{a.due_on.isoformat()}.", "success")
    back = request.form.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back, 303)
    return redirect(url_for(".index"), 303)


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index():
    actor = current_actor()
    show = request.args.get("show", "open")
    status = None if show == "all" else "open"
    rows = list(db.session.scalars(services.assignments_query(actor, status=status).limit(300)))
    return render_template("assignments/index.html", assignments=rows, show=show,
                           names=_names(actor, [a.chain for a in rows]), today=local_today(),
                           button=ButtonForm())


@bp.route("/<id:assignment_id>/cancel", methods=["POST"])
@roles_required(*STAFF_ROLES)
def cancel(assignment_id: int):
    actor = current_actor()
    a = services.get_visible(actor, assignment_id)
    if a is None:
        abort(404)
    if not ButtonForm().validate():
        abort(400)
    try:
        services.cancel_assignment(actor, a, ip=client_ip())
    except ValidationError as e:
        flash("; ".join(m for msgs in e.errors.values() for m in msgs), "error")
        return redirect(url_for(".index"), 303)
    flash(f"Assignment for {a.group.name} cancelled.", "info")
    return redirect(url_for(".index"), 303)


@bp.route("/introduction", methods=["POST"])
@login_required
@roles_required(*STAFF_ROLES)
def ask_introduction():
    """One tap on a warm-introduction chain of the my-beat page."""
    from crm.network.pages import introductions_for
    actor = current_actor()
    form = IntroductionForm()
    if not form.validate():
        abort(400, description="The introduction to ask for was not understood; reload the page.")
    gid, person = form.group_id.data, form.stakeholder_id.data
    chains = introductions_for(actor, [gid]).chains.get(gid, [])
    chain = next((c for c in chains if (c.get("officer") or {}).get("id") == actor.id
                  and services.first_person(c) == person), None)
    if chain is None:
        abort(404, description="That introduction is not one of yours (any more).")
    names = _names(actor, [chain])
    name = names.get(person, "the first person")
    target = chain["steps"][-1].get("name") or "the group"
    text = (f"Ask {name} for an introduction to {target}. Chain: "
            f"{services.chain_text(chain, names, actor)}.")
    a = services.ask_for_introduction(actor, gid, chain, note=text, ip=client_ip())
    # The follow-ups page it lands on is one a phone keeps: the person by first name only.
    first = name.split()[0] if person in names and name.strip() else name
    flash(f"Follow-up added: ask {first} about {target} by {a.due_on.isoformat()}.", "success")
    return redirect(url_for("contacts.follow_ups"), 303)
