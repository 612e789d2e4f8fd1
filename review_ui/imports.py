"""Page: the evidence-system export imports (admins), the watched folder's and `bestpart import`'s.
It reads through api.imports.service, as GET /api/v1/imports does."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.db import SessionDep
from api.imports import service
from api.pagination import offset_of
from review_ui.pages import AdminPage, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
SOURCES = {"watch": "Watched folder", "cli": "bestpart import"}


@router.get("/admin/imports")
def imports_page(
    request: Request, principal: AdminPage, session: SessionDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
):
    listing = service.imports(session, limit=PAGE_SIZE, offset=offset_of(page, PAGE_SIZE))
    return render(
        request,
        "imports.html",
        principal,
        imports=listing.items,
        page=page,
        total=listing.total,
        page_size=PAGE_SIZE,
        sources=SOURCES,
    )
