"""Pages for trainers: the curriculum (courses and their lessons), and one lesson — its items in
order, a player that plays them straight through, editing, and exports.

Pages read through the services; the browser acts through the JSON API (curriculum.js, lesson.js)
and swaps in the `_lesson_items.html` partial after each change. Segments are added from the clip
page, with the in/out points marked there. A page costs a fixed handful of queries.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import func
from sqlmodel import select

from api.clips.models import Clip
from api.clips.service import MEDIA_URL
from api.curriculum import service
from api.curriculum.models import ExportState, Lesson, LessonExport, LessonItem
from api.db import SessionDep
from api.params import Id
from api.review.models import ReviewItem, ReviewState
from api.review.service import categories_of
from review_ui.pages import TrainerPage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_PAGE = 100_000
CLIP_PAGE = "/clips/{id}"  # the clip review page, where segments are marked and added to lessons
RECENT_EXPORTS = 5


def clock(seconds: float) -> str:
    """12.25 → "0:12.3"; 3725 → "1:02:05.0"."""
    tenths = round(seconds * 10)
    minutes, rest = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes}:{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{minutes:02d}:{rest // 10:02d}.{rest % 10}" if hours else text


# --- the curriculum ---------------------------------------------------------------------------


@dataclass
class LessonRow:
    lesson: Lesson
    items: int
    duration: float


@router.get("/curriculum")
def curriculum_page(request: Request, principal: TrainerPage, session: SessionDep,
                    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1):
    """Every course with its lessons in order, and a page of the clips selected for training."""
    courses = service.list_courses(session)
    stats = {lesson_id: (count, duration or 0.0) for lesson_id, count, duration in session.exec(
        select(LessonItem.lesson_id, func.count(), func.sum(LessonItem.out_point - LessonItem.in_point))
        .group_by(LessonItem.lesson_id))}
    lessons: dict[int, list[LessonRow]] = {course.id: [] for course in courses}
    for lesson in session.exec(select(Lesson).order_by(Lesson.course_id, Lesson.position, Lesson.id)):
        count, duration = stats.get(lesson.id, (0, 0.0))
        lessons.setdefault(lesson.course_id, []).append(LessonRow(lesson, count, duration))

    selected = select(ReviewItem).where(ReviewItem.state == ReviewState.SELECTED_FOR_TRAINING)
    total = session.exec(select(func.count()).select_from(selected.subquery())).one()
    rows = session.exec(select(Clip, ReviewItem.updated_at).join(ReviewItem, ReviewItem.clip_id == Clip.id)
                        .where(ReviewItem.state == ReviewState.SELECTED_FOR_TRAINING)
                        .order_by(ReviewItem.updated_at.desc(), Clip.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    categories = categories_of(session, [clip.id for clip, _ in rows])
    return render(request, "curriculum.html", principal, courses=courses, lessons=lessons, clock=clock,
                  clips=[(clip, selected_at, categories.get(clip.id, [])) for clip, selected_at in rows],
                  clip_page=CLIP_PAGE, page=page, pages=max(1, -(-total // PAGE_SIZE)), total=total)


# --- one lesson -------------------------------------------------------------------------------


def _lesson_or_404(session, lesson_id: int) -> Lesson:
    try:
        return service.get_lesson(session, lesson_id)
    except service.CurriculumError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _items_context(session, lesson: Lesson) -> dict:
    """The lesson's items for the list and for the player (the same dicts, as JSON, for lesson.js)."""
    items = service.items_of(session, lesson.id)
    clip_ids = sorted({item.clip_id for item in items})
    selected = service.selected_clip_ids(session, clip_ids)
    clips = {clip.id: clip for clip in session.exec(select(Clip).where(Clip.id.in_(clip_ids)))} if clip_ids else {}
    shown = []
    for number, item in enumerate(items, start=1):
        clip = clips.get(item.clip_id)
        duration = round(item.out_point - item.in_point, 3)
        shown.append({
            "id": item.id, "number": number, "title": item.title or "", "clip_id": item.clip_id,
            "clip_label": (clip.evidence_id if clip and clip.evidence_id else f"clip {item.clip_id}"),
            "clip_url": CLIP_PAGE.format(id=item.clip_id),
            "clip_length": (clip.media_info or {}).get("duration") if clip else None,
            "in_point": item.in_point, "out_point": item.out_point, "duration": duration,
            "in_clock": clock(item.in_point), "out_clock": clock(item.out_point), "duration_clock": clock(duration),
            "annotations": [{**note, "clock": clock(note["at"])} for note in item.annotations],
            "proxy_url": MEDIA_URL.format(id=item.clip_id, name="proxy.mp4"),
            "available": item.clip_id in selected,
        })
    total = round(sum(item["duration"] for item in shown), 3)
    return {"items": shown, "total_clock": clock(total), "lesson": lesson}


@router.get("/curriculum/lessons/{lesson_id}")
def lesson_page(lesson_id: Id, request: Request, principal: TrainerPage, session: SessionDep):
    """The lesson's items in order, the player, and its exports (the latest few)."""
    lesson = _lesson_or_404(session, lesson_id)
    course = service.get_course(session, lesson.course_id)
    exports = list(session.exec(select(LessonExport).where(LessonExport.lesson_id == lesson.id)
                                .order_by(LessonExport.id.desc()).limit(RECENT_EXPORTS)))
    following = next((e for e in exports if e.state in (ExportState.QUEUED, ExportState.RUNNING)), None)
    return render(request, "lesson.html", principal, course=course, exports=exports, following=following,
                  **_items_context(session, lesson))


@router.get("/curriculum/lessons/{lesson_id}/items")
def lesson_items_partial(lesson_id: Id, request: Request, principal: TrainerPage, session: SessionDep):
    """Just the item list (and its JSON for the player): lesson.js swaps it in after a change."""
    lesson = _lesson_or_404(session, lesson_id)
    return render(request, "_lesson_items.html", principal, **_items_context(session, lesson))

