"""Shared parameter types: ids fit the database's integer columns, so a huge id is a 422, not a 500."""

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2_147_483_647  # PostgreSQL integer

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]  # an id inside a JSON body
