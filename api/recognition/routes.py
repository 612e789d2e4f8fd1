"""The cue rules in force (admins read and replace them); workers re-score every clip after a change."""

import json
from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from api.audit.service import record
from api.auth import Admin
from api.clips import recognition
from api.core.errors import ERRORS
from api.db import SessionDep
from api.recognition import service

router = APIRouter(prefix="/api/v1/recognition", tags=["recognition"])


class RulesPublic(BaseModel):
    version: int
    digest: str
    cues: int
    rules: dict[str, Any]


class RuleProblemPublic(BaseModel):
    message: str
    cue: int | None = Field(description="the cue's place in the edit (0-based); null: the settings or the whole file")
    cue_id: str | None
    field: str | None = Field(description="the key of the cue or of the settings it concerns, where known")


class RulesCheckPublic(BaseModel):
    ok: bool = Field(description="PUT /api/v1/recognition/rules would take this edit")
    problems: list[RuleProblemPublic]
    version: int | None
    cues: int


def _public(rules, data: dict) -> RulesPublic:
    return RulesPublic(version=rules.version, digest=rules.digest, cues=len(rules.cues), rules=data)


@router.get("/rules", response_model=RulesPublic, responses={401: ERRORS, 403: ERRORS})
def get_rules(_: Admin):
    """The rules file in force, as JSON, with its version and digest."""
    rules = recognition.current_rules()
    return _public(rules, json.loads(recognition.rules_path().read_text()))


@router.post("/rules/check", response_model=RulesCheckPublic, responses={401: ERRORS, 403: ERRORS})
def check_rules(_: Admin, body: Any = Body()):
    """Check an edit with the checks PUT /rules makes, saving nothing: every problem, each with the
    cue (and key) it concerns, so that a page can show it there."""
    found = service.check(body)
    return RulesCheckPublic(
        ok=found.ok,
        problems=[RuleProblemPublic(**vars(p)) for p in found.problems],
        version=found.version,
        cues=found.cues,
    )


@router.put("/rules", response_model=RulesPublic, responses={401: ERRORS, 403: ERRORS, 422: ERRORS})
def put_rules(principal: Admin, session: SessionDep, body: dict[str, Any] = Body()):
    """Check and put a new rules file in force; a broken one is refused with what is wrong and the
    old one stays. Workers then re-score every ready clip in the background."""
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    rules = recognition.replace_rules(text)  # RulesError (422) says what is wrong
    record(
        session,
        principal.actor,
        "rules.replace",
        object_type="rules",
        object_id=rules.version,
        details={"digest": rules.digest, "cues": len(rules.cues)},
    )
    return _public(rules, body)
