"""Assessment measures of a case: a baseline and the values measured after it."""

from __future__ import annotations

from datetime import date

from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CaseMeasure, CaseMeasureValue, ProblemCase, User
from crm.timezones import local_today

from . import lookups
from .rules import require_edit
from .timeline import log


def add_measure(actor: User, case: ProblemCase, *, name: str, unit: str = "",
                baseline_value: float | None = None, baseline_on: date | None = None
                ) -> CaseMeasure:
    require_edit(actor, case)
    errors: dict = {}
    name = lookups.text(name, "name", errors, required=True, max_len=200)
    unit = lookups.text(unit, "unit", errors, max_len=60)
    if baseline_value is not None and baseline_on is None:
        errors["baseline_on"] = "say when the baseline was measured"
    if errors:
        raise ValidationError(errors)
    m = CaseMeasure(name=name, unit=unit, baseline_value=baseline_value, baseline_on=baseline_on)
    case.measures.append(m)
    db.session.flush()
    base = (f" (baseline {baseline_value:g} {unit} on {baseline_on.isoformat()})"
            if baseline_value is not None else "")
    log(actor, case, "measure.add", f"Measure: {name}{base}", obj=m,
        detail={"measure_id": m.id, "name": name, "unit": unit, "baseline_value": baseline_value,
                "baseline_on": baseline_on})
    return m


def add_measure_value(actor: User, measure: CaseMeasure, *, measured_on: date, value: float,
                      note: str = "") -> CaseMeasureValue:
    case = measure.case
    require_edit(actor, case)
    errors: dict = {}
    note = lookups.text(note, "note", errors, max_len=300)
    if measured_on is None:
        errors["measured_on"] = "is required"
    elif measured_on > local_today():
        errors["measured_on"] = "cannot be in the future"
    elif measure.baseline_on and measured_on < measure.baseline_on:
        errors["measured_on"] = f"is before the baseline ({measure.baseline_on.isoformat()})"
    if value is None:
        errors["value"] = "is required"
    if errors:
        raise ValidationError(errors)
    v = CaseMeasureValue(measured_on=measured_on, value=float(value), note=note)
    measure.values.append(v)
    db.session.flush()
    log(actor, case, "measure.value",
        f"{measure.name}: {float(value):g} {measure.unit} on {measured_on.isoformat()}".strip(),
        obj=v, detail={"measure_id": measure.id, "value_id": v.id, "value": float(value),
                       "measured_on": measured_on, "note": note})
    return v


