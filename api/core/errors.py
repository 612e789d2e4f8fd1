"""The one error hierarchy and the one error shape every route answers with.

Services raise NotFound, Forbidden, Conflict or Invalid (all ServiceErrors); the app answers
each as the HTTP status it stands for, JSON `{"detail": "..."}` for the API and a page for
people, so routes need no try/except. For a request FastAPI cannot parse, `detail` is its list
of field problems instead."""

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str | list[dict]


ERRORS = {"model": ErrorOut}


class ServiceError(ValueError):
    """A business rule refused the request: the HTTP status to answer and what went wrong.

    Prefer the named subclasses; a status they do not cover (413, 415, 429, 503) is given
    explicitly, with `headers` where the answer needs them (Retry-After)."""

    status = 400

    def __init__(self, *args, headers: dict[str, str] | None = None):
        # ServiceError(detail) with the class's status, or ServiceError(status, detail).
        if len(args) == 2:
            self.status, detail = args
        else:
            (detail,) = args
        super().__init__(detail)
        self.detail = detail
        if headers is not None:
            self.headers = headers


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    status = 422
