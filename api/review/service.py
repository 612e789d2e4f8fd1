"""The review queue's rules: claims, decisions with history, needs-info replies, listing.
The queue's API and its page list it through `queue_page`; a clip's review through `clip_review`."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from api.audit.service import Actor, record
from api.auth import Principal
from api.clips.models import Asset, Clip, ClipCategory, ClipStatus, ClipTag, Stage
from api.clips.schemas import ClipPublic
from api.clips.service import clip_filter, clips_public, may_tag, visible_clip
from api.config import get_settings
from api.core import policies
from api.core.errors import Conflict, Invalid, NotFound
from api.core.types import utcnow
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_with_badge, notify
from api.pagination import Page, offset_page
from api.review.models import Decision, DecisionKind, OfficerReply, ReviewItem, ReviewState, RubricItem
from api.review.schemas import DecisionIn
from api.search import service as search
from api.search.schemas import SearchHit
from api.users.service import officer_names

NEEDS_A_REASON = {DecisionKind.DISMISS: "a reason to dismiss", DecisionKind.NEEDS_INFO: "the question for the officer"}


def ensure_in_queue(session: Session, clip_id: int) -> None:
    """A tagged clip has a review item; the queue shows it, and it can be opened once ready."""
    if session.exec(select(ReviewItem.id).where(ReviewItem.clip_id == clip_id)).first() is None:
        with session.begin_nested():
            session.add(ReviewItem(clip_id=clip_id))


def release_expired_claims(session: Session) -> None:
    """Lapsed claims go back to the queue. Looked for first: an UPDATE on every queue read would take
    SQLite's write lock and make each read wait behind every upload."""
    expired = (ReviewItem.state == ReviewState.IN_REVIEW, ReviewItem.claim_expires_at < utcnow())
    if session.exec(select(ReviewItem.id).where(*expired).limit(1)).first() is None:
        return
    session.execute(
        update(ReviewItem)
        .where(*expired)
        .values(state=ReviewState.QUEUED, claimed_by=None, claimed_by_name=None, claim_expires_at=None)
    )


INTAKE_PROBLEMS = (ClipStatus.REJECTED, ClipStatus.FAILED)


def item_for(session: Session, clip_id: int) -> ReviewItem | None:
    return session.exec(select(ReviewItem).where(ReviewItem.clip_id == clip_id)).first()


def claim(session: Session, actor: Actor, clip_id: int) -> ReviewItem:
    """Opening a queued clip claims it for the reviewer; opening it again renews the claim."""
    item = _item_to_work_on(session, actor, clip_id)
    if item.state in (ReviewState.QUEUED, ReviewState.IN_REVIEW):
        expires = utcnow() + timedelta(minutes=get_settings().review_claim_minutes)
        taken = session.execute(
            update(ReviewItem)
            .where(
                ReviewItem.id == item.id,
                or_(ReviewItem.state == ReviewState.QUEUED, ReviewItem.claimed_by == actor.user_id),
            )
            .values(
                state=ReviewState.IN_REVIEW,
                claimed_by=actor.user_id,
                claimed_by_name=actor.name,
                claim_expires_at=expires,
                updated_at=utcnow(),
            )
        )
        if taken.rowcount != 1:
            raise Conflict("another reviewer claimed this clip a moment ago")
        session.refresh(item)
        record(session, actor, "review.claim", object_type="clip", object_id=clip_id)
    return item


def _item_to_work_on(session: Session, actor: Actor, clip_id: int, dismissing: bool = False) -> ReviewItem:
    """The clip's review item if this reviewer may claim or decide it now (expired claims released).
    Nobody reviews what cannot be watched: a clip still processing waits, and one rejected or failed
    at intake may only be dismissed."""
    release_expired_claims(session)
    item = item_for(session, clip_id)
    if item is None:
        raise NotFound(f"clip {clip_id} is not in the review queue")
    status, reason = session.exec(select(Clip.status, Clip.reason).where(Clip.id == clip_id)).one()
    if status == ClipStatus.PROCESSING:
        raise Conflict(f"clip {clip_id} is still processing; it can be reviewed once it is ready")
    if status in INTAKE_PROBLEMS and not dismissing:
        raise Conflict(f"clip {clip_id} was {status.value} at intake ({reason}): it cannot be reviewed, only dismissed")
    if item.state == ReviewState.IN_REVIEW and item.claimed_by != actor.user_id:
        raise Conflict(f"{item.claimed_by_name} is reviewing this clip")
    return item


def next_for(session: Session, actor: Actor, order: str = "priority") -> ReviewItem | None:
    """The reviewer's current claim, else the best queued clip that is ready, claimed for them."""
    release_expired_claims(session)
    mine = session.exec(
        select(ReviewItem).where(ReviewItem.state == ReviewState.IN_REVIEW, ReviewItem.claimed_by == actor.user_id)
    ).first()
    if mine:
        return mine
    query = (
        select(ReviewItem)
        .join(Clip, Clip.id == ReviewItem.clip_id)
        .where(ReviewItem.state == ReviewState.QUEUED, Clip.status == ClipStatus.READY)
    )
    for candidate in session.exec(_ordered(query, order).limit(5)):
        try:
            return claim(session, actor, candidate.clip_id)
        except Conflict:
            continue  # someone else took it in between
    return None


def decide(session: Session, actor: Actor, clip_id: int, body: DecisionIn) -> Decision:
    item = _item_to_work_on(session, actor, clip_id, dismissing=body.kind == DecisionKind.DISMISS)
    if body.kind in NEEDS_A_REASON and not (body.reason or "").strip():
        raise Invalid(f"{body.kind.value} needs {NEEDS_A_REASON[body.kind]} (field 'reason')")
    _check_rubric(session, body.rubric)
    previous = session.exec(select(Decision).where(Decision.clip_id == clip_id).order_by(Decision.id.desc())).first()
    decision = Decision(
        clip_id=clip_id,
        kind=body.kind,
        reviewer_id=actor.user_id,
        reviewer_name=actor.name,
        reason=(body.reason or "").strip() or None,
        rubric=body.rubric,
        notes=body.notes,
        revises_id=previous.id if previous else None,
    )
    session.add(decision)
    item.state = ReviewState(body.kind.value)
    item.claimed_by = item.claimed_by_name = item.claim_expires_at = None
    item.updated_at = utcnow()
    session.add(item)
    session.flush()
    record(
        session,
        actor,
        "review.decide",
        object_type="clip",
        object_id=clip_id,
        details={"decision": decision.id, "kind": body.kind.value, "revises": decision.revises_id},
    )
    _tell_the_officer(session, actor, clip_id, decision)
    return decision


def _tell_the_officer(session: Session, actor: Actor, clip_id: int, decision: Decision) -> None:
    """The recording officer hears of a question about their clip, and of its selection for training."""
    if decision.kind == DecisionKind.NEEDS_INFO:
        kind, text = NotificationKind.NEEDS_INFO, f"The review team asks about clip {clip_id}: {decision.reason}"
    elif decision.kind == DecisionKind.SELECT_FOR_TRAINING:
        kind, text = NotificationKind.SELECTED_FOR_TRAINING, f"Clip {clip_id} was selected for training"
    else:
        return
    badge = session.get(Clip, clip_id).badge_number
    notify(session, accounts_with_badge(session, badge), kind, text, f"/clips/{clip_id}", actor_user_id=actor.user_id)


def _check_rubric(session: Session, rubric: dict[str, bool]) -> None:
    known = set(session.exec(select(RubricItem.key).where(RubricItem.active)))
    unknown = sorted(set(rubric) - known)
    if unknown:
        raise Invalid(f"unknown rubric items {unknown}; the rubric has {sorted(known)}")


def may_reply(viewer: Principal, clip: Clip) -> bool:
    """Only the recording officer answers the review team's questions about a clip."""
    return policies.recorded_it(viewer, clip.badge_number)


def reply(session: Session, actor: Actor, clip_id: int, text: str) -> OfficerReply:
    """The officer answers the review team's question; the clip goes back to the queue."""
    item = item_for(session, clip_id)
    if item is None or item.state != ReviewState.NEEDS_INFO:
        raise Conflict("the review team has no open question on this clip")
    question = session.exec(select(Decision).where(Decision.clip_id == clip_id).order_by(Decision.id.desc())).first()
    answer = OfficerReply(clip_id=clip_id, decision_id=question.id, user_id=actor.user_id, text=text.strip())
    session.add(answer)
    item.state, item.updated_at, item.queued_at = ReviewState.QUEUED, utcnow(), utcnow()
    session.add(item)
    session.flush()
    record(session, actor, "review.reply", object_type="clip", object_id=clip_id, details={"reply": answer.id})
    notify(
        session,
        [question.reviewer_id],
        NotificationKind.OFFICER_REPLY,
        f"The officer answered your question about clip {clip_id}: {answer.text}",
        f"/clips/{clip_id}",
        actor_user_id=actor.user_id,
    )
    return answer


@dataclass
class QueueFilter:
    state: ReviewState | None = None
    category: str | None = None
    division: str | None = None
    badge_number: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None


CLIP_FILTERS = ("category", "division", "badge_number", "date_from", "date_to")


def _needs_clip(where: QueueFilter) -> bool:
    return any(getattr(where, name) for name in CLIP_FILTERS)


def _filtered(query, where: QueueFilter, described=None):
    """The filters on a query of review items (joined to clips where a filter needs them);
    `described`: the clips the text filter found in the full-text index."""
    # A clip rejected or failed at intake cannot be watched: it is an intake problem, not a review.
    query = query.where(ReviewItem.clip_id.not_in(select(Clip.id).where(Clip.status.in_(INTAKE_PROBLEMS))))
    if where.state:
        query = query.where(ReviewItem.state == where.state)
    if where.category:
        tagged = select(ClipCategory.clip_id).where(ClipCategory.category == where.category)
        query = query.where(ReviewItem.clip_id.in_(tagged))
    if where.division:
        query = query.where(Clip.division == where.division)
    if where.badge_number:
        query = query.where(Clip.badge_number == where.badge_number)
    recorded = func.coalesce(Clip.recorded_at, Clip.created_at)
    if where.date_from:
        query = query.where(recorded >= datetime.combine(where.date_from, time.min, UTC))
    if where.date_to:
        query = query.where(recorded < datetime.combine(where.date_to + timedelta(days=1), time.min, UTC))
    if described is not None:
        query = query.where(ReviewItem.clip_id.in_(described))
    return query


def _ordered(query, order: str):
    if order == "oldest":
        return query.order_by(ReviewItem.queued_at, ReviewItem.id)
    return query.order_by(ReviewItem.priority.desc(), ReviewItem.queued_at, ReviewItem.id)


@dataclass
class QueueRow:
    """A clip in the queue with what a listing shows beside it."""

    item: ReviewItem
    clip: Clip
    categories: list[str]
    progress: float  # the mean of the clip's stages' progress, 0..1
    officer_name: str | None = None
    has_poster: bool = False
    hit: SearchHit | None = None  # with a text filter: the best passage it matched


@dataclass
class QueueListing(Page[QueueRow]):
    counts: dict[str, int] = field(default_factory=dict)  # per state, under the other filters


def queue_page(session: Session, where: QueueFilter, order: str, limit: int, offset: int) -> QueueListing:
    """A page of the queue, the total matching, and the counts per state under the other filters:
    a fixed number of queries whatever the queue's size, none per row."""
    release_expired_claims(session)
    # The text filter reads the full-text index: a LIKE would scan every clip, twice (rows, counts).
    described = search.clips_described_by(session, where.text) if where.text else None
    # A page of the queue shows the clip's facts, not its recognition or media JSON: not decoded.
    base = (
        select(ReviewItem, Clip)
        .join(Clip, Clip.id == ReviewItem.clip_id)
        .options(defer(Clip.recognition), defer(Clip.media_info))
    )
    pairs = session.exec(_ordered(_filtered(base, where, described), order).limit(limit).offset(offset)).all()
    counts = _counts(session, where, described)
    # The per-state counts already cover the other filters: the total needs no query of its own.
    total = counts[where.state.value] if where.state else sum(counts.values())
    return QueueListing(queue_rows(session, list(pairs), where.text), total, limit, offset, counts)


def _counts(session: Session, where: QueueFilter, described) -> dict[str, int]:
    counted = select(ReviewItem.state, func.count())
    if _needs_clip(where):  # without clip filters the count reads the state index alone
        counted = counted.join(Clip, Clip.id == ReviewItem.clip_id)
    counted = _filtered(counted, replace(where, state=None), described).group_by(ReviewItem.state)
    return {state.value: 0 for state in ReviewState} | {str(s): n for s, n in session.exec(counted)}


def queue_rows(session: Session, pairs: list[tuple[ReviewItem, Clip]], text: str | None = None) -> list[QueueRow]:
    """The rows for these items: one query each for categories, progress, officers' names and
    posters (and the best passages, with a text filter)."""
    if not pairs:
        return []
    ids = [clip.id for _, clip in pairs]
    terms = search.parse_terms(text) if text else []
    hits = search.best_hits(session, terms, ids) if terms else {}
    categories = categories_of(session, ids)
    progress = dict(
        session.exec(
            select(Stage.clip_id, func.avg(Stage.progress)).where(Stage.clip_id.in_(ids)).group_by(Stage.clip_id)
        ).all()
    )
    names = officer_names(session, {clip.badge_number for _, clip in pairs if clip.badge_number})
    posters = set(session.exec(select(Asset.clip_id).where(Asset.clip_id.in_(ids), Asset.kind == "poster.jpg")))
    return [
        QueueRow(
            item=item,
            clip=clip,
            categories=categories[clip.id],
            progress=float(progress.get(clip.id) or 0),
            officer_name=names.get(clip.badge_number),
            has_poster=clip.id in posters,
            hit=next(iter(hits.get(clip.id) or []), None),
        )
        for item, clip in pairs
    ]


def queue_row(session: Session, item: ReviewItem) -> QueueRow:
    return queue_rows(session, [(item, session.get(Clip, item.clip_id))])[0]


def categories_of(session: Session, clip_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, set[str]] = {clip_id: set() for clip_id in clip_ids}
    for clip_id, categories in session.exec(
        select(ClipTag.clip_id, ClipTag.categories).where(ClipTag.clip_id.in_(clip_ids))
    ):
        found[clip_id].update(categories)
    return {clip_id: sorted(values) for clip_id, values in found.items()}


def history(session: Session, clip_id: int) -> tuple[list[Decision], list[OfficerReply]]:
    decisions = list(session.exec(select(Decision).where(Decision.clip_id == clip_id).order_by(Decision.id)))
    replies = list(session.exec(select(OfficerReply).where(OfficerReply.clip_id == clip_id).order_by(OfficerReply.id)))
    return decisions, replies


@dataclass
class ClipReview:
    """Where a clip stands in review, with every decision and reply."""

    clip: Clip
    item: ReviewItem | None
    decisions: list[Decision]
    replies: list[OfficerReply]


def clip_review(session: Session, viewer: Principal, clip_id: int) -> ClipReview:
    """A clip's review for someone who may see the clip (404 for anyone else: officers see their own)."""
    clip = visible_clip(session, viewer, clip_id)
    decisions, replies = history(session, clip_id)
    return ClipReview(clip, item_for(session, clip_id), decisions, replies)


@dataclass
class Standing:
    """Where a clip stands in review, as its officer follows it."""

    item: ReviewItem | None
    decision: Decision | None  # the latest
    last_reply: OfficerReply | None

    @property
    def asking(self) -> bool:
        """Whether the review team waits for the officer's answer to a question."""
        return self.item is not None and self.item.state == ReviewState.NEEDS_INFO and self.decision is not None

    @property
    def question(self) -> str | None:
        return self.decision.reason if self.asking else None


def standings(session: Session, clip_ids: list[int]) -> dict[int, Standing]:
    """Review item, latest decision and latest reply of many clips: one query each, not per clip."""
    items = {item.clip_id: item for item in session.exec(select(ReviewItem).where(ReviewItem.clip_id.in_(clip_ids)))}
    latest: dict[int, Decision] = {}
    for decision in session.exec(select(Decision).where(Decision.clip_id.in_(clip_ids)).order_by(Decision.id)):
        latest[decision.clip_id] = decision
    replies: dict[int, OfficerReply] = {}
    for answer in session.exec(
        select(OfficerReply).where(OfficerReply.clip_id.in_(clip_ids)).order_by(OfficerReply.id)
    ):
        replies[answer.clip_id] = answer
    return {clip_id: Standing(items.get(clip_id), latest.get(clip_id), replies.get(clip_id)) for clip_id in clip_ids}


def rubric(session: Session, include_inactive: bool = False) -> list[RubricItem]:
    query = select(RubricItem).order_by(RubricItem.position, RubricItem.id)
    if not include_inactive:
        query = query.where(RubricItem.active)
    return list(session.exec(query))


def save_rubric_item(session: Session, actor: Actor, key: str, label: str, position: int, active: bool) -> RubricItem:
    item = session.exec(select(RubricItem).where(RubricItem.key == key)).first() or RubricItem(key=key, label=label)
    item.label, item.position, item.active = label, position, active
    session.add(item)
    session.flush()
    record(
        session,
        actor,
        "rubric.save",
        object_type="rubric_item",
        object_id=item.id,
        details={"key": key, "label": label, "active": active},
    )
    return item


# --- an officer's own clips, and where each stands in review (GET /clips/mine, My footage) ------


@dataclass
class MyClip:
    """One of an officer's clips, and where it stands in review."""

    clip: ClipPublic
    review_state: ReviewState | None
    decision: Decision | None  # the latest
    question: str | None  # the review team's open question
    last_reply: OfficerReply | None
    can_reply: bool
    can_tag: bool  # once it is ready to watch


def my_clips(
    session: Session,
    viewer: Principal,
    *,
    status: ClipStatus | None = None,
    clip_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[MyClip]:
    """The clips recorded under the viewer's badge (and, belt and braces, within what they may see),
    newest first; none without a badge. A page costs a fixed handful of queries."""
    if not viewer.badge_number:
        return Page([], 0, limit, offset)
    query = select(Clip).where(Clip.badge_number == viewer.badge_number)
    if (visible := clip_filter(viewer)) is not None:
        query = query.where(visible)
    if status:
        query = query.where(Clip.status == status)
    if clip_id:
        query = query.where(Clip.id == clip_id)
    page = offset_page(session, query, (Clip.id.desc(),), limit=limit, offset=offset)
    return Page(_my_rows(session, viewer, page.items), page.total, limit, offset)


def _my_rows(session: Session, viewer: Principal, clips: list[Clip]) -> list[MyClip]:
    if not clips:
        return []
    found = standings(session, [clip.id for clip in clips])
    rows = []
    for clip, public in zip(clips, clips_public(session, clips)):
        standing = found[clip.id]
        rows.append(
            MyClip(
                clip=public,
                review_state=standing.item.state if standing.item else None,
                decision=standing.decision,
                question=standing.question,
                last_reply=standing.last_reply,
                can_reply=standing.asking and may_reply(viewer, clip),
                can_tag=clip.status == ClipStatus.READY and may_tag(viewer, clip),
            )
        )
    return rows
