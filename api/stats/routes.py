from fastapi import APIRouter

from api.auth import Program
from api.core.errors import ERRORS
from api.db import SessionDep
from api.stats.service import dashboard, queue_ages

router = APIRouter(prefix="/api/v1", tags=["stats"])
ProgramStaff = Program


@router.get("/stats", responses={401: ERRORS, 403: ERRORS})
def stats(_: ProgramStaff, session: SessionDep) -> dict:
    """Tags per month by category, decisions by kind, awards per month, queue size and age, by division;
    `queue_ages`: how many waiting clips have waited how long (what the dashboard page charts)."""
    return {**dashboard(session), "queue_ages": dict(queue_ages(session))}
