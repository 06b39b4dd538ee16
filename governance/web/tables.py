"""One table component for the console: server-side sorting, filtering and pagination.

A view hands over the rows it may show (already bounded by its service: recent jobs, accounts,
duplicate pairs, policy files) with a function giving each row's cells; ``request.args`` says
``sort``, ``order``, ``q`` (filter text) and ``page``. The ``table`` macro of
``console/templates/macros.html`` renders it: sortable column heads with ``aria-sort``, a
labelled filter box, and previous/next links that keep the other arguments. Lists too large to
hold (customers, the audit log) are paged by keyset in their service and use the same markup
with a "next" link instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import request


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    sortable: bool = True


@dataclass
class Table:
    columns: Sequence[Column]
    rows: list[list[Any]]
    sort: str
    order: str
    query: str
    page: int
    pages: int
    total: int
    args: dict[str, str] = field(default_factory=dict)
    filterable: bool = True

    def link(self, **changes: Any) -> str:
        """This page's URL with ``changes`` to its arguments."""
        args = {**self.args, "sort": self.sort, "order": self.order, "page": self.page}
        if self.query:
            args["q"] = self.query
        args.update(changes)
        return f"{request.path}?{urlencode({k: v for k, v in args.items() if v != ''})}"


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value).casefold())


def table(
    columns: Sequence[Column],
    items: Sequence[Any],
    cells: Callable[[Any], list[Any]],
    *,
    value: Callable[[Any, str], Any],
    default_sort: str,
    default_order: str = "desc",
    text: Callable[[Any], str] | None = None,
    per_page: int = 25,
) -> Table:
    """Sort ``items`` by ``value(item, column)``, keep those whose ``text`` contains ``q``
    (case-insensitive), and cut the requested page."""
    args = request.args
    keys = {c.key for c in columns if c.sortable}
    sort = str(args.get("sort") or default_sort)
    sort = sort if sort in keys else default_sort
    order = str(args.get("order") or default_order)
    order = order if order in ("asc", "desc") else default_order
    query = (args.get("q") or "").strip()[:100]
    kept = list(items)
    if query and text is not None:
        needle = query.casefold()
        kept = [item for item in kept if needle in text(item).casefold()]
    kept.sort(key=lambda item: _sort_key(value(item, sort)), reverse=order == "desc")
    pages = max(1, -(-len(kept) // per_page))
    try:
        page = min(max(1, int(args.get("page") or 1)), pages)
    except ValueError:
        page = 1
    shown = kept[(page - 1) * per_page : page * per_page]
    other = {k: v for k, v in args.items() if k not in ("sort", "order", "q", "page") and v}
    return Table(
        columns, [cells(item) for item in shown], sort, order, query, page, pages, len(kept),
        other, text is not None,
    )  # fmt: skip
