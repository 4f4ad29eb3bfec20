"""Beats: read-only reference data for every signed-in user."""

import sqlalchemy as sa

from crm.api.common import Blueprint, paginate
from crm.beats.models import Beat, District
from crm.beats.schemas import BeatQuerySchema, BeatSchema
from crm.extensions import db

blp = Blueprint("beats_api", __name__, url_prefix="/api/v1/beats", description="Beats and districts")


@blp.route("/")
@blp.arguments(BeatQuerySchema, location="query")
@blp.response(200, BeatSchema(many=True))
@blp.paginate()
def list_beats(args, pagination_parameters):
    q = sa.select(Beat).order_by(Beat.code)
    if args.get("district"):
        q = q.join(District).where(District.code == args["district"])
    if args.get("q"):
        like = f"%{args['q']}%"
        q = q.where(sa.or_(Beat.code.ilike(like), Beat.name.ilike(like)))
    return paginate(q, pagination_parameters)


@blp.route("/<id:beat_id>")
@blp.response(200, BeatSchema)
def get_beat(beat_id: int):
    return db.get_or_404(Beat, beat_id)
