"""GET /api/v1/analytics/<name>: the same documents as `flask crm analytics NAME --json`."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from crm.api.common import Blueprint

from crm.audit.services import record_event
from crm.extensions import db
from crm.models import Beat, District
from crm.network import schemas
from crm.network.services import compute

blp = Blueprint("analytics_api", __name__, url_prefix="/api/v1/analytics",
                description="Network analytics over groups, memberships, relations and contacts")

# Aggregates without personal data; officers get the ones that serve their own beats.
ROLES = {
    "overlap": ("unit", "supervisor", "admin", "analyst"),
    "factions": ("unit", "supervisor", "admin", "analyst"),
    "brokers": ("unit", "supervisor", "admin", "analyst"),
    "introductions": ("officer", "unit", "supervisor", "admin"),
    "hard-to-engage": ("officer", "unit", "supervisor", "admin", "analyst"),
    "coverage": ("supervisor", "admin", "unit", "analyst"),
}


def resolve_beats(codes: list[str] | None, district: str | None) -> list[int] | None:
    """Beat codes and/or a district code → beat ids (None: no restriction). Unknown → 404."""
    if not codes and not district:
        return None
    ids: set[int] = set()
    if codes:
        found = dict(db.session.execute(sa.select(Beat.code, Beat.id).where(Beat.code.in_(codes))).all())
        missing = sorted(set(codes) - set(found))
        if missing:
            abort(404, description=f"unknown beat {', '.join(missing)}")
        ids |= set(found.values())
    if district:
        did = db.session.scalar(sa.select(District.id).where(District.code == district))
        if did is None:
            abort(404, description=f"unknown district {district}")
        ids |= set(db.session.scalars(sa.select(Beat.id).where(Beat.district_id == did)))
    return sorted(ids)


def _run(name: str, args: dict) -> dict:
    if current_user.role not in ROLES[name]:
        abort(403, description=f"your role cannot use the {name} analytic")
    beat_ids = resolve_beats(args.get("beat"), args.get("district"))
    try:
        doc = compute(name, as_of=args.get("as_of"), days=args.get("days", 90),
                      beat_ids=beat_ids, group_id=args.get("group"),
                      officer_id=args.get("officer"), limit=args.get("limit"))
    except LookupError as e:
        abort(404, description=str(e))
    except ValueError as e:
        abort(422, description=str(e))
    record_event(current_user, "analytics.read", object_type="analytics", object_id=name)
    return doc


def _endpoint(name: str, schema):
    def view(args):
        return _run(name, args)
    view.__name__ = f"analytics_{name.replace('-', '_')}"
    view.__doc__ = f"The {name} analytic."
    blp.route(f"/{name}")(blp.arguments(schemas.AnalyticsQuerySchema, location="query")(
        blp.response(200, schema)(view)))


for _name, _schema in [("overlap", schemas.OverlapSchema), ("factions", schemas.FactionsSchema),
                       ("brokers", schemas.BrokersSchema),
                       ("introductions", schemas.IntroductionsSchema),
                       ("hard-to-engage", schemas.HardToEngageSchema),
                       ("coverage", schemas.CoverageSchema)]:
    _endpoint(_name, _schema)
