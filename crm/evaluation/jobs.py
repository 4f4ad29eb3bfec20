"""The trial analysis off the request path: one background job per trial and outcome.

The analysis runs on the network analytics' queue and is stored in `analytics_results`
(`crm.network.results`): keyed by the trial, the outcome, what of the design the numbers
depend on (the periods and the allocation) and the change counters of contacts and groups,
computed once per version however many pages ask (the row's claim is the single-flight
guard). The trial page, the panel export and the API read the newest stored document at
once, with when it was computed, and say "computing" before the first one; the CLI still
computes on the spot (`services.analyse_trial`).
"""

from __future__ import annotations

from datetime import datetime

from crm.errors import ValidationError
from crm.evaluation import services as svc
from crm.evaluation.models import Trial
from crm.extensions import db
from crm.network import results

ANALYTIC = "trial-outcome"
# Contacts, their links and stage changes ('contacts'); groups' stances ('network').
DEPENDS = ("contacts", "network")


def params_for(trial: Trial, outcome: str) -> dict:
    """What an outcome's document depends on besides the records: an edit of the periods (or
    anything else) after allocation starts a new key; renaming the trial does not."""
    return {"v": 2, "trial_id": trial.id, "outcome": outcome,  # v2: the document has the panel
            "periods": [d.isoformat() for d in (trial.baseline_start, trial.baseline_end,
                                                trial.follow_up_start, trial.follow_up_end)],
            "allocated_at": trial.allocated_at.isoformat() if trial.allocated_at else None}


def _compute(params: dict) -> dict:
    trial = db.session.get(Trial, params["trial_id"])
    if trial is None:
        raise LookupError(f"trial {params['trial_id']} no longer exists")
    return svc.outcome_document(trial, params["outcome"])


results.register(ANALYTIC, DEPENDS, _compute)


def stored(trial: Trial, outcome: str) -> results.Result:
    """The newest stored document of one outcome (None while computing); never computes here."""
    if outcome not in svc.OUTCOMES:
        raise ValidationError({"outcome": f"must be one of {', '.join(svc.OUTCOMES)}"})
    if trial.allocated_at is None:
        raise ValidationError({"trial": "is not allocated yet"})
    return results.latest_for(ANALYTIC, params_for(trial, outcome))


def stored_analysis(actor, trial: Trial, outcome: str) -> tuple[dict | None, results.Result]:
    """The API's answer: the stored analysis of one outcome (None while computing) and its
    freshness."""
    svc._need(actor, svc.TRIAL_VIEW_ROLES, "analyse trials")
    res = stored(trial, outcome)
    return (res.document["analysis"] if res.document else None), res


def stored_panels(actor, trial: Trial, outcome: str | None) -> dict[str, list[dict]] | None:
    """The stored panels of one outcome or of every pre-registered one, for the export; None
    while any of them is still being computed (its job is asked for)."""
    svc._need(actor, svc.TRIAL_VIEW_ROLES, "export trials")
    got = {o: stored(trial, o).document for o in ([outcome] if outcome else trial.outcomes)}
    if any(doc is None for doc in got.values()):
        return None
    return {o: doc["panel"] for o, doc in got.items()}


def stored_report(actor, trial: Trial) -> dict:
    """The trial page's report from the stored documents, plus how fresh it is: `status` is
    "computing" while an outcome has no document yet, "refreshing" while newer data is being
    worked in, else "fresh"; `computed_at` is the oldest document's time."""
    svc._need(actor, svc.TRIAL_VIEW_ROLES, "analyse trials")
    if trial.allocated_at is None:
        return {**svc.report_from(trial, {}), "pending": [], "status": "fresh", "computed_at": None}
    got = {o: stored(trial, o) for o in trial.outcomes}
    report = svc.report_from(trial, {o: r.document for o, r in got.items()})
    times: list[datetime] = [r.computed_at for r in got.values() if r.computed_at]
    status = ("computing" if report["pending"] else
              "refreshing" if any(r.refreshing for r in got.values()) else "fresh")
    return {**report, "status": status, "computed_at": min(times) if times else None}
