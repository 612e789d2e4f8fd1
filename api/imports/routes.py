from fastapi import APIRouter, Query, Response

from api.auth import Admin
from api.core.errors import ERRORS
from api.db import SessionDep
from api.imports import service
from api.imports.schemas import ManifestImportOut
from api.pagination import Limit, paging_headers

router = APIRouter(prefix="/api/v1", tags=["imports"], responses={401: ERRORS, 403: ERRORS})


@router.get("/imports")
def manifest_imports(
    _: Admin, session: SessionDep, response: Response, limit: Limit = 50, offset: int = Query(0, ge=0)
) -> list[ManifestImportOut]:
    """The evidence-system manifests imported (the watched folder's and `bestpart import`'s), newest
    first: rows, accepted, duplicates, refused, and each refused row with its reason."""
    page = service.imports(session, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return page.items
