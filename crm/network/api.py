"""GET /api/v1/analytics/<name>: the same documents as `flask crm analytics NAME --json`.

Scoped like the pages: an officer asks for the hard-to-engage groups of their own beats and
for introductions to groups they may see (a supervisor: their district's groups). Overlap,
factions, brokers and introductions come from the background results (`crm.network.results`):
the answer is the newest stored document at once, with a `computed` block saying when and
from which data, or 202 while the first one is computed. Analysts get no names or ids of
officers or community members (`crm.network.outcomes.for_analyst`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, jsonify

from crm.access import beat_ids_select, group_scope, require_role
from crm.api.common import Blueprint
from crm.audit import reads
from crm.extensions import db
from crm.models import Beat, CommunityGroup, District, User
from crm.network import results, schemas
from crm.network.outcomes import for_analyst
from crm.network.services import LRU, compute
from crm.vocab import STAFF_ROLES
from crm.web.forms import client_ip

blp = Blueprint("network_api", __name__, url_prefix="/api/v1/analytics",
                description="Network analytics over groups, memberships, relations and contacts")

# Aggregates without personal data; officers get the ones that serve their own beats.
ROLES = {
    "overlap": ("unit", "supervisor", "admin", "analyst"),
    "factions": ("unit", "supervisor", "admin", "analyst"),
    "brokers": ("unit", "supervisor", "admin", "analyst"),
    "introductions": STAFF_ROLES,
    "hard-to-engage": ("officer", "unit", "supervisor", "admin", "analyst"),
    "coverage": ("supervisor", "admin", "unit", "analyst"),
}
RETRY_AFTER = 5  # seconds; a first computation on the large demo takes a few


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


def _own_beats(user: User, beat_ids: list[int] | None) -> list[int]:
    """An officer's hard-to-engage list covers their beats only, as on the my-beat page."""
    own = set(db.session.scalars(beat_ids_select(user)))
    if beat_ids is None:
        return sorted(own)
    if set(beat_ids) - own:
        abort(404, description="no such beat among your beats")
    return beat_ids


def _check_target(user: User, group_id: int | None) -> None:
    """Introductions only to a group the user may see; hidden and unknown answer alike."""
    if group_id is None:
        abort(422, description="introductions needs a target group (?group=ID)")
    q = sa.select(CommunityGroup.id).where(CommunityGroup.id == group_id)
    if user.role in ("officer", "supervisor"):
        q = q.where(group_scope(user))
    if db.session.scalar(q) is None:
        abort(404, description=f"no group {group_id}")


def _run(name: str, args: dict):
    user = require_role(*ROLES[name])
    beat_ids = resolve_beats(args.get("beat"), args.get("district"))
    if name == "hard-to-engage" and user.role == "officer":
        beat_ids = _own_beats(user, beat_ids)
    if name == "introductions":
        _check_target(user, args.get("group"))
    kw = {"as_of": args.get("as_of"), "beat_ids": beat_ids, "group_id": args.get("group"),
          "officer_id": args.get("officer"), "limit": args.get("limit")}
    try:
        if name in results.JOBS:
            res = results.latest(name, **kw)
            if res.document is None:
                _note_read(user, name)
                r = jsonify({"status": "computing", "computed": res.meta(),
                             "message": "computing in the background; ask again shortly"})
                r.status_code, r.headers["Retry-After"] = 202, str(RETRY_AFTER)
                return r
            doc = {**res.document, "computed": res.meta()}
        else:
            doc = compute(name, days=args.get("days", 90), live_cache=True, **kw)
    except LookupError as e:
        abort(404, description=str(e))
    except ValueError as e:
        abort(422, description=str(e))
    if user.role == "analyst":
        doc = for_analyst(name, doc, current_app.config["SECRET_KEY"])
    _note_read(user, name)
    if name in results.JOBS or user.role == "analyst":
        return doc
    return current_app.response_class(_json_of(name, doc), mimetype=current_app.json.mimetype)


def _json_of(name: str, doc: dict) -> bytes:
    """The answer's JSON, as the response schema writes it. Coverage and hard-to-engage come
    from the per-process cache until the next write, the same document object each time, so
    its JSON is written once, not on every supervisor's load."""
    def dump() -> bytes:
        return current_app.json.response(SCHEMAS[name]().dump(doc)).get_data()

    return _answers.get_for(doc, (name,), dump)


def _note_read(user, name: str) -> None:
    """Audit who read which analytic, once a minute per user, analytic and address."""
    reads.note_read(user, "analytics.read", "analytics", name, client_ip())


def _endpoint(name: str, schema):
    def view(args):
        return _run(name, args)
    view.__name__ = f"analytics_{name.replace('-', '_')}"
    view.__doc__ = f"The {name} analytic."
    decorated = blp.response(200, schema)(view)
    if name in results.JOBS:
        decorated = blp.alt_response(202, schema=schemas.ComputingSchema,
                                     description="Not computed yet: ask again shortly")(decorated)
    blp.route(f"/{name}")(blp.arguments(schemas.AnalyticsQuerySchema, location="query")(decorated))


SCHEMAS = {"overlap": schemas.OverlapSchema, "factions": schemas.FactionsSchema,
           "brokers": schemas.BrokersSchema, "introductions": schemas.IntroductionsSchema,
           "hard-to-engage": schemas.HardToEngageSchema, "coverage": schemas.CoverageSchema}
# The JSON of the last live documents answered, with the document it was written from.
_answers = LRU(32)

for _name, _schema in SCHEMAS.items():
    _endpoint(_name, _schema)
