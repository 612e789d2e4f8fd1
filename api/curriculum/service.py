"""The curriculum's rules: courses, ordered lessons, lesson items cut from clips selected for
training, and lesson exports. Services never commit: the request or the export job owns the
transaction. Every change is audited. GET /api/v1/courses and the curriculum page read the
courses through `course_tree`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.audit.service import SYSTEM, Actor, record
from api.clips import transcripts
from api.clips.models import Clip
from api.clips.service import MEDIA_URL, find_asset, get_store
from api.core.errors import Conflict, Invalid, NotFound, ServiceError
from api.core.types import NotSaved, saved_id
from api.curriculum import redaction as redactions
from api.curriculum.models import Course, ExportState, Lesson, LessonExport, LessonExportItem, LessonItem
from api.curriculum.schemas import (
    CourseIn,
    CourseUpdate,
    ItemIn,
    ItemPublic,
    ItemUpdate,
    LessonIn,
    LessonUpdate,
)
from api.db import enqueue_after_commit
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_named, notify
from api.pagination import Page, offset_page
from api.redaction.settings import get_redaction_settings
from api.review.models import ReviewItem, ReviewState
from api.review.service import categories_of

EXPORT_JOB = "lesson.export"
EDGE_TOLERANCE = 0.001  # seconds: an out point typed from a rounded duration is still the end


class CurriculumError(ServiceError):
    """Kept for callers that catch it; the rules raise NotFound, Conflict, Invalid (api.core.errors)."""


def now() -> datetime:
    return datetime.now(UTC)


# --- courses ----------------------------------------------------------------------------------


def create_course(session: Session, actor: Actor, body: CourseIn) -> Course:
    course = Course(title=body.title.strip(), description=body.description, created_by_name=actor.name)
    session.add(course)
    session.flush()
    record(session, actor, "course.create", object_type="course", object_id=course.id, details={"title": course.title})
    return course


def list_courses(session: Session) -> list[Course]:
    return list(session.exec(select(Course).order_by(col(Course.title), col(Course.id))))


@dataclass
class LessonOutline:
    lesson: Lesson
    items: int
    duration: float  # seconds, the items' segments together


@dataclass
class CourseOutline:
    course: Course
    lessons: list[LessonOutline]


def course_tree(session: Session) -> list[CourseOutline]:
    """Every course (by title) with its lessons in order, each with its number of items and its
    length: three queries, whatever the size of the curriculum."""
    courses = list_courses(session)
    stats = {
        lesson_id: (count, duration or 0.0)
        for lesson_id, count, duration in session.exec(
            select(LessonItem.lesson_id, func.count(), func.sum(LessonItem.out_point - LessonItem.in_point)).group_by(
                col(LessonItem.lesson_id)
            )
        )
    }
    lessons: dict[int, list[LessonOutline]] = {saved_id(course): [] for course in courses}
    for lesson in session.exec(select(Lesson).order_by(col(Lesson.course_id), col(Lesson.position), col(Lesson.id))):
        count, duration = stats.get(saved_id(lesson), (0, 0.0))
        lessons.setdefault(lesson.course_id, []).append(LessonOutline(lesson, count, duration))
    return [CourseOutline(course, lessons[saved_id(course)]) for course in courses]


def get_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course {course_id}")
    return course


def update_course(session: Session, actor: Actor, course_id: int, body: CourseUpdate) -> Course:
    course = get_course(session, course_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("title") is None:
        changes.pop("title", None)  # a course always has a title
    for field, value in changes.items():
        setattr(course, field, value)
    session.add(course)
    session.flush()
    record(session, actor, "course.update", object_type="course", object_id=course_id, details=changes)
    return course


# --- lessons ----------------------------------------------------------------------------------


def lessons_of(session: Session, course_id: int) -> list[Lesson]:
    return list(
        session.exec(select(Lesson).where(Lesson.course_id == course_id).order_by(col(Lesson.position), col(Lesson.id)))
    )


def get_lesson(session: Session, lesson_id: int) -> Lesson:
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(f"no lesson {lesson_id}")
    return lesson


def create_lesson(session: Session, actor: Actor, course_id: int, body: LessonIn) -> Lesson:
    get_course(session, course_id)
    siblings = lessons_of(session, course_id)
    lesson = Lesson(course_id=course_id, title=body.title.strip(), summary=body.summary)
    session.add(lesson)
    session.flush()
    _place(siblings, lesson, len(siblings) if body.position is None else body.position)
    session.add_all(siblings + [lesson])
    session.flush()
    record(
        session,
        actor,
        "lesson.create",
        object_type="lesson",
        object_id=lesson.id,
        details={"course": course_id, "title": lesson.title, "position": lesson.position},
    )
    return lesson


def update_lesson(session: Session, actor: Actor, lesson_id: int, body: LessonUpdate) -> Lesson:
    lesson = get_lesson(session, lesson_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("title"):
        lesson.title = changes["title"].strip()
    if "summary" in changes:
        lesson.summary = changes["summary"]
    if changes.get("position") is not None:
        siblings = [x for x in lessons_of(session, lesson.course_id) if x.id != lesson.id]
        _place(siblings, lesson, changes["position"])
        session.add_all(siblings)
    session.add(lesson)
    session.flush()
    record(session, actor, "lesson.update", object_type="lesson", object_id=lesson_id, details=changes)
    return lesson


def reorder_lessons(session: Session, actor: Actor, course_id: int, lesson_ids: list[int]) -> list[Lesson]:
    get_course(session, course_id)
    ordered = _in_order(lessons_of(session, course_id), lesson_ids, f"every lesson of course {course_id}")
    session.add_all(ordered)
    session.flush()
    record(
        session,
        actor,
        "course.reorder_lessons",
        object_type="course",
        object_id=course_id,
        details={"lesson_ids": lesson_ids},
    )
    return ordered


# --- lesson items -----------------------------------------------------------------------------


def items_of(session: Session, lesson_id: int) -> list[LessonItem]:
    return list(
        session.exec(
            select(LessonItem)
            .where(LessonItem.lesson_id == lesson_id)
            .order_by(col(LessonItem.position), col(LessonItem.id))
        )
    )


def items_public(session: Session, items: list[LessonItem]) -> list[ItemPublic]:
    """Items as the API and the lesson page show them: the segment's length, where to play it,
    whether its clip is still selected for training and within its retention, and when that ends."""
    clip_ids = [item.clip_id for item in items]
    selected = selected_clip_ids(session, clip_ids)
    retention = retention_dates(session, clip_ids)
    today, warn = today_utc(), get_redaction_settings().release_expiry_warning_days
    shown = []
    for item in items:
        until = retention.get(item.clip_id)
        days = (until - today).days if until else None
        shown.append(
            ItemPublic(
                **item.model_dump(),
                duration=round(item.out_point - item.in_point, 3),
                proxy_url=MEDIA_URL.format(id=item.clip_id, name="proxy.mp4"),
                available=item.clip_id in selected
                and item.withdrawn_at is None
                and not (days is not None and days < 0),
                retain_until=until,
                expires_in_days=days,
                expiry_warning=days is not None and 0 <= days <= warn,
                expired=days is not None and days < 0,
            )
        )
    return shown


# --- retention: clips.retain_until, the evidence system's retention date -----------------------

# The clips slice owns the column (its model field lands with the ingest change); the curriculum
# reads and sets it through this table, as api.core.policies reads other slices' columns.
CLIP_RETENTION = sa.table("clips", sa.column("id", sa.Integer), sa.column("retain_until", sa.Date))


def today_utc() -> date:
    return now().date()


def retention_dates(session: Session, clip_ids: Iterable[int]) -> dict[int, date | None]:
    ids = list(set(clip_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(CLIP_RETENTION.c.id, CLIP_RETENTION.c.retain_until).where(CLIP_RETENTION.c.id.in_(ids))
    )
    return {clip_id: until for clip_id, until in rows}


def expired_clip_ids(session: Session, clip_ids: Iterable[int], today: date | None = None) -> set[int]:
    """The clips whose retention date has passed (a clip may be kept through its retain_until day)."""
    today = today or today_utc()
    return {c for c, until in retention_dates(session, clip_ids).items() if until is not None and until < today}


def set_retention(session: Session, actor: Actor, clip_id: int, retain_until: date | None) -> date | None:
    """An admin sets (or clears) a clip's retention date; one already past withdraws its segments
    and revokes its exports at once, as the periodic sweep would."""
    if session.get(Clip, clip_id) is None:
        raise NotFound(f"no clip {clip_id}")
    before = retention_dates(session, [clip_id]).get(clip_id)
    session.execute(sa.update(CLIP_RETENTION).where(CLIP_RETENTION.c.id == clip_id).values(retain_until=retain_until))
    record(
        session,
        actor,
        "clip.retention",
        object_type="clip",
        object_id=clip_id,
        details={
            "from": before.isoformat() if before else None,
            "to": retain_until.isoformat() if retain_until else None,
        },
    )
    if retain_until is not None and retain_until < today_utc():
        sweep_retention(session, clip_ids=[clip_id])
    return retain_until


@dataclass
class RetentionSweep:
    withdrawn: list[int]  # lesson item ids
    revoked: list[int]  # export ids
    warned: list[int]  # lesson item ids whose trainers were told of the coming expiry


def sweep_retention(
    session: Session, today: date | None = None, clip_ids: Sequence[int] | None = None
) -> RetentionSweep:
    """The periodic retention check (the worker runs it, workers/exports.py `RetentionWatch`):
    every lesson item whose source's retention ended is withdrawn from its lesson (the player and
    the exports leave it out) and every export holding the source is revoked (410 with the
    reason, audited); the trainers of a lesson whose source ends within the warning days are
    told once."""
    today = today or today_utc()
    query = sa.select(CLIP_RETENTION.c.id, CLIP_RETENTION.c.retain_until).where(
        CLIP_RETENTION.c.retain_until.is_not(None)
    )
    if clip_ids is not None:
        query = query.where(CLIP_RETENTION.c.id.in_(list(clip_ids)))
    warn_until = today + timedelta(days=get_redaction_settings().release_expiry_warning_days)
    dates = {c: until for c, until in session.execute(query) if until < today or until <= warn_until}
    result = RetentionSweep([], [], [])
    if not dates:
        return result
    items = list(session.exec(select(LessonItem).where(col(LessonItem.clip_id).in_(list(dates)))))
    for clip_id, until in sorted(dates.items()):
        if until >= today:
            continue
        reason = f"the retention of clip {clip_id} ended on {until.isoformat()}"
        for item in (i for i in items if i.clip_id == clip_id and i.withdrawn_at is None):
            item.withdrawn_at, item.withdrawn_reason = now(), reason
            session.add(item)
            session.flush()
            record(
                session,
                SYSTEM,
                "lesson_item.withdraw",
                object_type="lesson_item",
                object_id=item.id,
                details={"lesson": item.lesson_id, "clip": clip_id, "reason": reason},
            )
            result.withdrawn.append(saved_id(item))
        result.revoked += revoke_exports_of_clip(session, SYSTEM, clip_id, reason)
    for item in items:
        until = dates[item.clip_id]
        if today <= until <= warn_until and item.expiry_warned_at is None and item.withdrawn_at is None:
            item.expiry_warned_at = now()
            session.add(item)
            _warn_trainers(session, item, until)
            result.warned.append(saved_id(item))
    session.flush()
    return result


def _warn_trainers(session: Session, item: LessonItem, until: date) -> None:
    kind = getattr(NotificationKind, "RETENTION_EXPIRING", None)  # to be added to api/notifications
    lesson = session.get(Lesson, item.lesson_id)
    course = session.get(Course, lesson.course_id) if lesson else None
    record(
        session,
        SYSTEM,
        "lesson_item.expiry_warning",
        object_type="lesson_item",
        object_id=item.id,
        details={"lesson": item.lesson_id, "clip": item.clip_id, "retain_until": until.isoformat()},
    )
    if kind is None or lesson is None:
        return
    text = f"A source of {lesson.title} (clip {item.clip_id}) reaches its retention date on {until.isoformat()}"
    notify(
        session,
        accounts_named(session, course.created_by_name if course else None),
        kind,
        text,
        f"/curriculum/lessons/{lesson.id}",
    )


def get_item(session: Session, lesson_id: int, item_id: int) -> LessonItem:
    item = session.get(LessonItem, item_id)
    if item is None or item.lesson_id != lesson_id:
        raise NotFound(f"lesson {lesson_id} has no item {item_id}")
    return item


def add_item(session: Session, actor: Actor, lesson_id: int, body: ItemIn) -> LessonItem:
    get_lesson(session, lesson_id)
    annotations = [a.model_dump() for a in body.annotations]
    _check_segment(selected_clip(session, body.clip_id), body.in_point, body.out_point, annotations)
    item = LessonItem(
        lesson_id=lesson_id,
        clip_id=body.clip_id,
        position=len(items_of(session, lesson_id)),
        title=body.title,
        in_point=body.in_point,
        out_point=body.out_point,
        annotations=_sorted(annotations),
    )
    session.add(item)
    session.flush()
    record(
        session,
        actor,
        "lesson_item.add",
        object_type="lesson_item",
        object_id=item.id,
        details={"lesson": lesson_id, "clip": body.clip_id, "in": body.in_point, "out": body.out_point},
    )
    redactions.start_detection(session, actor, item)  # faces and spoken PII of the segment, in the worker
    return item


def update_item(session: Session, actor: Actor, lesson_id: int, item_id: int, body: ItemUpdate) -> LessonItem:
    """Change the segment, title or annotations; the result is validated as a whole."""
    item = get_item(session, lesson_id, item_id)
    changes = body.model_dump(exclude_unset=True)
    in_point = changes.get("in_point", item.in_point)
    out_point = changes.get("out_point", item.out_point)
    annotations = changes.get("annotations", item.annotations)
    if annotations is None:
        annotations = []
    _check_segment(selected_clip(session, item.clip_id), in_point, out_point, annotations)
    moved = abs(in_point - item.in_point) > EDGE_TOLERANCE or abs(out_point - item.out_point) > EDGE_TOLERANCE
    item.in_point, item.out_point, item.annotations = in_point, out_point, _sorted(annotations)
    if "title" in changes:
        item.title = changes["title"]
    session.add(item)
    session.flush()
    record(
        session,
        actor,
        "lesson_item.update",
        object_type="lesson_item",
        object_id=item_id,
        details={"lesson": lesson_id, **changes},
    )
    if moved:  # another segment: detect again (a new version of the redaction, its approval voided)
        redaction = redactions.redaction_of(session, item_id)
        if redaction is None or redaction.detection not in (redactions.DetectionState.QUEUED,):
            redactions.start_detection(session, actor, item)
    return item


def delete_item(session: Session, actor: Actor, lesson_id: int, item_id: int) -> None:
    """Remove an item; every earlier export holding it is revoked."""
    item = get_item(session, lesson_id, item_id)
    revoke_exports_of_item(session, actor, item_id, f"lesson item {item_id} was removed from lesson {lesson_id}")
    session.delete(item)
    session.flush()
    remaining = _renumber(items_of(session, lesson_id))  # close the gap it left
    session.add_all(remaining)
    record(
        session,
        actor,
        "lesson_item.delete",
        object_type="lesson_item",
        object_id=item_id,
        details={"lesson": lesson_id, "clip": item.clip_id, "in": item.in_point, "out": item.out_point},
    )


def reorder_items(session: Session, actor: Actor, lesson_id: int, item_ids: list[int]) -> list[LessonItem]:
    get_lesson(session, lesson_id)
    ordered = _in_order(items_of(session, lesson_id), item_ids, f"every item of lesson {lesson_id}")
    session.add_all(ordered)
    session.flush()
    record(
        session,
        actor,
        "lesson.reorder_items",
        object_type="lesson",
        object_id=lesson_id,
        details={"item_ids": item_ids},
    )
    return ordered


def selected_clip(session: Session, clip_id: int) -> Clip:
    """The clip, if it exists and the review team selected it for training."""
    clip = session.get(Clip, clip_id)
    if clip is None:
        raise NotFound(f"no clip {clip_id}")
    if clip_id not in selected_clip_ids(session, [clip_id]):
        raise Conflict(f"clip {clip_id} is not selected for training")
    return clip


def selected_clip_ids(session: Session, clip_ids: Iterable[int]) -> set[int]:
    return set(
        session.exec(
            select(ReviewItem.clip_id).where(
                col(ReviewItem.clip_id).in_(list(clip_ids)), ReviewItem.state == ReviewState.SELECTED_FOR_TRAINING
            )
        )
    )


@dataclass
class SelectedClip:
    clip: Clip
    selected_at: datetime
    categories: list[str]


def selected_clips(session: Session, *, limit: int | None = None, offset: int = 0) -> Page[SelectedClip]:
    """The clips the review team selected for training, most recently selected first."""
    query = (
        select(Clip, ReviewItem.updated_at)
        .join(ReviewItem, col(ReviewItem.clip_id) == col(Clip.id))
        .where(ReviewItem.state == ReviewState.SELECTED_FOR_TRAINING)
    )
    order = (col(ReviewItem.updated_at).desc(), col(Clip.id).desc())
    page = offset_page(session, query, order, limit=limit, offset=offset)
    categories = categories_of(session, [clip.id for clip, _ in page.items])
    return page.map(lambda row: SelectedClip(row[0], row[1], categories.get(row[0].id, [])))


def lessons_using_clip(session: Session, clip_id: int) -> list[tuple[Lesson, Course, list[int]]]:
    rows = session.exec(
        select(LessonItem.id, Lesson, Course)
        .join(Lesson, col(Lesson.id) == col(LessonItem.lesson_id))
        .join(Course, col(Course.id) == col(Lesson.course_id))
        .where(LessonItem.clip_id == clip_id)
        .order_by(col(Course.title), col(Lesson.position), col(LessonItem.position))
    )
    found: dict[int, tuple[Lesson, Course, list[int]]] = {}
    for item_id, lesson, course in rows:
        if item_id is None:
            raise NotSaved("a lesson item's primary key read back as None")
        found.setdefault(saved_id(lesson), (lesson, course, []))[2].append(item_id)
    return list(found.values())


def _check_segment(clip: Clip, in_point: float, out_point: float, annotations: list[dict]) -> None:
    duration = (clip.media_info or {}).get("duration")
    if duration is None:
        raise Conflict(f"clip {clip.id} has not been probed yet; its length is unknown")
    if not 0 <= in_point < out_point:
        raise Invalid(f"in_point ({in_point}) must be at least 0 and before out_point ({out_point})")
    if out_point > duration + EDGE_TOLERANCE:
        raise Invalid(f"out_point ({out_point}) is past the end of clip {clip.id} ({duration} s)")
    for note in annotations:
        if not in_point <= note["at"] <= out_point:
            raise Invalid(f"the annotation at {note['at']} s lies outside the segment [{in_point}, {out_point}]")


def _sorted(annotations: list[dict]) -> list[dict]:
    return sorted(({"at": float(a["at"]), "text": a["text"]} for a in annotations), key=lambda a: a["at"])


def _place(others: list, row, position: int) -> None:
    """Put `row` at `position` among `others` (already in order) and number them all from 0."""
    ordered = list(others)
    ordered.insert(min(position, len(ordered)), row)
    _renumber(ordered)


def _renumber(rows: list) -> list:
    for index, row in enumerate(rows):
        row.position = index
    return rows


def _in_order(rows: list, ids: list[int], what: str) -> list:
    """`rows` in the order of `ids`, which must name each row exactly once."""
    by_id = {row.id: row for row in rows}
    missing, unknown = sorted(set(by_id) - set(ids)), sorted(set(ids) - set(by_id))
    if missing or unknown or len(ids) != len(set(ids)):
        raise Invalid(
            f"the new order must list {what} exactly once "
            f"(missing {missing}, not in it {unknown}, repeated: {len(ids) != len(set(ids))})",
        )
    return _renumber([by_id[i] for i in ids])


# --- exports: the request side ----------------------------------------------------------------


def start_export(session: Session, actor: Actor, lesson_id: int, burn_captions: bool = False) -> LessonExport:
    """Check that every item can be cut, record the export, and queue the job after the commit.
    `burn_captions`: the stitched lesson.mp4 gets its captions burned in as well."""
    lesson = get_lesson(session, lesson_id)
    items = items_of(session, lesson_id)
    if not items:
        raise Conflict(f"lesson {lesson_id} has no items to export")
    _check_exportable(session, items)
    redactions.check_approved(session, items)
    export = LessonExport(lesson_id=lesson_id, requested_by_name=actor.name, burn_captions=burn_captions)
    session.add(export)
    session.flush()
    held = []  # what the export holds: a withdrawal revokes it
    for item in items:
        item_id = saved_id(item)
        found = redactions.redaction_of(session, item_id)  # there is one: check_approved says so
        version = found.approved_version if found else None
        held.append(
            LessonExportItem(
                export_id=saved_id(export), item_id=item_id, clip_id=item.clip_id, redaction_version=version
            )
        )
    session.add_all(held)
    session.flush()
    record(
        session,
        actor,
        "lesson.export",
        object_type="lesson",
        object_id=lesson_id,
        details={"export": export.id, "course": lesson.course_id, "items": len(items), "burn_captions": burn_captions},
    )
    enqueue_after_commit(session, EXPORT_JOB, export.id)
    return export


def _check_exportable(session: Session, items: list[LessonItem]) -> None:
    clip_ids = {item.clip_id for item in items}
    not_selected = sorted(clip_ids - selected_clip_ids(session, clip_ids))
    if not_selected:
        raise Conflict(f"clips {not_selected} are no longer selected for training; remove their items first")
    expired = sorted(expired_clip_ids(session, clip_ids) | {i.clip_id for i in items if i.withdrawn_at is not None})
    if expired:
        raise Conflict(f"the retention of clips {expired} has ended: their segments are withdrawn; remove them first")
    no_proxy = sorted(c for c in clip_ids if find_asset(session, c, "proxy.mp4") is None)
    if no_proxy:
        raise Conflict(f"clips {no_proxy} have no playable proxy yet; export when they are ready")


def get_export(session: Session, export_id: int) -> LessonExport:
    export = session.get(LessonExport, export_id)
    if export is None:
        raise NotFound(f"no export {export_id}")
    return export


def exports_of(session: Session, lesson_id: int, limit: int | None = None) -> list[LessonExport]:
    """The lesson's exports, newest first (the latest `limit`)."""
    get_lesson(session, lesson_id)
    return list(
        session.exec(
            select(LessonExport)
            .where(LessonExport.lesson_id == lesson_id)
            .order_by(col(LessonExport.id).desc())
            .limit(limit)
        )
    )


def export_file(session: Session, actor: Actor, export_id: int) -> tuple[LessonExport, Path | None]:
    """The finished zip, for download; the download is audited. A revoked export (or one whose
    source has been withdrawn since: revoked now) gives no path: the route answers 410 with
    `export.revoked_reason`, and the refused download is audited too. The caller must not raise
    for it, so that the revocation is committed."""
    export = get_export(session, export_id)
    if export.state != ExportState.DONE:
        raise Conflict(f"export {export_id} is {export.state.value}; download it once it is done")
    if export.revoked_at is None:
        revoke_withdrawn(session, SYSTEM, [export])
    if export.revoked_at is not None:
        record(
            session,
            actor,
            "lesson.export.download",
            object_type="lesson_export",
            object_id=export_id,
            outcome="failure",
            details={"lesson": export.lesson_id, "revoked": export.revoked_reason},
        )
        return export, None
    path = get_store().absolute(export.path) if export.path else None
    if path is None or not path.is_file():
        raise ServiceError(410, f"the file of export {export_id} is gone; export the lesson again")
    record(
        session,
        actor,
        "lesson.export.download",
        object_type="lesson_export",
        object_id=export_id,
        details={"lesson": export.lesson_id, "sha256": export.sha256},
    )
    return export, path


# --- revocation ----------------------------------------------------------------------------------


def revoke(session: Session, actor: Actor, export: LessonExport, reason: str) -> bool:
    """Revoke one export (its download answers 410 with the reason); False when it already was."""
    if export.revoked_at is not None:
        return False
    export.revoked_at, export.revoked_reason = now(), reason[:1000]
    session.add(export)
    session.flush()
    record(
        session,
        actor,
        "lesson.export.revoke",
        object_type="lesson_export",
        object_id=export.id,
        details={"lesson": export.lesson_id, "reason": export.revoked_reason},
    )
    return True


def _exports_holding(session: Session, *, clip_id: int | None = None, item_id: int | None = None):
    query = select(LessonExport).join(LessonExportItem, col(LessonExportItem.export_id) == col(LessonExport.id))
    if clip_id is not None:
        query = query.where(LessonExportItem.clip_id == clip_id)
    if item_id is not None:
        query = query.where(LessonExportItem.item_id == item_id)
    return list(session.exec(query.where(col(LessonExport.revoked_at).is_(None)).distinct()))


def revoke_exports_of_clip(session: Session, actor: Actor, clip_id: int, reason: str) -> list[int]:
    """Revoke every export holding a segment of this clip: call it when the clip is withdrawn
    from training (a later decision), expires or is otherwise taken back. Returns the export ids."""
    revoked = [saved_id(e) for e in _exports_holding(session, clip_id=clip_id) if revoke(session, actor, e, reason)]
    return revoked


def revoke_exports_of_item(session: Session, actor: Actor, item_id: int, reason: str) -> list[int]:
    return [saved_id(e) for e in _exports_holding(session, item_id=item_id) if revoke(session, actor, e, reason)]


def revoke_withdrawn(session: Session, actor: Actor, exports: list[LessonExport] | None = None) -> list[int]:
    """Revoke the exports (all, or these) that hold a clip no longer selected for training or an
    item no longer in its lesson: the net under every path that takes a source back."""
    query = select(LessonExportItem, LessonExport).join(
        LessonExport, col(LessonExport.id) == col(LessonExportItem.export_id)
    )
    query = query.where(col(LessonExport.revoked_at).is_(None))
    if exports is not None:
        query = query.where(col(LessonExportItem.export_id).in_([e.id for e in exports]))
    rows = list(session.exec(query))
    if not rows:
        return []
    selected = selected_clip_ids(session, {row.clip_id for row, _ in rows})
    retention = retention_dates(session, [row.clip_id for row, _ in rows])
    present = set(session.exec(select(LessonItem.id).where(col(LessonItem.id).in_({row.item_id for row, _ in rows}))))
    revoked: list[int] = []
    today = today_utc()
    for row, export in rows:
        until = retention.get(row.clip_id)
        if until is not None and until < today:
            reason = f"the retention of clip {row.clip_id} ended on {until.isoformat()}"
        elif row.clip_id not in selected:
            reason = f"clip {row.clip_id} was withdrawn from training"
        elif row.item_id not in present:
            reason = f"lesson item {row.item_id} was removed from the lesson"
        else:
            continue
        if revoke(session, actor, export, reason):
            revoked.append(saved_id(export))
    return revoked


# --- exports: the job side --------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentPlan:
    """One item to cut, with everything the job needs so it holds no session while ffmpeg runs."""

    position: int
    item_id: int
    title: str | None
    clip_id: int
    source_sha256: str
    proxy_path: Path
    proxy_sha256: str
    in_point: float
    out_point: float
    annotations: list[dict]
    transcript: dict | None
    redaction: "redactions.RenderPlan"


@dataclass(frozen=True)
class ExportPlan:
    export_id: int
    lesson_id: int
    lesson_title: str
    lesson_summary: str | None
    course_id: int
    course_title: str
    segments: list[SegmentPlan]
    requested_by: str
    requested_at: datetime
    burn_captions: bool = False


def claim_export(session: Session, export_id: int) -> bool:
    """Queued → running, once: a second run of the job (or a second worker) gets False."""
    taken = session.exec(
        update(LessonExport)
        .where(col(LessonExport.id) == export_id, col(LessonExport.state) == ExportState.QUEUED)
        .values(state=ExportState.RUNNING, progress=0.0, error=None)
    )
    return taken.rowcount == 1


def export_plan(session: Session, export_id: int) -> ExportPlan:
    export = get_export(session, export_id)
    lesson = get_lesson(session, export.lesson_id)
    course = get_course(session, lesson.course_id)
    items = items_of(session, export.lesson_id)
    if not items:
        raise Conflict(f"lesson {lesson.id} has no items to export")
    redactions.check_approved(session, items)  # approved when requested; an edit since voids it
    segments = [_segment_plan(session, index, item) for index, item in enumerate(items)]
    return ExportPlan(
        export_id,
        export.lesson_id,
        lesson.title,
        lesson.summary,
        lesson.course_id,
        course.title,
        segments,
        export.requested_by_name,
        export.created_at,
        export.burn_captions,
    )


def _segment_plan(session: Session, position: int, item: LessonItem) -> SegmentPlan:
    clip = session.get(Clip, item.clip_id)
    if clip is None:  # the item's foreign key holds it; a clip is never deleted under a lesson
        raise NotFound(f"no clip {item.clip_id}")
    proxy = find_asset(session, item.clip_id, "proxy.mp4")
    if proxy is None:
        raise Conflict(f"clip {item.clip_id} has no proxy to cut from")
    return SegmentPlan(
        position,
        saved_id(item),
        item.title,
        item.clip_id,
        clip.sha256,
        get_store().absolute(proxy.path),
        proxy.sha256,
        item.in_point,
        item.out_point,
        list(item.annotations),
        transcripts.read(session, item.clip_id),
        redactions.render_plan(session, item),
    )


def set_export_progress(session: Session, export_id: int, fraction: float) -> None:
    session.execute(
        update(LessonExport)
        .where(col(LessonExport.id) == export_id, col(LessonExport.state) == ExportState.RUNNING)
        .values(progress=round(min(max(fraction, 0.0), 1.0), 3))
    )


def finish_export(session: Session, export_id: int, relative_path: str, size: int, sha256: str) -> bool:
    """Record the zip; False when the export was removed meanwhile (its lesson deleted)."""
    export = session.get(LessonExport, export_id)
    if export is None:
        return False
    export.state, export.progress, export.finished_at = ExportState.DONE, 1.0, now()
    export.path, export.size_bytes, export.sha256, export.error = relative_path, size, sha256, None
    session.add(export)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson.export.finish",
        object_type="lesson_export",
        object_id=export_id,
        details={"lesson": export.lesson_id, "size": size, "sha256": sha256},
    )
    _tell_the_trainer(session, export, NotificationKind.EXPORT_READY, "is ready to download")
    return True


def _tell_the_trainer(session: Session, export: LessonExport, kind: NotificationKind, what: str) -> None:
    lesson = session.get(Lesson, export.lesson_id)
    title = lesson.title if lesson else f"lesson {export.lesson_id}"
    link = f"/curriculum/lessons/{export.lesson_id}"
    notify(session, accounts_named(session, export.requested_by_name), kind, f"The export of {title} {what}", link)


def fail_export(session: Session, export_id: int, reason: str) -> None:
    export = session.get(LessonExport, export_id)
    if export is None:
        return
    export.state, export.error, export.finished_at = ExportState.FAILED, reason[:1000], now()
    session.add(export)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson.export.finish",
        object_type="lesson_export",
        object_id=export_id,
        outcome="failure",
        details={"lesson": export.lesson_id, "reason": reason[:1000]},
    )
    _tell_the_trainer(session, export, NotificationKind.EXPORT_FAILED, f"failed: {reason[:300]}")


# --- redaction, for the pages (review_ui imports services only) --------------------------------


def item_redaction(session: Session, lesson_id: int, item_id: int):
    """The item and its redaction as the API shows it (RedactionPublic), or None before one exists."""
    item = get_item(session, lesson_id, item_id)
    found = redactions.redaction_of(session, item_id)
    return item, (redactions.redaction_public(session, item, found) if found else None)


def redaction_states(session: Session, item_ids: list[int]) -> dict[int, str]:
    """A word per item for the lesson page: approved, draft, detecting, failed, stale or none."""
    if not item_ids:
        return {}
    found = session.exec(
        select(redactions.Redaction, LessonItem)
        .join(LessonItem, col(LessonItem.id) == col(redactions.Redaction.item_id))
        .where(col(redactions.Redaction.item_id).in_(item_ids))
    )
    states: dict[int, str] = {}
    for redaction, item in found:
        if redaction.detection in (redactions.DetectionState.QUEUED, redactions.DetectionState.RUNNING):
            states[redaction.item_id] = "detecting"
        elif redaction.detection == redactions.DetectionState.FAILED:
            states[redaction.item_id] = "detection failed"
        elif redactions.is_stale(item, redaction):
            states[redaction.item_id] = "stale"
        else:
            states[redaction.item_id] = redaction.status.value
    return {item_id: states.get(item_id, "none") for item_id in item_ids}


# The governed release (notice, objections, publication, views) lives in its own module; the pages
# reach it here, through the slice's service (tests/test_import_contract.py).
from api.curriculum import release  # noqa: E402, F401  (re-exported for the pages)
