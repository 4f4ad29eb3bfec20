"""One search over people, groups and cases, in the user's scope (the header's search box).

Scope is `crm.access`'s need-to-know: groups by `group_scope`, cases by `case_scope`, people by
`stakeholder_scope` (through `crm.stakeholders.services.search_stakeholders`, typo-tolerant,
live people only). Analysts search nothing: they see no records and no names.

Ranking, best first:

1. groups of the user's own beats (an officer's current beats, a supervisor's district, a
   unit member's assigned groups),
2. members of those groups, and cases on the user's own beats or that they lead or take part in,
3. everything else the user may see,

each tier by how well the text matches, then by name. The names on the page shown are
audited as one `stakeholder.list` event (like the people list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from crm.access import beat_ids_select, case_scope, group_scope
from crm.audit.services import record_event
from crm.extensions import db
from crm.models import (
    Beat,
    CaseParticipant,
    CommunityGroup,
    GroupAssignment,
    Membership,
    ProblemCase,
    User,
    case_beats,
    group_beats,
)
from crm.stakeholders.services import (
    name_similarity,
    normalise_name,
    search_stakeholders,
)
from crm.text import like_escape
from crm.vocab import STAFF_ROLES
from crm.web.paging import Page

SEARCH_ROLES = STAFF_ROLES
MIN_QUERY, MAX_QUERY = 2, 100
CANDIDATES = 200  # per kind; a search is for finding, not for listing everything
PER_PAGE = 20
KIND_ORDER = {"group": 0, "person": 1, "case": 2}
# Typo-tolerant group names: read every name in scope when there are at most TYPO_SCAN.
TYPO_SCAN, TYPO_MIN_LETTERS, TYPO_SIMILARITY = 3000, 4, 0.75


class QueryError(ValueError):
    """The query text is too short or too long (the message names the field)."""


@dataclass
class Hit:
    kind: str  # "group", "person" or "case"
    id: int
    title: str
    detail: str
    own: bool  # of the user's own beats (see the module docstring)
    score: float  # 0..1, how well the text matches

    @property
    def tier(self) -> int:
        if self.own:
            return 0 if self.kind == "group" else 1
        return 2

    def to_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "title": self.title, "detail": self.detail,
                "own_beat": self.own, "score": round(self.score, 2)}


def clean_query(q: str | None) -> str:
    """The query, trimmed; QueryError naming the field when it cannot be searched."""
    q = " ".join((q or "").split())
    if len(q) < MIN_QUERY:
        raise QueryError(f"q: type at least {MIN_QUERY} characters to search.")
    if len(q) > MAX_QUERY:
        raise QueryError(f"q: at most {MAX_QUERY} characters (now {len(q)}).")
    return q


def own_group_ids_select(user: User) -> sa.Select:
    """Groups of the user's own beats, and a unit member's assigned groups."""
    own = sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids_select(user)))
    if user.role == "unit":
        return sa.union(own, sa.select(GroupAssignment.group_id)
                        .where(GroupAssignment.user_id == user.id))
    return own


def _text_score(name: str, q: str) -> float:
    """1 for the whole name, .9 a start, .8 a word start, .7 anywhere (case and accents ignored)."""
    n, w = normalise_name(name), normalise_name(q)
    if not w:
        return 0.5
    if n == w:
        return 1.0
    if n.startswith(w):
        return 0.9
    if f" {w}" in f" {n}":
        return 0.8
    return 0.7


def _words_like(column, q: str) -> list[sa.ColumnElement[bool]]:
    """Every word of the query somewhere in the column (LIKE ignores ASCII case on SQLite;
    lower() on both sides elsewhere)."""
    words = q.lower().split()[:6]
    col = sa.func.lower(column)
    return [col.like(f"%{like_escape(w)}%", escape="\\") for w in words]


def _beat_codes(table, key, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if ids:
        for gid, code in db.session.execute(
                sa.select(key, Beat.code).join(Beat, Beat.id == table.c.beat_id)
                .where(key.in_(ids)).order_by(Beat.code)):
            out.setdefault(gid, []).append(code)
    return out


def _typo_matches(user: User, q: str, found: set[int]) -> list[tuple]:
    """Groups in scope whose name is close to the query though not every word is in it
    ("Mapel" for "Maple Street Tenants"), when the scope is small enough to read every name."""
    if len(re.sub(r"[^a-z]", "", normalise_name(q))) < TYPO_MIN_LETTERS:
        return []
    cols = (CommunityGroup.id, CommunityGroup.name, CommunityGroup.kind, CommunityGroup.stance)
    rows = db.session.execute(sa.select(*cols).where(group_scope(user))
                              .order_by(CommunityGroup.id).limit(TYPO_SCAN + 1)).all()
    if len(rows) > TYPO_SCAN:
        return []
    out = []
    for r in rows:
        if r.id not in found:
            sim = name_similarity(q, r.name)
            if sim >= TYPO_SIMILARITY:
                out.append((r, round(sim * 0.85, 4)))  # below every exact word match
    return out


def search_groups(user: User, q: str) -> list[Hit]:
    rows = db.session.execute(
        sa.select(CommunityGroup.id, CommunityGroup.name, CommunityGroup.kind,
                  CommunityGroup.stance)
        .where(group_scope(user), *_words_like(CommunityGroup.name, q))
        .order_by(CommunityGroup.name).limit(CANDIDATES)).all()
    scored = [(r, _text_score(r.name, q)) for r in rows]
    if len(rows) < CANDIDATES:
        scored += _typo_matches(user, q, {r.id for r in rows})
    rows = [r for r, _ in scored]
    ids = [r.id for r in rows]
    own = set(db.session.scalars(sa.select(CommunityGroup.id).where(
        CommunityGroup.id.in_(ids), CommunityGroup.id.in_(own_group_ids_select(user))))) if ids else set()
    beats = _beat_codes(group_beats, group_beats.c.group_id, ids)
    return [Hit("group", r.id, r.name,
                " · ".join(x for x in (r.kind.capitalize(), f"stance {r.stance}",
                                       ("beat " + ", ".join(beats[r.id])) if r.id in beats else "")
                           if x),
                r.id in own, score) for r, score in scored]


def search_people(user: User, q: str) -> list[Hit]:
    hits = search_stakeholders(user, q, limit=CANDIDATES)
    ids = [h.stakeholder.id for h in hits]
    own = set(db.session.scalars(sa.select(Membership.stakeholder_id).where(
        Membership.stakeholder_id.in_(ids),
        Membership.group_id.in_(own_group_ids_select(user))))) if ids else set()
    out = []
    for h in hits:
        groups = ", ".join(g["name"] for g in h.groups[:3])
        more = len(h.groups) - 3
        detail = (groups + (f" and {more} more" if more > 0 else "")) or "no group you can see"
        if h.matched != "name":
            detail = f"matched by {h.matched} · {detail}"
        out.append(Hit("person", h.stakeholder.id, h.stakeholder.name, detail,
                       h.stakeholder.id in own, h.score))
    return out


def _own_cases(user: User, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    mine = sa.or_(ProblemCase.lead_id == user.id,
                  ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                                     .where(CaseParticipant.user_id == user.id)),
                  ProblemCase.id.in_(sa.select(case_beats.c.case_id)
                                     .where(case_beats.c.beat_id.in_(beat_ids_select(user)))))
    return set(db.session.scalars(sa.select(ProblemCase.id).where(ProblemCase.id.in_(ids), mine)))


def search_cases(user: User, q: str) -> list[Hit]:
    in_title = sa.and_(*_words_like(ProblemCase.title, q))
    in_text = sa.and_(*_words_like(ProblemCase.problem_statement, q))
    rows = db.session.execute(
        sa.select(ProblemCase.id, ProblemCase.title, ProblemCase.stage,
                  sa.case((in_title, 1), else_=0).label("in_title"))
        .where(case_scope(user), sa.or_(in_title, in_text))
        .order_by(sa.desc("in_title"), ProblemCase.opened_on.desc(), ProblemCase.id.desc())
        .limit(CANDIDATES)).all()
    ids = [r.id for r in rows]
    own = _own_cases(user, ids)
    beats = _beat_codes(case_beats, case_beats.c.case_id, ids)
    return [Hit("case", r.id, r.title,
                f"{r.stage.capitalize()}" + (f" · beat {', '.join(beats[r.id])}" if r.id in beats else ""),
                r.id in own, _text_score(r.title, q) if r.in_title else 0.6) for r in rows]


def rank(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (h.tier, -h.score, KIND_ORDER[h.kind],
                                       h.title.lower(), h.id))


def search(actor: User, q: str, *, page: int = 1, per_page: int = PER_PAGE,
           ip: str = "") -> Page:
    """One page of ranked hits for `q` (already checked by `clean_query`) in the actor's scope.

    The people shown on the page are audited (`stakeholder.list`, their ids)."""
    if actor.role not in SEARCH_ROLES:
        return Page([], 0, page, per_page)
    hits = rank(search_groups(actor, q) + search_people(actor, q) + search_cases(actor, q))
    shown = hits[(page - 1) * per_page: page * per_page]
    people = [h.id for h in shown if h.kind == "person"]
    if people:
        record_event(actor, "stakeholder.list", object_type="stakeholders", ip=ip,
                     detail={"ids": people, "query_length": len(q), "via": "search"})
    return Page(shown, len(hits), page, per_page)
