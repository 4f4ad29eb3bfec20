"""Pages of HTML lists: one page argument rule and one pager (`_macros.html` `pager`).

`paginate(select, per_page=...)` is `db.paginate` with the page number read (and bounded)
here; `rows=True` pages a select of several columns (rows instead of scalars). `Page` wraps
items a service already counted, so every list hands the macro the same object.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from werkzeug.exceptions import BadRequest

from crm.extensions import db

MAX_PAGE = 100_000  # far past any real list; keeps absurd offsets away from the database


def page_arg(name: str = "page") -> int:
    """The page number in the query string: 1 when absent or not a number, 400 when absurd."""
    try:
        n = int(request.args.get(name) or 1)
    except ValueError:
        return 1
    if n > MAX_PAGE:
        raise BadRequest(f"{name}: must be a page number from 1 to {MAX_PAGE}.")
    return max(n, 1)


class RowPagination(SelectPagination):
    """`db.paginate` for a select of several columns: items are rows, not scalars."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate(select: sa.Select, *, per_page: int, page: int | None = None,
             rows: bool = False, param: str = "page") -> Pagination:
    """One page of `select` (ordered by the caller), the page number from `param`."""
    page = page_arg(param) if page is None else page
    if rows:
        return RowPagination(select=select, session=db.session(), page=page, per_page=per_page,
                             max_per_page=None, error_out=False)
    return db.paginate(select, page=page, per_page=per_page, max_per_page=None, error_out=False)


class Page(Pagination):
    """Items of one page that a service fetched (and counted) itself.

    `total=None` for lists too long to count on every page (the audit trail): pass
    `more=True` when a next page exists (fetch one item past the page to know).
    """

    def __init__(self, items: list, total: int | None, page: int, per_page: int, *,
                 more: bool = False):
        self._more = more
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False,
                         items=list(items), total=total)

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int | None:
        return self._query_args["total"]

    @property
    def pages(self) -> int:
        if self.total is None:
            return self.page + (1 if self._more else 0)
        return super().pages
