"""Pages for trainers: the curriculum (courses and their lessons), and one lesson — its items in
order, a player that plays them straight through, editing, and exports.

Pages read through the services (the courses through the same `course_tree` as GET
/api/v1/courses, the items through the API's `items_public`); the browser acts through the JSON
API (curriculum.js, lesson.js) and swaps in the `_lesson_items.html` partial after each change.
Segments are added from the clip page, with the in/out points marked there. A page costs a fixed
handful of queries.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from api.clips import service as clips
from api.clips import transcripts
from api.curriculum import service
from api.curriculum.schemas import ExportState
from api.db import SessionDep
from api.pagination import offset_of
from api.params import Id
from review_ui.pages import AnyPage, TrainerPage, clock, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_PAGE = 100_000
CLIP_PAGE = "/clips/{id}"  # the clip review page, where segments are marked and added to lessons
RECENT_EXPORTS = 5
REDACTION_PAGE = "/curriculum/lessons/{lesson_id}/items/{item_id}/redaction"


# --- the curriculum ---------------------------------------------------------------------------


@router.get("/curriculum")
def curriculum_page(
    request: Request, principal: TrainerPage, session: SessionDep, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1
):
    """Every course with its lessons in order, and a page of the clips selected for training."""
    tree = service.course_tree(session)
    selected = service.selected_clips(session, limit=PAGE_SIZE, offset=offset_of(page, PAGE_SIZE))
    return render(
        request,
        "curriculum.html",
        principal,
        courses=[outline.course for outline in tree],
        lessons={outline.course.id: outline.lessons for outline in tree},
        clips=[(row.clip, row.selected_at, row.categories) for row in selected.items],
        clip_page=CLIP_PAGE,
        page=page,
        pages=selected.pages,
        total=selected.total,
    )


# --- one lesson -------------------------------------------------------------------------------


def _lesson_or_404(session, lesson_id: int):
    try:
        return service.get_lesson(session, lesson_id)
    except service.ServiceError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _items_context(session, lesson) -> dict:
    """The lesson's items for the list and for the player (the same dicts, as JSON, for lesson.js)."""
    items = service.items_public(session, service.items_of(session, lesson.id))
    clip_of = clips.clips_by_id(session, {item.clip_id for item in items})
    redacted = service.redaction_states(session, [item.id for item in items])
    shown = []
    for number, item in enumerate(items, start=1):
        clip = clip_of.get(item.clip_id)
        shown.append(
            {
                "id": item.id,
                "number": number,
                "title": item.title or "",
                "clip_id": item.clip_id,
                "clip_label": (clip.evidence_id if clip and clip.evidence_id else f"clip {item.clip_id}"),
                "clip_url": CLIP_PAGE.format(id=item.clip_id),
                "clip_length": (clip.media_info or {}).get("duration") if clip else None,
                "in_point": item.in_point,
                "out_point": item.out_point,
                "duration": item.duration,
                "in_clock": clock(item.in_point),
                "out_clock": clock(item.out_point),
                "duration_clock": clock(item.duration),
                "annotations": [{**note.model_dump(), "clock": clock(note.at)} for note in item.annotations],
                "proxy_url": item.proxy_url,
                "available": item.available,
                "redaction": redacted.get(item.id, "none"),
                "retain_until": item.retain_until.isoformat() if item.retain_until else None,
                "expires_in_days": item.expires_in_days,
                "expiry_warning": item.expiry_warning,
                "expired": item.expired,
                "withdrawn_reason": item.withdrawn_reason,
                "redaction_url": REDACTION_PAGE.format(lesson_id=lesson.id, item_id=item.id),
            }
        )
    total = round(sum(item.duration for item in items), 3)
    return {"items": shown, "total_clock": clock(total), "lesson": lesson}


@router.get("/curriculum/lessons/{lesson_id}")
def lesson_page(lesson_id: Id, request: Request, principal: TrainerPage, session: SessionDep):
    """The lesson's items in order, the player, and its exports (the latest few)."""
    lesson = _lesson_or_404(session, lesson_id)
    course = service.get_course(session, lesson.course_id)
    exports = service.exports_of(session, lesson.id, limit=RECENT_EXPORTS)
    following = next((e for e in exports if e.state in (ExportState.QUEUED, ExportState.RUNNING)), None)
    return render(
        request,
        "lesson.html",
        principal,
        course=course,
        exports=exports,
        following=following,
        release=service.release.release_status(session, lesson.id),
        is_lead="admin" in principal.roles,
        player_page=service.release.PLAYER_PAGE.format(id=lesson.id),
        **_items_context(session, lesson),
    )


@router.get("/curriculum/lessons/{lesson_id}/items")
def lesson_items_partial(lesson_id: Id, request: Request, principal: TrainerPage, session: SessionDep):
    """Just the item list (and its JSON for the player): lesson.js swaps it in after a change."""
    lesson = _lesson_or_404(session, lesson_id)
    return render(request, "_lesson_items.html", principal, **_items_context(session, lesson))


# --- the redaction editor of one item ---------------------------------------------------------


@router.get("/curriculum/lessons/{lesson_id}/items/{item_id}/redaction")
def redaction_page(lesson_id: Id, item_id: Id, request: Request, principal: TrainerPage, session: SessionDep):
    """The item's video with its face tracks and drawn regions over it and as lanes, each kept or
    blurred; the transcript with the PII words marked; approval and a preview render. The page
    reads the redaction through the same service as GET …/redaction; redaction.js acts through the
    JSON API."""
    lesson = _lesson_or_404(session, lesson_id)
    item, redaction = service.item_redaction(session, lesson_id, item_id)  # 404 answered app-wide
    transcript = transcripts.read(session, item.clip_id) or {"segments": []}
    words = [
        {
            "segment": s,
            "index": w,
            "start": word.get("start"),
            "end": word.get("end"),
            "word": str(word.get("word", "")).strip(),
            "speaker": word.get("speaker") or segment.get("speaker"),
        }
        for s, segment in enumerate(transcript.get("segments") or [])
        for w, word in enumerate(segment.get("words") or [])
        if word.get("end", 0) >= item.in_point and word.get("start", 0) <= item.out_point
    ]
    return render(
        request,
        "redaction_editor.html",
        principal,
        lesson=lesson,
        item=item,
        in_clock=clock(item.in_point),
        out_clock=clock(item.out_point),
        data={
            "lesson_id": lesson.id,
            "item_id": item.id,
            "in_point": item.in_point,
            "out_point": item.out_point,
            "proxy_url": clips.MEDIA_URL.format(id=item.clip_id, name="proxy.mp4"),
            "redaction": redaction.model_dump(mode="json") if redaction else None,
            "words": words,
            "me": principal.actor.user_id,
        },
    )


# --- the governed release: the officer's notice, the player -------------------------------------


@router.get("/release-notices/{notice_id}")
def notice_page(notice_id: Id, request: Request, principal: AnyPage, session: SessionDep):
    """The officer sees the segments of their footage as they will be shown (rendered through the
    approved redaction) and consents or objects while the window is open."""
    view = service.release.notice_view(session, principal, notice_id)  # 404 for anyone else
    return render(
        request,
        "release_notice.html",
        principal,
        view=view,
        notice=view.notice,
        lesson=view.lesson,
        segments=view.segments,
        mine=principal.badge_number == view.notice.badge_number,
    )


@router.get("/lessons")
def lessons_page(request: Request, principal: AnyPage, session: SessionDep):
    """The published lessons every employee may watch."""
    return render(request, "lessons.html", principal, lessons=service.release.published_lessons(session))


@router.get("/lessons/{lesson_id}/watch")
def player_page(lesson_id: Id, request: Request, principal: AnyPage, session: SessionDep):
    """A published lesson's redacted segments in order with captions and annotations. Opening it
    is a view (recorded and audited); player.js reports the ranges played to the view."""
    plan = service.release.player_plan(session, lesson_id)  # 404 unless published
    view = service.release.start_view(session, principal.actor, lesson_id)
    segments = [
        {**segment, "number": number, "clock": clock(segment["duration"])}
        for number, segment in enumerate(plan.segments, start=1)
    ]
    return render(
        request,
        "player.html",
        principal,
        plan=plan,
        segments=segments,
        total_clock=clock(sum(s["duration"] for s in segments)),
        data={"lesson_id": lesson_id, "view_id": view.id, "segments": segments, "viewer": principal.name},
    )
