"""The top navigation: which pages each role reaches, linked with `url_for`.

One table instead of hard-coded paths in `base.html`; the blueprint names are read from the
blueprints themselves so a renamed blueprint cannot leave a dead link behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from crm.vocab import ROLES
from crm.vocab import STAFF_ROLES as STAFF  # everyone who works with records


@dataclass(frozen=True)
class NavLink:
    text: str
    url: str
    css: str = ""


def _table() -> list[tuple[str, str, tuple[str, ...], str]]:
    from crm.network.views import bp as network

    an = network.name
    return [
        ("Log contact", "contacts.new", STAFF, "nav-cta"),
        ("Follow-ups", "contacts.follow_ups", STAFF, ""),
        ("My contacts", "contacts.mine", STAFF, ""),
        ("Groups", "groups.index", STAFF, ""),
        ("People", "stakeholders.index", STAFF, ""),
        ("Cases", "cases.index", STAFF, ""),
        ("My beat", f"{an}.my_beat", ("officer",), ""),
        ("Hand-overs", "handovers.index", ("officer", "supervisor", "admin"), ""),
        ("Coverage", f"{an}.coverage", ("supervisor", "admin", "unit"), ""),
        ("Assignments", "assignments.index", ("supervisor", "admin"), ""),
        ("Network", f"{an}.network", ("supervisor", "admin", "unit", "analyst"), ""),
        ("Import", "csvio.import_page", ("unit", "admin"), ""),
        ("Well-being", "wellbeing.index", ("officer", "unit", "supervisor"), ""),
        ("Review queue", "privacy.review", ("supervisor", "admin"), ""),
        ("Team well-being", "wellbeing.aggregate", ("supervisor", "admin"), ""),
        ("Evaluation", "evaluation.trials", ("unit", "admin", "supervisor", "analyst"), ""),
        ("My training", "evaluation.my_training", ("officer",), ""),
        ("Users", "admin_users.index", ("admin",), ""),
        ("Audit", "audit.search", ("admin",), ""),
        ("Help", "help.index", ROLES, ""),
    ]


def nav_links(user) -> list[NavLink]:
    """The links `user` sees in the top bar, in order (none when signed out)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [NavLink(text, url_for(endpoint), css)
            for text, endpoint, roles, css in _table() if user.role in roles]
