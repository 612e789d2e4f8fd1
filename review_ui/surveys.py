"""Page: customer-satisfaction survey imports (admins). It reads through api.surveys.service, as
GET /api/v1/surveys/imports does; surveys.js sends the file to POST /api/v1/surveys/import."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.db import SessionDep
from api.pagination import offset_of
from api.surveys import service
from api.surveys.schemas import CSV_COLUMNS
from review_ui.pages import AdminPage, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@router.get("/admin/surveys")
def surveys_page(
    request: Request, principal: AdminPage, session: SessionDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
):
    listing = service.imports(session, limit=PAGE_SIZE, offset=offset_of(page, PAGE_SIZE))
    return render(
        request,
        "surveys.html",
        principal,
        imports=listing.items,
        page=page,
        total=listing.total,
        page_size=PAGE_SIZE,
        columns=CSV_COLUMNS,
    )
