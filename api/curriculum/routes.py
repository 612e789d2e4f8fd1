"""The training curriculum: courses, lessons, lesson items, lesson exports.

Trainers and admins write; trainers, reviewers and admins read. Which lessons use a clip is shown
to anyone who may see the clip.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from api.access import visible_clip
from api.auth import AnyUser, Principal, Trainer, allow
from api.core.errors import ERRORS
from api.curriculum import redaction, service
from api.curriculum.models import Course, ExportState, Lesson, LessonExport
from api.curriculum.schemas import (
    ClipLessonPublic,
    CourseIn,
    CourseOutlinePublic,
    CoursePublic,
    CourseUpdate,
    ExportPublic,
    ItemIn,
    ItemPublic,
    ItemReorder,
    ItemUpdate,
    KeyframesIn,
    LessonIn,
    LessonOutlinePublic,
    LessonPublic,
    LessonReorder,
    LessonSummary,
    LessonUpdate,
    ManualTrackIn,
    PreviewIn,
    RedactionPublic,
    TrackEdit,
    WordsIn,
    WordToggle,
)
from api.db import SessionDep
from api.params import Id
from api.users.models import Role

router = APIRouter(prefix="/api/v1", tags=["curriculum"])
CurriculumReader = Annotated[Principal, Depends(allow(Role.TRAINER, Role.REVIEWER, Role.ADMIN))]
DENIED = {401: ERRORS, 403: ERRORS}
MISSING = {**DENIED, 404: ERRORS}
INVALID = {**MISSING, 409: ERRORS, 422: ERRORS}


def _course(session, course: Course) -> CoursePublic:
    lessons = [LessonSummary.model_validate(x, from_attributes=True) for x in service.lessons_of(session, course.id)]
    return CoursePublic(**course.model_dump(), lessons=lessons)


def _lesson(session, lesson: Lesson) -> LessonPublic:
    items = service.items_public(session, service.items_of(session, lesson.id))
    return LessonPublic(
        **lesson.model_dump(),
        course_title=service.get_course(session, lesson.course_id).title,
        duration=round(sum(item.duration for item in items), 3),
        items=items,
    )


def _export(export: LessonExport) -> ExportPublic:
    done = export.state == ExportState.DONE and export.revoked_at is None
    return ExportPublic(
        **export.model_dump(exclude={"path"}), download_url=f"/api/v1/exports/{export.id}/download" if done else None
    )


# --- courses ----------------------------------------------------------------------------------


@router.post("/courses", response_model=CoursePublic, status_code=201, responses={**DENIED, 422: ERRORS})
def create_course(body: CourseIn, principal: Trainer, session: SessionDep):
    return _course(session, service.create_course(session, principal.actor, body))


@router.get("/courses", response_model=list[CourseOutlinePublic], responses=DENIED)
def list_courses(_: CurriculumReader, session: SessionDep):
    """Every course with its lessons in order, each lesson with its number of items and its length."""
    return [
        CourseOutlinePublic(
            **outline.course.model_dump(),
            lessons=[
                LessonOutlinePublic(**row.lesson.model_dump(), items=row.items, duration=round(row.duration, 3))
                for row in outline.lessons
            ],
        )
        for outline in service.course_tree(session)
    ]


@router.get("/courses/{course_id}", response_model=CoursePublic, responses=MISSING)
def get_course(course_id: Id, _: CurriculumReader, session: SessionDep):
    return _course(session, service.get_course(session, course_id))


@router.patch("/courses/{course_id}", response_model=CoursePublic, responses=INVALID)
def update_course(course_id: Id, body: CourseUpdate, principal: Trainer, session: SessionDep):
    return _course(session, service.update_course(session, principal.actor, course_id, body))


# --- lessons ----------------------------------------------------------------------------------


@router.post("/courses/{course_id}/lessons", response_model=LessonPublic, status_code=201, responses=INVALID)
def create_lesson(course_id: Id, body: LessonIn, principal: Trainer, session: SessionDep):
    return _lesson(session, service.create_lesson(session, principal.actor, course_id, body))


@router.post("/courses/{course_id}/lessons/reorder", response_model=CoursePublic, responses=INVALID)
def reorder_lessons(course_id: Id, body: LessonReorder, principal: Trainer, session: SessionDep):
    """Put the course's lessons in this order (every lesson, once)."""
    service.reorder_lessons(session, principal.actor, course_id, body.lesson_ids)
    return _course(session, service.get_course(session, course_id))


@router.get("/lessons/{lesson_id}", response_model=LessonPublic, responses=MISSING)
def get_lesson(lesson_id: Id, _: CurriculumReader, session: SessionDep):
    """The lesson with its items in order: play each item's proxy from in_point to out_point."""
    return _lesson(session, service.get_lesson(session, lesson_id))


@router.patch("/lessons/{lesson_id}", response_model=LessonPublic, responses=INVALID)
def update_lesson(lesson_id: Id, body: LessonUpdate, principal: Trainer, session: SessionDep):
    return _lesson(session, service.update_lesson(session, principal.actor, lesson_id, body))


# --- lesson items -----------------------------------------------------------------------------


@router.post("/lessons/{lesson_id}/items", response_model=ItemPublic, status_code=201, responses=INVALID)
def add_item(lesson_id: Id, body: ItemIn, principal: Trainer, session: SessionDep):
    """Add a segment [in_point, out_point] of a clip selected for training, with annotations."""
    return service.items_public(session, [service.add_item(session, principal.actor, lesson_id, body)])[0]


@router.patch("/lessons/{lesson_id}/items/{item_id}", response_model=ItemPublic, responses=INVALID)
def update_item(lesson_id: Id, item_id: Id, body: ItemUpdate, principal: Trainer, session: SessionDep):
    return service.items_public(session, [service.update_item(session, principal.actor, lesson_id, item_id, body)])[0]


@router.delete("/lessons/{lesson_id}/items/{item_id}", status_code=204, response_class=Response, responses=MISSING)
def delete_item(lesson_id: Id, item_id: Id, principal: Trainer, session: SessionDep):
    service.delete_item(session, principal.actor, lesson_id, item_id)
    return Response(status_code=204)


@router.post("/lessons/{lesson_id}/items/reorder", response_model=list[ItemPublic], responses=INVALID)
def reorder_items(lesson_id: Id, body: ItemReorder, principal: Trainer, session: SessionDep):
    """Put the lesson's items in this order (every item, once)."""
    return service.items_public(session, service.reorder_items(session, principal.actor, lesson_id, body.item_ids))


@router.get("/clips/{clip_id}/lessons", response_model=list[ClipLessonPublic], responses=MISSING)
def clip_lessons(clip_id: Id, principal: AnyUser, session: SessionDep):
    """The lessons that use this clip."""
    visible_clip(session, principal, clip_id)
    return [
        ClipLessonPublic(
            lesson_id=lesson.id,
            lesson_title=lesson.title,
            course_id=course.id,
            course_title=course.title,
            item_ids=item_ids,
        )
        for lesson, course, item_ids in service.lessons_using_clip(session, clip_id)
    ]


# --- exports ----------------------------------------------------------------------------------


@router.post("/lessons/{lesson_id}/exports", response_model=ExportPublic, status_code=202, responses=INVALID)
def start_export(lesson_id: Id, principal: Trainer, session: SessionDep):
    """Export the lesson as a zip (MP4 segments, WebVTT captions, manifest.json) in the background;
    poll GET /api/v1/exports/{id} for its progress."""
    return _export(service.start_export(session, principal.actor, lesson_id))


@router.get("/lessons/{lesson_id}/exports", response_model=list[ExportPublic], responses=MISSING)
def list_exports(lesson_id: Id, _: CurriculumReader, session: SessionDep):
    return [_export(export) for export in service.exports_of(session, lesson_id)]


@router.get("/exports/{export_id}", response_model=ExportPublic, responses=MISSING)
def get_export(export_id: Id, _: CurriculumReader, session: SessionDep):
    return _export(service.get_export(session, export_id))


@router.get(
    "/exports/{export_id}/download", response_class=FileResponse, responses={**MISSING, 409: ERRORS, 410: ERRORS}
)
def download_export(export_id: Id, principal: CurriculumReader, session: SessionDep):
    export, path = service.export_file(session, principal.actor, export_id)
    if path is None:  # revoked: answered, not raised, so that the revocation and its audit commit
        return JSONResponse(
            {"detail": f"export {export_id} was revoked: {export.revoked_reason}"},
            status_code=410,
            headers={"Cache-Control": "no-store"},
        )
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"lesson-{export.lesson_id}-export-{export.id}.zip",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


# --- redaction of a lesson item ---------------------------------------------------------------

REDACTION = "/lessons/{lesson_id}/items/{item_id}/redaction"


class ApproveIn(BaseModel):
    version: int | None = Field(default=None, ge=1, description="the version you reviewed: refused if it changed")


def _redaction(session, lesson_id: int, item_id: int) -> RedactionPublic:
    item, found = redaction.get_redaction(session, lesson_id, item_id)
    return redaction.redaction_public(session, item, found)


@router.get(REDACTION, response_model=RedactionPublic, responses=MISSING)
def get_redaction(lesson_id: Id, item_id: Id, _: CurriculumReader, session: SessionDep):
    """The item's redaction: detected face tracks and drawn regions (keep or blur), spoken PII
    and words marked to bleep, status (draft or approved), version and approver."""
    return _redaction(session, lesson_id, item_id)


@router.post(REDACTION + "/detect", response_model=RedactionPublic, status_code=202, responses=INVALID)
def detect(lesson_id: Id, item_id: Id, principal: Trainer, session: SessionDep):
    """Run the detection again (a new version; an approval is voided)."""
    item, found = redaction.request_detection(session, principal.actor, lesson_id, item_id)
    return redaction.redaction_public(session, item, found)


@router.patch(REDACTION + "/tracks/{track_id}", response_model=RedactionPublic, responses=INVALID)
def edit_track(lesson_id: Id, item_id: Id, track_id: Id, body: TrackEdit, principal: Trainer, session: SessionDep):
    """Blur a track, or keep a face visible with its reason (featured_officer, or consent with
    keep_note recording it)."""
    redaction.edit_track(session, principal.actor, lesson_id, item_id, track_id, body)
    return _redaction(session, lesson_id, item_id)


@router.post(REDACTION + "/tracks", response_model=RedactionPublic, status_code=201, responses=INVALID)
def add_track(lesson_id: Id, item_id: Id, body: ManualTrackIn, principal: Trainer, session: SessionDep):
    """Draw a region to blur (a face missed, a screen, a document, a plate) with keyframes."""
    redaction.add_manual_track(session, principal.actor, lesson_id, item_id, body)
    return _redaction(session, lesson_id, item_id)


@router.post(REDACTION + "/tracks/{track_id}/keyframes", response_model=RedactionPublic, responses=INVALID)
def set_keyframes(lesson_id: Id, item_id: Id, track_id: Id, body: KeyframesIn, principal: Trainer, session: SessionDep):
    """Add or move keyframes of a drawn region (one at an existing time moves it), or remove some."""
    redaction.set_keyframes(session, principal.actor, lesson_id, item_id, track_id, body)
    return _redaction(session, lesson_id, item_id)


@router.delete(REDACTION + "/tracks/{track_id}", response_model=RedactionPublic, responses=INVALID)
def delete_track(lesson_id: Id, item_id: Id, track_id: Id, principal: Trainer, session: SessionDep):
    redaction.delete_manual_track(session, principal.actor, lesson_id, item_id, track_id)
    return _redaction(session, lesson_id, item_id)


@router.patch(REDACTION + "/words/{word_id}", response_model=RedactionPublic, responses=INVALID)
def toggle_word(lesson_id: Id, item_id: Id, word_id: Id, body: WordToggle, principal: Trainer, session: SessionDep):
    redaction.toggle_word(session, principal.actor, lesson_id, item_id, word_id, body.bleep)
    return _redaction(session, lesson_id, item_id)


@router.post(REDACTION + "/words", response_model=RedactionPublic, status_code=201, responses=INVALID)
def add_words(lesson_id: Id, item_id: Id, body: WordsIn, principal: Trainer, session: SessionDep):
    """Mark a run of transcript words to bleep."""
    redaction.add_words(session, principal.actor, lesson_id, item_id, body)
    return _redaction(session, lesson_id, item_id)


@router.post(REDACTION + "/approve", response_model=RedactionPublic, responses=INVALID)
def approve(lesson_id: Id, item_id: Id, body: ApproveIn, principal: Trainer, session: SessionDep):
    """Approve the redaction: someone other than who prepared this version, unless
    BESTPART_REDACTION_SELF_APPROVAL is set."""
    item, found = redaction.approve(session, principal.actor, lesson_id, item_id, body.version)
    return redaction.redaction_public(session, item, found)


@router.post(REDACTION + "/preview", response_model=RedactionPublic, status_code=202, responses=INVALID)
def preview(lesson_id: Id, item_id: Id, body: PreviewIn, principal: Trainer, session: SessionDep):
    """Render a few seconds of the redaction as it stands (in the worker); poll the redaction for
    `preview_url`."""
    redaction.request_preview(session, principal.actor, lesson_id, item_id, body)
    return _redaction(session, lesson_id, item_id)


@router.get(REDACTION + "/preview.mp4", response_class=FileResponse, responses=MISSING)
def preview_file(lesson_id: Id, item_id: Id, principal: CurriculumReader, session: SessionDep):
    path = redaction.preview_file(session, principal.actor, lesson_id, item_id)
    return FileResponse(
        path,
        media_type="video/mp4",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
