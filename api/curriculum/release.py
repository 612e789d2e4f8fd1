"""The governed release of a lesson: notice to the featured officers, their consent or objection,
a lead's decision, publication, and trainees watching inside bestpart.

- **Renders.** Asking for the release renders each item's segment through its approved redaction
  (`lesson.release.render`, workers/exports.py): the file the featured officer is shown is the
  file trainees will play, never the raw proxy.
- **Notice.** Each officer who recorded a segment of the lesson (the clip's badge) is notified and
  may consent or object until `respond_by` (BESTPART_RELEASE_NOTICE_DAYS, 7 by default). A notice
  records which segments, at which approved redaction version, the officer was shown: a segment
  changed since is noticed again, with a new window.
- **Objection.** Blocks publication until a lead (an admin) decides: released (published over the
  objection) or withheld (the lesson cannot be published while it features that officer). Both
  the objection and the decision are recorded on the notice and in the audit log.
- **Publication.** Only when every item's redaction is approved and rendered, every featured
  officer's window has passed or they consented (or a lead released it), and no objection is open.
  What trainees watch is the snapshot taken then (`Lesson.published_items`).
- **Views.** Every signed-in employee may watch a published lesson; each view is recorded and
  audited (who, which lesson, when), and the player reports the ranges it played.

Services never commit; the jobs are sent after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import overload

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.audit.service import SYSTEM, Actor, record
from api.clips.models import Clip
from api.clips.service import get_store
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.types import saved_id, utcnow
from api.curriculum import redaction as redactions
from api.curriculum import service
from api.curriculum.models import (
    DetectionState,
    Lesson,
    LessonItem,
    LessonState,
    LessonView,
    NoticeState,
    ReleaseNotice,
    ReleaseRender,
)
from api.db import enqueue_after_commit
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_named, accounts_with_badge, members_of, notify
from api.redaction.settings import get_redaction_settings

RENDER_JOB = "lesson.release.render"
RENDER_URL = "/api/v1/release-renders/{id}/{part}"  # part: video | captions
NOTICE_PAGE = "/release-notices/{id}"
PLAYER_PAGE = "/lessons/{id}/watch"
LESSON_PAGE = "/curriculum/lessons/{id}"
MAX_RANGES = 2000


@overload
def _kind(name: str, fallback: NotificationKind) -> NotificationKind: ...
@overload
def _kind(name: str, fallback: None) -> NotificationKind | None: ...
def _kind(name: str, fallback: NotificationKind | None) -> NotificationKind | None:
    """A notification kind the notifications slice is to add; until then the closest that fits."""
    return getattr(NotificationKind, name, fallback)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- who a lesson features, and what they were shown ---------------------------------------------


def current_items(session: Session, lesson_id: int) -> list[LessonItem]:
    """The lesson's items that are still in it (not withdrawn by their source's retention)."""
    return [item for item in service.items_of(session, lesson_id) if item.withdrawn_at is None]


def featured(session: Session, items: list[LessonItem]) -> dict[str, list[LessonItem]]:
    """badge number → the items of clips that officer recorded."""
    clips = {c.id: c for c in session.exec(select(Clip).where(col(Clip.id).in_([i.clip_id for i in items])))}
    found: dict[str, list[LessonItem]] = {}
    for item in items:
        clip = clips.get(item.clip_id)
        if clip is not None and clip.badge_number:
            found.setdefault(clip.badge_number, []).append(item)
    return found


def _approved_versions(session: Session, items: list[LessonItem]) -> dict[int, int | None]:
    return {
        saved_id(item): getattr(redactions.redaction_of(session, saved_id(item)), "approved_version", None)
        for item in items
    }


def _shown(items: list[LessonItem], versions: dict[int, int | None]) -> dict:
    return {str(item.id): versions.get(saved_id(item)) for item in items}


def notices_of(session: Session, lesson_id: int) -> list[ReleaseNotice]:
    return list(
        session.exec(select(ReleaseNotice).where(ReleaseNotice.lesson_id == lesson_id).order_by(col(ReleaseNotice.id)))
    )


def renders_of(session: Session, lesson_id: int) -> dict[tuple[int, int], ReleaseRender]:
    rows = session.exec(select(ReleaseRender).where(ReleaseRender.lesson_id == lesson_id))
    return {(r.item_id, r.redaction_version): r for r in rows}


# --- the release status: what still blocks publication -------------------------------------------


@dataclass
class ItemRelease:
    item: LessonItem
    version: int | None
    render: ReleaseRender | None


@dataclass
class ReleaseStatus:
    lesson: Lesson
    items: list[ItemRelease]
    notices: list[ReleaseNotice]
    blockers: list[str] = field(default_factory=list)
    requested: bool = False  # the release was asked for (renders or notices exist)

    @property
    def can_publish(self) -> bool:
        return not self.blockers


def release_status(session: Session, lesson_id: int) -> ReleaseStatus:
    """The lesson's release as it stands, with everything that blocks its publication, each said."""
    lesson = service.get_lesson(session, lesson_id)
    all_items = service.items_of(session, lesson_id)
    items = current_items(session, lesson_id)
    versions = _approved_versions(session, items)
    renders = renders_of(session, lesson_id)
    notices = notices_of(session, lesson_id)

    def item_release(item: LessonItem) -> ItemRelease:
        version = versions.get(saved_id(item))
        return ItemRelease(item, version, renders.get((saved_id(item), version or -1)))

    status = ReleaseStatus(
        lesson,
        [item_release(i) for i in items],
        notices,
        requested=bool(renders or notices),
    )
    blockers = status.blockers
    withdrawn = [i for i in all_items if i.withdrawn_at is not None]
    for item in withdrawn:
        blockers.append(f"item {item.id} is withdrawn ({item.withdrawn_reason}): remove it")
    if not items:
        blockers.append("the lesson has no items")
        return status
    available = {p.id: p for p in service.items_public(session, items)}
    for item in items:
        if not available[saved_id(item)].available:
            blockers.append(f"item {item.id}'s clip is no longer available for training: remove it")
    for item, why in redactions.unapproved_items(session, items):
        blockers.append(f"item {item.id}{f' ({item.title})' if item.title else ''}: {why}")
    for entry in status.items:
        if entry.version is None:
            continue
        if entry.render is None:
            blockers.append(f"item {entry.item.id} is not rendered for release yet: ask for the release")
        elif entry.render.state != DetectionState.DONE:
            blockers.append(f"the release render of item {entry.item.id} is {entry.render.state.value}")
    now = utcnow()
    by_badge = {n.badge_number: n for n in notices}
    for badge, officer_items in sorted(featured(session, items).items()):
        notice = by_badge.get(badge)
        who = (notice.officer_name if notice else None) or f"badge {badge}"
        if notice is None:
            blockers.append(f"officer {who} has not been notified: ask for the release")
            continue
        if notice.shown != _shown(officer_items, versions) and notice.state not in (NoticeState.WITHHELD,):
            blockers.append(f"officer {who}'s segments changed since the notice: ask for the release again")
        elif notice.state == NoticeState.OBJECTED:
            blockers.append(f"officer {who} objected: a lead decides before the lesson is published")
        elif notice.state == NoticeState.WITHHELD:
            blockers.append(f"a lead upheld officer {who}'s objection: remove their segments to publish")
        elif notice.state == NoticeState.PENDING and now < _aware(notice.respond_by):
            blockers.append(
                f"officer {who} may object until {_aware(notice.respond_by).strftime('%Y-%m-%d %H:%M')} UTC"
            )
    return status


# --- asking for the release: renders and notices -------------------------------------------------


def request_release(session: Session, actor: Actor, lesson_id: int) -> ReleaseStatus:
    """Render every item through its approved redaction and notify each featured officer (again,
    with a new window, where their segments changed since they were shown them)."""
    lesson = service.get_lesson(session, lesson_id)
    items = current_items(session, lesson_id)
    if not items:
        raise Conflict(f"lesson {lesson_id} has no items to release")
    service._check_exportable(session, items)
    redactions.check_approved(session, items)
    versions = _approved_versions(session, items)
    renders = renders_of(session, lesson_id)
    for item in items:
        item_id = saved_id(item)
        version = versions[item_id]
        if version is None:  # check_approved above: every item's redaction is approved
            raise Conflict(f"the redaction of item {item_id} is not approved")
        render = renders.get((item_id, version))
        if render is None:
            render = ReleaseRender(
                lesson_id=lesson_id, item_id=item_id, clip_id=item.clip_id, redaction_version=version
            )
        elif render.state != DetectionState.FAILED:
            continue
        render.state, render.error = DetectionState.QUEUED, None
        session.add(render)
        session.flush()
        enqueue_after_commit(session, RENDER_JOB, render.id)
    window = timedelta(days=get_redaction_settings().release_notice_days)
    now = utcnow()
    existing = {n.badge_number: n for n in notices_of(session, lesson_id)}
    from api.users.service import officer_names

    names = officer_names(session, set(featured(session, items)))
    for badge, officer_items in sorted(featured(session, items).items()):
        shown = _shown(officer_items, versions)
        notice = existing.get(badge)
        if notice is not None and (
            notice.shown == shown or notice.state in (NoticeState.OBJECTED, NoticeState.WITHHELD)
        ):
            if notice.shown != shown:  # an open objection or a withheld release stands; what it is about moves on
                notice.shown = shown
                session.add(notice)
            continue
        again = notice is not None
        notice = notice or ReleaseNotice(lesson_id=lesson_id, badge_number=badge, respond_by=now + window)
        notice.officer_name = names.get(badge) or notice.officer_name
        notice.shown, notice.state, notice.notified_at, notice.respond_by = (
            shown,
            NoticeState.PENDING,
            now,
            now + window,
        )
        notice.responded_at = notice.responded_by_name = notice.objection = None
        notice.decided_at = notice.decided_by_name = notice.decision_note = None
        session.add(notice)
        session.flush()
        record(
            session,
            actor,
            "lesson.release.notice",
            object_type="lesson",
            object_id=lesson_id,
            details={
                "notice": notice.id,
                "badge": badge,
                "items": shown,
                "respond_by": notice.respond_by.isoformat(),
                "again": again,
            },
        )
        notify(
            session,
            accounts_with_badge(session, badge),
            _kind("RELEASE_NOTICE", NotificationKind.SELECTED_FOR_TRAINING),
            f"Your footage is in the lesson {lesson.title}, to be shown to employees: see the redacted segment "
            f"and object by {notice.respond_by.strftime('%Y-%m-%d')} if you do not agree",
            NOTICE_PAGE.format(id=notice.id),
        )
    record(
        session,
        actor,
        "lesson.release.request",
        object_type="lesson",
        object_id=lesson_id,
        details={"items": {str(k): v for k, v in versions.items()}},
    )
    return release_status(session, lesson_id)


# --- the officer's side ---------------------------------------------------------------------------


def get_notice(session: Session, notice_id: int) -> ReleaseNotice:
    notice = session.get(ReleaseNotice, notice_id)
    if notice is None:
        raise NotFound(f"no release notice {notice_id}")
    return notice


def _may_see_notice(caller, notice: ReleaseNotice) -> bool:
    from api.core.policies import ADMINS, TRAINERS, holds, recorded_it

    return holds(caller, ADMINS | TRAINERS) or recorded_it(caller, notice.badge_number)


@dataclass
class NoticeView:
    notice: ReleaseNotice
    lesson: Lesson
    segments: list[dict]  # the officer's items, each with its render's urls
    open: bool  # the officer may still answer


def notice_view(session: Session, caller, notice_id: int) -> NoticeView:
    """The notice with the officer's segments as rendered redacted: for the officer it names, a
    lead or a trainer."""
    notice = get_notice(session, notice_id)
    if not _may_see_notice(caller, notice):
        raise NotFound(f"no release notice {notice_id}")  # not yours: as if it did not exist
    lesson = service.get_lesson(session, notice.lesson_id)
    renders = renders_of(session, notice.lesson_id)
    segments = []
    for item in service.items_of(session, notice.lesson_id):
        version = notice.shown.get(str(item.id), "absent")
        if version == "absent":
            continue
        render = renders.get((saved_id(item), version))
        done = render if render is not None and render.state == DetectionState.DONE else None
        segments.append(
            {
                "item_id": item.id,
                "title": item.title or f"Segment {item.position + 1}",
                "duration": round(item.out_point - item.in_point, 3),
                "state": render.state.value if render else "missing",
                "video_url": RENDER_URL.format(id=done.id, part="video") if done else None,
                "captions_url": RENDER_URL.format(id=done.id, part="captions") if done else None,
                "annotations": item.annotations,
            }
        )
    is_open = notice.state in (NoticeState.PENDING, NoticeState.CONSENTED) and utcnow() <= _aware(notice.respond_by)
    return NoticeView(notice, lesson, segments, is_open)


def notices_for_badge(session: Session, badge: str | None) -> list[tuple[ReleaseNotice, Lesson]]:
    if not badge:
        return []
    return list(
        session.exec(
            select(ReleaseNotice, Lesson)
            .join(Lesson, col(Lesson.id) == col(ReleaseNotice.lesson_id))
            .where(ReleaseNotice.badge_number == badge)
            .order_by(col(ReleaseNotice.notified_at).desc())
        )
    )


def respond(session: Session, caller, notice_id: int, consent: bool, objection: str | None) -> ReleaseNotice:
    """The officer consents, or objects (with their reason) while the window is open."""
    from api.core.policies import recorded_it

    notice = get_notice(session, notice_id)
    if not recorded_it(caller, notice.badge_number):
        raise Forbidden("only the officer the notice names answers it")
    if notice.state not in (NoticeState.PENDING, NoticeState.CONSENTED):
        raise Conflict(f"this notice is {notice.state.value}: it cannot be answered again")
    if utcnow() > _aware(notice.respond_by):
        raise Conflict(f"the window to object closed on {_aware(notice.respond_by).strftime('%Y-%m-%d %H:%M')} UTC")
    text = (objection or "").strip()
    if not consent and not text:
        raise Invalid("an objection says why: what in the segment should not be shown")
    actor = caller.actor
    notice.responded_at, notice.responded_by_name = utcnow(), actor.name
    notice.state = NoticeState.CONSENTED if consent else NoticeState.OBJECTED
    notice.objection = None if consent else text[:5000]
    session.add(notice)
    session.flush()
    lesson = service.get_lesson(session, notice.lesson_id)
    record(
        session,
        actor,
        "lesson.release.consent" if consent else "lesson.release.object",
        object_type="lesson",
        object_id=lesson.id,
        details={"notice": notice.id, "badge": notice.badge_number, "objection": notice.objection},
    )
    if not consent:
        kind = _kind("RELEASE_OBJECTION", None)  # to be added to api/notifications; the lesson page shows it meanwhile
        if kind is not None:
            notify(
                session,
                members_of(session, "admin"),
                kind,
                f"Officer {notice.officer_name or notice.badge_number} objects to the lesson {lesson.title}: decide",
                LESSON_PAGE.format(id=lesson.id),
                actor_user_id=actor.user_id,
            )
    return notice


def decide(session: Session, actor: Actor, lesson_id: int, notice_id: int, release: bool, note: str) -> ReleaseNotice:
    """A lead decides an open objection: released (the lesson may be published over it) or
    withheld (not while it features the officer). Recorded on the notice and audited."""
    notice = get_notice(session, notice_id)
    if notice.lesson_id != lesson_id:
        raise NotFound(f"lesson {lesson_id} has no release notice {notice_id}")
    if notice.state != NoticeState.OBJECTED:
        raise Conflict(f"there is no open objection to decide: the notice is {notice.state.value}")
    note = (note or "").strip()
    if not note:
        raise Invalid("a decision says why (it is recorded with the objection)")
    notice.state = NoticeState.RELEASED if release else NoticeState.WITHHELD
    notice.decided_at, notice.decided_by_name, notice.decision_note = utcnow(), actor.name, note[:5000]
    session.add(notice)
    session.flush()
    record(
        session,
        actor,
        "lesson.release.decide",
        object_type="lesson",
        object_id=lesson_id,
        details={
            "notice": notice.id,
            "badge": notice.badge_number,
            "decision": notice.state.value,
            "note": notice.decision_note,
            "objection": notice.objection,
        },
    )
    kind = _kind("RELEASE_DECIDED", None)
    if kind is not None:
        lesson = service.get_lesson(session, lesson_id)
        course = service.get_course(session, lesson.course_id)
        verdict = "may be published" if release else "is withheld"
        notify(
            session,
            [*accounts_with_badge(session, notice.badge_number), *accounts_named(session, course.created_by_name)],
            kind,
            f"Objection to {lesson.title} decided: the lesson {verdict}",
            NOTICE_PAGE.format(id=notice.id),
            actor_user_id=actor.user_id,
        )
    return notice


# --- publication --------------------------------------------------------------------------------


def publish(session: Session, actor: Actor, lesson_id: int) -> Lesson:
    status = release_status(session, lesson_id)
    if status.blockers:
        raise Conflict(f"lesson {lesson_id} cannot be published yet — " + "; ".join(status.blockers))
    lesson = status.lesson
    snapshot = []
    for number, entry in enumerate(status.items):
        render = entry.render
        if render is None:  # release_status blocks publication until every item is rendered
            raise Conflict(f"item {entry.item.id} is not rendered for release yet: ask for the release")
        snapshot.append(
            {
                "item_id": entry.item.id,
                "position": number,
                "title": entry.item.title,
                "clip_id": entry.item.clip_id,
                "redaction_version": entry.version,
                "render_id": render.id,
                "duration": round(render.duration or (entry.item.out_point - entry.item.in_point), 3),
                "annotations": [
                    {"offset": round(a["at"] - entry.item.in_point, 3), "text": a["text"]}
                    for a in entry.item.annotations
                ],
            }
        )
    lesson.published_items = snapshot
    lesson.state, lesson.published_at, lesson.published_by_name = LessonState.PUBLISHED, utcnow(), actor.name
    session.add(lesson)
    session.flush()
    record(
        session,
        actor,
        "lesson.publish",
        object_type="lesson",
        object_id=lesson_id,
        details={
            "items": [(e["item_id"], e["redaction_version"]) for e in lesson.published_items],
            "notices": {n.badge_number: n.state.value for n in status.notices},
        },
    )
    return lesson


def unpublish(session: Session, actor: Actor, lesson_id: int) -> Lesson:
    lesson = service.get_lesson(session, lesson_id)
    if lesson.state != LessonState.PUBLISHED:
        raise Conflict(f"lesson {lesson_id} is not published")
    lesson.state = LessonState.DRAFT
    session.add(lesson)
    session.flush()
    record(session, actor, "lesson.unpublish", object_type="lesson", object_id=lesson_id, details={})
    return lesson


def published_lessons(session: Session) -> list[tuple[Lesson, str]]:
    """Every published lesson, with its course's title, in curriculum order."""
    from api.curriculum.models import Course

    return [
        (lesson, title)
        for lesson, title in session.exec(
            select(Lesson, Course.title)
            .join(Course, col(Course.id) == col(Lesson.course_id))
            .where(Lesson.state == LessonState.PUBLISHED)
            .order_by(col(Course.title), col(Lesson.position), col(Lesson.id))
        )
    ]


# --- watching -------------------------------------------------------------------------------------


@dataclass
class PlayerPlan:
    lesson: Lesson
    course_title: str
    segments: list[dict]  # in order: item id, title, duration, video and captions urls, annotations
    withdrawn: int  # segments of the published snapshot no longer shown


def player_plan(session: Session, lesson_id: int) -> PlayerPlan:
    """The published snapshot's segments that may still be shown (the source still selected for
    training, within its retention, the item still in the lesson and not withdrawn)."""
    lesson = service.get_lesson(session, lesson_id)
    if lesson.state != LessonState.PUBLISHED or not lesson.published_items:
        raise NotFound(f"lesson {lesson_id} is not published")
    showable = _showable(session, lesson)
    segments = []
    for entry in lesson.published_items:
        if entry["item_id"] not in showable:
            continue
        segments.append(
            {
                **entry,
                "video_url": RENDER_URL.format(id=entry["render_id"], part="video"),
                "captions_url": RENDER_URL.format(id=entry["render_id"], part="captions"),
            }
        )
    course = service.get_course(session, lesson.course_id)
    return PlayerPlan(lesson, course.title, segments, len(lesson.published_items) - len(segments))


def _showable(session: Session, lesson: Lesson) -> set[int]:
    entries = lesson.published_items or []
    items = {
        i.id: i for i in session.exec(select(LessonItem).where(col(LessonItem.id).in_([e["item_id"] for e in entries])))
    }
    present = [items[e["item_id"]] for e in entries if e["item_id"] in items]
    public = service.items_public(session, present)
    return {p.id for p in public if p.available}


def start_view(session: Session, actor: Actor, lesson_id: int) -> LessonView:
    plan = player_plan(session, lesson_id)
    view = LessonView(
        lesson_id=lesson_id,
        user_id=actor.user_id,
        user_name=actor.name,
        lesson_seconds=round(sum(s["duration"] for s in plan.segments), 3),
    )
    session.add(view)
    session.flush()
    record(
        session,
        actor,
        "lesson.view",
        object_type="lesson",
        object_id=lesson_id,
        details={"view": view.id, "segments": [s["item_id"] for s in plan.segments]},
    )
    return view


def record_watched(session: Session, actor: Actor, view_id: int, ranges: list[tuple[int, float, float]]) -> LessonView:
    """Merge the ranges the player played ([item id, start, end], seconds into that segment)
    into the view: only the viewer reports on their view, only for segments of the lesson."""
    view = session.get(LessonView, view_id)
    if view is None or view.user_id != actor.user_id:
        raise NotFound(f"no view {view_id} of yours")
    lesson = service.get_lesson(session, view.lesson_id)
    lengths = {e["item_id"]: float(e["duration"]) for e in lesson.published_items or []}
    merged: dict[int, list[list[float]]] = {}
    for item_id, start, end in [*view.ranges, *ranges]:
        if item_id not in lengths:
            raise Invalid(f"item {item_id} is not a segment of lesson {lesson.id}")
        start, end = max(0.0, float(start)), min(lengths[item_id], float(end))
        if end > start:
            merged.setdefault(int(item_id), []).append([start, end])
    out: list[list] = []
    for item_id in sorted(merged, key=lambda i: list(lengths).index(i)):
        spans = sorted(merged[item_id])
        joined = [spans[0]]
        for start, end in spans[1:]:
            if start <= joined[-1][1] + 0.05:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        out += [[item_id, round(a, 3), round(b, 3)] for a, b in joined]
    if len(out) > MAX_RANGES:
        raise Invalid("too many separate ranges for one view")
    view.ranges = out
    view.watched_seconds = round(sum(b - a for _, a, b in out), 3)
    view.last_seen_at = utcnow()
    session.add(view)
    session.flush()
    return view


def views_of(session: Session, lesson_id: int, limit: int | None = None, offset: int = 0) -> list[LessonView]:
    service.get_lesson(session, lesson_id)
    return list(
        session.exec(
            select(LessonView)
            .where(LessonView.lesson_id == lesson_id)
            .order_by(col(LessonView.id).desc())
            .offset(offset)
            .limit(limit)
        )
    )


# --- the rendered files ---------------------------------------------------------------------------


def render_file(session: Session, caller, render_id: int, part: str) -> Path:
    """A release render's video or captions, for: a trainer or an admin; the officer whose notice
    shows it; anyone signed in once it is part of a published lesson and still shown."""
    from api.core.policies import ADMINS, TRAINERS, holds, recorded_it

    render = session.get(ReleaseRender, render_id)
    if render is None or render.state != DetectionState.DONE:
        raise NotFound(f"no release render {render_id}")
    allowed = holds(caller, ADMINS | TRAINERS)
    if not allowed:
        for notice in notices_of(session, render.lesson_id):
            if notice.shown.get(str(render.item_id)) == render.redaction_version and recorded_it(
                caller, notice.badge_number
            ):
                allowed = True
    if not allowed:
        lesson = session.get(Lesson, render.lesson_id)
        if lesson is not None and lesson.state == LessonState.PUBLISHED:
            published = {e["render_id"] for e in lesson.published_items or []}
            allowed = render.id in published and render.item_id in _showable(session, lesson)
    if not allowed:
        raise NotFound(f"no release render {render_id}")
    relative = render.path if part == "video" else render.captions_path
    path = get_store().absolute(relative) if relative else None
    if path is None or not path.is_file():
        raise NotFound(f"the file of release render {render_id} is gone")
    return path


# --- the render job's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseRenderPlan:
    render_id: int
    lesson_id: int
    lesson_title: str
    item_id: int
    segment: service.SegmentPlan
    requested_by: str
    requested_at: datetime


def claim_render(session: Session, render_id: int) -> bool:
    taken = session.exec(
        update(ReleaseRender)
        .where(col(ReleaseRender.id) == render_id, col(ReleaseRender.state) == DetectionState.QUEUED)
        .values(state=DetectionState.RUNNING, error=None)
    )
    return taken.rowcount == 1


def render_job_plan(session: Session, render_id: int, requested_by: str | None = None) -> ReleaseRenderPlan | None:
    render = session.get(ReleaseRender, render_id)
    item = session.get(LessonItem, render.item_id) if render else None
    if render is None or item is None:
        return None
    redaction = redactions.redaction_of(session, saved_id(item))
    if redaction is None or redaction.approved_version != render.redaction_version:
        raise Conflict(f"the redaction of item {item.id} changed since version {render.redaction_version} was approved")
    lesson = service.get_lesson(session, item.lesson_id)
    return ReleaseRenderPlan(
        render_id,
        item.lesson_id,
        lesson.title,
        saved_id(item),
        service._segment_plan(session, item.position, item),
        requested_by or redaction.approved_by_name or "bestpart",
        utcnow(),
    )


def finish_render(
    session: Session, render_id: int, video: str, captions: str, sha256: str, duration: float, provenance: dict
) -> bool:
    render = session.get(ReleaseRender, render_id)
    if render is None:
        return False
    render.state, render.path, render.captions_path = DetectionState.DONE, video, captions
    render.sha256, render.duration, render.provenance, render.finished_at = sha256, duration, provenance, utcnow()
    session.add(render)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson.release.render",
        object_type="lesson_item",
        object_id=render.item_id,
        details={"render": render.id, "version": render.redaction_version, "sha256": sha256},
    )
    return True


def fail_render(session: Session, render_id: int, reason: str) -> None:
    render = session.get(ReleaseRender, render_id)
    if render is None:
        return
    render.state, render.error, render.finished_at = DetectionState.FAILED, reason[:1000], utcnow()
    session.add(render)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson.release.render",
        object_type="lesson_item",
        object_id=render.item_id,
        outcome="failure",
        details={"render": render.id, "reason": reason[:1000]},
    )
