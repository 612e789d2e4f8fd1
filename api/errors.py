"""The one error shape every route answers with: {"detail": "what went wrong, specifically"}.

For a request FastAPI cannot parse, `detail` is its list of field problems instead."""

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str | list[dict]


ERRORS = {"model": ErrorOut}


class ServiceError(ValueError):
    """A business rule refused the request: the HTTP status to answer and what went wrong.

    Services raise it; the app answers it like an HTTPException, so routes need no try/except."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
