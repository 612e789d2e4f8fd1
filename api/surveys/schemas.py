from datetime import datetime

from pydantic import BaseModel

# The columns of a survey export, in the order the template file has them.
CSV_COLUMNS = "survey_id,incident_number,date,division,score,comment,badge"


class SurveyImportOut(BaseModel):
    id: int
    filename: str
    sha256: str
    rows: int
    accepted: int
    unchanged: int
    refused: int
    refusals: list[dict]  # {"line", "survey_id", "problem"}
    imported_by: str
    imported_at: datetime


class ClipSurveyOut(BaseModel):
    survey_id: str
    responded_on: str
    score: str
    satisfied: bool
    comment: str | None  # None: none given, or still being checked for personal details
    comment_checked: bool


class CsatCell(BaseModel):
    month: str  # YYYY-MM
    division: str
    responses: int
    satisfied: int
    csat: float  # satisfied / responses
