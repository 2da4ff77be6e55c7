"""Pages of results: every list the service returns is cut into pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from ledger.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


def fetch_page(statement: Select[Any], request: PageRequest) -> Page[Any]:
    """Run ``statement`` (which must have a stable ORDER BY) for one page, and count the whole."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.scalars(statement.limit(request.page_size).offset(request.offset)))
    return Page(items=items, total=total or 0)
