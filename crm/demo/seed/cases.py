"""Problem-solving cases (SARA) run with the community: one per stage in turn, each with its
beats, participants, the contacts it heard, the community's ideas, actions, measures and
the case history. Everything is drawn case by case, part by part, in a fixed order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from crm.cases.models import case_beats, case_contacts
from crm.demo import words
from crm.demo.seed.base import Demo
from crm.demo.seed.mix import HOST, NEU, REC, UNK, WARY
from crm.models import (
    CaseAction,
    CaseEvent,
    CaseIdea,
    CaseMeasure,
    CaseMeasureValue,
    CaseParticipant,
    ProblemCase,
)
from crm.vocab import CASE_STAGES

TABLES = {"cases": ProblemCase.__table__, "beats": case_beats, "contacts": case_contacts,
          "participants": CaseParticipant.__table__, "ideas": CaseIdea.__table__,
          "actions": CaseAction.__table__, "measures": CaseMeasure.__table__,
          "values": CaseMeasureValue.__table__, "events": CaseEvent.__table__}
STAGE_IX = {s: i for i, s in enumerate(CASE_STAGES)}


class _Rows:
    """The rows of every case table, and the next id of each (ids are given here)."""

    def __init__(self, demo: Demo):
        self.ids = {t: demo.next_id(t.__table__) for t in (
            ProblemCase, CaseParticipant, CaseIdea, CaseAction, CaseMeasure, CaseMeasureValue,
            CaseEvent)}
        self.rows: dict[str, list[dict]] = {k: [] for k in TABLES}

    def nid(self, model) -> int:
        v = self.ids[model]
        self.ids[model] += 1
        return v

    def add(self, kind: str, row: dict) -> None:
        self.rows[kind].append(row)


@dataclass
class _Case:
    """What the parts of one case share."""

    id: int
    n: int  # position in the run
    stage: str
    si: int  # index of the stage reached
    g0: int  # the group that brought the problem (index)
    b0: int  # its home beat (index)
    lead: int
    title: str
    opened: date
    entered: list[datetime]  # when each stage up to `stage` was entered
    people: list[int] = field(default_factory=list)  # stakeholder ids taking part
    agency: str = ""

    def event(self, rows: _Rows, at, action: str, summary: str, detail=None) -> None:
        rows.add("events", {"id": rows.nid(CaseEvent), "case_id": self.id, "at": at,
                            "actor_id": self.lead, "action": action, "summary": summary,
                            "detail": detail or {}})


class _Neighbourhood:
    """What the run knows about groups when it picks a case's participants and contacts."""

    def __init__(self, demo: Demo):
        ng = demo.size.groups
        self.contacted = np.flatnonzero(~demo.never & np.isin(demo.stance, [REC, NEU, UNK]))
        if not len(self.contacted):
            self.contacted = np.flatnonzero(~demo.never)
        self.competing_of: dict[int, list[int]] = {}
        for a, b in demo.competing:
            self.competing_of.setdefault(a, []).append(b)
            self.competing_of.setdefault(b, []).append(a)
        # contacts per group, for "what we heard"
        self.cg_order = np.argsort(demo.cg_g, kind="stable")
        self.cg_starts = np.concatenate([[0], np.cumsum(np.bincount(demo.cg_g, minlength=ng))])
        self.lead_pool = list(demo.officer_ids[:max(1, len(demo.officer_ids))]) + \
            list(demo.unit_ids)


def insert_cases(demo: Demo) -> None:
    """Write `demo.size.cases` cases, cycling through the stages so every stage is shown."""
    rows, hood = _Rows(demo), _Neighbourhood(demo)
    for n in range(demo.size.cases):
        case = _open_case(demo, rows, hood, n)
        _add_participants(demo, rows, hood, case)
        _link_contacts(demo, rows, hood, case)
        if case.si >= 1:
            _add_ideas(demo, rows, case)
        _add_actions(demo, rows, case)
        _add_measures(demo, rows, case)
    for kind, table in TABLES.items():
        demo.insert(table, rows.rows[kind], "cases")


def _case_texts(stage: str, reached: int, street: str, street2: str) -> dict:
    """The SARA fields a case has filled by the stage it reached."""
    analysed, responding, assessed = reached >= 1, reached >= 2, reached >= 3
    return {
        "place": f"{street} between {street2} and the park" if analysed else "",
        "place_managers": "property managers, the alderman's office" if analysed else "",
        "victim_target": "residents walking home, shoppers" if analysed else "",
        "guardians": "block club members, store staff" if analysed else "",
        "offender": "a small group, mostly from outside the block" if analysed else "",
        "handlers": "youth workers, family members" if analysed else "",
        "analysis": "Calls cluster on weekend evenings; most come from three addresses."
        if analysed else "",
        "response_plan": "Combine lighting, a community-run evening programme and "
                         "targeted foot patrol." if responding else "",
        "assessment": "Calls down since the response began; residents report feeling safer."
        if assessed else "",
        "community_verdict": "The block club says the corner feels different; keep the youth "
                             "night." if stage == "closed" else "",
    }


def _open_case(demo: Demo, rows: _Rows, hood: _Neighbourhood, n: int) -> _Case:
    """The case row, its beats and the history of its stages."""
    rng, streets = demo.rng, words.STREETS[demo.city]
    stage = CASE_STAGES[n % len(CASE_STAGES)]
    si = STAGE_IX[stage]
    g0 = int(hood.contacted[rng.integers(len(hood.contacted))])
    b0 = int(demo.home[g0])
    lead = int(hood.lead_pool[rng.integers(len(hood.lead_pool))])
    title_t, statement = words.PROBLEMS[rng.integers(len(words.PROBLEMS))]
    s1, s2 = rng.choice(len(streets), size=2, replace=False)
    title = title_t.format(street=streets[s1], street2=streets[s2], hood=demo.beat_hood[b0])
    age = int(rng.integers(20 + 45 * si, 60 + 80 * si))
    opened = demo.today - timedelta(days=age)
    # one date per stage reached, evenly spread between opening and now
    stage_days = sorted(int(x) for x in rng.integers(1, max(age, 2), size=si))
    entered = [datetime.combine(opened, datetime.min.time()) + timedelta(hours=10)]
    entered += [datetime.combine(opened + timedelta(days=d), datetime.min.time())
                + timedelta(hours=int(rng.integers(8, 18))) for d in stage_days]
    case = _Case(id=rows.nid(ProblemCase), n=n, stage=stage, si=si, g0=g0, b0=b0, lead=lead,
                 title=title, opened=opened, entered=entered)
    rows.add("cases", {
        "id": case.id, "title": title[:200], "problem_statement": statement, "stage": stage,
        "lead_id": lead, **_case_texts(stage, si, streets[s1], streets[s2]),
        "opened_on": opened, "closed_at": entered[-1] if stage == "closed" else None,
        "stage_entered_at": entered[-1], "version_id": 1, "created_at": entered[0],
        "updated_at": entered[-1]})
    case_beat_ix = {b0} | ({demo.near[b0][0]} if demo.near[b0] and rng.random() < 0.4
                           else set())
    for b in sorted(case_beat_ix):
        rows.add("beats", {"case_id": case.id, "beat_id": int(demo.beat_ids[b])})
    case.event(rows, entered[0], "case.open", f"Opened: {title}")
    for i in range(1, len(entered)):
        case.event(rows, entered[i], "case.stage",
                   f"Stage {CASE_STAGES[i - 1]} → {CASE_STAGES[i]}",
                   {"from": CASE_STAGES[i - 1], "to": CASE_STAGES[i]})
    return case


def _participant_row(demo: Demo, rows: _Rows, case: _Case, kind: str, role: str, at,
                     group=None, stakeholder=None, user=None, agency="") -> None:
    rows.add("participants", {
        "id": rows.nid(CaseParticipant), "case_id": case.id, "kind": kind, "role": role,
        "group_id": int(demo.group_ids[group]) if group is not None else None,
        "stakeholder_id": stakeholder, "user_id": user, "agency": agency,
        "created_at": at, "updated_at": at})


def _participant_groups(demo: Demo, hood: _Neighbourhood, case: _Case) -> list[tuple[int, str]]:
    """The co-producing group, an affected neighbour, and maybe a competing interest."""
    rng, g0, b0 = demo.rng, case.g0, case.b0
    bg_starts, bg_vals = demo.beat_groups_csr
    local = [int(x) for x in bg_vals[bg_starts[b0]:bg_starts[b0 + 1]] if int(x) != g0]
    affected = local[int(rng.integers(len(local)))] if local else None
    competing = hood.competing_of.get(g0) or ([int(x) for x in local
                                               if demo.stance[int(x)] in (WARY, HOST)])
    comp = competing[int(rng.integers(len(competing)))] if competing and \
        (case.n % 2 == 0 or hood.competing_of.get(g0)) else None
    part_groups = [(g0, "co_producer")]
    if affected is not None and affected != comp:
        part_groups.append((affected, "affected_party"))
    if comp is not None and comp != g0:
        part_groups.append((comp, "competing_interest"))
    return part_groups


def _members_of(demo: Demo, g: int, k: int) -> list[int]:
    """Up to `k` stakeholder ids among the members of group `g`."""
    mem_starts, mem_vals = demo.members_csr
    ms = mem_vals[mem_starts[g]:mem_starts[g + 1]]
    if not len(ms):
        return []
    return [int(demo.stakeholder_ids[s]) for s in
            demo.rng.choice(ms, size=min(k, len(ms)), replace=False)]


def _add_participants(demo: Demo, rows: _Rows, hood: _Neighbourhood, case: _Case) -> None:
    """Groups, a few of the first group's people, an agency and the lead officer."""
    rng = demo.rng
    part_groups = _participant_groups(demo, hood, case)
    agencies = words.AGENCIES[demo.city]
    case.agency = agency = agencies[int(rng.integers(len(agencies)))]
    t = case.entered[0] + timedelta(hours=1)
    for g, role in part_groups:
        _participant_row(demo, rows, case, "group", role, t, group=g)
        case.event(rows, t, "participant.add",
                   f"{demo.names[g]} added as {role.replace('_', ' ')}",
                   {"group_id": int(demo.group_ids[g]), "role": role})
    case.people = _members_of(demo, case.g0, int(rng.integers(1, 4)))
    for j, s in enumerate(case.people):
        role = ("co_producer", "affected_party", "resource")[j % 3]
        _participant_row(demo, rows, case, "stakeholder", role, t, stakeholder=s)
        case.event(rows, t, "participant.add",
                   f"Stakeholder {s} added as {role.replace('_', ' ')}",
                   {"stakeholder_id": s, "role": role})
    _participant_row(demo, rows, case, "agency", "resource", t, agency=agency)
    _participant_row(demo, rows, case, "officer", "co_producer", t, user=case.lead)
    case.event(rows, t, "participant.add", f"{agency} added as resource", {"agency": agency})


def _link_contacts(demo: Demo, rows: _Rows, hood: _Neighbourhood, case: _Case) -> None:
    """What we heard: up to two contacts with the first group."""
    g0 = case.g0
    cs = demo.contact_ids[demo.cg_c[hood.cg_order[hood.cg_starts[g0]:hood.cg_starts[g0 + 1]]]]
    picked = {int(x) for x in demo.rng.choice(cs, size=min(2, len(cs)), replace=False)} \
        if len(cs) else ()
    for cid in sorted(picked):
        rows.add("contacts", {"case_id": case.id, "contact_id": cid})


def _add_ideas(demo: Demo, rows: _Rows, case: _Case) -> None:
    """Ideas from the community (from analysis on): adopted, declined or still proposed."""
    rng, people = demo.rng, case.people
    n_ideas = int(rng.integers(2, 5))
    picks = rng.choice(len(words.IDEAS), size=n_ideas, replace=False)
    for j, ix in enumerate(picks):
        status = "proposed" if case.si == 1 and j > 0 else ("adopted", "declined",
                                                            "proposed")[j % 3]
        by_s = people[j % len(people)] if people and j % 2 == 0 else None
        by_g = int(demo.group_ids[case.g0]) if by_s is None else None
        at_i = case.entered[1] + timedelta(days=j)
        reason = words.DECLINE_REASONS[int(rng.integers(len(words.DECLINE_REASONS)))] \
            if status == "declined" else ""
        told = (at_i + timedelta(days=7)).date() \
            if status != "proposed" and rng.random() < 0.8 else None
        rows.add("ideas", {
            "id": rows.nid(CaseIdea), "case_id": case.id, "text": words.IDEAS[ix],
            "proposed_by_stakeholder_id": by_s, "proposed_by_group_id": by_g,
            "status": status, "decline_reason": reason, "proposer_told_on": told,
            "version_id": 1, "created_at": at_i, "updated_at": at_i})
        case.event(rows, at_i, "idea.add", f"Idea: {words.IDEAS[ix]}", {"status": status})


def _action_status(case: _Case, j: int, due: date, today: date) -> str:
    if case.stage == "closed":
        return "done" if j % 4 else "dropped"
    if due < today:
        return ("done", "open", "in_progress")[j % 3]  # some overdue
    return ("open", "in_progress")[j % 2]


def _add_actions(demo: Demo, rows: _Rows, case: _Case) -> None:
    """Every case has one community-owned action; later stages more, some overdue."""
    rng, si, people, entered = demo.rng, case.si, case.people, case.entered
    owners = ["group" if si % 2 == 0 else "stakeholder", "officer"]
    if si >= 2:
        owners += ["agency", "stakeholder" if si % 2 == 0 else "group", "officer"]
    for j, kind in enumerate(owners):
        if kind == "stakeholder" and not people:
            kind = "group"
        text = words.ACTIONS[kind][int(rng.integers(len(words.ACTIONS[kind])))]
        created = entered[min(si, 2 if len(entered) > 2 else len(entered) - 1)] \
            + timedelta(days=j)
        due = created.date() + timedelta(days=int(rng.integers(7, 60)))
        status = _action_status(case, j, due, demo.today)
        rows.add("actions", {
            "id": rows.nid(CaseAction), "case_id": case.id, "description": text,
            "owner_kind": kind, "owner_user_id": case.lead if kind == "officer" else None,
            "owner_stakeholder_id": people[j % len(people)] if kind == "stakeholder" else None,
            "owner_group_id": int(demo.group_ids[case.g0]) if kind == "group" else None,
            "owner_agency": case.agency if kind == "agency" else "",
            "liaison_user_id": case.lead if kind != "officer" else None,
            "due_on": due, "status": status,
            "outcome": "Done as agreed." if status == "done" else "",
            "version_id": 1, "created_at": created, "updated_at": created})
        case.event(rows, created, "action.add", f"Action ({kind}): {text}",
                   {"owner_kind": kind, "due_on": due.isoformat()})


def _add_measures(demo: Demo, rows: _Rows, case: _Case) -> None:
    """A baseline at opening; values every 20 days from the response on."""
    rng = demo.rng
    for name, unit in [words.MEASURES[int(i)] for i in
                       rng.choice(len(words.MEASURES), size=int(rng.integers(1, 3)),
                                  replace=False)]:
        mid = rows.nid(CaseMeasure)
        pct = "%" in unit
        base = float(rng.integers(30, 70)) if pct else float(rng.integers(8, 40))
        rows.add("measures", {
            "id": mid, "case_id": case.id, "name": name, "unit": unit,
            "baseline_value": base, "baseline_on": case.opened, "version_id": 1,
            "created_at": case.entered[0], "updated_at": case.entered[0]})
        case.event(rows, case.entered[0], "measure.add",
                   f"Measure: {name} (baseline {base:g} {unit})", {"baseline": base})
        if case.si >= 2:
            _add_measure_values(demo, rows, mid, base, pct, case.entered[2])


def _add_measure_values(demo: Demo, rows: _Rows, mid: int, base: float, pct: bool,
                        start: datetime) -> None:
    rng, v = demo.rng, base
    for k in range(int(rng.integers(1, 5))):
        on = (start + timedelta(days=20 * (k + 1))).date()
        if on > demo.today:
            break
        v = v * (1.08 if pct else 0.85) + float(rng.normal(0, 1.5))
        v = round(min(v, 100.0) if pct else max(v, 0.0), 1)
        at = datetime.combine(on, datetime.min.time())
        rows.add("values", {"id": rows.nid(CaseMeasureValue), "measure_id": mid,
                            "measured_on": on, "value": v, "note": "", "created_at": at,
                            "updated_at": at})
