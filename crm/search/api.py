"""GET /api/v1/search?q=: people, groups and cases in the caller's scope, ranked like the page."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import abort

from crm.access import require_role
from crm.api.common import Blueprint
from crm.search import services
from crm.web.forms import client_ip
from crm.web.paging import MAX_PAGE

blp = Blueprint("search_api", __name__, url_prefix="/api/v1/search",
                description="One search over people, groups and cases in your scope")

f = ma.fields


class SearchQuerySchema(ma.Schema):
    q = f.Str(required=True, validate=ma.validate.Length(min=services.MIN_QUERY,
                                                         max=services.MAX_QUERY))
    page = f.Int(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = f.Int(load_default=services.PER_PAGE, validate=ma.validate.Range(min=1, max=100))


class HitSchema(ma.Schema):
    kind = f.Str(metadata={"enum": ["group", "person", "case"]})
    id = f.Int()
    title = f.Str()
    detail = f.Str()
    own_beat = f.Bool(metadata={"description": "A group of your own beats, or a member of one, "
                                               "or a case on your beats"})
    score = f.Float()


class SearchResultSchema(ma.Schema):
    q = f.Str()
    total = f.Int()
    page = f.Int()
    pages = f.Int()
    results = f.List(f.Nested(HitSchema))


@blp.route("")
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, SearchResultSchema)
def search(args):
    """Search people (by name, phone or email), groups and cases; your own beats' groups and
    their members first. Analysts may not search (403)."""
    user = require_role(*services.SEARCH_ROLES)
    try:
        q = services.clean_query(args["q"])
    except services.QueryError as e:
        ma_error = {"q": [str(e).removeprefix("q: ")]}
        abort(422, errors={"query": ma_error}, message=str(e))
    page = services.search(user, q, page=args["page"], per_page=args["page_size"], ip=client_ip())
    return {"q": q, "total": page.total, "page": page.page, "pages": page.pages,
            "results": [h.to_dict() for h in page.items]}
