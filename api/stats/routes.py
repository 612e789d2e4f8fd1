from fastapi import APIRouter

from api.auth import Program
from api.core.errors import ERRORS
from api.db import SessionDep
from api.stats.schemas import Equity
from api.stats.service import dashboard_figures, equity, queue_age_figures

router = APIRouter(prefix="/api/v1", tags=["stats"])
ProgramStaff = Program


@router.get("/stats", responses={401: ERRORS, 403: ERRORS})
def stats(_: ProgramStaff, session: SessionDep) -> dict:
    """Tags per month by category, decisions by kind (and `decisions_per_month`), awards per month,
    `csat_per_month` (C-SAT for all divisions and each, from the survey responses), queue size and
    age, by division;
    `queue_ages`: how many waiting clips have waited how long (what the dashboard page charts);
    `as_of`: when they were computed (they may be BESTPART_STATS_CACHE_SECONDS old)."""
    figures, ages = dashboard_figures(session), queue_age_figures(session)
    return {**figures.figures, "queue_ages": dict(ages.figures), "as_of": min(figures.as_of, ages.as_of)}


@router.get("/stats/equity", responses={401: ERRORS, 403: ERRORS})
def stats_equity(_: ProgramStaff, session: SessionDep) -> Equity:
    """Who gets recognised: tags, selections, nominations and awards per 100 officers by division,
    shift, rank, unit and years of service (dimensions the officer directory does not record come
    with `recorded: false`); each group's share of awards beside its share of tags; how
    concentrated awards are (the top 10 % of officers' share, the Gini coefficient); and the
    divisions whose officers' tags are reviewed at under half the median rate (`review_rates`);
    `as_of`: when they were computed (they may be BESTPART_STATS_CACHE_SECONDS old)."""
    return equity(session)
