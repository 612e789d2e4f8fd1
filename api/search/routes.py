"""Search endpoint: thin; the rules live in service.py."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CurrentPrincipal
from api.core.policies import search_badge
from api.db import SessionDep
from api.search import service
from api.search.schemas import SearchFilters, SearchPage, SearchQuery

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get("", response_model=SearchPage)
def search(principal: CurrentPrincipal, session: SessionDep, query: Annotated[SearchQuery, Query()]):
    """Clips whose transcript, tags, notes, officer, evidence or incident id match every word of `q`,
    best first: each with its best hits, a highlighted snippet and the second to jump to.
    Takes the review queue's filters. Officers find only the clips they recorded."""
    filters = SearchFilters.model_validate(query.model_dump(include=set(SearchFilters.model_fields)))
    return service.search(
        session,
        query.q,
        filters,
        restrict_to_badge=search_badge(principal),
        limit=query.limit,
        offset=query.offset,
    )
