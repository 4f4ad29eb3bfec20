"""Beats file: `code,name,district`; a district named for the first time is created."""

from __future__ import annotations

import sqlalchemy as sa

from crm.csvio.plans.base import Planner, count
from crm.csvio.read import load
from crm.extensions import db
from crm.models import Beat, District
from crm.text import clean_text


class BeatsPlanner(Planner):
    kind = "beats"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_districts: list[str] = []
        self.districts: dict[str, District] = {}

    def refusal(self) -> str | None:
        # Beats and districts decide everyone's scope: only administrators change them.
        if self.restricted:
            return "only administrators import beats"
        return None

    def plan(self, rows):
        check = self.check
        codes = {r["code"] for _, r in rows if r["code"]}
        beats = {b.code: b for b in load(lambda c: sa.select(Beat).where(Beat.code.in_(c)), codes)}
        wanted = {r["district"] for _, r in rows if r["district"]} - set(self.districts)
        self.districts.update({d.code: d for d in load(
            lambda c: sa.select(District).where(District.code.in_(c)), wanted)})
        writes = []
        for line, r in check.rows(rows):
            before = check.count
            code = check.text(line, r, "code", Beat.code, required=True)
            name = check.text(line, r, "name", Beat.name, required=True)
            dcode = check.text(line, r, "district", District.code)
            if check.count > before or not self.first_seen(code, line, "code", f"beat {code}"):
                continue
            name = clean_text(name, one_line=True)
            if dcode and dcode not in self.districts and dcode not in self.new_districts:
                self.new_districts.append(dcode)
            beat = beats.get(code)
            district = self.districts.get(dcode) if dcode else None
            changed = beat is not None and (
                beat.name != name or (dcode and district is None)
                or getattr(district, "id", None) != beat.district_id)
            if count(self.report, beat, changed) != "unchanged":
                writes.append((beat, code, name, dcode))
        self.report.also_created["districts"] = len(self.new_districts)
        return writes

    def apply(self, writes):
        for dcode in self.new_districts:
            if dcode not in self.districts:
                self.districts[dcode] = District(code=dcode, name=f"District {dcode}")
                db.session.add(self.districts[dcode])
                db.session.flush()
                self.audit("district.create", self.districts[dcode])
        done = []
        for beat, code, name, dcode in writes:
            district_id = self.districts[dcode].id if dcode else None
            if beat is None:
                beat = Beat(code=code, name=name, district_id=district_id)
                db.session.add(beat)
                done.append(("beat.create", beat))
            else:
                beat.name, beat.district_id = name, district_id
                done.append(("beat.update", beat))
        db.session.flush()
        for action, beat in done:
            self.audit(action, beat, district_id=beat.district_id)
