"""The training curriculum: courses, lessons, lesson items, lesson exports.

Trainers and admins write; trainers, reviewers and admins read. Which lessons use a clip is shown
to anyone who may see the clip.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from api.access import visible_clip
from api.auth import Admin, AnyUser, Principal, Trainer, allow
from api.core.errors import ERRORS
from api.core.types import saved_id
from api.curriculum import redaction, release, service
from api.curriculum.models import Course, ExportState, Lesson, LessonExport
from api.curriculum.schemas import (
    ClipLessonPublic,
    CourseIn,
    CourseOutlinePublic,
    CoursePublic,
    CourseUpdate,
    DecisionIn,
    DecisionKind,
    ExportIn,
    ExportPublic,
    ItemIn,
    ItemPublic,
    ItemReleasePublic,
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
    NoticeDetailPublic,
    NoticePublic,
    NoticeResponseIn,
    NoticeSegmentPublic,
    PlayerPublic,
    PlayerSegmentPublic,
    PreviewIn,
    PublishedLessonPublic,
    RangesIn,
    RedactionPublic,
    ReleasePublic,
    RetentionIn,
    RetentionPublic,
    TrackEdit,
    ViewPublic,
    WordsIn,
    WordToggle,
)
from api.db import SessionDep
from api.params import Id
from api.users.models import Role

router = APIRouter(prefix="/api/v1", tags=["curriculum"])
CurriculumReader = Annotated[Principal, Depends(allow(Role.TRAINER, Role.REVIEWER, Role.ADMIN))]
Responses = dict[int | str, dict[str, Any]]  # what FastAPI's `responses=` takes
DENIED: Responses = {401: ERRORS, 403: ERRORS}
MISSING: Responses = {**DENIED, 404: ERRORS}
INVALID: Responses = {**MISSING, 409: ERRORS, 422: ERRORS}


def _course(session, course: Course) -> CoursePublic:
    lessons = [
        LessonSummary.model_validate(x, from_attributes=True) for x in service.lessons_of(session, saved_id(course))
    ]
    return CoursePublic(**course.model_dump(), lessons=lessons)


def _lesson(session, lesson: Lesson) -> LessonPublic:
    items = service.items_public(session, service.items_of(session, saved_id(lesson)))
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
def start_export(
    lesson_id: Id, principal: Trainer, session: SessionDep, body: Annotated[ExportIn | None, Body()] = None
):
    """Export the lesson as a zip (one stitched lesson.mp4 with soft captions, burned in too with
    `burn_captions`; the MP4 segments, WebVTT captions, manifest.json with hashes) in the
    background; poll GET /api/v1/exports/{id} for its progress."""
    burn = bool(body and body.burn_captions)
    return _export(service.start_export(session, principal.actor, lesson_id, burn_captions=burn))


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


# --- retention ----------------------------------------------------------------------------------


@router.patch("/clips/{clip_id}/retention", response_model=RetentionPublic, responses=INVALID)
def set_retention(clip_id: Id, body: RetentionIn, principal: Admin, session: SessionDep):
    """Set the clip's retention date (the evidence system's); one already past withdraws its
    segments from their lessons and revokes every export holding it."""
    until = service.set_retention(session, principal.actor, clip_id, body.retain_until)
    return RetentionPublic(clip_id=clip_id, retain_until=until)


# --- the governed release -----------------------------------------------------------------------


def _notice(notice) -> NoticePublic:
    return NoticePublic(
        **notice.model_dump(exclude={"state"}),
        state=notice.state.value,
        page_url=release.NOTICE_PAGE.format(id=notice.id),
    )


def _release(status: release.ReleaseStatus) -> ReleasePublic:
    lesson = status.lesson
    published = lesson.state.value == "published"
    return ReleasePublic(
        lesson_id=lesson.id,
        state=lesson.state.value,
        published_at=lesson.published_at,
        published_by_name=lesson.published_by_name,
        requested=status.requested,
        can_publish=status.can_publish,
        blockers=status.blockers,
        items=[
            ItemReleasePublic(
                item_id=e.item.id,
                redaction_version=e.version,
                render_state=e.render.state.value if e.render else None,
                render_error=e.render.error if e.render else None,
            )
            for e in status.items
        ],
        notices=[_notice(n) for n in status.notices],
        player_url=release.PLAYER_PAGE.format(id=lesson.id) if published else None,
    )


@router.get("/lessons/{lesson_id}/release", response_model=ReleasePublic, responses=MISSING)
def get_release(lesson_id: Id, _: CurriculumReader, session: SessionDep):
    """The lesson's release: its state, the featured officers' notices, and what blocks publication."""
    return _release(release.release_status(session, lesson_id))


@router.post("/lessons/{lesson_id}/release", response_model=ReleasePublic, status_code=202, responses=INVALID)
def request_release(lesson_id: Id, principal: Trainer, session: SessionDep):
    """Render every item through its approved redaction and notify each featured officer, who may
    object within BESTPART_RELEASE_NOTICE_DAYS (7 by default)."""
    return _release(release.request_release(session, principal.actor, lesson_id))


@router.post("/lessons/{lesson_id}/publish", response_model=ReleasePublic, responses=INVALID)
def publish(lesson_id: Id, principal: Trainer, session: SessionDep):
    """Publish the lesson to every employee: refused (409, each reason said) until every redaction
    is approved and rendered, every notice window has passed or been consented to, and no
    objection is open."""
    release.publish(session, principal.actor, lesson_id)
    return _release(release.release_status(session, lesson_id))


@router.post("/lessons/{lesson_id}/unpublish", response_model=ReleasePublic, responses=INVALID)
def unpublish(lesson_id: Id, principal: Trainer, session: SessionDep):
    release.unpublish(session, principal.actor, lesson_id)
    return _release(release.release_status(session, lesson_id))


@router.post(
    "/lessons/{lesson_id}/release/notices/{notice_id}/decision", response_model=NoticePublic, responses=INVALID
)
def decide(lesson_id: Id, notice_id: Id, body: DecisionIn, principal: Admin, session: SessionDep):
    """A lead decides an officer's objection: release (publish over it) or withhold."""
    notice = release.decide(
        session, principal.actor, lesson_id, notice_id, body.decision == DecisionKind.RELEASE, body.note
    )
    return _notice(notice)


@router.get("/release-notices", response_model=list[NoticePublic], responses=DENIED)
def my_notices(principal: AnyUser, session: SessionDep):
    """The release notices of lessons featuring the caller's footage (by badge)."""
    return [_notice(n) for n, _ in release.notices_for_badge(session, principal.badge_number)]


def _notice_detail(view: release.NoticeView) -> NoticeDetailPublic:
    return NoticeDetailPublic(
        **_notice(view.notice).model_dump(),
        lesson_title=view.lesson.title,
        open=view.open,
        segments=[NoticeSegmentPublic(**s) for s in view.segments],
    )


@router.get("/release-notices/{notice_id}", response_model=NoticeDetailPublic, responses=MISSING)
def get_notice(notice_id: Id, principal: AnyUser, session: SessionDep):
    """The notice with the officer's segments rendered redacted: the officer it names, trainers, admins."""
    return _notice_detail(release.notice_view(session, principal, notice_id))


@router.post("/release-notices/{notice_id}/response", response_model=NoticeDetailPublic, responses=INVALID)
def respond(notice_id: Id, body: NoticeResponseIn, principal: AnyUser, session: SessionDep):
    """The officer consents, or objects with the reason, while the window is open."""
    release.respond(session, principal, notice_id, body.consent, body.objection)
    return _notice_detail(release.notice_view(session, principal, notice_id))


@router.get("/release-renders/{render_id}/{part}", response_class=FileResponse, responses=MISSING)
def render_file(render_id: Id, part: str, principal: AnyUser, session: SessionDep):
    if part not in ("video", "captions"):
        return JSONResponse({"detail": "video or captions"}, status_code=404)
    path = release.render_file(session, principal, render_id, part)
    return FileResponse(
        path,
        media_type="video/mp4" if part == "video" else "text/vtt",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/published-lessons", response_model=list[PublishedLessonPublic], responses=DENIED)
def published_lessons(_: AnyUser, session: SessionDep):
    """Every published lesson: what employees may watch."""
    return [
        PublishedLessonPublic(
            id=lesson.id,
            title=lesson.title,
            summary=lesson.summary,
            course_title=course_title,
            published_at=lesson.published_at,
            player_url=release.PLAYER_PAGE.format(id=lesson.id),
        )
        for lesson, course_title in release.published_lessons(session)
    ]


def player_public(plan: release.PlayerPlan) -> PlayerPublic:
    return PlayerPublic(
        lesson_id=plan.lesson.id,
        title=plan.lesson.title,
        summary=plan.lesson.summary,
        course_title=plan.course_title,
        published_at=plan.lesson.published_at,
        segments=[PlayerSegmentPublic(**s) for s in plan.segments],
        withdrawn=plan.withdrawn,
    )


@router.get("/lessons/{lesson_id}/player", response_model=PlayerPublic, responses=MISSING)
def player(lesson_id: Id, _: AnyUser, session: SessionDep):
    """A published lesson's segments in order, rendered redacted, with captions and annotations."""
    return player_public(release.player_plan(session, lesson_id))


@router.post("/lessons/{lesson_id}/views", response_model=ViewPublic, status_code=201, responses=MISSING)
def start_view(lesson_id: Id, principal: AnyUser, session: SessionDep):
    """Start a view of a published lesson (audited: who, which lesson, when)."""
    return ViewPublic.model_validate(release.start_view(session, principal.actor, lesson_id), from_attributes=True)


@router.post("/lesson-views/{view_id}/ranges", response_model=ViewPublic, responses=INVALID)
def watched(view_id: Id, body: RangesIn, principal: AnyUser, session: SessionDep):
    """The player reports what it played: [item id, start, end] ranges, merged into the view."""
    ranges = [(int(i), float(a), float(b)) for i, a, b in body.ranges]
    return ViewPublic.model_validate(
        release.record_watched(session, principal.actor, view_id, ranges), from_attributes=True
    )


@router.get("/lessons/{lesson_id}/views", response_model=list[ViewPublic], responses=MISSING)
def lesson_views(lesson_id: Id, _: CurriculumReader, session: SessionDep):
    """Who watched the lesson, when, and how much (newest first, the latest 500)."""
    return [ViewPublic.model_validate(v, from_attributes=True) for v in release.views_of(session, lesson_id, limit=500)]
