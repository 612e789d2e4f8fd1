"""The one error shape every route answers with: {"detail": "what went wrong, specifically"}.

For a request FastAPI cannot parse, `detail` is its list of field problems instead."""

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str | list[dict]


ERRORS = {"model": ErrorOut}
