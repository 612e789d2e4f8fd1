"""create_app(): the one FastAPI application, with the review UI mounted."""

import gc
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from api.audit.routes import router as audit_router
from api.auth import public
from api.awards.routes import router as awards_router
from api.clips.routes import router as clips_router
from api.core.errors import ServiceError
from api.curriculum.routes import router as curriculum_router
from api.db import DatabaseBusy, is_busy
from api.docs import mount_docs
from api.imports.routes import router as imports_router
from api.notifications.routes import router as notifications_router
from api.recognition.routes import router as recognition_router
from api.review.routes import router as review_router
from api.search.routes import router as search_router
from api.security import SecurityHeaders
from api.stats.routes import router as stats_router
from api.surveys.routes import router as surveys_router
from api.users.routes import router as users_router


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # What start-up loaded (libraries, routes, templates) lives as long as the process: moved out
    # of the garbage collector's full passes, which otherwise walk all of it and stall a request
    # for 100 ms or more every so often (bench/search.py saw them at p95).
    gc.collect()
    gc.freeze()
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="bestpart",
        summary="Body-worn-camera tagging, recognition and video review",
        version="0.1.0",
        lifespan=_lifespan,
        docs_url=None,  # served by mount_docs, offline
        redoc_url=None,
    )
    for router in (
        users_router,
        clips_router,
        review_router,
        awards_router,
        curriculum_router,
        search_router,
        recognition_router,
        stats_router,
        audit_router,
        notifications_router,
        surveys_router,
        imports_router,
    ):
        app.include_router(router)

    @app.get("/api/v1/health", tags=["health"], dependencies=[Depends(public())])
    def health() -> dict:
        return {"status": "ok"}

    # FastAPI's exception_handler, not add_exception_handler: Starlette types every handler as one
    # taking any Exception, where each is called with the class it is registered for.
    app.exception_handler(ServiceError)(_service_error)
    for database_error in (OperationalError, PoolTimeout):
        app.add_exception_handler(database_error, _database_error)
    mount_docs(app)
    _mount_review_ui(app)
    app.add_middleware(SecurityHeaders)
    return app


async def _service_error(request: Request, exc: ServiceError):
    # Answered as the HTTPException it stands for: JSON for the API, a page for people.
    return await request.app.exception_handlers[HTTPException](
        request, HTTPException(exc.status, str(exc), headers=getattr(exc, "headers", None))
    )


async def _database_error(request: Request, exc: Exception):
    # Overload (SQLite's lock or the pool not free in time) is answered 503 + Retry-After, which
    # clients retry; the transaction was rolled back, so nothing half-done stays. Anything else is
    # our fault: raised on, to be logged and answered 500.
    if not is_busy(exc):
        raise exc
    return await _service_error(request, DatabaseBusy())


def _mount_review_ui(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException

    from api.auth import LoginRequired
    from review_ui import admin, awards, curriculum, dashboard, imports, inbox, officer, review, routes, surveys
    from review_ui.pages import STATIC_DIR, http_error_handler, login_required_handler

    for module in (routes, review, officer, awards, curriculum, dashboard, admin, inbox, surveys, imports):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.exception_handler(LoginRequired)(login_required_handler)  # as ServiceError's, above
    app.exception_handler(HTTPException)(http_error_handler)
