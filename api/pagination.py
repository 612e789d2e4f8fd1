"""The one way a listing pages, for the API and the pages alike (Polar's kit/pagination.py).

Offset paging (`offset_page`): a page of rows and the total matching, for listings people page
through by number. Keyset paging (`keyset_page`): a page of rows and the key to ask for the next,
for a log that grows while it is read (the audit log: each view of it adds a record, which would
shift every offset page by one, and an offset scans ever more rows).

The API says the total in `X-Total-Count` and the next key in `X-Next-Before` (`paging_headers`),
so a listing that answered a plain JSON list still does.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from sqlalchemy import func
from sqlmodel import Session, select

T = TypeVar("T")
MAX_LIMIT = 500

Limit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="at most this many; all of them when left out")]


@dataclass
class Page(Generic[T]):
    """A page of rows from `offset`, and how many rows match in all."""

    items: list[T]
    total: int
    limit: int | None
    offset: int = 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def pages(self) -> int:
        """How many pages of `limit` rows the total makes (one, even when empty)."""
        return max(1, -(-self.total // self.limit)) if self.limit else 1

    def map(self, convert: Callable[[T], object]) -> "Page":
        return Page([convert(item) for item in self.items], self.total, self.limit, self.offset)


@dataclass
class KeysetPage(Generic[T]):
    """A page of rows, highest key first, and the key to pass as `before` for the next page."""

    items: list[T]
    next_before: int | None  # None: nothing older


def offset_of(page: int, size: int) -> int:
    """Where page `page` (numbered from 1) of `size` rows starts."""
    return (page - 1) * size


def count(session: Session, query) -> int:
    """How many rows the query selects (its order, limit and offset aside)."""
    return session.exec(
        select(func.count()).select_from(query.order_by(None).limit(None).offset(None).subquery())
    ).one()


def offset_page(session: Session, query, order: tuple, *, limit: int | None, offset: int = 0) -> Page:
    """The rows of `query` in `order` from `offset` (at most `limit`; all with None), and the total.
    The whole listing needs no count: its rows are the total."""
    rows = query.order_by(*order).offset(offset)
    items = list(session.exec(rows if limit is None else rows.limit(limit)))
    whole = limit is None and offset == 0
    return Page(items, len(items) if whole else count(session, query), limit, offset)


def keyset_page(session: Session, query, key, *, before: int | None, limit: int | None) -> KeysetPage:
    """The rows of `query` whose `key` column is below `before`, highest first, at most `limit`.
    One row more than asked for is read to learn whether there is a next page."""
    if before is not None:
        query = query.where(key < before)
    query = query.order_by(key.desc())
    if limit is None:
        return KeysetPage(list(session.exec(query)), None)
    rows = list(session.exec(query.limit(limit + 1)))
    more = len(rows) > limit
    return KeysetPage(rows[:limit], getattr(rows[limit - 1], key.key) if more else None)


def paging_headers(page: Page | KeysetPage) -> dict[str, str]:
    """What the API says about a page beside its JSON list."""
    if isinstance(page, KeysetPage):
        return {"X-Next-Before": str(page.next_before)} if page.next_before is not None else {}
    return {"X-Total-Count": str(page.total)}
