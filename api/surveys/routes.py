from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from api.auth import Admin, CurrentPrincipal, Program
from api.clips.service import visible_clip
from api.core.errors import ERRORS
from api.db import SessionDep
from api.pagination import Limit, paging_headers
from api.params import Id
from api.stats.service import csat_cells
from api.surveys import service
from api.surveys.schemas import CSV_COLUMNS, ClipSurveyOut, CsatCell, SurveyImportOut
from api.users.models import Role

router = APIRouter(prefix="/api/v1", tags=["surveys"], responses={401: ERRORS, 403: ERRORS})


@router.post("/surveys/import", status_code=201, responses={422: ERRORS})
def import_surveys(
    principal: Admin,
    session: SessionDep,
    body: Annotated[bytes, Body(media_type="text/csv", description=CSV_COLUMNS)],
    filename: Annotated[str, Query(max_length=300)] = "upload.csv",
) -> SurveyImportOut:
    """Import survey responses (score 1-5, or a percentage such as 84%). Each invalid row is
    reported and skipped; a survey id imported before is left as it was, so sending the same
    file again changes nothing."""
    batch = service.import_file(session, principal.actor, filename, body)
    return SurveyImportOut.model_validate(batch, from_attributes=True)


@router.get("/surveys/imports")
def survey_imports(
    _: Admin, session: SessionDep, response: Response, limit: Limit = 50, offset: int = Query(0, ge=0)
) -> list[SurveyImportOut]:
    page = service.imports(session, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return [SurveyImportOut.model_validate(b, from_attributes=True) for b in page.items]


@router.get("/clips/{clip_id}/surveys", responses={404: ERRORS})
def clip_surveys(clip_id: Id, principal: CurrentPrincipal, session: SessionDep) -> list[ClipSurveyOut]:
    """What the people in this clip's incident said in the survey. Comments show with personal
    details removed (admins see them as sent)."""
    clip = visible_clip(session, principal, clip_id)
    surveys = service.for_clip(session, clip, as_admin=principal.has(Role.ADMIN))
    return [ClipSurveyOut.model_validate(s, from_attributes=True) for s in surveys]


@router.get("/surveys/csat")
def csat(_: Program, session: SessionDep) -> list[CsatCell]:
    """C-SAT (the share of responses scoring 4-5 of 5, or 75 % and above) by month and division."""
    return [CsatCell(**cell) for cell in csat_cells(session)]  # the worker's snapshot: at most stats_cache_seconds old
