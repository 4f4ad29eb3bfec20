"""Stakeholders: search, duplicate checks, create, edit, merge and erase.

Personal data: every function that shows phone, email or consent goes through
`read_stakeholder`, which writes the `stakeholder.read` audit event. Search and duplicate
checks only ever return names and the groups a person belongs to.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from crm.access import group_ids_select, stakeholder_scope
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (
    CaseAction,
    CaseIdea,
    CaseParticipant,
    CommunityGroup,
    ContactStakeholder,
    Membership,
    RelationshipStageChange,
    Stakeholder,
    User,
)
from crm.stakeholders.languages import column_matches, language_code
from crm.text import clean_text, like_escape
from crm.timezones import local_today
from crm.vocab import CONSENT_STATUSES, MEMBERSHIP_ROLES, STAFF_ROLES, STAGES, SUBJECT_CATEGORIES

MERGE_ROLES = ("unit", "supervisor", "admin")
EDIT_ROLES = STAFF_ROLES
DUPLICATE_RATIO = 0.8
SEARCH_CANDIDATES = 300  # rows the SQL prefilter hands to the Python ranking
PERSONAL_FIELDS = ("name", "phone", "email", "language", "interpreter_needed", "consent_status",
                   "consent_on", "consent_method", "consent_purpose", "data_subject_category",
                   "review_on")

# ---- normalising --------------------------------------------------------------------------


def normalise_name(name: str | None) -> str:
    """'  Zoë  O'Brien-Smith ' -> 'zoe obrien smith': lower case, no accents or punctuation."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’`]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def phone_digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def _digits_sql(column) -> sa.ColumnElement:
    """The column with the usual phone punctuation removed, on SQLite and PostgreSQL alike."""
    expr = column
    for ch in (" ", "-", "(", ")", ".", "+", "/"):
        expr = sa.func.replace(expr, ch, "")
    return expr



def name_similarity(a: str, b: str) -> float:
    """Similarity of two names in [0, 1], tolerant of typos and word order.

    The best of: difflib's ratio on the whole normalised names, and the mean over the words
    of `a` of their best ratio against a word of `b` (so "Smiht Jhon" still finds "John Smith").
    """
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    whole = difflib.SequenceMatcher(None, na, nb).ratio()
    words_a, words_b = na.split(), nb.split()
    per_word = [max(difflib.SequenceMatcher(None, w, v).ratio()
                    + (0.1 if v.startswith(w) and len(w) >= 2 else 0.0) for v in words_b)
                for w in words_a]
    return min(1.0, max(whole, sum(per_word) / len(per_word)))


# ---- visibility -----------------------------------------------------------------------------


def active_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    """Not erased, not merged away, and not past its retention review date."""
    today = today or local_today()
    return sa.and_(Stakeholder.live(),
                   sa.or_(Stakeholder.review_on.is_(None), Stakeholder.review_on >= today))


def visible_groups(user: User, limit: int = 500) -> list[CommunityGroup]:
    ids = group_ids_select(user)
    q = sa.select(CommunityGroup).order_by(CommunityGroup.name).limit(limit)
    if ids is not None:
        q = q.where(CommunityGroup.id.in_(ids))
    return list(db.session.scalars(q))


def visible_group_ids(user: User, candidates: list[int]) -> set[int]:
    """Which of `candidates` the user may see."""
    if not candidates:
        return set()
    q = sa.select(CommunityGroup.id).where(CommunityGroup.id.in_(candidates))
    ids = group_ids_select(user)
    if ids is not None:
        q = q.where(CommunityGroup.id.in_(ids))
    return set(db.session.scalars(q))


def groups_of(user: User, stakeholder_ids: list[int]) -> dict[int, list[dict]]:
    """Visible groups (id, name, role) of each stakeholder, in one query."""
    if not stakeholder_ids:
        return {}
    q = (sa.select(Membership.stakeholder_id, CommunityGroup.id, CommunityGroup.name,
                   Membership.role)
         .join(CommunityGroup, CommunityGroup.id == Membership.group_id)
         .where(Membership.stakeholder_id.in_(stakeholder_ids))
         .order_by(CommunityGroup.name))
    ids = group_ids_select(user)
    if ids is not None:
        q = q.where(CommunityGroup.id.in_(ids))
    out: dict[int, list[dict]] = {}
    for sid, gid, gname, role in db.session.execute(q):
        out.setdefault(sid, []).append({"id": gid, "name": gname, "role": role})
    return out


# ---- search ---------------------------------------------------------------------------------


@dataclass
class SearchHit:
    stakeholder: Stakeholder
    score: float
    matched: str  # "name", "phone" or "email"
    groups: list[dict] = field(default_factory=list)


def _name_patterns(query: str) -> list[tuple[list[str], int]]:
    """LIKE patterns (lower case) and weights that survive a typo in the query words.

    Per word: a name word starting with it (6), with its first three letters (4) or its first
    letter (2), then each letter pair or the same pair swapped (1), so "jhon" still shares
    "oh" with "john". The name starting with the first word adds 3.
    """
    out: list[tuple[list[str], int]] = []
    seen: set[str] = set()
    words = normalise_name(query).split()[:4]
    if words:
        out.append(([f"{like_escape(words[0])}%"], 3))  # the name starts with the first word
    for word in words:
        word = like_escape(word)
        out.append(([f"{word}%", f"% {word}%"], 6))  # a whole word starts with it
        if len(word) > 3:
            out.append(([f"{word[:3]}%", f"% {word[:3]}%"], 4))
        out.append(([f"{word[0]}%", f"% {word[0]}%"], 2))
        for i in range(len(word) - 1):
            pair = word[i:i + 2]
            if pair in seen or pair[::-1] in seen:
                continue
            seen.add(pair)
            out.append(([f"%{pair}%", f"%{pair[::-1]}%"], 1))
    return out[:24]


def _search_conditions(user: User, group_id: int | None, language: str | None) -> list:
    """The people a search may find: in scope, active, in the group and language asked."""
    conditions = [stakeholder_scope(user), active_condition()]
    if group_id is not None:
        conditions.append(Stakeholder.id.in_(
            sa.select(Membership.stakeholder_id).where(Membership.group_id == group_id)))
    if language:
        conditions.append(column_matches(Stakeholder.language, language))
    return conditions


def search_stakeholders(user: User, query: str, *, limit: int = 10,
                        group_id: int | None = None,
                        language: str | None = None) -> list[SearchHit]:
    """Find stakeholders the user may see by name, phone or email, tolerant of typos.

    SQL does the cheap part in one pass over the user's scope: it scores each name by the
    query's word starts and letter pairs (`_name_patterns`) and keeps the best
    `SEARCH_CANDIDATES` (id and name only); phone digits and email are matched as substrings.
    Python then ranks those candidates with `name_similarity` and loads the top `limit`.
    """
    query = (query or "").strip()
    if len(query) < 2:
        return []
    conditions = _search_conditions(user, group_id, language)
    digits = phone_digits(query)
    letters = re.sub(r"[^A-Za-z]", "", normalise_name(query))
    found: dict[int, tuple[float, str, str]] = {}  # id -> (score, matched, name)

    if len(digits) >= 3 and len(digits) >= len(query.replace(" ", "")) - 2:
        for sid, name in db.session.execute(
                sa.select(Stakeholder.id, Stakeholder.name).where(
                    *conditions, _digits_sql(Stakeholder.phone).like(f"%{digits}%"))
                .order_by(Stakeholder.name).limit(SEARCH_CANDIDATES)):
            found[sid] = (1.0, "phone", name)
    if "@" in query or ("." in query and " " not in query):
        like = f"%{like_escape(query.lower())}%"
        for sid, name in db.session.execute(
                sa.select(Stakeholder.id, Stakeholder.name).where(
                    *conditions, sa.func.lower(Stakeholder.email).like(like, escape="\\"))
                .order_by(Stakeholder.name).limit(SEARCH_CANDIDATES)):
            found.setdefault(sid, (0.99, "email", name))

    patterns = _name_patterns(query) if letters else []
    if patterns:
        # Lower-case each name once (OFFSET 0 keeps PostgreSQL from inlining lower() into
        # every LIKE; SQLite's LIKE ignores ASCII case already), then score it.
        inner = sa.select(Stakeholder.id, Stakeholder.name,
                          sa.func.lower(Stakeholder.name).label("ln")).where(*conditions)
        if db.session.get_bind().dialect.name == "postgresql":
            inner = inner.offset(0)
        inner = inner.subquery("candidates")

        def like(pattern):
            return inner.c.ln.like(pattern, escape="\\")

        score = sa.case((like(f"%{like_escape(query.lower())}%"), 100), else_=0)
        for likes, weight in patterns:
            score = score + sa.case((sa.or_(*(like(p) for p in likes)), weight), else_=0)
        # ORDER BY the score with a LIMIT: one evaluation per row and a top-N sort.
        rows = db.session.execute(
            sa.select(inner.c.id, inner.c.name, score.label("score"))
            .order_by(sa.desc("score"), inner.c.name).limit(SEARCH_CANDIDATES)).all()
        for sid, name, points in rows:
            if points < 3 or sid in found:
                continue
            sim = name_similarity(query, name)
            if sim >= 0.55:
                found[sid] = (sim, "name", name)
    best = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[1][2], kv[0]))[:limit]
    if not best:
        return []
    people = {s.id: s for s in db.session.scalars(
        sa.select(Stakeholder).where(Stakeholder.id.in_([sid for sid, _ in best])))}
    groups = groups_of(user, list(people))
    return [SearchHit(people[sid], score, matched, groups.get(sid, []))
            for sid, (score, matched, _) in best]


# ---- duplicates -----------------------------------------------------------------------------


@dataclass
class DuplicateCandidate:
    stakeholder: Stakeholder
    ratio: float
    reasons: list[str]


def _shares_a_detail(digits: str, email: str | None, group_ids: list[int] | None) -> list:
    """SQL conditions for a person sharing the phone, the email or a group."""
    shared = []
    if len(digits) >= 7:
        shared.append(_digits_sql(Stakeholder.phone).like(f"%{digits[-9:]}"))
    if email and email.strip():
        shared.append(sa.func.lower(Stakeholder.email) == email.strip().lower())
    if group_ids:
        shared.append(Stakeholder.id.in_(sa.select(Membership.stakeholder_id)
                                         .where(Membership.group_id.in_(group_ids))))
    return shared


def find_duplicates(user: User, *, name: str, phone: str | None = None,
                    email: str | None = None, group_ids: list[int] | None = None,
                    exclude_id: int | None = None) -> list[DuplicateCandidate]:
    """People the user may see with a similar name AND a shared phone, email or group.

    Similar: difflib ratio >= 0.8 on normalised names, or the same words in any order.
    """
    norm = normalise_name(name)
    if not norm:
        return []
    digits = phone_digits(phone)
    shared = _shares_a_detail(digits, email, group_ids)
    if not shared:
        return []
    q = (sa.select(Stakeholder).where(stakeholder_scope(user), Stakeholder.live(),
                                      sa.or_(*shared))
         .limit(2000))
    if exclude_id is not None:
        q = q.where(Stakeholder.id != exclude_id)
    candidates = list(db.session.scalars(q))
    member_of: dict[int, set[int]] = {}
    if group_ids and candidates:
        for sid, gid in db.session.execute(
                sa.select(Membership.stakeholder_id, Membership.group_id).where(
                    Membership.group_id.in_(group_ids),
                    Membership.stakeholder_id.in_([c.id for c in candidates]))):
            member_of.setdefault(sid, set()).add(gid)
    out = []
    for s in candidates:
        other = normalise_name(s.name)
        ratio = difflib.SequenceMatcher(None, norm, other).ratio()
        if sorted(norm.split()) == sorted(other.split()):
            ratio = 1.0  # the same words in another order
        if ratio < DUPLICATE_RATIO:
            continue
        reasons = []
        if len(digits) >= 7 and phone_digits(s.phone).endswith(digits[-9:]):
            reasons.append("same phone")
        if email and s.email and s.email.strip().lower() == email.strip().lower():
            reasons.append("same email")
        if member_of.get(s.id):
            reasons.append("same group")
        if reasons:
            out.append(DuplicateCandidate(s, round(ratio, 2), reasons))
    return sorted(out, key=lambda d: (-d.ratio, d.stakeholder.name))[:10]


# ---- reading, creating, editing -------------------------------------------------------------


def read_stakeholder(user: User, s: Stakeholder, *, ip: str = "") -> Stakeholder:
    """Record that `user` saw this person's personal fields (page or API read)."""
    record_event(user, "stakeholder.read", s, ip=ip)
    return s


def check_email(value: str) -> str:
    """The one email rule (pages, API, CSV import): the syntax `email-validator` accepts,
    without looking the domain up. Returns the address as given."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as e:
        raise ValidationError({"email": f"is not an email address ({e})"}) from None
    return value


def _clean_choices(data: dict, out: dict, errors: dict) -> None:
    for key, values in (("data_subject_category", SUBJECT_CATEGORIES),
                        ("consent_status", CONSENT_STATUSES), ("stage", STAGES)):
        if key in data and data[key] not in (None, ""):
            if data[key] not in values:
                errors[key] = f"must be one of {', '.join(values)}"
            else:
                out[key] = data[key]


_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off", ""}


def _clean_language(data: dict, out: dict, errors: dict) -> None:
    """A known language typed by name is kept as its code ("Spanish" -> "es"); yes/no flag."""
    if out.get("language"):
        out["language"] = language_code(out["language"]) or out["language"]
    if "interpreter_needed" in data:
        value = data["interpreter_needed"]
        if isinstance(value, bool) or value is None:
            out["interpreter_needed"] = bool(value)
        elif str(value).strip().lower() in _YES | _NO:
            out["interpreter_needed"] = str(value).strip().lower() in _YES
        else:
            errors["interpreter_needed"] = "must be yes or no"


def _clean_dates(data: dict, out: dict, errors: dict) -> None:
    for key in ("consent_on", "review_on"):
        if key not in data:
            continue
        value = data[key]
        if value in ("", None):
            out[key] = None
        elif isinstance(value, date):
            out[key] = value
        else:
            try:
                out[key] = date.fromisoformat(str(value))
            except ValueError:
                errors[key] = "is not a date (YYYY-MM-DD)"


def clean_fields(data: dict, *, partial: bool = False) -> dict:
    """Validate stakeholder fields; returns the cleaned values present in `data`."""
    errors: dict[str, str] = {}
    out: dict = {}

    def text(key, max_len, required=False):
        if key not in data:
            if required and not partial:
                errors[key] = "is required"
            return
        value = clean_text(data.get(key), one_line=True)
        if required and not value:
            errors[key] = "is required"
        elif len(value) > max_len:
            errors[key] = f"must be at most {max_len} characters"
        else:
            out[key] = value or None

    text("name", 200, required=True)
    text("phone", 40)
    text("email", 254)
    text("language", 40)
    text("consent_method", 80)
    text("consent_purpose", 200)
    if out.get("phone") and len(phone_digits(out["phone"])) < 3:
        errors["phone"] = "needs at least 3 digits"
    if out.get("email") and "email" not in errors:
        try:
            check_email(out["email"])
        except ValidationError as e:
            errors.update(e.errors)
    _clean_choices(data, out, errors)
    _clean_language(data, out, errors)
    _clean_dates(data, out, errors)
    # Consent given without a date (API, import): today, so a subject access export shows one.
    if out.get("consent_status") == "given" and out.get("consent_on") is None and \
            ("consent_on" in out or not partial):
        out["consent_on"] = local_today()
    if errors:
        raise ValidationError(errors)
    return out


def create_stakeholder(actor: User, data: dict, *, allow_duplicate: bool = False,
                       group_id: int | None = None, role: str = "member",
                       met_in_contact: bool = False, ip: str = "") -> Stakeholder:
    """Create a person (and optionally their first membership).

    Outside a contact (`met_in_contact`), everyone but an administrator must name a group:
    scope follows memberships, so a person without one would vanish from their own view.
    Raises ValidationError with a `duplicates` entry naming the candidates unless
    `allow_duplicate`; callers show the candidates and ask before creating anyway.
    """
    values = clean_fields(data)
    errors: dict[str, str] = {}
    if group_id is None and not met_in_contact and actor.role != "admin":
        errors["group_id"] = "choose a group, so the person stays visible to you"
    if group_id is not None:
        if role not in MEMBERSHIP_ROLES:
            errors["role"] = f"must be one of {', '.join(MEMBERSHIP_ROLES)}"
        if group_id not in visible_group_ids(actor, [group_id]):
            errors["group_id"] = "is not one of your groups"
    if errors:
        raise ValidationError(errors)
    if not allow_duplicate:
        dups = find_duplicates(actor, name=values["name"], phone=values.get("phone"),
                               email=values.get("email"),
                               group_ids=[group_id] if group_id else None)
        if dups:
            raise ValidationError({"duplicates": [
                f"possible duplicate of #{d.stakeholder.id} {d.stakeholder.name} "
                f"({', '.join(d.reasons)})" for d in dups]})
    s = Stakeholder(**values)
    db.session.add(s)
    if group_id is not None:
        s.memberships.append(Membership(group_id=group_id, role=role))
    db.session.flush()
    record_event(actor, "stakeholder.create", s, ip=ip, detail={
        "after": {k: _jsonable(getattr(s, k)) for k in PERSONAL_FIELDS if k != "name"}
        | {"group_id": group_id}})
    return s


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def snapshot(s: Stakeholder) -> dict:
    return {k: _jsonable(getattr(s, k)) for k in (*PERSONAL_FIELDS, "stage", "version_id")}


def update_stakeholder(actor: User, s: Stakeholder, data: dict, *, version_id: int | None,
                       ip: str = "") -> Stakeholder:
    """Change a person's fields; a stale `version_id` raises ConflictError (nothing written)."""
    if version_id is not None and int(version_id) != s.version_id:
        raise ConflictError(
            f"{s.name} was changed by someone else since you opened it "
            f"(now version {s.version_id}, you edited version {version_id}).",
            current=snapshot(s))
    values = clean_fields(data, partial=True)
    stage_before = s.stage
    before, after = {}, {}
    for k, v in values.items():
        if getattr(s, k) != v:
            before[k], after[k] = _jsonable(getattr(s, k)), _jsonable(v)
            setattr(s, k, v)
    if after:
        if "stage" in after:
            db.session.add(RelationshipStageChange(
                stakeholder_id=s.id, changed_by_id=actor.id, from_stage=stage_before,
                to_stage=s.stage, changed_at=utcnow()))
        db.session.flush()
        record_event(actor, "stakeholder.update", s, ip=ip,
                     detail={"before": before, "after": after})
    return s


def erase_stakeholder(actor: User, s: Stakeholder, *, reason: str = "erased through the API",
                      ip: str = "") -> Stakeholder:
    """Erase a person everywhere; one implementation, in `crm.privacy.services`."""
    from crm.privacy.services import erase_stakeholder as erase

    return erase(actor, s, reason, ip=ip)


def _blank(s: Stakeholder, name: str) -> None:
    s.name = name
    s.phone = s.email = s.language = None
    s.interpreter_needed = False
    s.consent_method = s.consent_purpose = None
    s.consent_on = None
    s.external_id = None


def merge_stakeholders(actor: User, source: Stakeholder, target: Stakeholder, *,
                       ip: str = "") -> dict:
    """Fold `source` into `target`: memberships, contact links, stage history and case roles move.

    Memberships and contact links that `target` already has are dropped rather than doubled.
    `source` keeps its row as a tombstone (`merged_into_id`, personal fields blanked).
    Returns the counts also written to the `stakeholder.merge` audit event.
    """
    if not actor.has_role(*MERGE_ROLES):
        raise ValidationError({"role": "only the community policing unit, supervisors and "
                                       "administrators may merge people"})
    if source.id == target.id:
        raise ValidationError({"into_id": "cannot merge a person into themselves"})
    for key, s in (("id", source), ("into_id", target)):
        if not s.is_live:
            raise ValidationError({key: f"#{s.id} is erased or already merged"})

    target_groups = sa.select(Membership.group_id).where(Membership.stakeholder_id == target.id)
    m_dedup = db.session.execute(sa.delete(Membership).where(
        Membership.stakeholder_id == source.id, Membership.group_id.in_(target_groups))).rowcount
    m_moved = db.session.execute(sa.update(Membership).where(Membership.stakeholder_id == source.id)
                                 .values(stakeholder_id=target.id,
                                         version_id=Membership.version_id + 1)).rowcount
    target_contacts = sa.select(ContactStakeholder.contact_id).where(
        ContactStakeholder.stakeholder_id == target.id)
    c_dedup = db.session.execute(sa.delete(ContactStakeholder).where(
        ContactStakeholder.stakeholder_id == source.id,
        ContactStakeholder.contact_id.in_(target_contacts))).rowcount
    c_moved = db.session.execute(sa.update(ContactStakeholder).where(
        ContactStakeholder.stakeholder_id == source.id).values(stakeholder_id=target.id)).rowcount
    history = db.session.execute(sa.update(RelationshipStageChange).where(
        RelationshipStageChange.stakeholder_id == source.id).values(stakeholder_id=target.id)).rowcount
    cases = 0
    for model, col in ((CaseParticipant, CaseParticipant.stakeholder_id),
                       (CaseIdea, CaseIdea.proposed_by_stakeholder_id),
                       (CaseAction, CaseAction.owner_stakeholder_id)):
        cases += db.session.execute(sa.update(model).where(col == source.id)
                                    .values({col.key: target.id})).rowcount

    filled = {}
    for k in ("phone", "email", "language"):
        if not getattr(target, k) and getattr(source, k):
            filled[k] = True
            setattr(target, k, getattr(source, k))
    if source.interpreter_needed and not target.interpreter_needed:
        filled["interpreter_needed"] = True
        target.interpreter_needed = True
    if STAGES.index(source.stage) > STAGES.index(target.stage):
        target.stage = source.stage
    external_id = source.external_id
    _blank(source, f"Merged into #{target.id}")
    source.merged_into_id = target.id
    db.session.flush()
    if external_id and not target.external_id:
        target.external_id = external_id
    # Bulk updates bypass the identity map: make the session reload what it holds.
    db.session.expire(source, ["memberships"])
    db.session.expire(target, ["memberships"])
    db.session.flush()
    counts = {"from_id": source.id, "into_id": target.id, "memberships_moved": m_moved,
              "memberships_deduplicated": m_dedup, "contacts_moved": c_moved,
              "contacts_deduplicated": c_dedup, "stage_changes_moved": history,
              "case_links_moved": cases, "fields_filled": sorted(filled)}
    record_event(actor, "stakeholder.merge", target, ip=ip, detail=counts)
    return counts
