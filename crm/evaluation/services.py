"""Evaluation services: training roster, trial design and allocation, outcomes, surveys.

Services take an explicit actor, write the audit trail and flush; they never commit. Who may
do what is checked here (ValidationError/ForbiddenError), so pages, API and CLI agree.
Analysts never see an officer's name or username: units of officer trials reach them as
pseudonyms that hold within one answer only (`crm.network.outcomes.Pseudonyms`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from analytics.did import balance, diff_in_diff
from analytics.trial import allocate
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ForbiddenError, NotFoundError, ValidationError
from crm.evaluation.models import (
    CROSSOVER_KINDS,
    TRIAL_STRATA,
    TRIAL_UNITS,
    SurveyCampaign,
    SurveyResponse,
    TrainingCompletion,
    Trial,
    TrialCrossover,
    TrialUnit,
)
from crm.extensions import db
from crm.models import (
    Beat,
    BeatAssignment,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    User,
)
from crm.timezones import days_utc, local_today

# ---- roles ------------------------------------------------------------------------------------

TRAINING_EDIT_ROLES = ("unit", "admin")
TRAINING_VIEW_ROLES = ("unit", "admin", "supervisor")
TRIAL_EDIT_ROLES = ("unit", "admin")
TRIAL_VIEW_ROLES = ("unit", "admin", "supervisor", "analyst")
SURVEY_EDIT_ROLES = ("unit", "admin", "supervisor")
SURVEY_VIEW_ROLES = ("unit", "admin", "supervisor", "analyst")

# ---- training roster ----------------------------------------------------------------------------

DEFAULT_MODULES = ("foundations", "active_listening", "reframing", "collaborative_feedback",
                   "ambivalence", "boundaries_deescalation")


def training_modules() -> tuple[str, ...]:
    """The modules of the training (config `TRAINING_MODULES`, else the six of the article)."""
    return tuple(current_app.config.get("TRAINING_MODULES") or DEFAULT_MODULES)


def _need(actor, roles, what: str) -> None:
    if actor is not None and actor.role not in roles:
        raise ForbiddenError(f"Your role ({actor.role}) may not {what}.")


def _officer_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username,
                                                   User.role.in_(("officer", "unit", "supervisor"))))


def _check_completion(username, module, completed_on, today: date) -> tuple[dict, User | None, date | None]:
    errors: dict[str, str] = {}
    officer = _officer_by_username((username or "").strip()) if username else None
    if officer is None:
        errors["officer"] = f"no officer with username {username!r}" if username else "is required"
    if module not in training_modules():
        errors["module"] = f"must be one of {', '.join(training_modules())}"
    day = completed_on
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            day = None
            errors["completed_on"] = "must be a date YYYY-MM-DD"
    if not isinstance(day, date) and "completed_on" not in errors:
        errors["completed_on"] = "is required (YYYY-MM-DD)"
    elif isinstance(day, date) and day > today:
        errors["completed_on"] = "cannot be in the future"
    return errors, officer, day if isinstance(day, date) else None


def record_completion(actor, *, officer: str, module: str, completed_on, trainer: str = "",
                      today: date | None = None) -> TrainingCompletion:
    """Record that `officer` (a username) completed `module`; a second record of the same
    module replaces its date and trainer."""
    _need(actor, TRAINING_EDIT_ROLES, "enter training")
    trainer = (trainer or "").strip()
    errors, user, day = _check_completion(officer, module, completed_on, today or local_today())
    if len(trainer) > 120:
        errors["trainer"] = "must be at most 120 characters"
    if errors:
        raise ValidationError(errors)
    return _upsert_completion(actor, user, module, day, trainer)


def _upsert_completion(actor, user: User, module: str, day: date, trainer: str) -> TrainingCompletion:
    row = db.session.scalar(sa.select(TrainingCompletion).where(
        TrainingCompletion.officer_id == user.id, TrainingCompletion.module == module))
    if row is None:
        row = TrainingCompletion(officer_id=user.id, module=module)
        db.session.add(row)
    row.completed_on, row.trainer, row.entered_by_id = day, trainer, getattr(actor, "id", None)
    db.session.flush()
    record_event(actor, "training.record", row, detail={"module": module, "officer_id": user.id,
                                                         "completed_on": day.isoformat()})
    return row


def import_training_csv(actor, text: str, *, today: date | None = None) -> int:
    """Import `officer,module,completed_on[,trainer]` rows; all or nothing.

    Every bad row is reported by line and field (ValidationError keyed "line N: field"),
    and then nothing is written. Returns the number of rows written.
    """
    _need(actor, TRAINING_EDIT_ROLES, "import training")
    today = today or local_today()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"officer", "module", "completed_on"} - set(reader.fieldnames or ())
    if missing:
        raise ValidationError({"file": f"missing column(s): {', '.join(sorted(missing))}"})
    errors: dict[str, str] = {}
    good = []
    for line, row in enumerate(reader, start=2):
        row_errors, user, day = _check_completion(row.get("officer"), (row.get("module") or "").strip(),
                                                  row.get("completed_on") or "", today)
        trainer = (row.get("trainer") or "").strip()
        if len(trainer) > 120:
            row_errors["trainer"] = "must be at most 120 characters"
        errors.update({f"line {line}: {k}": v for k, v in row_errors.items()})
        if not row_errors:
            good.append((user, row["module"].strip(), day, trainer))
    if errors:
        raise ValidationError(errors)
    for user, module, day, trainer in good:
        _upsert_completion(actor, user, module, day, trainer)
    return len(good)


def roster(actor) -> list[dict]:
    """Every officer with their completed modules and whether they are a Proactive Guardian."""
    _need(actor, TRAINING_VIEW_ROLES, "see the training roster")
    modules = training_modules()
    officers = db.session.scalars(sa.select(User).where(User.role == "officer")
                                  .order_by(User.display_name, User.id)).all()
    done: dict[int, dict[str, TrainingCompletion]] = {}
    for row in db.session.scalars(sa.select(TrainingCompletion)):
        done.setdefault(row.officer_id, {})[row.module] = row
    return [{"officer": o, "done": done.get(o.id, {}),
             "guardian": all(m in done.get(o.id, {}) for m in modules)} for o in officers]


def completions_of(officer_id: int) -> dict[str, TrainingCompletion]:
    return {r.module: r for r in db.session.scalars(
        sa.select(TrainingCompletion).where(TrainingCompletion.officer_id == officer_id))}


def is_guardian(officer_id: int) -> bool:
    got = set(db.session.scalars(sa.select(TrainingCompletion.module)
                                 .where(TrainingCompletion.officer_id == officer_id)))
    return set(training_modules()) <= got


# ---- trials -------------------------------------------------------------------------------------

OUTCOMES = ("proactive_share", "hard_to_engage_reached", "groups_reached", "wary_hostile_share",
            "techniques_per_contact", "enforcement_per_contact", "stage_progressions")
DESIGN_FIELDS = ("name", "unit", "strata", "eligible", "baseline_start", "baseline_end",
                 "follow_up_start", "follow_up_end", "outcomes", "seed", "arms_visible_to_supervisors")
SEED_MAX = 2**62


def design_of(trial: Trial) -> dict:
    return {f: (v.isoformat() if isinstance(v := getattr(trial, f), date) else v)
            for f in DESIGN_FIELDS}


def hash_design(trial: Trial) -> str:
    """SHA-256 of the design as canonical JSON: the fingerprint frozen at allocation."""
    payload = json.dumps(design_of(trial), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def design_changed(trial: Trial) -> bool:
    """True when the design was edited after allocation (the frozen hash no longer matches)."""
    return trial.design_hash is not None and trial.design_hash != hash_design(trial)


def parse_period(text: str, field: str) -> tuple[date, date]:
    try:
        a, b = (date.fromisoformat(p.strip()) for p in str(text).split(":"))
    except ValueError:
        raise ValidationError({field: "must be YYYY-MM-DD:YYYY-MM-DD"}) from None
    if b < a:
        raise ValidationError({field: "ends before it starts"})
    return a, b


def _units_with_contacts(unit: str, start: date, end: date) -> list[str]:
    lo, hi = days_utc(start, end)
    if unit == "beat":
        q = (sa.select(Beat.code).join(Contact, Contact.beat_id == Beat.id)
             .where(Contact.occurred_at >= lo, Contact.occurred_at < hi).distinct())
    else:
        q = (sa.select(User.username).join(ContactOfficer, ContactOfficer.user_id == User.id)
             .where(ContactOfficer.occurred_at >= lo, ContactOfficer.occurred_at < hi,
                    User.role == "officer").distinct())
    return sorted(db.session.scalars(q))


def _check_design(values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name or len(name) > 120:
        errors["name"] = "is required, at most 120 characters"
    if values.get("unit") not in TRIAL_UNITS:
        errors["unit"] = "must be officer or beat"
    if values.get("strata") not in TRIAL_STRATA:
        errors["strata"] = "must be district or none"
    outcomes = values.get("outcomes") or []
    bad = [o for o in outcomes if o not in OUTCOMES]
    if not outcomes or bad:
        errors["outcomes"] = f"choose from {', '.join(OUTCOMES)}" + (f" (not {', '.join(bad)})" if bad else "")
    seed = values.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_MAX:
        errors["seed"] = "must be a whole number from 0 to 2**62"
    if values["baseline_end"] >= values["follow_up_start"]:
        errors["follow_up"] = "must start after the baseline ends"
    return errors


def create_trial(actor, *, name: str, unit: str, baseline: tuple[date, date],
                 follow_up: tuple[date, date], outcomes: list[str], seed: int,
                 strata: str = "none", eligible: list[str] | None = None,
                 arms_visible_to_supervisors: bool = False) -> Trial:
    """Design a trial. Eligible units default to every beat (or officer) with a contact in
    the baseline period; named ones must exist."""
    _need(actor, TRIAL_EDIT_ROLES, "design trials")
    values = {"name": name, "unit": unit, "strata": strata or "none", "outcomes": list(outcomes or []),
              "seed": seed, "baseline_start": baseline[0], "baseline_end": baseline[1],
              "follow_up_start": follow_up[0], "follow_up_end": follow_up[1]}
    errors = _check_design(values)
    if not errors.get("name") and db.session.scalar(sa.select(Trial.id).where(Trial.name == name.strip())):
        errors["name"] = "a trial with this name exists"
    if not errors.get("unit"):
        if eligible:
            eligible = sorted({e.strip() for e in eligible if e.strip()})
            known = set(db.session.scalars(
                sa.select(Beat.code).where(Beat.code.in_(eligible)) if unit == "beat" else
                sa.select(User.username).where(User.username.in_(eligible), User.role == "officer")))
            unknown = [e for e in eligible if e not in known]
            if unknown:
                errors["eligible"] = f"unknown {unit}(s): {', '.join(unknown[:10])}"
        else:
            eligible = _units_with_contacts(unit, *baseline)
        if not errors.get("eligible") and len(eligible or []) < 2:
            errors["eligible"] = "a trial needs at least two eligible units"
    if errors:
        raise ValidationError(errors)
    values["name"] = name.strip()
    trial = Trial(eligible=eligible, arms_visible_to_supervisors=bool(arms_visible_to_supervisors),
                  **values)
    db.session.add(trial)
    db.session.flush()
    record_event(actor, "trial.create", trial, detail={"design": design_of(trial)})
    return trial


def edit_trial(actor, trial: Trial, **changes) -> Trial:
    """Change the design. Allowed after allocation too, but then the frozen hash no longer
    matches and every page says so (`design_changed`); the audit keeps old and new."""
    _need(actor, TRIAL_EDIT_ROLES, "edit trials")
    before = design_of(trial)
    allowed = {"name", "outcomes", "arms_visible_to_supervisors", "baseline_start", "baseline_end",
               "follow_up_start", "follow_up_end"}
    bad = set(changes) - allowed
    if bad:
        raise ValidationError({k: "cannot be changed" for k in bad})
    values = {**before, **{k: v for k, v in changes.items()}}
    for k in ("baseline_start", "baseline_end", "follow_up_start", "follow_up_end"):
        values[k] = getattr(trial, k) if k not in changes else changes[k]
    errors = _check_design(values)
    if errors:
        raise ValidationError(errors)
    for k, v in changes.items():
        setattr(trial, k, v.strip() if isinstance(v, str) else v)
    db.session.flush()
    record_event(actor, "trial.edit", trial, detail={"before": before, "after": design_of(trial),
                                                     "after_allocation": trial.design_hash is not None})
    return trial


def get_trial(ident: int | str) -> Trial:
    q = sa.select(Trial).where(Trial.id == ident if isinstance(ident, int) else Trial.name == ident)
    trial = db.session.scalar(q)
    if trial is None:
        raise NotFoundError("No such trial.")
    return trial


def _strata(trial: Trial) -> dict[str, str]:
    """Each eligible unit's stratum: its district code (a beat's, or an officer's current beat's)."""
    if trial.strata == "none":
        return {u: "" for u in trial.eligible}
    if trial.unit == "beat":
        rows = db.session.execute(sa.select(Beat.code, Beat.district_id).where(Beat.code.in_(trial.eligible)))
        codes = {b.code: b.district_id for b in rows}
    else:
        rows = db.session.execute(
            sa.select(User.username, Beat.district_id)
            .join(BeatAssignment, BeatAssignment.user_id == User.id)
            .join(Beat, Beat.id == BeatAssignment.beat_id)
            .where(User.username.in_(trial.eligible), BeatAssignment.current_on(trial.baseline_end))
            .order_by(User.username, Beat.code))
        codes = {}
        for username, district_id in rows:
            codes.setdefault(username, district_id)
    from crm.models import District
    names = dict(db.session.execute(sa.select(District.id, District.code)).all())
    return {u: names.get(codes.get(u), "") for u in trial.eligible}


def allocate_trial(actor, trial: Trial, *, ip: str = "") -> Trial:
    """Allocate the eligible units once, stratified and blocked, from the trial's seed; freeze
    the design with its SHA-256. A second call refuses."""
    _need(actor, TRIAL_EDIT_ROLES, "allocate trials")
    if trial.allocated_at is not None:
        raise ValidationError({"trial": f"{trial.name} was allocated on "
                                        f"{trial.allocated_at:%Y-%m-%d}; allocation happens once"})
    strata = _strata(trial)
    arms = allocate(sorted(strata.items()), trial.seed)
    trial.units = [TrialUnit(unit_key=u, arm=arms[u], stratum=strata[u]) for u in sorted(arms)]
    trial.design_hash = hash_design(trial)
    trial.allocated_at = utcnow()
    trial.allocated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record_event(actor, "trial.allocate", trial, ip=ip, detail={
        "design_hash": trial.design_hash, "units": len(arms),
        "treatment": sum(a == "treatment" for a in arms.values())})
    return trial


def record_crossover(actor, trial: Trial, *, unit_key: str, kind: str, occurred_on: date) -> TrialCrossover:
    _need(actor, TRIAL_EDIT_ROLES, "record crossovers")
    errors = {}
    if trial.allocated_at is None:
        errors["trial"] = "is not allocated yet"
    if unit_key not in {u.unit_key for u in trial.units}:
        errors["unit_key"] = "is not a unit of this trial"
    if kind not in CROSSOVER_KINDS:
        errors["kind"] = f"must be one of {', '.join(CROSSOVER_KINDS)}"
    if not isinstance(occurred_on, date):
        errors["occurred_on"] = "must be a date"
    if errors:
        raise ValidationError(errors)
    row = TrialCrossover(trial_id=trial.id, unit_key=unit_key, kind=kind, occurred_on=occurred_on,
                         recorded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    record_event(actor, "trial.crossover", row, detail={"trial_id": trial.id, "kind": kind})
    return row


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def units_for(actor, trial: Trial) -> list[dict]:
    """The allocation as `actor` may see it: analysts get pseudonyms for officers, supervisors
    see arms only when the trial says so."""
    from crm.network.outcomes import Pseudonyms
    pseudo = Pseudonyms(_secret())
    hide_arm = actor is not None and actor.role == "supervisor" and not trial.arms_visible_to_supervisors
    hide_name = actor is not None and actor.role == "analyst" and trial.unit == "officer"
    return [{"unit": pseudo("officer", _user_id(u.unit_key)) if hide_name else u.unit_key,
             "arm": None if hide_arm else u.arm, "stratum": u.stratum} for u in trial.units]


def _user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username)) or 0


def show_trial(actor, trial: Trial) -> dict:
    _need(actor, TRIAL_VIEW_ROLES, "see trials")
    return {"name": trial.name, "unit": trial.unit, "seed": trial.seed, "design_hash": trial.design_hash,
            "design_changed": design_changed(trial), "units": units_for(actor, trial)}


# ---- outcomes from the records -----------------------------------------------------------------
#
# Each outcome is summed per unit by the database (GROUP BY unit over the period's contacts),
# so a period of hundreds of thousands of contacts returns one row per unit, never the
# contacts themselves: Python sees a few hundred numbers whatever the department's size.

HARD_TO_ENGAGE_DAYS = 90  # as the hard-to-engage flag: no contact within this window
WARY = ("wary", "hostile")
SHARES = ("proactive_share", "enforcement_per_contact", "techniques_per_contact", "wary_hostile_share")


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    # Periods are the department's calendar days (a DST day is 23 or 25 hours).
    return days_utc(start, end)


def _unit_contacts(trial: Trial, start: date, end: date) -> tuple[sa.Select, sa.ColumnElement, dict[int, str]]:
    """The period's contacts per unit, as a select the outcome adds its aggregate to: the
    select (contacts in FROM), the unit column to group by, and unit id -> unit key.

    A beat's contacts are those logged on it; an officer's those they took part in (a contact
    with two officers counts for both), read through the links' copy of the time (indexed by
    officer and time)."""
    lo, hi = _day_bounds(start, end)
    keys = [u.unit_key for u in trial.units] or list(trial.eligible)
    if trial.unit == "beat":
        ids = dict(db.session.execute(sa.select(Beat.id, Beat.code).where(Beat.code.in_(keys))).all())
        unit = Contact.beat_id
        q = sa.select(unit).where(unit.in_(list(ids)), Contact.occurred_at >= lo, Contact.occurred_at < hi)
    else:
        ids = dict(db.session.execute(sa.select(User.id, User.username).where(User.username.in_(keys))).all())
        unit = ContactOfficer.user_id
        q = (sa.select(unit).join(Contact, Contact.id == ContactOfficer.contact_id)
             .where(unit.in_(list(ids)), ContactOfficer.occurred_at >= lo, ContactOfficer.occurred_at < hi))
    return q, unit, ids


def _flag(cond) -> sa.ColumnElement:
    return sa.case((cond, 1), else_=0)


def _techniques_count() -> sa.ColumnElement:
    """Techniques recorded with a contact (a JSON list; anything else counts 0)."""
    pg = db.session.get_bind().dialect.name == "postgresql"
    kind = sa.func.json_typeof(Contact.techniques) if pg else sa.func.json_type(Contact.techniques)
    return sa.case((kind == "array",
                    sa.func.json_array_length(Contact.techniques)), else_=0)


def _stage_rank(col) -> sa.ColumnElement:
    from crm.vocab import STAGES
    return sa.case({s: i for i, s in enumerate(STAGES)}, value=col, else_=0)


def _contact_sums(base: sa.Select, unit, outcome: str) -> dict[int, tuple[int, float]]:
    """Per unit: its contacts, and for a per-contact outcome the sum it is the mean of."""
    value = None
    if outcome == "proactive_share":
        value = _flag(Contact.initiated_by == "proactive")
    elif outcome == "enforcement_per_contact":
        value = _flag(Contact.enforcement != "none")
    elif outcome == "techniques_per_contact":
        value = _techniques_count()
    elif outcome == "wary_hostile_share":
        # Contacts with a wary or hostile group, joined once (a hash join, not a probe per contact).
        wary = (sa.select(ContactGroup.contact_id)
                .join(CommunityGroup, CommunityGroup.id == ContactGroup.group_id)
                .where(CommunityGroup.stance.in_(WARY)).group_by(ContactGroup.contact_id).subquery("wary"))
        base = base.outerjoin(wary, wary.c.contact_id == Contact.id)
        value = _flag(wary.c.contact_id.is_not(None))
    cols = [unit, sa.func.count()] + ([sa.func.coalesce(sa.func.sum(value), 0)] if value is not None else [])
    q = base.with_only_columns(*cols).group_by(unit)
    return {row[0]: (int(row[1]), float(row[2]) if value is not None else 0.0)
            for row in db.session.execute(q)}


def _hard_groups(start: date) -> sa.Select:
    """Groups hard to engage when a period began: wary or hostile, or nobody's contact in the
    90 days before it (one look-up per group, not per contact)."""
    lo, hi = _day_bounds(start - timedelta(days=HARD_TO_ENGAGE_DAYS), start - timedelta(days=1))
    recent = sa.select(ContactGroup.group_id).where(
        ContactGroup.group_id == CommunityGroup.id, ContactGroup.occurred_at >= lo,
        ContactGroup.occurred_at < hi).exists()
    return sa.select(CommunityGroup.id).where(sa.or_(CommunityGroup.stance.in_(WARY), ~recent))


def _group_counts(base: sa.Select, unit, outcome: str, start: date) -> dict[int, float]:
    """Per unit: distinct groups reached, hard-to-engage groups reached, or forward steps."""
    if outcome == "stage_progressions":
        from crm.groups.models import RelationshipStageChange as Change
        q = (base.join(Change, Change.contact_id == Contact.id)
             .where(_stage_rank(Change.to_stage) > _stage_rank(Change.from_stage))
             .with_only_columns(unit, sa.func.count()))
    else:
        q = (base.join(ContactGroup, ContactGroup.contact_id == Contact.id)
             .with_only_columns(unit, sa.func.count(sa.distinct(ContactGroup.group_id))))
        if outcome == "hard_to_engage_reached":
            hard = _hard_groups(start).subquery("hard")
            q = q.join(hard, hard.c.id == ContactGroup.group_id)
    return {uid: float(n) for uid, n in db.session.execute(q.group_by(unit))}


def outcome_panel(trial: Trial, outcome: str) -> list[dict]:
    """One row per unit and period: unit key, arm, stratum, period, contacts, value.

    Shares and per-contact rates are None for a unit with no contact in the period; counts
    (groups reached, hard-to-engage groups reached, stage progressions) are 0."""
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": f"must be one of {', '.join(OUTCOMES)}"})
    if trial.allocated_at is None:
        raise ValidationError({"trial": "is not allocated yet"})
    periods = {"baseline": (trial.baseline_start, trial.baseline_end),
               "follow_up": (trial.follow_up_start, trial.follow_up_end)}
    rows = []
    for period, (start, end) in periods.items():
        base, unit, ids = _unit_contacts(trial, start, end)
        sums = {ids[u]: s for u, s in _contact_sums(base, unit, outcome).items()}
        counts = ({} if outcome in SHARES else
                  {ids[u]: v for u, v in _group_counts(base, unit, outcome, start).items()})
        for u in trial.units:
            n, total = sums.get(u.unit_key, (0, 0.0))
            value = (None if n == 0 else total / n) if outcome in SHARES else counts.get(u.unit_key, 0.0)
            rows.append({"unit": u.unit_key, "arm": u.arm, "stratum": u.stratum, "period": period,
                         "contacts": n, "value": value})
    return rows


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)


def _analysis(trial: Trial, outcome: str, panel: list[dict]) -> dict:
    by_unit: dict[str, dict] = {}
    for r in panel:
        by_unit.setdefault(r["unit"], {"arm": r["arm"]})[r["period"]] = r["value"]
    est = diff_in_diff((u, v["arm"], v.get("baseline"), v.get("follow_up")) for u, v in by_unit.items())
    return {"outcome": outcome, "estimate": _num(est.estimate), "ci_low": _num(est.ci_low),
            "ci_high": _num(est.ci_high), "se": _num(est.se), "n_units": est.n_units,
            "n_treatment": est.n_treatment, "n_control": est.n_control,
            "periods": {"baseline": [trial.baseline_start.isoformat(), trial.baseline_end.isoformat()],
                        "follow_up": [trial.follow_up_start.isoformat(), trial.follow_up_end.isoformat()]},
            "means": {a: {p: _num(m) for p, m in per.items()} for a, per in est.means.items()}}


def analyse_trial(actor, trial: Trial, outcome: str) -> dict:
    """The difference-in-differences estimate for one outcome, with its 95 % interval: OLS of
    the outcome on arm, period and their interaction with SE clustered by unit (statsmodels,
    `analytics.did`). "means" (by arm and period) is for the page; the CLI leaves it out."""
    _need(actor, TRIAL_VIEW_ROLES, "analyse trials")
    return _analysis(trial, outcome, outcome_panel(trial, outcome))


def _balance_row(label: str, rows: list[tuple[str, float | None]]) -> dict:
    b = balance(rows)
    return {"label": label, **{a: {k: _num(v) if isinstance(v, float) else v for k, v in b[a].items()}
                               for a in ("treatment", "control")},
            "difference": _num(b["difference"]), "std_difference": _num(b["std_difference"])}


def outcome_document(trial: Trial, outcome: str) -> dict:
    """Everything the page and the panel export show of one outcome, from one panel: the
    analysis (with its means by arm and period), the outcome's baseline balance row, the
    contacts' balance row, and the panel itself (unit keys: `panel_records` pseudonymises and
    hides arms per viewer). The background job of `crm.evaluation.jobs` stores it."""
    panel = outcome_panel(trial, outcome)
    baseline = [r for r in panel if r["period"] == "baseline"]
    return {"panel": panel, "analysis": _analysis(trial, outcome, panel),
            "balance": _balance_row(outcome, [(r["arm"], r["value"]) for r in baseline]),
            "contacts": _balance_row("contacts", [(r["arm"], float(r["contacts"])) for r in baseline])}


def report_from(trial: Trial, documents: dict[str, dict | None]) -> dict:
    """The trial page's report from the outcomes' documents (None: not computed yet): the
    analyses in pre-registered order, the baseline balance table (contacts, then each outcome)
    and the units per stratum and arm; `pending` names the outcomes still missing."""
    done = [(o, documents.get(o)) for o in trial.outcomes if documents.get(o)]
    rows = [done[0][1]["contacts"]] if done else []
    rows += [doc["balance"] for _, doc in done]
    strata: dict[str, dict[str, int]] = {}
    for u in trial.units:
        strata.setdefault(u.stratum or "", {"treatment": 0, "control": 0})[u.arm] += 1
    return {"analyses": [doc["analysis"] for _, doc in done], "balance": rows,
            "strata": [{"stratum": k, **v} for k, v in sorted(strata.items())],
            "pending": [o for o in trial.outcomes if not documents.get(o)]}


def trial_report(actor, trial: Trial) -> dict:
    """What the trial page shows once allocated, computed now (the page reads the stored
    documents instead, `crm.evaluation.jobs.stored_report`): per pre-registered outcome the
    analysis and its means by arm and period; the baseline balance table (contacts and every
    outcome in the baseline, by arm, with the standardised difference); units per stratum and arm."""
    _need(actor, TRIAL_VIEW_ROLES, "analyse trials")
    if trial.allocated_at is None:
        return {"analyses": [], "balance": [], "strata": [], "pending": []}
    return report_from(trial, {o: outcome_document(trial, o) for o in trial.outcomes})


PANEL_FORMATS = ("csv", "parquet")
PANEL_FIXED = ("unit", "arm", "stratum", "period", "period_start", "period_end", "contacts")


def panel_records(actor, trial: Trial, outcomes: list[str],
                  panels: dict[str, list[dict]] | None = None) -> list[dict]:
    """The pseudonymised panel: one row per unit and period with its arm, stratum, contacts and
    one column per outcome, from the stored `panels` (per outcome, as `outcome_panel` gives
    them) or computed now. Officers appear as pseudonyms salted for this export only; a
    supervisor gets no arms unless the trial shows them to supervisors."""
    from crm.network.outcomes import Pseudonyms
    _need(actor, TRIAL_VIEW_ROLES, "export trials")
    pseudo = Pseudonyms(_secret())
    ids = {}
    if trial.unit == "officer":
        ids = dict(db.session.execute(sa.select(User.username, User.id)
                                      .where(User.username.in_([u.unit_key for u in trial.units]))).all())
    hide_arm = actor is not None and actor.role == "supervisor" and not trial.arms_visible_to_supervisors
    spans = {"baseline": (trial.baseline_start, trial.baseline_end),
             "follow_up": (trial.follow_up_start, trial.follow_up_end)}
    records: dict[tuple[str, str], dict] = {}
    for outcome in outcomes:
        for r in (panels[outcome] if panels is not None else outcome_panel(trial, outcome)):
            key = (r["unit"], r["period"])
            if key not in records:
                unit = pseudo("officer", ids.get(r["unit"], 0)) if trial.unit == "officer" else r["unit"]
                records[key] = {"unit": unit, "arm": None if hide_arm else r["arm"], "stratum": r["stratum"],
                                "period": r["period"], "period_start": spans[r["period"]][0],
                                "period_end": spans[r["period"]][1], "contacts": r["contacts"]}
            records[key][outcome] = None if r["value"] is None else round(r["value"], 6)
    return sorted(records.values(), key=lambda r: (r["unit"], r["period"]))


def _panel_csv(records: list[dict], columns: list[str]) -> str:
    from crm.csvio.safe import SafeWriter
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(columns)
    for r in records:
        writer.writerow(["" if r.get(c) is None else (r[c].isoformat() if isinstance(r[c], date) else r[c])
                         for c in columns])
    return out.getvalue()


def _panel_parquet(trial: Trial, records: list[dict], outcomes: list[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    schema = pa.schema(
        [("unit", pa.string()), ("arm", pa.string()), ("stratum", pa.string()), ("period", pa.string()),
         ("period_start", pa.date32()), ("period_end", pa.date32()), ("contacts", pa.int64()),
         *((o, pa.float64()) for o in outcomes)],
        metadata={"trial": trial.name, "unit_of_randomisation": trial.unit,
                  "design_hash": trial.design_hash or "", "pseudonymised": "true"})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records, schema=schema), buf)
    return buf.getvalue()


def export_panel(actor, trial: Trial, outcome: str | None = None, *, ip: str = "",
                 fmt: str = "csv", panels: dict[str, list[dict]] | None = None) -> str | bytes:
    """The pseudonymised panel as CSV (text) or Parquet (bytes): one row per unit and period,
    arms and strata included; `outcome` None gives every pre-registered outcome as a column.
    `panels` are the stored ones (pages and API); without them it is computed now (CLI, tests).
    Names never appear; the export is audited."""
    _need(actor, TRIAL_VIEW_ROLES, "export trials")
    if fmt not in PANEL_FORMATS:
        raise ValidationError({"format": f"must be one of {', '.join(PANEL_FORMATS)}"})
    outcomes = [outcome] if outcome else list(trial.outcomes)
    records = panel_records(actor, trial, outcomes, panels)
    body = (_panel_csv(records, [*PANEL_FIXED, *outcomes]) if fmt == "csv"
            else _panel_parquet(trial, records, outcomes))
    record_event(actor, "trial.export", trial, ip=ip, detail={
        "outcomes": outcomes, "rows": len(records), "format": fmt, "pseudonymised": True})
    return body


# ---- community perception surveys ------------------------------------------------------------

K_MIN = 5
DEFAULT_ITEMS = (
    {"key": "satisfaction", "text": "Overall, I am satisfied with the police in my area."},
    {"key": "fairness", "text": "The police here treat people fairly."},
    {"key": "respect", "text": "The police here treat people with respect."},
    {"key": "voice", "text": "The police here listen to what people like me have to say."},
    {"key": "legitimacy", "text": "I should accept the decisions the police make, even if I disagree."},
    {"key": "trust", "text": "I trust the police in my area."},
)
SCALE = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
         5: "Strongly agree"}


def survey_items() -> list[dict]:
    """The instrument's items (config `SURVEY_ITEMS` rewords them; keys stay stable)."""
    return [dict(i) for i in (current_app.config.get("SURVEY_ITEMS") or DEFAULT_ITEMS)]


def create_campaign(actor, *, name: str, opens_on: date, closes_on: date, group_id: int | None = None,
                    beat_id: int | None = None, items: list[dict] | None = None) -> SurveyCampaign:
    """A survey wave for one group or one beat the actor may see, with its own public link."""
    from crm.access import area_beat_ids_select, group_scope
    _need(actor, SURVEY_EDIT_ROLES, "run surveys")
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = "is required, at most 120 characters"
    if (group_id is None) == (beat_id is None):
        errors["target"] = "choose one group or one beat"
    elif group_id is not None and db.session.scalar(
            sa.select(CommunityGroup.id).where(CommunityGroup.id == group_id,
                                               group_scope(actor) if actor else sa.true())) is None:
        errors["group_id"] = "is not a group you work with"
    elif beat_id is not None:
        beats = area_beat_ids_select(actor) if actor else None  # None: the system (CLI, demo)
        q = sa.select(Beat.id).where(Beat.id == beat_id)
        if beats is not None:
            q = q.where(Beat.id.in_(beats))
        if db.session.scalar(q) is None:
            errors["beat_id"] = "is not a beat you work"
    if not isinstance(opens_on, date) or not isinstance(closes_on, date) or closes_on < opens_on:
        errors["closes_on"] = "must be a date on or after the opening date"
    items = items or survey_items()
    if errors:
        raise ValidationError(errors)
    c = SurveyCampaign(name=name, group_id=group_id, beat_id=beat_id, opens_on=opens_on,
                       closes_on=closes_on, items=items, public_token=secrets.token_urlsafe(18),
                       created_by_id=getattr(actor, "id", None))
    db.session.add(c)
    db.session.flush()
    record_event(actor, "survey.create", c, detail={"group_id": group_id, "beat_id": beat_id})
    return c


def campaign_by_token(token: str) -> SurveyCampaign:
    c = db.session.scalar(sa.select(SurveyCampaign).where(SurveyCampaign.public_token == token)) \
        if token and len(token) <= 64 else None
    if c is None:
        raise NotFoundError("No such survey.")
    return c


def campaigns_for(actor) -> sa.Select:
    """Campaigns of groups and beats the actor may see (analysts: all, results only)."""
    from crm.access import area_beat_ids_select, group_ids_select
    _need(actor, SURVEY_VIEW_ROLES, "see surveys")
    q = sa.select(SurveyCampaign).order_by(SurveyCampaign.opens_on.desc(), SurveyCampaign.id.desc())
    if actor.role in ("admin", "analyst"):
        return q
    groups, beats = group_ids_select(actor), area_beat_ids_select(actor)
    return q.where(sa.or_(SurveyCampaign.group_id.in_(groups), SurveyCampaign.beat_id.in_(beats)))


def get_campaign(actor, campaign_id: int) -> SurveyCampaign:
    c = db.session.scalar(campaigns_for(actor).where(SurveyCampaign.id == campaign_id))
    if c is None:
        raise NotFoundError("No such survey among yours.")
    return c


def submit_response(actor, campaign: SurveyCampaign, answers: dict, *, source: str,
                    today: date | None = None) -> SurveyResponse:
    """One anonymous answer sheet. Only the campaign's item keys with scores 1..5 are taken;
    anything else (a name, an e-mail address) is refused, so nothing personal is stored."""
    today = today or local_today()
    if source == "paper":
        _need(actor, SURVEY_EDIT_ROLES, "enter survey answers")
    if not campaign.opens_on <= today <= campaign.closes_on:
        raise ValidationError({"survey": f"is open from {campaign.opens_on} to {campaign.closes_on}"})
    keys = [i["key"] for i in campaign.items]
    errors: dict[str, str] = {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": "must map item keys to scores from 1 to 5"})
    extra = [k for k in answers if k not in keys]
    if extra:
        errors["answers"] = "only the survey's questions are accepted; nothing else is stored"
    clean = {}
    for k in keys:
        v = answers.get(k)
        if v in (None, ""):
            continue
        try:
            v = int(v)
        except (TypeError, ValueError):
            v = 0
        if not 1 <= v <= 5:
            errors[k] = "choose an answer from 1 to 5"
        else:
            clean[k] = v
    if not clean and not errors:
        errors["answers"] = "answer at least one question"
    if errors:
        raise ValidationError(errors)
    r = SurveyResponse(campaign_id=campaign.id, answers=clean, source=source, received_on=today)
    db.session.add(r)
    db.session.flush()
    if actor is not None:
        record_event(actor, "survey.paper_entry", r, detail={"campaign_id": campaign.id})
    return r


def _summary(values: list[int]) -> dict:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = 1.96 * sd / math.sqrt(n)
    return {"n": n, "mean": round(mean, 2), "ci_low": round(mean - half, 2), "ci_high": round(mean + half, 2)}


def campaign_results(campaign: SurveyCampaign) -> dict:
    """Per item n, mean and 95 % interval; nothing at all below K_MIN answers (not even n)."""
    rows = db.session.scalars(sa.select(SurveyResponse.answers)
                              .where(SurveyResponse.campaign_id == campaign.id)).all()
    if len(rows) < K_MIN:
        return {"shown": False, "message": f"Fewer than {K_MIN} answers: nothing is shown yet.",
                "items": []}
    items = []
    for item in campaign.items:
        vals = [r[item["key"]] for r in rows if item["key"] in r]
        items.append({"key": item["key"], "text": item["text"],
                      **(_summary(vals) if len(vals) >= K_MIN else {"n": None, "mean": None})})
    return {"shown": True, "n": len(rows), "items": items, "message": ""}


def trust_trend(*, group_id: int | None = None, beat_id: int | None = None, item: str = "trust") -> list[dict]:
    """The trust item over the campaigns of one group or beat, oldest first; waves below
    K_MIN answers appear with no numbers."""
    kind, ident = ("group", group_id) if group_id else ("beat", beat_id)
    col = SurveyCampaign.group_id if kind == "group" else SurveyCampaign.beat_id
    campaigns = db.session.scalars(sa.select(SurveyCampaign).where(col == ident)).all()
    return _trend_points(list(campaigns), item).get((kind, ident), [])


# ---- trust trends (group page, coverage page, API) ------------------------------------------

TREND_SERIES_MAX = 12


def _trend_points(campaigns: list[SurveyCampaign], item: str) -> dict[int, list[dict]]:
    """Per campaign target, the item's points oldest first: n, mean and 95 % interval, or no
    numbers at all for a wave (or an item) with fewer than K_MIN answers."""
    answers: dict[int, list[dict]] = {c.id: [] for c in campaigns}
    if campaigns:
        for cid, a in db.session.execute(sa.select(SurveyResponse.campaign_id, SurveyResponse.answers)
                                         .where(SurveyResponse.campaign_id.in_(list(answers)))):
            answers[cid].append(a)
    out: dict[int, list[dict]] = {}
    for c in sorted(campaigns, key=lambda c: (c.opens_on, c.id)):
        vals = [a[item] for a in answers[c.id] if item in a] if len(answers[c.id]) >= K_MIN else []
        stats = _summary(vals) if len(vals) >= K_MIN else {"n": None, "mean": None, "ci_low": None,
                                                           "ci_high": None}
        point = {"campaign": c.name, "opens_on": c.opens_on.isoformat(), **stats}
        out.setdefault(("group", c.group_id) if c.group_id else ("beat", c.beat_id), []).append(point)
    return out


def trust_series(*, group_ids: list[int] | None = None, beat_ids: list[int] | None = None,
                 item: str = "trust", limit: int = TREND_SERIES_MAX, beats_only: bool = False) -> list[dict]:
    """Trust trends of the given groups and of the given beats (and of their groups, unless
    `beats_only`), at most `limit`, the ones with numbers and the latest waves first. The caller
    decides what the viewer may see; nothing below K_MIN answers carries a number, not even n."""
    from crm.evaluation.charts import trust_chart
    from crm.models import group_beats
    conds = []
    if group_ids:
        conds.append(SurveyCampaign.group_id.in_(group_ids))
    if beat_ids:
        conds.append(SurveyCampaign.beat_id.in_(beat_ids))
    if beat_ids and not beats_only:
        conds.append(SurveyCampaign.group_id.in_(
            sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids))))
    if not conds:
        return []
    campaigns = db.session.scalars(sa.select(SurveyCampaign).where(sa.or_(*conds))).all()
    points = _trend_points(list(campaigns), item)
    names = {}
    for kind, model, col in (("group", CommunityGroup, CommunityGroup.name), ("beat", Beat, Beat.code)):
        ids = [i for k, i in points if k == kind]
        if ids:
            names.update({(kind, i): n for i, n in db.session.execute(
                sa.select(model.id, col).where(model.id.in_(ids)))})
    series = [{"kind": kind, "id": ident, "title": f"{'Beat ' if kind == 'beat' else ''}{names.get((kind, ident), '')}",
               "item": item, "k": K_MIN, "points": pts, "chart": trust_chart(pts)}
              for (kind, ident), pts in points.items()]
    series.sort(key=lambda s: (not s["chart"]["shown"],
                               -date.fromisoformat(s["points"][-1]["opens_on"]).toordinal(), s["title"]))
    return series[:limit]


def trend_beat_ids(actor) -> list[int] | None:
    """Beats whose trends the actor may read (None: all — admin and analyst, aggregates only)."""
    from crm.access import area_beat_ids_select
    if actor.role in ("admin", "analyst"):
        return None
    return list(db.session.scalars(area_beat_ids_select(actor)))


def trust_trend_for(actor, *, group_id: int | None = None, beat_code: str | None = None,
                    item: str = "trust") -> dict:
    """One group's or beat's trust trend for the API; out of the actor's scope is NotFound."""
    from crm.access import group_scope
    if (group_id is None) == (beat_code is None):
        raise ValidationError({"target": "give one group or one beat"})
    if item not in {i["key"] for i in survey_items()} | {"trust"}:
        raise ValidationError({"item": f"must be one of {', '.join(i['key'] for i in survey_items())}"})
    if group_id is not None:
        q = sa.select(CommunityGroup.id, CommunityGroup.name).where(CommunityGroup.id == group_id)
        if actor.role not in ("admin", "analyst"):
            q = q.where(group_scope(actor))
        found = db.session.execute(q).first()
        kind, ident, label = "group", group_id, found[1] if found else None
    else:
        found = db.session.execute(sa.select(Beat.id, Beat.code).where(Beat.code == beat_code)).first()
        allowed = trend_beat_ids(actor)
        if found and allowed is not None and found[0] not in allowed:
            found = None
        kind, ident, label = "beat", found[0] if found else None, beat_code
    if found is None:
        raise NotFoundError(f"No such {kind} among yours.")
    points = (trust_trend(group_id=ident, item=item) if kind == "group"
              else trust_trend(beat_id=ident, item=item))
    return {"kind": kind, "target": label, "item": item, "k": K_MIN, "points": points}
